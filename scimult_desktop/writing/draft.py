"""A draft as a list of sentences, each with its place, its citations and a claim verdict.

Example:
    >>> sentences = analyse_draft(r"Dense retrieval has been shown to beat BM25 \\cite{dpr}.", "latex")
    >>> sentences[0].citations, sentences[0].needs_citation
    (('dpr',), True)
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from pathlib import Path

from scimult_desktop.errors import ScimultError
from scimult_desktop.writing.claims import assess_claims
from scimult_desktop.writing.latex import project_latex
from scimult_desktop.writing.markdown import project_markdown
from scimult_desktop.writing.plain import project_plain_text
from scimult_desktop.writing.projection import ProjectedText
from scimult_desktop.writing.sentences import normalise_sentence, paragraph_starts, sentence_spans
from scimult_desktop.writing.written_citations import written_citations

DRAFT_KINDS = ("latex", "markdown", "plain")
_SUFFIX_KINDS = {
    ".tex": "latex", ".latex": "latex", ".ltx": "latex",
    ".md": "markdown", ".markdown": "markdown", ".rmd": "markdown", ".qmd": "markdown", ".pandoc": "markdown",
}
_PROJECTORS = {"latex": project_latex, "markdown": project_markdown, "plain": project_plain_text}
MAX_DRAFT_BYTES = 20 * 1024 * 1024


class DraftError(ScimultError):
    """A draft file cannot be read; the message names it."""


@dataclass
class DraftSentence:
    """One sentence of a draft.

    `line`/`end_line` are 1-based line numbers of its first and last character;
    `start`/`end` are character offsets into the draft text (`text[start:end]`
    is the sentence with its markup). `citations` are the keys it already cites;
    `written_citations` the citations written out without a key (`[12]`, `(Smith, 2020)`;
    read in Markdown and plain text only, see `written_citations.py`).
    `paragraph` numbers the draft's paragraphs from 0 (a blank line, `\\par`, a
    heading, a list item, an environment or a caption starts a new one).
    """

    text: str
    line: int
    end_line: int
    start: int
    end: int
    citations: tuple[str, ...] = ()
    needs_citation: bool = False
    reasons: tuple[str, ...] = field(default_factory=tuple)
    paragraph: int = 0
    written_citations: tuple[str, ...] = ()
    file: str | None = None  # the file read in (`\\input`) that holds it; None: the draft itself

    @property
    def missing_citation(self) -> bool:
        """A claim that cites nothing yet: where suggestions help most."""
        return self.needs_citation and not self.citations and not self.written_citations

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "line": self.line,
            "end_line": self.end_line,
            "start": self.start,
            "end": self.end,
            "citations": list(self.citations),
            "needs_citation": self.needs_citation,
            "reasons": list(self.reasons),
            "paragraph": self.paragraph,
            "written_citations": list(self.written_citations),
            **({"file": self.file} if self.file is not None else {}),
        }


def draft_kind(path: str | os.PathLike) -> str:
    """`latex`, `markdown` or `plain`, from the file name's suffix."""
    return _SUFFIX_KINDS.get(Path(path).suffix.lower(), "plain")


def read_draft(path: str | os.PathLike, kind: str | None = None) -> list[DraftSentence]:
    """The sentences of a draft file (kind from its suffix unless given).

    Raises:
        DraftError: the file is missing, not a file, too large or not UTF-8 text.
    """
    return analyse_draft(read_draft_text(path), kind or draft_kind(path))


