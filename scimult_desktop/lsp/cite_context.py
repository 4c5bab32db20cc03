"""Where citations are in a draft's source text, for completion, hover and diagnostics.

Pure Python on plain strings and character offsets (no LSP types):

- `cite_context_at(text, offset, kind)`: is the cursor where a citation key is being
  typed (inside `\\cite{...}`-family braces, after a comma there, or after Pandoc's
  `@`), and if so which keys the citation already has and what prefix is typed;
- `cited_keys(text, kind)`: every key the draft cites, with its place, as the draft
  reader counts them (nothing in comments, code, verbatim, math or cross references);
- `key_at(text, offset, kind)`: the cited key under the cursor (read from the lines
  around it only, so a key written in a comment is described too).

LaTeX: `\\cite`, `\\citep`, `\\citet`, `\\parencite`, `\\textcite`, `\\autocite`,
`\\footcite` and the rest of the family the draft reader knows (`is_cite_command`),
starred, with up to two optional arguments (`\\cite[see][p.~3]{`). Pandoc
(Markdown, Quarto, plain text): `[@a; @b]`, `[see @a, p. 3]`, `[-@a]` and in-text
`@a`; an `@` right after a letter or digit (an e-mail address) is not a citation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from scimult_desktop.services.writing.citekeys import is_cite_command
from scimult_desktop.services.writing.draft_places import cited_key_places, is_cross_reference

LATEX, PANDOC = "latex", "pandoc"
# How far back a citation being typed may start: a cite command with many keys spread
# over a few lines fits; scanning the whole draft on every keystroke would not.
LOOK_BEHIND = 2000

_LATEX_OPENING = re.compile(r"\\([A-Za-z]+)\*?((?:\s*\[[^\[\]{}]*\]){0,2})\s*\{")
_LATEX_KEY_CHAR = re.compile(r"[^\s,{}%\\]")
_LATEX_CITATION = re.compile(r"\\([A-Za-z]+)\*?(?:\s*\[[^\[\]{}]*\]){0,2}\s*\{([^{}\\%]*)\}")
# pandoc: a key starts with a letter, digit or _ and may hold internal punctuation.
_PANDOC_KEY = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_:.#$%&\-+?<>~/]*[A-Za-z0-9_])?")
_PANDOC_PARTIAL = re.compile(r"[A-Za-z0-9_:.#$%&\-+?<>~/]*\Z")
_PANDOC_AT = re.compile(r"(?<![A-Za-z0-9_.+\-@])-?@")


@dataclass(frozen=True)
class CiteContext:
    """A citation key being typed at the cursor.

    `start` is where the citation begins (the backslash, or the `[`/`@` of Pandoc),
    `end` where it ends (past the closing brace or bracket, or the cursor when it is
    still open); `prefix` is the partial key before the cursor, which starts at
    `prefix_start`; `typed_keys` are the other keys the citation already holds.
    """

    syntax: str  # LATEX or PANDOC
    command: str | None  # "cite", "citep", ... for LaTeX
    start: int
    end: int
    prefix: str
    prefix_start: int
    typed_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class CitedKey:
    """One cited key and its place in the text (`text[start:end] == key`)."""

    key: str
    start: int
    end: int
    syntax: str
    command: str | None = None


def syntaxes_for(kind: str) -> tuple[str, ...]:
    """Citation syntaxes read in a draft of `kind` (latex, markdown or plain)."""
    if kind == "latex":
        return (LATEX,)
    return (PANDOC, LATEX)  # pandoc passes raw LaTeX through, so \cite works in Markdown too


def cite_context_at(text: str, offset: int, kind: str) -> CiteContext | None:
    """The citation key being typed at `offset` (a cursor between characters), or None."""
    offset = max(0, min(offset, len(text)))
    for syntax in syntaxes_for(kind):
        found = _latex_context(text, offset) if syntax == LATEX else _pandoc_context(text, offset)
        if found is not None:
            return found
    return None


def cited_keys(text: str, kind: str) -> list[CitedKey]:
    """Every key cited in `text`, in order of appearance, as the draft reader counts them."""
    found = []
    for key, start, end in cited_key_places(text, kind):
        pandoc = text[max(0, start - 2):start].endswith(("@", "@{"))
        found.append(CitedKey(key, start, end, PANDOC if pandoc else LATEX))
    return found


def _written_keys(text: str, kind: str) -> list[CitedKey]:
    """Every key written in citation syntax in `text` (quick: a few lines around the cursor)."""
    found: list[CitedKey] = []
    syntaxes = syntaxes_for(kind)
    if LATEX in syntaxes:
        found += _latex_keys(text)
    if PANDOC in syntaxes:
        found += _pandoc_keys(text)
    return sorted(found, key=lambda cited: cited.start)


def key_at(text: str, offset: int, kind: str) -> CitedKey | None:
    """The cited key that `offset` touches (a cursor right after a key counts), or None."""
    line_start = text.rfind("\n", 0, max(0, offset - 1)) + 1
    line_end = text.find("\n", offset)
    window_start = max(0, line_start - LOOK_BEHIND)
    window = text[window_start: len(text) if line_end < 0 else line_end]
    for cited in _written_keys(window, kind):
        if cited.start + window_start <= offset <= cited.end + window_start:
            return CitedKey(cited.key, cited.start + window_start, cited.end + window_start, cited.syntax, cited.command)
    return None


def most_used_command(text: str) -> str:
    """The LaTeX cite command the draft uses most (`cite` when it uses none)."""
    counts: dict[str, int] = {}
    for match in _LATEX_CITATION.finditer(text):
        if is_cite_command(match.group(1)):
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    return max(counts, key=lambda name: counts[name]) if counts else "cite"


# ---- LaTeX ---------------------------------------------------------------------
def _latex_context(text: str, offset: int) -> CiteContext | None:
    window_start = max(0, offset - LOOK_BEHIND)
    before = text[window_start:offset]
    brace = before.rfind("{")
    if brace < 0:
        return None
    inside = before[brace + 1:]
    if "}" in inside or "\\" in inside or "\n\n" in inside.replace("\r", ""):
        return None
    # The command name and options before that brace.
    opening = None
    for match in _LATEX_OPENING.finditer(before, max(0, brace - 300)):
        if match.end() == brace + 1:
            opening = match
    if opening is None or not is_cite_command(opening.group(1)):
        return None
    start = window_start + opening.start()
    if _in_comment(text, start):
        return None
    pieces = inside.split(",")
    prefix = pieces[-1].lstrip()
    if any(not _LATEX_KEY_CHAR.match(char) for char in prefix):
        return None
    after = _latex_rest(text, offset)
    typed = [p.strip() for p in pieces[:-1]] + [k.strip() for k in after.keys]
    return CiteContext(
        LATEX, opening.group(1), start, after.end, prefix, offset - len(prefix), tuple(k for k in typed if k)
    )


@dataclass(frozen=True)
class _Rest:
    keys: tuple[str, ...]
    end: int


def _latex_rest(text: str, offset: int) -> _Rest:
    """Keys after the cursor up to the closing brace (none when the brace is not closed)."""
    close = text.find("}", offset, offset + LOOK_BEHIND)
    if close < 0:
        return _Rest((), offset)
    inside = text[offset:close]
    if "{" in inside or "\\" in inside or "\n\n" in inside:
        return _Rest((), offset)
    pieces = inside.split(",")
    if pieces[0][:1] and _LATEX_KEY_CHAR.match(pieces[0][0]):
        pieces = pieces[1:]  # the rest of the key under the cursor is not a typed key of its own
    return _Rest(tuple(pieces), close + 1)


def _latex_keys(text: str) -> list[CitedKey]:
    found = []
    for match in _LATEX_CITATION.finditer(text):
        name = match.group(1)
        if not is_cite_command(name) or _in_comment(text, match.start()):
            continue
        position = match.start(2)
        for piece in match.group(2).split(","):
            key = piece.strip()
            if key:
                start = position + piece.index(key)
                found.append(CitedKey(key, start, start + len(key), LATEX, name))
            position += len(piece) + 1
    return found


def _in_comment(text: str, offset: int) -> bool:
    """Whether an unescaped `%` earlier on the same line makes `offset` a TeX comment."""
    line = text[text.rfind("\n", 0, offset) + 1: offset]
    return re.search(r"(?<!\\)(?:\\\\)*%", line) is not None


# ---- Pandoc --------------------------------------------------------------------
def _pandoc_context(text: str, offset: int) -> CiteContext | None:
    line_start = text.rfind("\n", 0, offset) + 1
    before = text[line_start:offset]
    partial = _PANDOC_PARTIAL.search(before)
    prefix = partial.group(0) if partial else ""
    at = offset - len(prefix) - 1
    if at < line_start or text[at] != "@":
        return None
    if not _PANDOC_AT.match(text, at - 1 if at > 0 and text[at - 1] == "-" else at) or _inside_code_or_link(text, at):
        return None
    if is_cross_reference(prefix) or _in_code_block_or_front_matter(text, line_start):
        return None  # `@fig-results`, a Python decorator in a code chunk, YAML
    bracket = _open_bracket(text, at, line_start)
    if bracket is None:
        start, end, typed = (at - 1 if at > 0 and text[at - 1] == "-" else at), offset, ()
    else:
        close = _closing_bracket(text, offset)
        end = offset if close is None else close + 1
        inner = text[bracket + 1: offset - len(prefix) - 1] + " " + (text[offset:close] if close is not None else "")
        # The rest of the key under the cursor is not a typed key of its own.
        tail = _PANDOC_PARTIAL.match(text, offset)
        if close is not None and tail is not None:
            inner = text[bracket + 1: offset - len(prefix) - 1] + " " + text[tail.end():close]
        start, typed = bracket, tuple(_bracket_keys(inner))
    return CiteContext(PANDOC, None, start, end, prefix, offset - len(prefix), typed)


def _open_bracket(text: str, at: int, line_start: int) -> int | None:
    """The `[` of the bracketed citation holding the `@` at `at`, or None (in-text)."""
    for i in range(at - 1, max(line_start - 1, at - LOOK_BEHIND), -1):
        char = text[i]
        if char == "]":
            return None
        if char == "[":
            return None if i > 0 and text[i - 1] == "!" else i
    return None


def _closing_bracket(text: str, offset: int) -> int | None:
    line_end = text.find("\n", offset)
    stop = len(text) if line_end < 0 else line_end
    for i in range(offset, stop):
        if text[i] == "[":
            return None
        if text[i] == "]":
            return i
    return None


def _bracket_keys(inner: str) -> list[str]:
    keys = []
    for at in _PANDOC_AT.finditer(inner):
        key = _PANDOC_KEY.match(inner, at.end())
        if key:
            keys.append(key.group(0))
    return keys


def _pandoc_keys(text: str) -> list[CitedKey]:
    found = []
    for at in _PANDOC_AT.finditer(text):
        key = _PANDOC_KEY.match(text, at.end())
        if key and not _inside_code_or_link(text, at.start()):
            found.append(CitedKey(key.group(0), key.start(), key.end(), PANDOC))
    return found


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _in_code_block_or_front_matter(text: str, line_start: int) -> bool:
    """Whether the line starting at `line_start` is in a fenced code block, the YAML front matter
    or an HTML comment of a Markdown draft (read from the top: fences toggle)."""
    lines = text[:line_start].split("\n")[:-1]
    if lines and lines[0].strip() == "---":
        closed = next((n for n, line in enumerate(lines[1:], start=1) if line.strip() in ("---", "...")), None)
        if closed is None:
            return True
        lines = lines[closed + 1:]
    fence, comment = None, False
    for line in lines:
        if comment:
            comment = "-->" not in line
            continue
        opening = _FENCE.match(line)
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
        elif opening:
            fence = opening.group(1)[0] * 3
        elif "<!--" in line and "-->" not in line[line.index("<!--"):]:
            comment = True
    return fence is not None or comment


def _inside_code_or_link(text: str, offset: int) -> bool:
    """An `@` inside inline code (`a@b`) or a URL is no citation."""
    line = text[text.rfind("\n", 0, offset) + 1: offset]
    return line.count("`") % 2 == 1 or re.search(r"\S*://\S*$", line) is not None


# ---- text around the cursor ------------------------------------------------------
_BLANK_LINE = re.compile(r"\n[ \t\r]*\n")


def paragraph_bounds(text: str, offset: int) -> tuple[int, int]:
    """[start, end) of the paragraph (text between blank lines) holding `offset`."""
    start = 0
    for match in _BLANK_LINE.finditer(text, max(0, offset - 20000), offset):
        start = match.end()
    following = _BLANK_LINE.search(text, offset)
    return start, following.start() if following else len(text)


def completion_text(text: str, context: CiteContext) -> tuple[str, int]:
    """The paragraph around a citation being typed, without that citation, and where it stood.

    What ranks the papers for it: the sentence and paragraph the citation goes into,
    not the half-typed key or the keys already in it.
    """
    start, end = paragraph_bounds(text, context.start)
    end = max(end, min(context.end, len(text)))
    paragraph = text[start:context.start] + " " + text[context.end:end]
    return paragraph, context.start - start


def without_unfinished_citations(text: str, kind: str) -> str:
    """`text` with LaTeX cite commands whose key list is not closed yet blanked out.

    While a key is being typed (`\\cite{smi` with no `}` yet), a draft reader would take
    everything up to the next `}` as keys. Spaces of the same length keep every offset and
    line of the rest in place.
    """
    if LATEX not in syntaxes_for(kind):
        return text
    blanked = list(text)
    changed = False
    for opening in _LATEX_OPENING.finditer(text):
        if not is_cite_command(opening.group(1)):
            continue
        close = text.find("}", opening.end())
        inner = text[opening.end(): close] if close >= 0 else text[opening.end():]
        keys = [piece.strip() for piece in inner.split(",")]
        if close >= 0 and "\n\n" not in inner and all(not key or _LATEX_KEY_PATTERN.fullmatch(key) for key in keys):
            continue
        blanked[opening.start(): opening.end()] = " " * (opening.end() - opening.start())
        changed = True
    return "".join(blanked) if changed else text


_LATEX_KEY_PATTERN = re.compile(r"[^\s,{}%\\]+")
