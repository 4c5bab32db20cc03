"""Projecting a Markdown (pandoc, CommonMark, R Markdown, Quarto) draft onto readable text.

Kept: paragraphs, list items and block quotes (each item its own paragraph),
link text, simplified inline math, footnote text.
Dropped: YAML front matter, fenced and indented code blocks, inline code,
`$$` display math (the sentence runs on across it; a full stop closing the
formula ends the sentence), headings (ATX `#` and setext underlines),
pipe-table rows, HTML tags and comments, images, URLs, emphasis marks.

Citations (pandoc syntax): bracketed `[@key]`, `[see @a, p. 3; @b]`,
`[-@key]`, and in-text `@key` (also `@{key with odd chars}`); an `@` right
after a letter or digit (an e-mail address) is not a citation, nor is a
Quarto or pandoc-crossref cross reference (`@fig-plot`, `@sec:intro`).
Raw LaTeX passes through pandoc, so `\\cite{key}` and its family count too
and `\\ref{..}`-like commands are dropped.
"""

from __future__ import annotations

import re

from scimult_desktop.writing.latex import formula_punctuation, latex_command_at
from scimult_desktop.writing.projection import ProjectedText, emit_inline_math, find_closing

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_HEADING = re.compile(r"^ {0,3}#{1,6}(\s|$)")
_SETEXT_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)\s*$")
_THEMATIC_BREAK = re.compile(r"^ {0,3}([-*_])(\s*\1){2,}\s*$")
_LIST_MARKER = re.compile(r"^(\s*)([-*+]|\d{1,9}[.)])(\s+|$)")
_QUOTE_MARKER = re.compile(r"^ {0,3}>\s?")
_FOOTNOTE_DEFINITION = re.compile(r"^ {0,3}\[\^[^\]]+\]:\s*")
_TABLE_ROW = re.compile(r"^\s*\|")
# `[label]: https://...` (a link reference definition) and pandoc/Quarto fenced div fences (`::: {.note}`).
_LINK_DEFINITION = re.compile(r"^ {0,3}\[[^\]^][^\]]*\]:\s*\S")
_DIV_FENCE = re.compile(r"^ {0,3}:{3,}")
_SHORTCODE = re.compile(r"\{\{[<%].*?[>%]\}\}")

# pandoc: a key starts with a letter, digit or _, and may contain internal punctuation.
_KEY = re.compile(r"\{([^{}]+)\}|([A-Za-z0-9_][A-Za-z0-9_:.#$%&\-+?<>~/]*)")
_KEY_TRAILING = ":.#$%&-+?<>~/"
_BRACKET_CITE_ITEM = re.compile(r"(?:^|[\s;\[(])-?@")
_LINK_TAIL = re.compile(r"\((?:[^()\s]|\([^()]*\))*(?:\s+\"[^\"]*\")?\)|\[[^\]]*\]")
_HTML_TAG = re.compile(r"</?[A-Za-z][^<>]*>")
# Cross references, not citations: Quarto's `@fig-x`, `@tbl-x`, `@sec-x` ... and pandoc-crossref's `@fig:x` ...
_CROSS_REFERENCE = re.compile(
    r"(?:fig|tbl|sec|eq|lst|thm|lem|cor|prp|cnj|def|exm|exr|sol|rem|alg|nte|tip|wrn|imp|cau)-\S|(?:fig|sec|eq|tbl|lst):\S"
)


def is_cross_reference(key: str) -> bool:
    """Whether `@key` is a Quarto or pandoc-crossref cross reference (`@fig-plot`, `@sec:intro`)."""
    return _CROSS_REFERENCE.match(key) is not None
_AUTOLINK = re.compile(r"<(?:https?|ftp|mailto):[^<>\s]+>")


def citation_key_at(text: str, i: int) -> tuple[str, int] | None:
    """The pandoc key after an `@` at `text[i]`, and the index past it."""
    found = citation_key_span(text, i)
    return (found[0], found[2]) if found else None


