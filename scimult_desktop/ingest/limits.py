"""Bounds every imported record is held to before it is stored, and text SQLite can take.

Importers read files nobody vetted. Whatever they produce passes through
`fit_record` on its way into the library, so that:
- no string holds a lone surrogate (JSON's `"\\ud800"`, or a file name that was
  not UTF-8): SQLite refuses those with UnicodeEncodeError; they become U+FFFD;
- no field outgrows a cap: a longer one is cut and the cut is reported (a clear
  bound rather than silent loss, and a library that cannot be inflated a
  thousandfold by one small file);
- a year fits an SQLite integer and is a calendar year, or is dropped (reported).
"""

from __future__ import annotations

import re

from scimult_desktop.domain.records import ImportedRecord

# Characters per field. Real abstracts stay under 10k; whole books under a few million.
MAX_TITLE_CHARS = 2_000
MAX_SHORT_FIELD_CHARS = 2_000  # venue, citekey, entry type, DOI, arXiv id, tag, collection, name
MAX_ABSTRACT_CHARS = 100_000
MAX_EXTRA_VALUE_CHARS = 100_000  # each value of `extra` (BibTeX notes, Zotero fields)
MAX_FULL_TEXT_CHARS = 5_000_000
MAX_PAGE_CHARS = 200_000
MAX_AUTHORS = 5_000
MAX_LIST_ITEMS = 5_000  # tags, collections, attachments, references, pages
MAX_EXTRA_DEPTH = 8
MIN_YEAR, MAX_YEAR = -9_999, 9_999

_SURROGATE = re.compile(r"[\ud800-\udfff]")


def storable_text(text: str) -> str:
    """`text` with lone surrogates replaced by U+FFFD (the only strings UTF-8, hence SQLite, refuses)."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return _SURROGATE.sub("\ufffd", text)


class _Fitter:
    def __init__(self) -> None:
        self.notes: list[str] = []

    def text(self, value, name: str, limit: int) -> str | None:
        if value is None:
            return None
        value = storable_text(value if isinstance(value, str) else str(value))
        if len(value) > limit:
            self.notes.append(f"{name} cut from {len(value):,} to {limit:,} characters")
            value = value[:limit]
        return value

    def texts(self, values: list, name: str, limit: int, count: int = MAX_LIST_ITEMS) -> list[str]:
        if len(values) > count:
            self.notes.append(f"only the first {count:,} of {len(values):,} {name} kept")
            values = values[:count]
        return [t for t in (self.text(v, name, limit) for v in values) if t is not None]

    def extra(self, value, name: str, depth: int = 0):
        if depth > MAX_EXTRA_DEPTH:
            self.notes.append(f"{name} nested too deeply: dropped")
            return None
        if isinstance(value, str):
            return self.text(value, name, MAX_EXTRA_VALUE_CHARS)
        if isinstance(value, dict):
            items = list(value.items())[:MAX_LIST_ITEMS]
            return {storable_text(str(k))[:MAX_SHORT_FIELD_CHARS]: self.extra(v, f"{name}.{k}", depth + 1) for k, v in items}
        if isinstance(value, (list, tuple)):
            return [self.extra(v, name, depth + 1) for v in value[:MAX_LIST_ITEMS]]
        if isinstance(value, bool) or value is None:
            return value
        if isinstance(value, int):
            return value if -(2**63) <= value < 2**63 else str(value)
        if isinstance(value, float):
            return value if value == value and abs(value) != float("inf") else None
        return self.text(str(value), name, MAX_EXTRA_VALUE_CHARS)


def fit_record(record: ImportedRecord) -> list[str]:
    """Make `record` storable in place; returns one note per value that was cut or dropped."""
    fit = _Fitter()
    paper = record.paper
    paper.title = fit.text(paper.title, "title", MAX_TITLE_CHARS) or ""
    paper.authors = fit.texts(paper.authors, "authors", MAX_SHORT_FIELD_CHARS, MAX_AUTHORS)
    paper.venue = fit.text(paper.venue, "venue", MAX_SHORT_FIELD_CHARS)
    paper.abstract = fit.text(paper.abstract, "abstract", MAX_ABSTRACT_CHARS)
    paper.doi = fit.text(paper.doi, "doi", MAX_SHORT_FIELD_CHARS)
    paper.arxiv_id = fit.text(paper.arxiv_id, "arxiv id", MAX_SHORT_FIELD_CHARS)
    paper.citekey = fit.text(paper.citekey, "citation key", MAX_SHORT_FIELD_CHARS)
    paper.entry_type = fit.text(paper.entry_type, "entry type", MAX_SHORT_FIELD_CHARS)
    paper.tags = fit.texts(paper.tags, "tags", MAX_SHORT_FIELD_CHARS)
    paper.collections = fit.texts(paper.collections, "collections", MAX_SHORT_FIELD_CHARS)
    if len(paper.files) > MAX_LIST_ITEMS:
        fit.notes.append(f"only the first {MAX_LIST_ITEMS:,} of {len(paper.files):,} attached files kept")
        paper.files = paper.files[:MAX_LIST_ITEMS]
    for attachment in paper.files:
        attachment.path = storable_text(attachment.path)
    if paper.year is not None and not (isinstance(paper.year, int) and MIN_YEAR <= paper.year <= MAX_YEAR):
        fit.notes.append(f"year {str(paper.year)[:40]} dropped (not a calendar year)")
        paper.year = None
    record.source_path = storable_text(record.source_path)
    record.source_key = fit.text(record.source_key, "source key", MAX_SHORT_FIELD_CHARS) or ""
    record.extra = fit.extra(record.extra, "extra") or {}
    record.full_text = fit.text(record.full_text, "full text", MAX_FULL_TEXT_CHARS)
    if len(record.pages) > MAX_LIST_ITEMS:
        record.pages = record.pages[:MAX_LIST_ITEMS]
    for page in record.pages:
        page.text = fit.text(page.text, f"page {page.page} text", MAX_PAGE_CHARS) or ""
    if len(record.references) > MAX_LIST_ITEMS:
        fit.notes.append(f"only the first {MAX_LIST_ITEMS:,} of {len(record.references):,} references kept")
        record.references = record.references[:MAX_LIST_ITEMS]
    for reference in record.references:
        reference.raw = fit.text(reference.raw, "reference", MAX_ABSTRACT_CHARS) or ""
        reference.title = fit.text(reference.title, "reference title", MAX_TITLE_CHARS)
        reference.doi = fit.text(reference.doi, "reference doi", MAX_SHORT_FIELD_CHARS)
        reference.arxiv_id = fit.text(reference.arxiv_id, "reference arxiv id", MAX_SHORT_FIELD_CHARS)
        if reference.year is not None and not (isinstance(reference.year, int) and MIN_YEAR <= reference.year <= MAX_YEAR):
            reference.year = None
    return list(dict.fromkeys(fit.notes))
