"""Readable text projected out of a marked-up draft, each character tied to its source offset.

Readers of LaTeX and Markdown emit the words a reader would see into a
`ProjectedText`; every emitted character remembers where it came from, so a
sentence found in the projection maps back to lines and offsets of the draft.
Citation commands emit no text: they are recorded at the position they occur.
"""

from __future__ import annotations

from dataclasses import dataclass, field

PARAGRAPH_BREAK = "\n\n"


@dataclass
class CitationMark:
    """Citation keys found at one place of the draft."""

    position: int  # index into the projected text
    keys: tuple[str, ...]
    offset: int  # character offset in the source
    textual: bool = False  # names the authors in the running text ("@key says", \\citet), so may open a sentence
    # (start, end) in the source of each key, where the reader knows it (`source[start:end] == key`).
    key_spans: tuple[tuple[int, int], ...] = ()
    # False: cited outside any sentence (a table cell, `\\nocite`): the key is checked, no sentence has it.
    in_sentence: bool = True


@dataclass
class ProjectedText:
    """Emitted characters, their source offsets, and the citations met on the way."""

    source: str
    chars: list[str] = field(default_factory=list)
    offsets: list[int] = field(default_factory=list)
    citations: list[CitationMark] = field(default_factory=list)
    # Other files the draft reads in (`\\input{sections/intro}`): (source offset, path as written).
    inputs: list[tuple[int, str]] = field(default_factory=list)

    def emit(self, text: str, offset: int) -> None:
        """Append `text`, which stands at `offset` in the source (character by character)."""
        for i, char in enumerate(text):
            self.chars.append(char)
            self.offsets.append(offset + i)

    def emit_as(self, text: str, offset: int) -> None:
        """Append `text` that replaces source markup at `offset` (all characters map there)."""
        for char in text:
            self.chars.append(char)
            self.offsets.append(offset)

    def emit_break(self, offset: int) -> None:
        """End the current paragraph: no sentence runs across a break."""
        self.emit_as(PARAGRAPH_BREAK, offset)

    def cite(self, keys: list[str] | tuple[str, ...], offset: int, *, textual: bool = False,
             starts: list[int] | None = None, in_sentence: bool = True) -> None:
        """Record citation `keys` met at source `offset`; `starts`: where each raw key (spaces
        around it included) begins in the source, when known."""
        cleaned, spans = [], []
        for n, raw in enumerate(keys):
            key = raw.strip()
            if not key:
                continue
            cleaned.append(key)
            if starts is not None:
                start = starts[n] + len(raw) - len(raw.lstrip())
                spans.append((start, start + len(key)))
        if cleaned:
            self.citations.append(CitationMark(len(self.chars), tuple(cleaned), offset, textual, tuple(spans), in_sentence))

    @property
    def text(self) -> str:
        return "".join(self.chars)


def project_plain(source: str) -> ProjectedText:
    """Plain text projects onto itself (no markup, no citation syntax)."""
    projected = ProjectedText(source)
    projected.emit(source, 0)
    return projected


MATH_WORDS = frozenset(
    "log ln exp sin cos tan min max sup inf lim det dim arg mod alpha beta gamma delta epsilon theta lambda mu "
    "sigma tau phi pi rho omega".split()
)


_MATH_JOINERS = frozenset(
    "rm mathrm text textrm mathbf bf it mathit sf mathsf tt mathtt cal mathcal mathbb mathfrak mathscr boldsymbol bm "
    "operatorname textit textbf textup mathnormal left right big Big bigg Bigg bigl bigr Bigl Bigr mathrm "
    "displaystyle textstyle scriptstyle scriptscriptstyle bar hat tilde vec dot ddot overline underline widehat widetilde "
    "acute grave breve check mathring".split()
)


def emit_inline_math(projected: ProjectedText, source: str, start: int, stop: int) -> None:
    """Inline math `source[start:stop]` as plain-ish words: `$92\\%$` -> `92%`, `$O(n \\log n)$` -> `O(n log n)`.

    Numbers matter to the claim heuristic and to search, markup does not:
    escaped symbols keep their character, a few function and Greek names stay
    as words, other commands, braces and sub/superscript marks disappear.
    """
    i = start
    while i < stop:
        char = source[i]
        if char == "\\" and i + 1 < stop:
            j = i + 1
            while j < stop and source[j].isalpha():
                j += 1
            if j == i + 1:  # escaped symbol such as \% or \,
                symbol = source[i + 1]
                projected.emit_as(symbol if symbol in "%$&#_" else " ", i)
                i += 2
                continue
            name = source[i + 1:j]
            # Other commands (\\times, \\cdot, \\frac) still separate what stands around them: "8 A100", not "8A100";
            # fonts and delimiters do not ("{\\rm Fe}_2{\\rm O}_3" is "Fe2O3").
            if name in MATH_WORDS:
                projected.emit_as(f" {name} ", i)
            elif name not in _MATH_JOINERS:
                projected.emit_as(" ", i)
            while j < stop and source[j] in " \t\n":  # spaces after a control word are not symbols
                j += 1
            i = j
            continue
        if char == "~":
            projected.emit_as(" ", i)  # a tie: a space
        elif char not in "{}^_":
            projected.emit(char, i)
        i += 1


def find_closing(source: str, start: int, stop: int, opening: str, closing: str, line_comment: str | None = None) -> int:
    """Index of the `closing` that balances the `opening` at `start`, or -1 before `stop`.

    Backslash escapes the next character (both TeX and Markdown); `line_comment` (TeX's "%")
    hides the rest of its line.
    """
    depth = 0
    j = start
    while j < stop:
        char = source[j]
        if char == "\\":
            j += 2
            continue
        if line_comment is not None and char == line_comment:
            newline = source.find("\n", j)
            j = stop if newline < 0 else newline
            continue
        if char == opening:
            depth += 1
        elif char == closing:
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return -1
