"""Bibliography extraction for PDF import: find the reference section, split it, parse entries.

Entries are split by their markers ("[12]", "12.") when the list has them, else
by hanging indentation, else by "previous entry ended, new author list starts".
Each entry gets a DOI, arXiv id, year and title where they can be read off.
"""

from __future__ import annotations

import re

from scimult_desktop.domain.ids import normalize_arxiv_id, normalize_doi
from scimult_desktop.domain.records import Reference
from scimult_desktop.ingest.pdf_layout import PageLayout, TextLine
from scimult_desktop.ingest.text_lines import REFERENCES_HEADING_RE, join_lines

_END_RE = re.compile(
    r"^\s*((appendix|appendices|supplementary|supporting information|acknowledge?ments?|author biograph|biograph"
    r"|about the authors?)\b|[A-Z]\.?\s+(appendix|proofs?)\b)",
    re.IGNORECASE,
)
_BRACKET_RE = re.compile(r"^\s*\[\s*([^\]\s][^\]]{0,24})\]\s*")
_NUMBER_DOT_RE = re.compile(r"^\s*(\d{1,3})\.\s+\S")
_NUMBER_RE = re.compile(r"^\s*(\d{1,3})\s+[A-Z\u00c0-\u017f]")
_FULL_NAME = r"[A-Z\u00c0-\u017f][a-z\u00e0-\u017f]+(?:\s[A-Z]\.)?\s[A-Z\u00c0-\u017f][\w'’\-]+"
_AUTHOR_START_RE = re.compile(
    r"^\s*([A-Z\u00c0-\u017f][\w'’\-\u00c0-\u017f]+(\s+[A-Z\u00c0-\u017f][\w'’\-]+)?,\s+[A-Z\u00c0-\u017f]"
    r"|([A-Z]\.\s*){1,3}[A-Z\u00c0-\u017f][\w'’\-]+"
    r"|[A-Z][A-Z'’\-]+,?\s+[A-Z]"
    # two authors, given names first and in full: "Gordon D. Plotkin and John Power."
    rf"|{_FULL_NAME}\s+and\s+{_FULL_NAME}[.,])"
)
_SURNAME_INITIALS_START_RE = re.compile(r"^\s*[A-Z\u00c0-\u017f][\w'’\-]+(?:\s[A-Z\u00c0-\u017f][\w'’\-]+)?,\s(?:[A-Z]\.\s?-?)+[,;&]")
_ARXIV_IN_REF_RE = re.compile(r"(?:arxiv[:\s]*(?:preprint\s+)?(?:arxiv:)?\s*|arxiv\.org/(?:abs|pdf)/)"
                              r"(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})", re.IGNORECASE)
# "Smith, J. A., Jones, B., and Lee, C." (authors written surname first, initials after).
_SURNAME_FIRST_AUTHORS_RE = re.compile(
    r"^(?:(?:and\s+|&\s+)?[A-Z\u00c0-\u017f][\w'’\-\u00c0-\u017f]+(?:\s[A-Z\u00c0-\u017f][\w'’\-]+)?,\s(?:[A-Z]\.\s?-?)+,?\s)+"
    r"(?:et al\.?,?\s)?"
)
_YEAR_RE = re.compile(r"(?<![\d/.])((?:19|20)\d{2})[a-z]?(?![\d])")
_MAX_ENTRIES = 1000


def extract_references(pages: list[PageLayout]) -> list[Reference]:
    """The parsed reference list of a paper, or [] when no reference section is found."""
    lines = reference_lines(pages)
    if not lines:
        return []
    return [parse_reference(raw) for raw in split_entries(lines)[:_MAX_ENTRIES]]


def reference_lines(pages: list[PageLayout]) -> list[TextLine]:
    """The lines after the last reference heading, up to an appendix (running heads dropped)."""
    start: tuple[int, int] | None = None
    for page_index in range(len(pages) - 1, -1, -1):
        for line_index, line in enumerate(pages[page_index].lines):
            if REFERENCES_HEADING_RE.match(line.text):
                start = (page_index, line_index)
        if start is not None:
            break
    if start is None:
        return []
    collected: list[TextLine] = []
    for page_index in range(start[0], len(pages)):
        page = pages[page_index]
        lines = page.lines[start[1] + 1:] if page_index == start[0] else page.lines
        for line in lines:
            if _END_RE.match(line.text) and len(line.text) < 60 and collected:
                return collected
            if _running_head(line, page):
                continue
            collected.append(line)
    return collected


