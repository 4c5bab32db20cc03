"""BibTeX / BibLaTeX import on bibtexparser 2.x.

@string macros are resolved, LaTeX accents and commands are decoded to Unicode
for display, and the citation key is kept exactly as written. Blocks the parser
cannot read are reported with file and line; the rest import.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from scimult_desktop.domain.ids import normalize_arxiv_id, normalize_doi
from scimult_desktop.domain.records import Attachment, ImportedRecord, ImportProblem, Paper
from scimult_desktop.errors import ImportFailed
from scimult_desktop.ingest.base import ImportItem

# Fields that become columns; everything else is kept in `extra`.
_VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "series", "publisher", "school", "institution")


class BibtexImporter:
    kind = "bibtex"

    def can_import(self, path: Path) -> bool:
        return path.suffix.lower() in {".bib", ".bibtex", ".biblatex"}

    def read(self, path: Path) -> Iterator[ImportItem]:
        import bibtexparser
        from bibtexparser import middlewares

        text = read_text_any_encoding(path)
        try:
            library = bibtexparser.parse_string(
                text,
                append_middleware=[middlewares.LatexDecodingMiddleware(keep_braced_groups=False)],
            )
        except Exception as exc:  # bibtexparser raises assorted errors on pathological input
            raise ImportFailed(f"{path}: cannot parse BibTeX ({exc})") from exc
        for block in library.failed_blocks:
            line = (getattr(block, "start_line", 0) or 0) + 1
            reason = next((ln.strip() for ln in str(getattr(block, "error", "")).splitlines() if ln.strip()), "syntax error")
            yield ImportProblem(f"{path}:{line}", f"broken BibTeX entry skipped: {reason}")
        for entry in library.entries:
            try:
                record = _record_from_entry(entry, path)
            except Exception as exc:  # one odd entry must not stop the file
                yield ImportProblem(f"{path}:{entry.start_line + 1}", f"entry {entry.key!r} skipped: {exc}")
                continue
            if record is None:
                yield ImportProblem(f"{path}:{entry.start_line + 1}", f"entry {entry.key!r} skipped: it has no title")
            else:
                yield record


def read_text_any_encoding(path: Path) -> str:
    """File text as UTF-8 (BOM allowed), falling back to Latin-1 as old .bib files use."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    for encoding in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", errors="replace")


def _record_from_entry(entry, path: Path) -> ImportedRecord | None:
    fields = {key.lower(): _clean(str(field.value)) for key, field in entry.fields_dict.items()}
    title = fields.get("title") or ""
    if not title:
        return None
    doi = normalize_doi(fields.get("doi") or fields.get("url"))
    arxiv = None
    if (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower() == "arxiv":
        arxiv = normalize_arxiv_id(fields.get("eprint"))
    arxiv = arxiv or normalize_arxiv_id(fields.get("arxivid") or fields.get("arxiv"))
    if not arxiv and "arxiv" in (fields.get("journal") or fields.get("url") or "").lower():
        arxiv = normalize_arxiv_id(fields.get("journal", "") + " " + fields.get("url", ""))
    venue = next((fields[name] for name in _VENUE_FIELDS if fields.get(name)), None)
    paper = Paper(
        title=title,
        authors=split_authors(fields.get("author") or fields.get("editor") or ""),
        year=parse_year(fields.get("year") or fields.get("date")),
        venue=venue,
        abstract=fields.get("abstract") or None,
        doi=doi,
        arxiv_id=arxiv,
        citekey=entry.key,
        entry_type=entry.entry_type.lower(),
        source="bibtex",
    )
    paper.files = [Attachment(p) for p in parse_file_field(fields.get("file", ""), path.parent)]
    keywords = fields.get("keywords", "")
    paper.tags = [k.strip() for k in re.split(r"[;,]", keywords) if k.strip()]
    extra = {k: v for k, v in fields.items() if k not in {"title", "author", "abstract", "doi", "year", "file"}}
    return ImportedRecord(paper, "bibtex", str(path), entry.key, extra=extra)


def _clean(value: str) -> str:
    # Decoding leaves grouping braces and line breaks from the source layout.
    value = value.replace("{", "").replace("}", "")
    return " ".join(value.split())


def split_authors(value: str) -> list[str]:
    """`A and B and C` into names, as `Last, First` where the order is clear."""
    if not value.strip():
        return []
    names = [n.strip() for n in re.split(r"\s+and\s+", value, flags=re.IGNORECASE) if n.strip()]
    return [_last_first(n) for n in names if n.lower() != "others"]


def _last_first(name: str) -> str:
    if "," in name:
        return ", ".join(part.strip() for part in name.split(",", 1))
    parts = name.split()
    if len(parts) < 2:
        return name
    # Keep particles with the family name ("Ludwig van Beethoven" -> "van Beethoven, Ludwig").
    for i, part in enumerate(parts[:-1]):
        if part[:1].islower():
            return f"{' '.join(parts[i:])}, {' '.join(parts[:i])}".strip(", ")
    return f"{parts[-1]}, {' '.join(parts[:-1])}"


def parse_year(value: str | None) -> int | None:
    if not value:
        return None
    match = re.search(r"\b(1[5-9]\d\d|20\d\d)\b", value)
    return int(match.group(1)) if match else None


def parse_file_field(value: str, base: Path) -> list[str]:
    """Attachment paths from a JabRef/Zotero/Mendeley `file` field.

    Shapes seen: `path.pdf`, `desc:path.pdf:PDF` (JabRef/Mendeley), several joined by `;`.
    Relative paths are taken relative to the .bib file.
    """
    paths: list[str] = []
    for item in filter(None, (s.strip() for s in re.split(r"(?<!\\);", value))):
        parts = re.split(r"(?<!\\):", item)
        if len(parts) >= 3:
            candidate = ":".join(parts[1:-1])
        else:
            candidate = item
        candidate = candidate.replace("\\:", ":").replace("\\;", ";").replace("\\\\", "\\")
        if re.match(r"^[A-Za-z]$", parts[0]) and len(parts) == 2:
            candidate = item  # a bare Windows path like C:\x.pdf
        if not candidate:
            continue
        p = Path(candidate).expanduser()
        if not p.is_absolute():
            p = base / p
        paths.append(str(p))
    return paths