def read_draft_text(path: str | os.PathLike) -> str:
    """The text of a draft file.

    Raises:
        DraftError: the file is missing, not a file, too large or not UTF-8 text.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > MAX_DRAFT_BYTES:
            raise DraftError(f"{path}: {size // (1024 * 1024)} MiB is too large for a draft")
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise DraftError(f"{path}: draft file not found") from None
    except IsADirectoryError:
        raise DraftError(f"{path}: is a folder, not a draft file") from None
    except UnicodeDecodeError as exc:
        raise DraftError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise DraftError(f"{path}: cannot be read ({exc.strerror or exc})") from None


def analyse_draft(text: str, kind: str = "plain") -> list[DraftSentence]:
    """Split a draft into sentences with line numbers, offsets, citations and claim verdicts.

    Args:
        text: the draft's full text.
        kind: `latex`, `markdown` or `plain` (see the readers in this package for
            what each keeps and drops).

    Returns:
        Sentences in reading order; blank or punctuation-only pieces are left out.

    Raises:
        ScimultError: unknown kind.
    """
    if kind not in _PROJECTORS:
        raise ScimultError(f"unknown draft kind {kind!r} (expected one of: {', '.join(DRAFT_KINDS)})")
    projected = _PROJECTORS[kind](text)
    # LaTeX writers cite with \cite; there "[0, 1]" is an interval and "(2019)" rarely a citation.
    return _sentences(projected, written=kind != "latex")


def cited_key_places(text: str, kind: str = "plain") -> list[tuple[str, int, int]]:
    """Every key the draft cites as (key, start, end) with `text[start:end] == key`, in order.

    What the draft reader counts: keys in comments, code, verbatim, math, YAML front matter,
    or cross references (`@fig-x`) are not citations and are left out.

    Raises:
        ScimultError: unknown kind.
    """
    if kind not in _PROJECTORS:
        raise ScimultError(f"unknown draft kind {kind!r} (expected one of: {', '.join(DRAFT_KINDS)})")
    places = {}
    for mark in _PROJECTORS[kind](text).citations:
        for key, (start, end) in zip(mark.keys, mark.key_spans):
            places[start] = (key, start, end)
    return [places[start] for start in sorted(places)]


def _sentences(projected: ProjectedText, *, written: bool = False) -> list[DraftSentence]:
    flat = projected.text
    marks = [mark for mark in projected.citations if mark.in_sentence]
    openers = {mark.position for mark in marks if mark.textual or _opens_sentence(flat, mark.position)}
    spans = sentence_spans(flat, openers)
    cites_per_span: list[list[str]] = [[] for _ in spans]
    cite_offsets: list[list[int]] = [[] for _ in spans]
    span_starts = [a for a, _ in spans]
    for mark in marks:
        index = max(0, bisect.bisect_right(span_starts, mark.position) - 1)
        # A citation right after a full stop ("... BM25. \cite{x}") belongs to the sentence it follows.
        lead = flat[spans[index][0]:mark.position] if spans else ""
        if index > 0 and mark.position not in openers and not lead.strip() and "\n\n" not in lead and _has_words(flat[slice(*spans[index - 1])]):
            index -= 1
        if spans:
            cites_per_span[index].extend(mark.keys)
            cite_offsets[index].append(mark.offset)

    line_starts = [0] + [i + 1 for i, char in enumerate(projected.source) if char == "\n"]
    breaks = paragraph_starts(flat)
    sentences = []
    for (a, b), keys, marks in zip(spans, cites_per_span, cite_offsets):
        raw = flat[a:b]
        if not _has_words(raw):
            continue
        first = a + (len(raw) - len(raw.lstrip()))
        last = b - 1 - (len(raw) - len(raw.rstrip()))
        start, end = projected.offsets[first], projected.offsets[last] + 1
        start = min([start, *marks])  # a sentence opening with "@smith2020 showed" starts at the key
        sentences.append(DraftSentence(
            text=normalise_sentence(raw),
            line=bisect.bisect_right(line_starts, start),
            end_line=bisect.bisect_right(line_starts, end - 1),
            start=start,
            end=end,
            citations=tuple(dict.fromkeys(keys)),
            paragraph=bisect.bisect_right(breaks, a),
        ))
        if written:
            sentences[-1].written_citations = written_citations(sentences[-1].text)
    numbers = {number: i for i, number in enumerate(dict.fromkeys(s.paragraph for s in sentences))}
    for sentence in sentences:
        sentence.paragraph = numbers[sentence.paragraph]  # 0, 1, 2 ... over paragraphs that have sentences
    verdicts = assess_claims([s.text for s in sentences], [s.paragraph for s in sentences])
    for sentence, verdict in zip(sentences, verdicts):
        sentence.needs_citation, sentence.reasons = verdict.needs_citation, verdict.reasons
    return sentences


def _opens_sentence(flat: str, position: int) -> bool:
    """Whether a citation at `position` is the subject of a new sentence: it follows a sentence's
    full stop and lower-case words follow it ("... BM25. \\cite{dpr} showed that ...")."""
    before = flat[max(0, position - 200):position].rstrip()
    after = flat[position:position + 200].lstrip(" \t\n,")
    return bool(before) and before.rstrip("\"'\u201d\u2019)]")[-1:] in (".", "!", "?") and after[:1].islower()


def _has_words(text: str) -> bool:
    return any(char.isalpha() for char in text)
