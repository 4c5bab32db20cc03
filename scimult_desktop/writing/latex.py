"""Projecting a LaTeX draft onto readable text, recording its citation commands.

What is kept: the body between `\\begin{document}` and `\\end{document}` (the
whole file when there is no such line, e.g. an `\\input` chapter), the text
arguments of formatting commands (`\\emph{x}` -> `x`), figure and table
captions (each as a paragraph of its own), footnotes (each as a paragraph of
its own after the paragraph that holds it; the keys a `\\footnote` cites also
count for the sentence it annotates), and inline math in a simplified form.

What is dropped: comments, the preamble, display math (`\\[..\\]`, `$$..$$`,
equation-like environments: the sentence runs on across it, and a full stop
closing the formula ends the sentence), other non-prose environments (code
listings, tabulars, TikZ, the bibliography), inline code (`\\verb|..|`,
`\\lstinline`), section headings, cross references (`\\ref`, `\\cref`,
`\\label`) and URLs.

Citation commands recognised (with optional `*`, `[pre][post]` notes and,
for biblatex multicites, several `(..)`, `[..]`, `{..}` groups): `\\cite`,
`\\citep`, `\\citet`, `\\citealp`, `\\citeauthor`, any other `\\cite...`,
`\\parencite`, `\\textcite`, `\\autocite`, `\\footcite`, `\\smartcite`,
`\\supercite`, `\\fullcite` and their plural and capitalised forms.
`\\nocite` adds to the bibliography without citing in the text, and a citation in a
table cell cites no sentence: their keys are recorded (to be checked) for no sentence.
"""

from __future__ import annotations

import re

from scimult_desktop.writing.projection import ProjectedText, emit_inline_math, find_closing

_COMMAND_NAME = re.compile(r"[A-Za-z@]+")
_BEGIN_DOCUMENT = re.compile(r"\\begin\s*\{document\}")
_END_DOCUMENT = re.compile(r"\\end\s*\{document\}")
_CAPTION = re.compile(r"\\caption\*?")

_CITE_NAMES = frozenset(
    "parencite textcite autocite footcite footcitetext smartcite supercite fullcite "
    "parencites textcites autocites footcites smartcites supercites cites "
    "footfullcite notecite pnotecite fnotecite possessivecite "  # biblatex notes, harvard
    "shortcite shortcitea shortcitenp shortciteauthor shortciteyear".split()  # apacite (names lower-cased)
)
# Named like citations, but settings: `\citestyle{plain}` cites no key "plain".
_NOT_CITE_NAMES = frozenset("citestyle citeindextrue citeindexfalse citeindextype".split())
# A citation key: no spaces, braces, backslashes or "%". A key list: keys split by commas.
_KEY = r"[^\s,{}\\%]+"
_KEY_LIST = re.compile(rf"\s*(?:{_KEY}\s*)?(?:,\s*(?:{_KEY}\s*)?)*")
# The keys of an unclosed `\\cite{`: complete keys (each followed by a comma), then the key being
# typed only when nothing but the end of its line follows it ("\\cite{vi" + newline + prose).
_TYPED_KEYS = re.compile(rf"(?:\s*{_KEY}\s*,)*(?:[ \t]*{_KEY}(?=[ \t]*(?:\n|$)))?")
_TEXTUAL_CITE_NAMES = frozenset(
    "citet citeauthor citealt textcite textcites citetitle fullcite possessivecite citea shortcitea shortciteauthor "
    "citeasnoun".split()
)
_MULTICITE_NAMES = frozenset("cites parencites textcites autocites footcites smartcites supercites".split())