def _running_head(line: TextLine, page: PageLayout) -> bool:
    in_margin = line.y1 < page.height * 0.07 or line.y0 > page.height * 0.93
    return (in_margin and len(line.text) < 80) or bool(re.fullmatch(r"[\divxlc\-–\s]{1,8}", line.text.lower()))


def split_entries(lines: list[TextLine]) -> list[str]:
    """Split reference lines into one string per entry."""
    starts = _marker_starts(lines) or _hanging_indent_starts(lines) or _sentence_starts(lines)
    entries: list[list[str]] = []
    for line, is_start in zip(lines, starts):
        if is_start or not entries:
            entries.append([])
        entries[-1].append(line.text)
    return [text for text in (join_lines(e) for e in entries) if len(text) > 15]


def _marker_starts(lines: list[TextLine]) -> list[bool] | None:
    for pattern, numeric in ((_BRACKET_RE, False), (_NUMBER_DOT_RE, True), (_NUMBER_RE, True)):
        hits = [pattern.match(line.text) for line in lines]
        if not numeric:
            # A label ("[12]", "[BKL09]", "[Smi+19]") opens with a digit or a capital; "[arXiv:1307.4556" and
            # "[hep-ex]" open wrapped lines of an unlabelled list.
            hits = [h if h and re.match(r"[A-Z0-9][^:/]*$", h.group(1).strip()) else None for h in hits]
        count = sum(1 for h in hits if h)
        if count < 3 or count < 0.1 * len(lines):
            continue
        if not numeric and sum(1 for h in hits if h and h.group(1).strip().isdigit()) >= 0.6 * count:
            # "[12]" labels: a wrapped line that starts "[arXiv:2101.0001]" or "[hep-ph]" starts no entry
            hits = [h if h and h.group(1).strip().isdigit() else None for h in hits]
            numeric = True
        if numeric:
            numbers = [int(h.group(1)) for h in hits if h]
            steps = sum(1 for a, b in zip(numbers, numbers[1:]) if b == a + 1)
            if steps < 0.6 * (len(numbers) - 1):
                continue
            return _sequential_hits(hits)
        return [bool(h) for h in hits]
    return None


def _sequential_hits(hits: list) -> list[bool]:
    """Numbered starts, ignoring numbers that break the 1, 2, 3 sequence (a page or volume number)."""
    starts, expected = [], None
    for hit in hits:
        number = int(hit.group(1).strip()) if hit else None
        if number is not None and (expected is None or number == expected or number == expected + 1):
            starts.append(True)
            expected = number + 1
        else:
            starts.append(False)
    return starts


def _hanging_indent_starts(lines: list[TextLine]) -> list[bool] | None:
    """Entries whose first line sticks out left of their continuation lines."""
    starts: list[bool] = []
    indented = 0
    left_edges: dict[tuple[int, int], float] = {}
    for line in lines:
        key = (line.page, line.column)
        left_edges[key] = min(left_edges.get(key, line.x0), line.x0)
    for line in lines:
        edge = left_edges[(line.page, line.column)]
        offset = line.x0 - edge
        starts.append(offset < 2.5)
        indented += 1 if 4 <= offset <= 30 else 0
    share = indented / max(len(lines), 1)
    if 0.2 <= share <= 0.85:
        return starts
    # Short entries (most on one line) leave few indented lines: then every line must sit at the edge or the
    # indent, and the lines at the edge must open author lists (not prose with indented first lines).
    offsets = [line.x0 - left_edges[(line.page, line.column)] for line in lines]
    tidy = sum(1 for o in offsets if o < 2.5 or 4 <= o <= 30) >= 0.95 * len(lines)
    edge = [line for line, o in zip(lines, offsets) if o < 2.5]
    authors = sum(1 for line in edge if _AUTHOR_START_RE.match(line.text)) >= 0.7 * max(len(edge), 1)
    return starts if tidy and authors and indented >= 3 and share <= 0.85 else None


