"""Front-matter detection for PDF import: title, authors, abstract, year, DOI, arXiv id.

Works on `PageLayout`s (see pdf_layout) plus the PDF's embedded metadata. The
embedded /Title is only trusted when page 1 agrees with it: producers often
leave a file name, a journal name or another paper's title there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher

from scimult_desktop.domain.ids import normalize_arxiv_id, normalize_doi, normalize_title
from scimult_desktop.ingest.pdf_layout import PageLayout, TextLine, clean_text
from scimult_desktop.ingest.text_lines import join_lines

# Lines that are never part of a title: stamps, identifiers, venue and licence lines.
_NOISE_RE = re.compile(
    r"(arxiv\s*:|\bdoi\b|https?://|www\.|@|©|\(c\)\s*\d|copyright|\bissn\b|\bisbn\b|\bvol\.|\bvolume\s+\d"
    r"|\bpp\.|\bpages?\s+\d|journal homepage|available online|^received\b|^accepted\b|^published\b"
    r"|research article|original article|review article|open access|^preprint|submitted to|to appear in"
    r"|creative commons|licensed under|all rights reserved|permission to)",
    re.IGNORECASE,
)
_VENUE_RE = re.compile(
    r"^(the\s+)?(\d+(st|nd|rd|th)\s+)?(journal|proceedings|transactions|annals|bulletin|letters|magazine"
    r"|international conference|conference|workshop|symposium)\b|journal of\b",
    re.IGNORECASE,
)
_LABEL_RE = re.compile(r"^(author\(s\)|authors?|source|published by|stable url|by|editor|keywords?)\s*:", re.IGNORECASE)
_SECTION_START_RE = re.compile(
    r"^\s*((\d+|[ivx]+)\.?\s*)?(abstract\b|(summary|introduction|keywords?|key words|index terms|contents)\s*([.:\u2014\u2013-]|$))",
    re.IGNORECASE,
)
_ABSTRACT_RE = re.compile(r"^\s*(abstract|summary)\b\s*[.:\u2014\u2013-]?\s*", re.IGNORECASE | re.MULTILINE)
_ABSTRACT_END_RE = re.compile(
    r"^\s*(((\d+|[IVX]+)\.?\s+)?(introduction|background|motivation)\b|keywords?\b|key\s*words\b|index terms\b"
    r"|categories and subject descriptors|general terms\b|acm reference format|ccs concepts|additional key words"
    r"|(1|I)\.?\s+[A-Z][A-Za-z]+|permission to (make|copy)|copyright\b|©|\*?\s*corresponding author)",
    re.IGNORECASE,
)
_FILENAME_TITLE_RE = re.compile(
    r"(\.(doc|docx|dvi|pdf|eps|ps|tex|txt|rtf|indd|qxd|odt)\b|^microsoft\s+(word|powerpoint)|^untitled\b|^title\b"
    r"|^slide|^presentation\d*$|^book\d*$|^document\d*$)",
    re.IGNORECASE,
)
_ARXIV_STAMP_RE = re.compile(
    r"arXiv:\s*(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?\s*\[[^\]]{1,20}\]\s*(\d{1,2}\s+[A-Z][a-z]{2}\s+(\d{4}))?"
)
_ARXIV_REF_RE = re.compile(r"arXiv:\s*(\d{4}\.\d{4,5}|[a-z\-]+(?:\.[A-Z]{2})?/\d{7})", re.IGNORECASE)
_YEAR = r"((?:19|20)\d{2})"
_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_YEAR_CUES = [
    re.compile(r"\b\d{1,4}\s*[a-zA-Z]?,\s*(?:pp\.\s*)?\d+\s*[-\u2013]\s*\d+\s*\(" + _YEAR + r"\)"),  # 54 a, 272-273 (1999)
    re.compile(r"(?:©|\(c\)|copyright)\s*(?:[^\n\d]{0,40}?)" + _YEAR, re.IGNORECASE),
    re.compile(
        r"(?:proceedings|conference|workshop|symposium|meeting|congress|journal|vol\.?|volume|transactions"
        r"|letters|published)[^\n]{0,80}?\b" + _YEAR + r"\b",
        re.IGNORECASE,
    ),
    re.compile(r"\b[A-Z][A-Za-z]{1,10}\d*\(" + _YEAR + r"\)\d"),  # JCAP10(2008)003
    re.compile(r"\b[A-Z]{2,}[A-Za-z]*['\u2019]?\s?" + _YEAR + r"\b"),  # CLEF 2008, SIGIR'20 written out
    re.compile(r"\b[A-Z]{2,}[A-Za-z]*\s?['\u2019](\d{2})\b"),  # SIGIR '20
    re.compile(r"\b" + _MONTHS + r"\s+(?:\d{1,2},?\s+)?" + _YEAR + r"\b", re.IGNORECASE),
]
_AFFILIATION_WORDS = {
    "university", "universität", "universite", "université", "department", "dept", "institute", "institut",
    "laboratory", "laboratories", "lab", "labs", "school", "college", "center", "centre", "inc", "corporation",
    "corp", "research", "faculty", "street", "avenue", "road", "division", "science", "sciences", "computer",
    "engineering", "technology", "national", "academy", "hospital", "foundation", "group", "ltd", "gmbh",
    "company", "abstract", "introduction", "keywords", "member", "ieee", "fellow", "senior", "student", "and",
    "of", "the", "for", "in", "on", "at", "with", "campus", "email", "e-mail", "usa", "uk", "china", "germany",
    "france", "italy", "japan", "canada", "india", "spain", "physics", "mathematics", "informatics", "statistics",
    "microsoft", "google", "ibm", "yahoo", "systems", "program", "programme", "theory", "project", "paper",
    "universiteit", "universidad", "universidade", "università", "korea", "received", "accepted", "published",
    "revised", "january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
    "november", "december", "correspondence", "corresponding", "author", "authors",
}
_HONORIFICS_RE = re.compile(r"^(dr|prof|mr|mrs|ms|sir)\.?\s+", re.IGNORECASE)
_NAME_PARTICLES = {"van", "von", "der", "den", "de", "da", "dos", "das", "del", "della", "di", "la", "le", "du", "bin", "al"}
_MARKERS_RE = re.compile(r"[\d*∗†‡§¶◦•⋆☆♯#‖]+")


@dataclass
class FrontMatter:
    """What page 1 (or a cover page) says about the paper."""

    title: str | None = None
    title_source: str | None = None  # layout | metadata | cover-page
    authors: list[str] | None = None
    abstract: str | None = None
    year: int | None = None
    year_source: str | None = None  # text | metadata
    doi: str | None = None
    arxiv_id: str | None = None
    cover_page: bool = False  # page 1 is a repository cover sheet (JSTOR), not the paper


def read_front_matter(pages: list[PageLayout], metadata: dict, file_stem: str) -> FrontMatter:
    """Detect the bibliographic fields of a paper from its first pages and metadata.

    Args:
        pages: layouts of the first pages (at least page 1 when the PDF has text).
        metadata: PyMuPDF's `doc.metadata` (may be empty).
        file_stem: the PDF's file name without extension (an arXiv id may hide there).
    """
    front = FrontMatter()
    first = pages[0] if pages else None
    cover = _cover_page(first) if first else None
    body = pages[1] if cover is not None and len(pages) > 1 else first
    if cover is not None:
        front.title, front.authors = cover
        front.title_source, front.cover_page = "cover-page", True
    meta_title = plausible_metadata_title(metadata.get("title"))
    if front.title is None and body is not None:
        title, title_lines = layout_title(body)
        front.title, front.title_source = _reconcile_title(title, meta_title, body)
        front.authors = detect_authors(body, title_lines) or None
    elif front.title is None and meta_title:
        front.title, front.title_source = meta_title, "metadata"
    first_text = "\n".join(p.text() for p in pages[: 2 if cover is not None else 1])
    front.abstract = detect_abstract(body.text()) if body is not None else None
    front.doi = detect_doi(first_text, metadata)
    front.arxiv_id = detect_arxiv_id(first_text, file_stem)
    front.year, front.year_source = detect_year(first_text, metadata)
    return front


def plausible_metadata_title(value: str | None) -> str | None:
    """The embedded /Title when it looks like a paper title, not a file or program name."""
    title = clean_text(value or "")
    if len(title) < 6 or len(title.split()) < 2 or _FILENAME_TITLE_RE.search(title):
        return None
    if sum(ch.isalpha() for ch in title) < 0.6 * len(title.replace(" ", "")):
        return None
    return title


def titles_agree(a: str | None, b: str | None, threshold: float = 0.9) -> bool:
    """Whether two titles are the same after normalisation (fuzzy, for accents and hyphenation)."""
    left, right = normalize_title(a), normalize_title(b)
    if not left or not right:
        return False
    if left == right:
        return True
    return SequenceMatcher(None, left, right, autojunk=False).ratio() >= threshold


def _reconcile_title(layout: str | None, meta: str | None, page: PageLayout) -> tuple[str | None, str | None]:
    if layout and meta and titles_agree(layout, meta):
        return meta, "metadata"  # same title; metadata has no hyphenation or accent debris
    if layout:
        return layout, "layout"
    if meta and normalize_title(meta) in normalize_title(page.text()):
        return meta, "metadata"
    if meta:
        return meta, "metadata-unverified"
    return None, None


def layout_title(page: PageLayout) -> tuple[str | None, list[TextLine]]:
    """The title of a first page from font size and position, with the lines it came from."""
    lines = sorted(page.lines, key=lambda ln: (ln.y0, ln.x0))
    limit = page.height * 0.7
    stop = _first_section_y(lines)
    if stop is not None:
        limit = min(limit, stop)
    candidates = [ln for ln in lines if ln.y0 < limit and _may_be_title_line(ln)]
    groups = _group_lines(candidates, size_tolerance=0.25 if page.from_ocr else 0.1)
    best: list[TextLine] | None = None
    best_key: tuple = ()
    for group in groups:
        text = _join_title(group)
        if not _looks_like_title(text) or _only_person_names(text):
            continue
        # Largest font wins; a one-word line (a journal logo, a drop cap) only when nothing else qualifies.
        key = (len(text.split()) >= 2, max(ln.size for ln in group))
        if best is None or key[0] > best_key[0] or (key[0] == best_key[0] and key[1] > best_key[1] + 0.2):
            best, best_key = group, key
    if best is None:
        return None, []
    if best_key[1] <= _body_size(lines) + 0.3:
        # No line stands out by size (OCR layers, plain manuscripts): the topmost candidate is the title.
        best = next((g for g in groups if len(_join_title(g).split()) >= 2 and _looks_like_title(_join_title(g))
                     and not _only_person_names(_join_title(g))), best)
    return _join_title(best), best


def _body_size(lines: list[TextLine]) -> float:
    """The font size that most characters on the page are set in."""
    weights: dict[float, int] = {}
    for line in lines:
        weights[line.size] = weights.get(line.size, 0) + len(line.text)
    return max(weights, key=weights.get) if weights else 0.0


def _only_person_names(text: str) -> bool:
    """An author line ("A. Smith and B. Jones"), which can be set as large as a title."""
    names = split_author_line(text)
    if not names or not all(_looks_like_name(name) for name in names):
        return False
    return len(names) >= 2 or bool(re.search(r"\b[A-Z]\.", text))


def _first_section_y(lines: list[TextLine]) -> float | None:
    for line in lines:
        if _SECTION_START_RE.match(line.text) and len(line.text) < 60:
            return line.y0
    return None


def _may_be_title_line(line: TextLine) -> bool:
    text = line.text
    letters = sum(ch.isalpha() for ch in text)
    if letters < 2 or _NOISE_RE.search(text) or _LABEL_RE.match(text):
        return False
    return letters >= 0.5 * len(text.replace(" ", ""))


def _group_lines(lines: list[TextLine], size_tolerance: float = 0.1) -> list[list[TextLine]]:
    """Consecutive lines of one font size, close together and overlapping horizontally.

    `size_tolerance` is relative: OCR layers estimate sizes from word boxes, so one
    title's lines can differ by 20% (a line without ascenders or descenders looks smaller).
    """
    groups: list[list[TextLine]] = []
    for line in lines:
        placed = False
        for group in reversed(groups[-3:]):
            last = group[-1]
            pitch = line.y0 - last.y0
            overlap = min(line.x1, last.x1) - max(line.x0, last.x0)
            same_size = abs(line.size - last.size) <= max(0.6, size_tolerance * max(line.size, last.size))
            if same_size and 0 < pitch <= 1.55 * max(line.size, last.size) and overlap > 0:
                group.append(line)
                placed = True
                break
        if not placed:
            groups.append([line])
    return groups


def _join_title(group: list[TextLine]) -> str:
    text = ""
    for line in group:
        piece = line.text.strip()
        if text.endswith("-") and piece[:1].islower():
            text = text[:-1] + piece
        else:
            text = f"{text} {piece}".strip()
    return _strip_markers(text)


def _strip_markers(title: str) -> str:
    title = re.sub(r"[*∗†‡§¶⋆]+", "", title)
    title = re.sub(r"(?<=[a-z\)])\d{1,2}$", "", title)  # footnote number glued to the last word
    return " ".join(title.split()).strip(" ,;:")


def _looks_like_title(text: str) -> bool:
    words = text.split()
    letters = sum(ch.isalpha() for ch in text)
    if len(text) > 300 or letters < 4 or len(words) > 40:
        return False
    if len(words) < 2 and letters < 8:
        return False
    if _VENUE_RE.search(text) and len(words) <= 10:
        return False
    return True


def _cover_page(page: PageLayout) -> tuple[str, list[str]] | None:
    """Title and authors from a repository cover page (JSTOR style: title, then "Author(s): ...")."""
    lines = sorted(page.lines, key=lambda ln: (ln.y0, ln.x0))
    for index, line in enumerate(lines):
        match = re.match(r"^author\(s\)\s*:\s*(.+)$", line.text, re.IGNORECASE)
        if not match or index == 0:
            continue
        title_lines = []
        for previous in reversed(lines[:index]):
            if line.y0 - previous.y1 > 4 * line.size or not _may_be_title_line(previous):
                break
            title_lines.insert(0, previous)
            line = previous
        title = _join_title(title_lines) if title_lines else ""
        if _looks_like_title(title):
            return title, split_author_line(match.group(1))
    return None


def detect_authors(page: PageLayout, title_lines: list[TextLine]) -> list[str]:
    """Person names printed between the title and the abstract."""
    if not title_lines:
        return []
    top = max(ln.y1 for ln in title_lines)
    title_size = max(ln.size for ln in title_lines)
    lines = sorted(page.lines, key=lambda ln: (ln.y0, ln.x0))
    stop = next((ln.y0 for ln in lines if ln.y0 > top and _SECTION_START_RE.match(ln.text)), top + 250)
    authors: list[str] = []
    for line in lines:
        if not (top - 1 < line.y0 < min(stop, top + 250)) or line.size > title_size + 0.1:
            continue
        if "@" in line.text or line in title_lines:
            continue
        names = split_author_line(line.text)
        if names and all(_looks_like_name(n) for n in names):
            authors.extend(n for n in names if n not in authors)
        if len(authors) >= 40:
            break
    return authors


def split_author_line(text: str) -> list[str]:
    """Split "A. Smith1, B. Jones* and C. Lee" into clean names."""
    text = _MARKERS_RE.sub(" ", text.replace(";", ","))
    text = re.sub(r"\s+(and|&)\s+", ",", text)
    text = re.sub(r"\s{3,}", ",", text)
    parts = [_HONORIFICS_RE.sub("", part.strip(" ,.'\"`")) for part in text.split(",")]
    return [" ".join(p.split()) for p in parts if p.strip()]


def _looks_like_name(name: str) -> bool:
    tokens = name.replace("-", " ").split()
    if not 2 <= len(tokens) <= 5:
        return False
    for token in tokens:
        bare = token.strip(".")
        if bare.lower() in _AFFILIATION_WORDS:
            return False
        if bare.lower() in _NAME_PARTICLES:
            continue
        if not bare or not bare[0].isupper() or not all(ch.isalpha() or ch in ".'’`´¨" for ch in bare):
            return False
    return True


def detect_abstract(text: str) -> str | None:
    """The text after an "Abstract" heading up to the first section or keywords line."""
    match = _ABSTRACT_RE.search(text)
    if not match:
        return None
    collected: list[str] = []
    for line in text[match.end():].split("\n"):
        if collected and _ABSTRACT_END_RE.match(line):
            break
        collected.append(line.strip())
        if sum(len(c) for c in collected) > 4000:
            break
    abstract = join_lines(collected)
    return abstract if len(abstract) >= 40 else None


def detect_doi(first_text: str, metadata: dict) -> str | None:
    """A DOI from the metadata fields or the first page(s), ignoring reference-list-looking context."""
    for key in ("doi", "subject", "keywords", "title"):
        doi = normalize_doi(str(metadata.get(key) or ""))
        if doi and _plausible_doi(doi):
            return doi
    # A DOI broken after "." "-" or "/" at a line end continues on the next line.
    first_text = re.sub(r"(10\.\d{4,9}/\S*[./\-_])\n(?=[\w])", r"\1", first_text)
    for match in re.finditer(r"10\.\d{4,9}/\S+", first_text):
        start = max(0, match.start() - 120)
        context = first_text[start:match.start()].lower()
        if "references" in context.split("\n")[-1] or "cited" in context[-40:]:
            continue
        doi = normalize_doi(match.group(0))
        if doi and _plausible_doi(doi):
            return doi
    return None


def _plausible_doi(doi: str) -> bool:
    suffix = doi.split("/", 1)[1] if "/" in doi else ""
    return len(suffix) >= 2 and any(ch.isalnum() for ch in suffix)


def detect_arxiv_id(first_text: str, file_stem: str) -> str | None:
    """The arXiv id from the margin stamp on page 1, or else from the file name."""
    match = _ARXIV_STAMP_RE.search(first_text)
    if match:
        return normalize_arxiv_id(match.group(1))
    header = first_text[:1500]
    match = _ARXIV_REF_RE.search(header)
    if match:
        return normalize_arxiv_id(match.group(1))
    candidate = normalize_arxiv_id(file_stem.replace("_", " "))
    if candidate and _valid_arxiv_id(candidate) and re.search(r"(^|[^\d.])" + re.escape(candidate), file_stem):
        return candidate
    return None


def _valid_arxiv_id(arxiv_id: str) -> bool:
    match = re.fullmatch(r"(\d{2})(\d{2})\.(\d{4,5})", arxiv_id)
    if not match:
        return "/" in arxiv_id
    year, month, number = int(match.group(1)), int(match.group(2)), match.group(3)
    if not 1 <= month <= 12 or year < 7 or (year, month) < (7, 4):
        return False
    return len(number) == 4 or (year, month) >= (15, 1)


def detect_year(first_text: str, metadata: dict) -> tuple[int | None, str | None]:
    """Publication year and where it came from: text cues on the first page ("text"), else the
    PDF's creation date ("metadata")."""
    created = _metadata_year(metadata)
    latest = (created or date.today().year) + 1
    stamp = _ARXIV_STAMP_RE.search(first_text)
    if stamp and stamp.group(4):
        return int(stamp.group(4)), "text"
    for pattern in _YEAR_CUES:
        for match in pattern.finditer(first_text):
            value = int(match.group(1))
            if value < 100:
                value += 2000 if value <= date.today().year % 100 else 1900
            if 1900 <= value <= latest:
                return value, "text"
    return created, ("metadata" if created else None)


def _metadata_year(metadata: dict) -> int | None:
    for key in ("creationDate", "modDate"):
        match = re.match(r"(?:D:)?((?:19|20)\d{2})", str(metadata.get(key) or ""))
        if match:
            return int(match.group(1))
    return None


def title_from_file_name(stem: str) -> str:
    """A readable fallback title from a file name ("my_paper-v2" -> "my paper-v2")."""
    text = re.sub(r"[_]+", " ", stem).strip()
    return text or "Untitled PDF"
