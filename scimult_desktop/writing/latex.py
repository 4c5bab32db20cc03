"""Projecting a LaTeX draft onto readable text, recording its citation commands.

What is kept: the body between `\\begin{document}` and `\\end{document}` (the
whole file when there is no such line, e.g. an `\\input` chapter), the text
arguments of formatting commands (`\\emph{x}` -> `x`), figure and table
captions (each as a paragraph of its own), and inline math in a simplified form.

What is dropped: comments, the preamble, display math and other non-prose
environments (equations, code listings, tabulars, TikZ, the bibliography),
section headings, footnotes, cross references (`\\ref`, `\\cref`, `\\label`)
and URLs.

Citation commands recognised (with optional `*`, `[pre][post]` notes and,
for biblatex multicites, several `(..)`, `[..]`, `{..}` groups): `\\cite`,
`\\citep`, `\\citet`, `\\citealp`, `\\citeauthor`, any other `\\cite...`,
`\\parencite`, `\\textcite`, `\\autocite`, `\\footcite`, `\\smartcite`,
`\\supercite`, `\\fullcite` and their plural and capitalised forms.
`\\nocite` adds to the bibliography without citing in the text, so it is ignored.
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
    "parencites textcites autocites footcites smartcites supercites cites".split()
)
# A citation key: no spaces, braces, backslashes or "%". A key list: keys split by commas.
_KEY = r"[^\s,{}\\%]+"
_KEY_LIST = re.compile(rf"\s*(?:{_KEY}\s*)?(?:,\s*(?:{_KEY}\s*)?)*")
# The keys of an unclosed `\\cite{`: complete keys (each followed by a comma), then the key being
# typed only when nothing but the end of its line follows it ("\\cite{vi" + newline + prose).
_TYPED_KEYS = re.compile(rf"(?:\s*{_KEY}\s*,)*(?:[ \t]*{_KEY}(?=[ \t]*(?:\n|$)))?")
_TEXTUAL_CITE_NAMES = frozenset("citet citeauthor citealt textcite textcites citetitle fullcite".split())
_MULTICITE_NAMES = frozenset("cites parencites textcites autocites footcites smartcites supercites".split())

# Commands whose arguments are not prose (or not part of the sentence they sit in).
_DROP_WITH_ARGS = frozenset(
    "label ref eqref cref Cref autoref pageref nameref vref url includegraphics bibliography bibliographystyle "
    "addbibresource usepackage documentclass input include includeonly vspace hspace footnote footnotetext thanks "
    "todo newcommand renewcommand providecommand newenvironment setlength setcounter addtocounter pagestyle "
    "thispagestyle hypersetup graphicspath marginpar index glossary nocite bibitem keywords acmConference "
    "setcopyright acmDOI acmISBN affiliation email orcid institute address".split()
)
_HEADINGS = frozenset(
    "part chapter section subsection subsubsection paragraph subparagraph title subtitle author date".split()
)
_BREAKS = frozenset("par item maketitle newpage clearpage tableofcontents appendix bigskip medskip smallskip".split())
_SKIP_ENVIRONMENTS = frozenset(
    "equation align alignat gather multline eqnarray flalign displaymath math verbatim Verbatim lstlisting minted "
    "tikzpicture pgfpicture picture pspicture tabular tabularx tabulary array matrix pmatrix bmatrix cases split "
    "subequations algorithmic thebibliography comment filecontents references code".split()
)
_CAPTION_ENVIRONMENTS = frozenset(
    "figure table wrapfigure wraptable subfigure sidewaysfigure sidewaystable algorithm longtable".split()
)


def is_cite_command(name: str) -> bool:
    lowered = name.lower()
    return lowered != "nocite" and (lowered.startswith("cite") or lowered in _CITE_NAMES)


def project_latex(source: str) -> ProjectedText:
    """The readable text of a LaTeX draft, with its citations (see the module docstring)."""
    projected = ProjectedText(source)
    begin = _BEGIN_DOCUMENT.search(source)
    start = begin.end() if begin else 0
    end_match = _END_DOCUMENT.search(source, start)
    stop = end_match.start() if end_match else len(source)
    _Scanner(source, projected).scan(start, stop)
    return projected


class _Scanner:
    def __init__(self, source: str, out: ProjectedText) -> None:
        self.src = source
        self.out = out

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
            self.out.emit_as(" ", i)
            return stop if end < 0 else end + 2
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
            out.emit_break(i)
            return after
        if is_cite_command(name):
            return self.citation(name, i, j, stop)
        if name in _DROP_WITH_ARGS or name in _HEADINGS:
            _, after = self.arguments(j, stop, spaced=name in _HEADINGS)
            if name in _HEADINGS:
                out.emit_break(i)
            else:
                out.emit_as(" ", i)
            return after
        if name == "caption":
            self.captions_in(i, stop)
            _, after = self.arguments(j, stop, spaced=True)
            return after
        if name in _BREAKS:
            out.emit_break(i)
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
        _, j = self.arguments(j, stop, spaced=False, groups="[")
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
            out.emit_as(" ", i)
            return stop if end < 0 else end + 2
        # Accents (\'e, \"o, \^a ...), \@ and \/ leave the letter that follows, if any, to `scan`.
        return i + 2

    def begin_environment(self, i: int, j: int, stop: int) -> int:
        args, after = self.arguments(j, stop, spaced=True, groups="{")
        if not args:
            return after
        raw_name = self.src[args[0][0]:args[0][1]].strip()
        name = raw_name.rstrip("*")
        if name in _SKIP_ENVIRONMENTS or name in _CAPTION_ENVIRONMENTS:
            body_end, past_end = self.environment_end(raw_name, after, stop)
            self.out.emit_break(i)
            if name in _CAPTION_ENVIRONMENTS:
                self.captions_in(after, body_end)
            return past_end
        self.out.emit_break(i)
        # Environment arguments (\begin{minipage}{0.5\linewidth}, \begin{theorem}[Name]) are not prose.
        _, after = self.arguments(after, stop, spaced=False)
        return after

    def captions_in(self, start: int, stop: int) -> None:
        """Each `\\caption[short]{long}` between start and stop, as a paragraph of its own."""
        for match in _CAPTION.finditer(self.src, start, stop):
            args, _ = self.arguments(match.end(), stop, spaced=True)
            text_args = [a for a in args if a[2] == "{"]
            if text_args:
                self.out.emit_break(match.start())
                self.scan(text_args[0][0], text_args[0][1])
                self.out.emit_break(text_args[0][1])

    def citation(self, name: str, i: int, j: int, stop: int) -> int:
        groups = "([{" if name.lower() in _MULTICITE_NAMES else "[{"
        keys: list[str] = []
        while True:
            args, after = self.arguments(j, stop, spaced=True, groups="([" if groups == "([{" else "[")
            j = after
            k = self.skip_spaces(j, stop)
            if k < stop and self.src[k] == "{":
                end = self.matching(k, stop, "{", "}")
                closed = end < stop or self.src[end - 1] == "}"
                if closed and _KEY_LIST.fullmatch(self.src, k + 1, end - 1):
                    keys += self.src[k + 1:end - 1].split(",")
                    j = end
                else:
                    # A `\cite{` still being typed: its keys end where key characters do, and the
                    # prose after it stays prose (the next sentence must not become a "key").
                    typed = _TYPED_KEYS.match(self.src, k + 1, stop)
                    keys += typed.group(0).split(",")
                    j = typed.end()
                    self.out.cite(keys, i, textual=name.lower() in _TEXTUAL_CITE_NAMES)
                    # Nothing has closed this sentence yet: the text after it is not part of it.
                    self.out.emit_break(j)
                    return j
                if name.lower() in _MULTICITE_NAMES:
                    continue
            break
        self.out.cite(keys, i, textual=name.lower() in _TEXTUAL_CITE_NAMES)
        return j