def _sentence_starts(lines: list[TextLine]) -> list[bool]:
    """New entry where the previous line closes a sentence and this one opens an author list."""
    starts: list[bool] = []
    previous: TextLine | None = None
    for line in lines:
        if previous is None:
            starts.append(True)
        else:
            gap = line.y0 - previous.y1
            ended = previous.text.rstrip().endswith((".", "]")) or previous.x1 < max(previous.x0 + 150, 0)
            wide_gap = gap > 0.6 * max(line.size, 1.0) and line.column == previous.column
            # "Kurono, Y., Saito, M." opens an entry even after one that ends without a full stop ("765, 85"),
            # unless the line before breaks off an author list ("Tobin," + "J. J., & Bourke").
            surname_first = bool(_SURNAME_INITIALS_START_RE.match(line.text)) and not re.search(
                r"(,|;|&|\band)\s*$", previous.text)
            starts.append(bool((ended and _AUTHOR_START_RE.match(line.text)) or surname_first or wide_gap))
        previous = line
    return starts


def parse_reference(raw: str) -> Reference:
    """Read DOI, arXiv id, year and title off one reference string."""
    raw = " ".join(raw.split())
    doi = normalize_doi(re.sub(r"(?i)(doi:|https?://(dx\.)?doi\.org/)\s*", "", raw))
    arxiv_match = _ARXIV_IN_REF_RE.search(raw)
    arxiv_id = normalize_arxiv_id(arxiv_match.group(1)) if arxiv_match else None
    body = _strip_marker(raw)
    year_match = _YEAR_RE.search(body)
    year = int(year_match.group(1)) if year_match else None
    return Reference(raw=raw, doi=doi, arxiv_id=arxiv_id, title=_reference_title(body, year_match), year=year)


def _strip_marker(raw: str) -> str:
    raw = _BRACKET_RE.sub("", raw, count=1)
    return re.sub(r"^\s*\(?\d{1,3}[.)]?\s+", "", raw, count=1)


def _reference_title(body: str, year_match: re.Match | None) -> str | None:
    quoted = re.search(r"[\"“”„]([^\"“”]{10,300}?)[,.]?[\"“”]", body)
    if quoted:
        return _tidy_title(quoted.group(1))
    if year_match is not None and year_match.start() < len(body) * 0.6:
        after = body[year_match.end():]
        after = re.sub(r"^[a-z]?\)?[.,:]?\s*", "", after)
        title = _first_sentence(after)
        if title:
            return title
    authors = _SURNAME_FIRST_AUTHORS_RE.match(body)
    if authors and authors.end() < len(body) - 10:
        title = _first_sentence(body[authors.end():])
        if title:
            return title
    colon = re.search(r"(?<=[A-Z]\.):\s+", body)
    if colon:
        title = _first_sentence(body[colon.end():])
        if title:
            return title
    sentences = _sentences(body)
    if len(sentences) >= 2:
        return _tidy_title(sentences[1]) if len(sentences[1].split()) >= 2 else None
    return None


def _sentences(text: str) -> list[str]:
    # A period ends a sentence unless it follows a lone initial ("J.") or a common abbreviation.
    parts = re.split(r"(?<!\b[A-Z])(?<!\bet al)(?<!\bpp)(?<!\bvol)(?<!\bno)(?<!\bEd)(?<!\bEds)(?<!\bed)(?<!\beds)[.?!]\s+", text)
    return [p.strip() for p in parts if p.strip()]


def _first_sentence(text: str) -> str | None:
    sentences = _sentences(text)
    if not sentences:
        return None
    title = sentences[0]
    if len(title.split()) < 2 or re.match(r"^(in|proc|proceedings)\b", title, re.IGNORECASE):
        return None
    return _tidy_title(title)


def _tidy_title(title: str) -> str | None:
    title = title.strip(" ,.;:\"“”")
    return title if len(title) >= 5 else None