# Commands whose arguments are not prose (or not part of the sentence they sit in).
_DROP_WITH_ARGS = frozenset(
    "label ref eqref cref Cref autoref pageref nameref vref url includegraphics bibliography bibliographystyle "
    "addbibresource usepackage documentclass input include includeonly vspace hspace thanks "
    "todo newcommand renewcommand providecommand newenvironment setlength setcounter addtocounter pagestyle "
    "thispagestyle hypersetup graphicspath marginpar index glossary bibitem keywords acmConference citestyle "
    "setcopyright acmDOI acmISBN affiliation email orcid institute address".split()
)
_HEADINGS = frozenset(
    "part chapter section subsection subsubsection paragraph subparagraph title subtitle author date".split()
)
_BREAKS = frozenset("par item maketitle newpage clearpage tableofcontents appendix bigskip medskip smallskip".split())
_SKIP_ENVIRONMENTS = frozenset(
    "verbatim Verbatim lstlisting minted "
    "tikzpicture pgfpicture picture pspicture tabular tabularx tabulary array matrix pmatrix bmatrix cases split "
    "algorithmic thebibliography comment filecontents references code".split()
)
# Display math is part of the paragraph around it ("the loss is \begin{equation}..\end{equation} where x is ..."):
# it neither ends the paragraph nor the sentence, unless the formula itself closes with a full stop.
_MATH_ENVIRONMENTS = frozenset(
    "equation align alignat gather multline eqnarray flalign displaymath math dmath subequations".split()
)
_FOOTNOTES = frozenset(("footnote", "footnotetext"))
# Commands that read in another file: the file's name is the last argument (after a folder for \\import).
_INPUT_COMMANDS = frozenset("input include subfile".split())
_IMPORT_COMMANDS = frozenset("import subimport inputfrom includefrom subinputfrom subincludefrom".split())
# Environments whose text is not prose but whose citations are real (a results table citing its baselines).
_CITING_ENVIRONMENTS = frozenset("tabular tabularx tabulary array algorithmic".split())
_INLINE_CODE = frozenset(("verb", "lstinline", "mintinline", "mint"))
# What may follow a formula's last symbol without being its punctuation: spaces, line ends, labels, tags, spacing.
_MATH_TRAILER = re.compile(
    r"(?:\\\\(?:\[[^\]]*\])?|\\(?:label|tag)\*?\{[^{}]*\}|\\(?:nonumber|notag|quad|qquad|hfill|displaystyle)(?![A-Za-z])"
    r"|\\[,;:! ]|~|[{}]|\\right\.|\\(?:begin|end)\s*\{[^{}]*\})\Z"
)
_BLANK_LINE_AHEAD = re.compile(r"[ \t]*\n")
# `\iffalse ... \fi` is how LaTeX writers comment out whole passages; `\iff` is the math symbol.
_CONDITIONAL = re.compile(r"\\(if(?!f(?![A-Za-z@]))[A-Za-z@]*|fi|else)(?![A-Za-z@])")
_TEX_COMMENT = re.compile(r"(?<!\\)%[^\n]*")


def _line_blank_so_far(chars: list[str]) -> bool:
    for char in reversed(chars):
        if char == "\n":
            return True
        if char not in " \t":
            return False
    return False


def formula_punctuation(body: str) -> str:
    """The `.`, `,`, `;` or `:` that closes a display formula (`x = y.`), or "" when none does."""
    body = _TEX_COMMENT.sub("", body).rstrip()
    while body:
        tail = body[-300:]
        trailer = _MATH_TRAILER.search(tail)
        if trailer is None:
            break
        body = body[:len(body) - len(tail) + trailer.start()].rstrip()
    return body[-1] if body and body[-1] in ".,;:" else ""
_CAPTION_ENVIRONMENTS = frozenset(
    "figure table wrapfigure wraptable subfigure sidewaysfigure sidewaystable algorithm longtable".split()
)


def is_cite_command(name: str) -> bool:
    lowered = name.lower()
    return lowered != "nocite" and lowered not in _NOT_CITE_NAMES and (lowered.startswith("cite") or lowered in _CITE_NAMES)


def project_latex(source: str) -> ProjectedText:
    """The readable text of a LaTeX draft, with its citations (see the module docstring)."""
    projected = ProjectedText(source)
    begin = _BEGIN_DOCUMENT.search(source)
    start = begin.end() if begin else 0
    end_match = _END_DOCUMENT.search(source, start)
    stop = end_match.start() if end_match else len(source)
    scanner = _Scanner(source, projected)
    scanner.scan(start, stop)
    if scanner.footnotes:
        scanner.paragraph_break(stop)
    return projected