def citation_key_span(text: str, i: int, stop: int | None = None) -> tuple[str, int, int] | None:
    """The pandoc key after an `@` at `text[i]` (before `stop`), where it starts, and the index past the citation."""
    match = _KEY.match(text, i + 1, len(text) if stop is None else stop)
    if not match:
        return None
    if match.group(1) is not None:
        key = match.group(1).strip()
        return (key, text.index(key, match.start(1)), match.end()) if key else None
    key = match.group(2).rstrip(_KEY_TRAILING)
    return (key, i + 1, i + 1 + len(key)) if key else None


def project_markdown(source: str) -> ProjectedText:
    """The readable text of a Markdown draft, with its pandoc citations (see the module docstring)."""
    projected = ProjectedText(source)
    lines = source.splitlines(keepends=True)
    starts = []
    position = 0
    for line in lines:
        starts.append(position)
        position += len(line)

    index = 0
    if lines and lines[0].strip() == "---":  # YAML front matter
        for k in range(1, len(lines)):
            if lines[k].strip() in ("---", "..."):
                index = k + 1
                break

    fence: str | None = None
    in_display_math = False
    in_html_comment = False
    previous_blank = True
    in_indented_code = False
    in_list = False
    math_start = 0
    while index < len(lines):
        line, offset = lines[index].rstrip("\r\n"), starts[index]
        stripped = line.strip()
        index += 1
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
                projected.emit_break(offset)
                previous_blank = True
            continue
        if in_display_math:
            if stripped.endswith("$$"):
                in_display_math = False
                _end_formula(projected, source, math_start, offset + line.rindex("$$"))
            continue
        if in_html_comment:
            if "-->" in line:  # the text after the comment is read
                in_html_comment = False
                scanner = _InlineScanner(source, projected)
                scanner.scan(offset + line.index("-->") + 3, offset + len(line))
                projected.emit_as("\n", offset + len(line))
                in_html_comment = scanner.open_comment
            continue
        if not stripped:
            projected.emit_break(offset)
            previous_blank = True
            continue
        if in_indented_code or (previous_blank and not in_list and (line.startswith("    ") or line.startswith("\t"))):
            in_indented_code = line.startswith("    ") or line.startswith("\t")
            if in_indented_code:
                continue
        fence_match = _FENCE.match(line)
        if fence_match:
            fence = fence_match.group(1)[0] * 3
            projected.emit_break(offset)
            continue
        if stripped.startswith("$$"):
            # pandoc reads `$$..$$` as part of the paragraph around it.
            math_start = offset + line.index("$$") + 2
            in_display_math = not (len(stripped) > 2 and stripped.endswith("$$"))
            if not in_display_math:
                _end_formula(projected, source, math_start, offset + line.rindex("$$"))
            continue
        if stripped.startswith("<!--") and "-->" not in stripped:
            in_html_comment = True
            continue
        next_line = lines[index].rstrip("\r\n") if index < len(lines) else ""
        if _TABLE_ROW.match(line):  # a table cell's citations are real, its text is no sentence
            cells = ProjectedText(source)
            _InlineScanner(source, cells).scan(offset, offset + len(line))
            for mark in cells.citations:
                projected.cite(mark.keys, mark.offset, starts=[a for a, _ in mark.key_spans], in_sentence=False)
        if (_ATX_HEADING.match(line) or _TABLE_ROW.match(line) or _THEMATIC_BREAK.match(line)
                or _LINK_DEFINITION.match(line) or _DIV_FENCE.match(line)
                or (_SETEXT_UNDERLINE.match(line) and previous_blank)):
            projected.emit_break(offset)
            previous_blank = True
            continue
        if _SETEXT_UNDERLINE.match(next_line) and not _LIST_MARKER.match(line):
            projected.emit_break(offset)  # a setext heading: this line, and its underline next
            index += 1
            previous_blank = True
            continue
        previous_blank = False

        column = 0
        quote = _QUOTE_MARKER.match(line)
        while quote:
            column += quote.end()
            quote = _QUOTE_MARKER.match(line, column) if line[column:column + 1] == ">" else None
        list_marker = _LIST_MARKER.match(line, column)
        footnote = _FOOTNOTE_DEFINITION.match(line, column)
        if list_marker:
            projected.emit_break(offset)
            column = list_marker.end()
            in_list = True
        elif footnote:
            projected.emit_break(offset)
            column = footnote.end()
        elif not line.startswith((" ", "\t")):
            in_list = False
        scanner = _InlineScanner(source, projected)
        scanner.scan(offset + column, offset + len(line))
        projected.emit_as("\n", offset + len(line))
        in_html_comment = scanner.open_comment
    return projected


def in_text_citation(source: str, i: int, stop: int, out: ProjectedText) -> int:
    """Record the in-text citation `@key` at `source[i]` (an `@` alone is text); the index past it."""
    found = citation_key_span(source, i, stop)
    if not found:
        out.emit("@", i)
        return i + 1
    key, start, end = found
    if not is_cross_reference(key):
        out.cite([key], i, textual=True, starts=[start])
    return end


def _end_formula(projected: ProjectedText, source: str, start: int, end: int) -> None:
    """A display formula `source[start:end]` read as its closing punctuation, if any (see `formula_punctuation`),
    placed on the closing `$$` (a sentence ending there ends after the whole formula)."""
    punctuation = formula_punctuation(source[start:end])
    if punctuation:
        projected.emit_as(punctuation, end + 1)
    projected.emit_as("\n", end)


def bracketed_citation(source: str, i: int, close: int, out: ProjectedText) -> bool:
    """Record `source[i:close + 1]` as a pandoc citation if it is one (`[see @a, p. 3; @b]`).

    False: it is not, and nothing was recorded. `[@fig-a]` (cross references only) is taken and
    records nothing.
    """
    inner = source[i + 1:close]
    if "@" not in inner or not _BRACKET_CITE_ITEM.search("[" + inner):
        return False
    keys, starts, references = [], [], 0
    for at in re.finditer(r"(?:^|(?<=[\s;\[(]))-?@", inner):
        found = citation_key_span(inner, at.end() - 1)
        if found and is_cross_reference(found[0]):
            references += 1
        elif found:
            keys.append(found[0])
            starts.append(i + 1 + found[1])
    if keys:
        out.cite(keys, i, starts=starts)
    return bool(keys or references)


def in_text_citation_at(source: str, i: int) -> bool:
    """Whether the `@` at `source[i]` may start an in-text citation (not an e-mail address)."""
    return i == 0 or not (source[i - 1].isalnum() or source[i - 1] in "._-+")