def latex_command_at(source: str, i: int, stop: int, out: ProjectedText) -> int:
    """Read the one LaTeX command at `source[i]` (a backslash and letters) into `out`, as a LaTeX
    draft would; the index past it. For raw TeX in other drafts (pandoc Markdown)."""
    name = _COMMAND_NAME.match(source, i + 1)
    if name and name.group(0) in ("begin", "end"):
        _, after = _Scanner(source, out).arguments(name.end(), stop, spaced=False, groups="{")
        return after
    return _Scanner(source, out).command(i, stop)


class _Scanner:
    def __init__(self, source: str, out: ProjectedText) -> None:
        self.src = source
        self.out = out
        self.footnotes: list[tuple[int, int]] = []  # read after the paragraph that holds them

    def paragraph_break(self, offset: int) -> None:
        """End the paragraph, then read the footnotes it held, each a paragraph of its own."""
        self.out.emit_break(offset)
        while self.footnotes:
            start, end = self.footnotes.pop(0)
            self.scan(start, end)
            self.out.emit_break(end)

    def display_math(self, body_start: int, body_end: int, resume: int, stop: int) -> int:
        """Skip a display formula; the sentence around it runs on (see `formula_punctuation`)."""
        punctuation = formula_punctuation(self.src[body_start:body_end])
        if punctuation:
            # Placed on the formula's closing delimiter: a sentence ending here ends after the whole
            # formula, so a citation added at its end goes after `\\end{equation}`, not into the math.
            self.out.emit_as(punctuation, resume - 1)
        else:
            self.out.emit_as(" ", body_start)
        return self.resume_after_dropped_lines(resume, stop)

    def resume_after_dropped_lines(self, resume: int, stop: int) -> int:
        """Where to read on after dropped lines (a formula, an `\\iffalse` block): they must not
        leave behind the blank line that ends a paragraph."""
        if _line_blank_so_far(self.out.chars):
            blank = _BLANK_LINE_AHEAD.match(self.src, resume, stop)
            if blank:
                return blank.end()
        return resume

    # ---- helpers over the source ------------------------------------------
    def matching(self, i: int, stop: int, opening: str, closing: str) -> int:
        """Index just past the group that opens at `i`; `stop` when it never closes."""
        end = find_closing(self.src, i, stop, opening, closing, line_comment="%")
        return stop if end < 0 else end + 1

    def skip_spaces(self, i: int, stop: int) -> int:
        """Past spaces and at most one newline (a blank line ends argument lists in TeX)."""
        newlines = 0
        while i < stop and self.src[i] in " \t\n":
            if self.src[i] == "\n":
                newlines += 1
                if newlines > 1:
                    break
            i += 1
        return i

    def arguments(self, i: int, stop: int, *, spaced: bool, groups: str = "[{") -> tuple[list[tuple[int, int, str]], int]:
        """Adjacent `[..]`/`{..}` (and `(..)` if in `groups`) groups from `i`: ([(start, end, kind)], index after)."""
        found = []
        while True:
            j = self.skip_spaces(i, stop) if spaced else i
            if j >= stop or self.src[j] not in groups:
                return found, i
            opening = self.src[j]
            closing = {"[": "]", "{": "}", "(": ")"}[opening]
            end = self.matching(j, stop, opening, closing)
            found.append((j + 1, end - 1, opening))
            i = end

    def environment_end(self, name: str, i: int, stop: int) -> tuple[int, int]:
        """(start of the matching `\\end{name}`, index past it), counting nested `\\begin{name}`."""
        pattern = re.compile(r"\\(begin|end)\s*\{" + re.escape(name) + r"\}")
        depth = 1
        for match in pattern.finditer(self.src, i, stop):
            depth += 1 if match.group(1) == "begin" else -1
            if depth == 0:
                return match.start(), match.end()
        return stop, stop

    # ---- the scan -------------------------------------------------------------
    def scan(self, i: int, stop: int) -> None:
        src, out = self.src, self.out
        while i < stop:
            char = src[i]
            if char == "%":
                newline = src.find("\n", i, stop)
                # A comment filling its line goes with its newline, as in TeX: a commented-out
                # line inside a paragraph must not read as the blank line that ends it.
                whole_line = not src[src.rfind("\n", 0, i) + 1:i].strip(" \t")
                i = stop if newline < 0 else newline + 1 if whole_line else newline
            elif char == "\\":
                i = self.command(i, stop)
            elif char == "$":
                i = self.dollar_math(i, stop)
            elif char in "{}":
                i += 1
            elif char == "\n" and self.footnotes and _BLANK_LINE_AHEAD.match(src, i + 1, stop):
                self.paragraph_break(i)
                i += 1
            elif char == "~":
                out.emit_as(" ", i)
                i += 1
            elif src.startswith("``", i) or src.startswith("''", i):
                out.emit_as('"', i)
                i += 2
            else:
                out.emit(char, i)
                i += 1

    def dollar_math(self, i: int, stop: int) -> int:
        if self.src.startswith("$$", i):
            end = self.src.find("$$", i + 2, stop)
            if end < 0:
                self.out.emit_as(" ", i)
                return stop
            return self.display_math(i + 2, end, end + 2, stop)
        j = i + 1
        while j < stop and self.src[j] != "$":
            j += 2 if self.src[j] == "\\" else 1
        emit_inline_math(self.out, self.src, i + 1, min(j, stop))
        return min(j + 1, stop)

    def command(self, i: int, stop: int) -> int:
        src, out = self.src, self.out
        if i + 1 >= stop:
            return stop
        following = src[i + 1]
        if not following.isalpha() and following != "@":
            return self.symbol(i, stop)
        name = _COMMAND_NAME.match(src, i + 1).group(0)
        j = i + 1 + len(name)
        if j < stop and src[j] == "*":
            j += 1
        if name == "begin":
            return self.begin_environment(i, j, stop)
        if name == "end":
            args, after = self.arguments(j, stop, spaced=True, groups="{")
            self.paragraph_break(i)
            return after
        if is_cite_command(name):
            return self.citation(name, i, j, stop)
        if name == "iffalse":
            return self.skip_false_branch(j, stop)
        if name == "nocite":
            self.citations_outside_sentences(i, self.arguments(j, stop, spaced=True)[1], nocite=True)
            out.emit_as(" ", i)
            return self.arguments(j, stop, spaced=True)[1]
        if name in _FOOTNOTES:
            return self.footnote(name, i, j, stop)
        if name in _INLINE_CODE:
            out.emit_as(" ", i)
            return self.inline_code(name, j, stop)
        if name in _INPUT_COMMANDS or name in _IMPORT_COMMANDS:
            args, after = self.arguments(j, stop, spaced=False, groups="{")
            wanted = 2 if name in _IMPORT_COMMANDS else 1
            if len(args) >= wanted:
                parts = [self.src[a:b].strip() for a, b, _ in args[:wanted]]
                if all(parts[-1:]):
                    out.inputs.append((i, "/".join(part.rstrip("/") for part in parts if part)))
            self.paragraph_break(i)
            return after
        if name in _DROP_WITH_ARGS or name in _HEADINGS:
            _, after = self.arguments(j, stop, spaced=name in _HEADINGS)
            if name in _HEADINGS:
                self.paragraph_break(i)
            else:
                out.emit_as(" ", i)
            return after
        if name == "caption":
            self.captions_in(i, stop)
            _, after = self.arguments(j, stop, spaced=True)
            return after
        if name in _BREAKS:
            self.paragraph_break(i)
            if name == "item":
                _, j = self.arguments(j, stop, spaced=False, groups="[")
            return j
        if name == "href":
            args, after = self.arguments(j, stop, spaced=False, groups="{")
            if len(args) == 2:
                self.scan(args[1][0], args[1][1])
            return after
        # Unknown or formatting command: drop its name and optional arguments, read its
        # braced arguments as text (braces themselves are skipped by `scan`).
        args, j = self.arguments(j, stop, spaced=False, groups="[")
        if not args:  # TeX skips the spaces after a control word: "{\\rm Fe}" is "Fe"
            while j < stop and src[j] in " \t":
                j += 1
        return j

    def symbol(self, i: int, stop: int) -> int:
        src, out = self.src, self.out
        following = src[i + 1]
        if following in "%&#$_{}":
            out.emit(following, i + 1)
        elif following == "\\":
            out.emit_as(" ", i)
            _, after = self.arguments(i + 2, stop, spaced=False, groups="[")
            return after
        elif following in " ,;:!>\n\t":
            out.emit_as(" ", i)
        elif following == "(":
            end = src.find("\\)", i + 2, stop)
            end = stop if end < 0 else end
            emit_inline_math(out, src, i + 2, end)
            return min(end + 2, stop)
        elif following == "[":
            end = src.find("\\]", i + 2, stop)
            if end < 0:
                out.emit_as(" ", i)
                return stop
            return self.display_math(i + 2, end, end + 2, stop)
        # Accents (\'e, \"o, \^a ...), \@ and \/ leave the letter that follows, if any, to `scan`.
        return i + 2

    def begin_environment(self, i: int, j: int, stop: int) -> int:
        args, after = self.arguments(j, stop, spaced=True, groups="{")
        if not args:
            return after
        raw_name = self.src[args[0][0]:args[0][1]].strip()
        name = raw_name.rstrip("*")
        if name in _MATH_ENVIRONMENTS:
            body_end, past_end = self.environment_end(raw_name, after, stop)
            return self.display_math(after, body_end, past_end, stop)
        if name in _SKIP_ENVIRONMENTS or name in _CAPTION_ENVIRONMENTS:
            body_end, past_end = self.environment_end(raw_name, after, stop)
            self.paragraph_break(i)
            if name in _CITING_ENVIRONMENTS or name in _CAPTION_ENVIRONMENTS:
                self.citations_outside_sentences(after, body_end)  # the caption's own come again below
            if name in _CAPTION_ENVIRONMENTS:
                self.captions_in(after, body_end)
            return past_end
        self.paragraph_break(i)
        # Environment arguments (\begin{minipage}{0.5\linewidth}, \begin{theorem}[Name]) are not prose.
        _, after = self.arguments(after, stop, spaced=False)
        return after

    def footnote(self, name: str, i: int, j: int, stop: int) -> int:
        """A footnote's text is read after its paragraph; the keys a `\\footnote` cites also cite here."""
        args, after = self.arguments(j, stop, spaced=False)
        text_args = [a for a in args if a[2] == "{"]
        self.out.emit_as(" ", i)
        if text_args:
            start, end = text_args[-1][0], text_args[-1][1]
            if name == "footnote":
                inner = ProjectedText(self.src)
                _Scanner(self.src, inner).scan(start, end)
                self.out.cite([key for mark in inner.citations for key in mark.keys], i)
            self.footnotes.append((start, end))
        return after

    def skip_false_branch(self, j: int, stop: int) -> int:
        """Past the text an `\\iffalse` hides: to its `\\fi`, or into its `\\else` branch (which is read)."""
        depth = 1
        for match in _CONDITIONAL.finditer(self.src, j, stop):
            word = match.group(1)
            if word == "else":
                if depth == 1:
                    return match.end()
                continue
            depth += -1 if word == "fi" else 1
            if depth == 0:
                return self.resume_after_dropped_lines(match.end(), stop)
        return stop

    def citations_outside_sentences(self, start: int, end: int, *, nocite: bool = False) -> None:
        """Record the citations in `src[start:end]` (read as LaTeX, its text dropped) for no sentence."""
        inner = ProjectedText(self.src)
        reader = _Scanner(self.src, inner)
        if nocite:  # `\nocite{a,b}` reads as a citation of its own
            reader.citation("nocite", start, self._after_name(start), end)
        else:
            reader.scan(start, end)
        for mark in inner.citations:
            keys = [(key, span) for key, span in zip(mark.keys, mark.key_spans) if key != "*"]  # \nocite{*}: all
            if keys:
                self.out.cite([k for k, _ in keys], mark.offset, starts=[a for _, (a, _) in keys], in_sentence=False)

    def _after_name(self, i: int) -> int:
        j = _COMMAND_NAME.match(self.src, i + 1).end()
        return j + 1 if self.src.startswith("*", j) else j

    def inline_code(self, name: str, j: int, stop: int) -> int:
        """Past `\\verb|..|`, `\\lstinline[..]{..}`, `\\mintinline{lang}|..|`: code is not prose."""
        if name in ("lstinline", "mintinline", "mint"):
            _, j = self.arguments(j, stop, spaced=False, groups="[")
            if name != "lstinline":
                j = self._one_group(j, stop)  # the language
        if j >= stop:
            return stop
        delimiter = self.src[j]
        if delimiter == "{":
            return self.matching(j, stop, "{", "}")
        end = self.src.find(delimiter, j + 1, stop)
        newline = self.src.find("\n", j + 1, stop)
        if end < 0 or (0 <= newline < end):
            return j + 1  # not inline code after all
        return end + 1

    def _one_group(self, j: int, stop: int) -> int:
        """Past one `{..}` group at `j` (the language of `\\mintinline{python}`)."""
        return self.matching(j, stop, "{", "}") if j < stop and self.src[j] == "{" else j

    def captions_in(self, start: int, stop: int) -> None:
        """Each `\\caption[short]{long}` between start and stop, as a paragraph of its own."""
        for match in _CAPTION.finditer(self.src, start, stop):
            args, _ = self.arguments(match.end(), stop, spaced=True)
            text_args = [a for a in args if a[2] == "{"]
            if text_args:
                self.paragraph_break(match.start())
                self.scan(text_args[0][0], text_args[0][1])
                self.paragraph_break(text_args[0][1])

    def citation(self, name: str, i: int, j: int, stop: int) -> int:
        groups = "([{" if name.lower() in _MULTICITE_NAMES else "[{"
        keys: list[str] = []
        starts: list[int] = []
        while True:
            args, after = self.arguments(j, stop, spaced=True, groups="([" if groups == "([{" else "[")
            j = after
            k = self.skip_spaces(j, stop)
            if k < stop and self.src[k] == "{":
                end = self.matching(k, stop, "{", "}")
                closed = end < stop or self.src[end - 1] == "}"
                if closed and _KEY_LIST.fullmatch(self.src, k + 1, end - 1):
                    pieces = self.src[k + 1:end - 1].split(",")
                    keys += pieces
                    starts += _piece_starts(pieces, k + 1)
                    j = end
                else:
                    # A `\cite{` still being typed: its keys end where key characters do, and the
                    # prose after it stays prose (the next sentence must not become a "key").
                    typed = _TYPED_KEYS.match(self.src, k + 1, stop)
                    pieces = typed.group(0).split(",")
                    keys += pieces
                    starts += _piece_starts(pieces, k + 1)
                    j = typed.end()
                    self.out.cite(keys, i, textual=name.lower() in _TEXTUAL_CITE_NAMES, starts=starts)
                    # Nothing has closed this sentence yet: the text after it is not part of it.
                    self.paragraph_break(j)
                    return j
                if name.lower() in _MULTICITE_NAMES:
                    continue
            break
        self.out.cite(keys, i, textual=name.lower() in _TEXTUAL_CITE_NAMES, starts=starts)
        return j


def _piece_starts(pieces: list[str], start: int) -> list[int]:
    """Source offsets of comma-separated `pieces` that begin at `start`."""
    found = []
    for piece in pieces:
        found.append(start)
        start += len(piece) + 1
    return found