class _InlineScanner:
    def __init__(self, source: str, out: ProjectedText) -> None:
        self.src = source
        self.out = out
        self.open_comment = False  # an HTML comment opened on this line and not closed on it

    def scan(self, i: int, stop: int) -> None:
        src, out = self.src, self.out
        while i < stop:
            char = src[i]
            if char == "\\" and i + 1 < stop and (src[i + 1].isalpha()):
                i = self.raw_latex(i, stop)
            elif char == "\\" and i + 1 < stop:
                out.emit(src[i + 1], i + 1)
                i += 2
            elif char == "`":
                i = self.code_span(i, stop)
            elif char == "$" and i + 1 < stop and not src[i + 1].isspace():
                i = self.inline_math(i, stop)
            elif char == "!" and src.startswith("![", i):
                i = self.image(i, stop)
            elif char == "^" and src.startswith("^[", i):
                i = self.inline_note(i, stop)
            elif char == "[":
                i = self.bracket(i, stop)
            elif char == "@" and in_text_citation_at(src, i):
                i = self.in_text_citation(i, stop)
            elif char == "<":
                i = self.angle(i, stop)
            elif char == "{" and src.startswith(("{{<", "{{%"), i) and _SHORTCODE.match(src, i, stop):
                i = _SHORTCODE.match(src, i, stop).end()  # a Quarto/Hugo shortcode
            elif char == "*" or (char == "~" and src.startswith("~~", i)):
                i += 1
            elif char == "_" and not (i > 0 and src[i - 1].isalnum() and i + 1 < stop and src[i + 1].isalnum()):
                i += 1
            else:
                out.emit(char, i)
                i += 1

    def code_span(self, i: int, stop: int) -> int:
        run = len(self.src[i:stop]) - len(self.src[i:stop].lstrip("`"))
        end = self.src.find("`" * run, i + run, stop)
        if end < 0:
            self.out.emit(self.src[i:i + run], i)
            return i + run
        self.out.emit_as(" ", i)  # code is not prose
        return end + run

    def raw_latex(self, i: int, stop: int) -> int:
        """A LaTeX command in the Markdown (pandoc passes raw TeX): `\\cite{..}` cites, `\\ref{..}` goes."""
        j = latex_command_at(self.src, i, stop, self.out)
        if j < stop and self.src[j] == "{":  # a formatting command's text: Markdown inside
            close = find_closing(self.src, j, stop, "{", "}")
            if close > 0:
                self.scan(j + 1, close)
                return close + 1
        return j

    def inline_math(self, i: int, stop: int) -> int:
        j = i + 1
        while j < stop:
            if self.src[j] == "\\":
                j += 2
                continue
            if self.src[j] == "$" and not self.src[j - 1].isspace() and not (j + 1 < stop and self.src[j + 1].isdigit()):
                emit_inline_math(self.out, self.src, i + 1, j)
                return j + 1
            j += 1
        self.out.emit("$", i)  # a lone dollar sign (a price), not math
        return i + 1

    def inline_note(self, i: int, stop: int) -> int:
        """A pandoc inline note `^[..]`: its citations cite the sentence it annotates; its text is not read."""
        close = self._bracket_end(i + 1, stop)
        if close < 0:
            self.out.emit("^", i)
            return i + 1
        note = ProjectedText(self.src)
        _InlineScanner(self.src, note).scan(i + 2, close)
        for mark in note.citations:
            self.out.cite(mark.keys, mark.offset, starts=[a for a, _ in mark.key_spans])
        return close + 1

    def image(self, i: int, stop: int) -> int:
        close = self._bracket_end(i + 1, stop)
        if close < 0:
            self.out.emit("!", i)
            return i + 1
        tail = _LINK_TAIL.match(self.src, close + 1, stop)
        return tail.end() if tail else close + 1

    def bracket(self, i: int, stop: int) -> int:
        close = self._bracket_end(i, stop)
        if close < 0:
            self.out.emit("[", i)
            return i + 1
        inner = self.src[i + 1:close]
        if inner.startswith("^"):  # footnote reference
            return close + 1
        tail = _LINK_TAIL.match(self.src, close + 1, stop)
        if tail:  # [text](url) or [text][ref]
            self.scan(i + 1, close)
            return tail.end()
        if bracketed_citation(self.src, i, close, self.out):
            return close + 1
        self.out.emit("[", i)
        self.scan(i + 1, close)
        self.out.emit("]", close)
        return close + 1

    def in_text_citation(self, i: int, stop: int) -> int:
        return in_text_citation(self.src, i, stop, self.out)

    def angle(self, i: int, stop: int) -> int:
        if self.src.startswith("<!--", i):
            end = self.src.find("-->", i, stop)
            self.open_comment = end < 0  # it goes on over the next lines
            return stop if end < 0 else end + 3
        for pattern in (_AUTOLINK, _HTML_TAG):
            match = pattern.match(self.src, i, stop)
            if match:
                return match.end()
        self.out.emit("<", i)
        return i + 1

    def _bracket_end(self, i: int, stop: int) -> int:
        return find_closing(self.src, i, stop, "[", "]")
