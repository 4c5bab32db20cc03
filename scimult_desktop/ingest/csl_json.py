"""CSL-JSON import (Zotero's and pandoc's exchange format; also our demo library)."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Iterator

from scimult_desktop.domain.ids import normalize_arxiv_id, normalize_doi
from scimult_desktop.domain.records import ImportedRecord, ImportProblem, Paper
from scimult_desktop.errors import ImportFailed
from scimult_desktop.ingest.base import ImportItem
from scimult_desktop.ingest.limits import MAX_YEAR as _MAX_YEAR
from scimult_desktop.ingest.limits import MIN_YEAR as _MIN_YEAR


class CslJsonImporter:
    kind = "csl-json"

    def can_import(self, path: Path) -> bool:
        if path.suffix.lower() != ".json":
            return False
        try:
            with path.open("rb") as handle:
                head = handle.read(4096)
        except OSError:
            return False
        # A CSL-JSON file is a list of objects with CSL fields; other JSON lists
        # (tool outputs, data files) found while scanning a folder are not ours.
        head = head.removeprefix(b"\xef\xbb\xbf").lstrip()
        if re.match(rb"\[\s*\]", head):
            return True  # an empty export
        return re.match(rb"\[\s*\{", head) is not None and b'"title"' in head

    def read(self, path: Path) -> Iterator[ImportItem]:
        """Yield one record per item with a title, one problem per item that cannot be read.

        Values of the wrong JSON type (a string where a list of names belongs, a
        number as DOI...) are read as well as they can be; an item that still
        cannot be made into a record is reported and the others go on.

        Raises:
            ImportFailed: the file is unreadable, not JSON, too deeply nested, or not a list.
        """
        try:
            items = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportFailed(f"{path}: not a readable CSL-JSON file ({exc})") from exc
        except RecursionError as exc:
            raise ImportFailed(f"{path}: not a readable CSL-JSON file (nested too deeply)") from exc
        if not isinstance(items, list):
            raise ImportFailed(f"{path}: CSL-JSON must be a list of items")
        for position, item in enumerate(items):
            where = f"{path}#{position}"
            if not isinstance(item, dict) or not _text(item.get("title")):
                yield ImportProblem(where, "CSL-JSON item skipped: it has no title")
                continue
            try:
                record = _record(item, position, path)
            except Exception as exc:  # noqa: BLE001 - one odd item must not stop the file
                yield ImportProblem(where, f"CSL-JSON item skipped: {type(exc).__name__}: {str(exc)[:200]}")
                continue
            yield record


def _record(item: dict, position: int, path: Path) -> ImportedRecord:
    citation_key = _text(item.get("citation-key"))
    item_id = _text(item.get("id"))
    paper = Paper(
        title=" ".join((_text(item["title"]) or "").split()),
        authors=[name for name in (_name(a) for a in _list(item.get("author"))) if name],
        year=_year(item),
        venue=_text(item.get("container-title")) or _text(item.get("publisher")),
        abstract=_text(item.get("abstract")),
        doi=normalize_doi(_text(item.get("DOI"))),
        arxiv_id=normalize_arxiv_id(_text(item.get("arxiv")) or _arxiv_from_url(_text(item.get("URL")))),
        citekey=citation_key or _key_like(item_id),
        entry_type=_text(item.get("type")),
        source="csl-json",
    )
    key = citation_key or item_id or str(position)
    return ImportedRecord(paper, "csl-json", str(path), key)


def _text(value: object) -> str | None:
    """A CSL text value as a string: numbers written out, a list of strings joined, anything else None."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return str(value) if abs(value) < 10**30 else None
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, list):
        parts = [part for part in (_text(v) for v in value if not isinstance(v, (list, dict))) if part]
        return "; ".join(parts) or None
    return None


def _list(value: object) -> list:
    """A CSL list value: a single value stands for a list of one."""
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _key_like(value: object) -> str | None:
    # Zotero and pandoc exports use the citation key as the item id; numeric or
    # URL-like ids are not keys.
    if isinstance(value, str) and value and not value.isdigit() and " " not in value and "/" not in value:
        return value
    return None


def _name(author: object) -> str:
    """A CSL name object as "Family, Given"; a bare string is taken as the name itself."""
    if not isinstance(author, dict):
        return _text(author) or ""
    literal = _text(author.get("literal"))
    if literal:
        return literal
    family, given = _text(author.get("family")) or "", _text(author.get("given")) or ""
    return f"{family}, {given}".strip(", ") if family else given


def _year(item: dict) -> int | None:
    """The first date part of `issued`, when it is a plausible calendar year."""
    try:
        value = item["issued"]["date-parts"][0][0]
    except (KeyError, IndexError, TypeError):
        return None
    if isinstance(value, str) and value.strip().lstrip("-").isdigit() and len(value.strip()) <= 6:
        value = int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not _MIN_YEAR <= value <= _MAX_YEAR:
        return None
    return value


def _arxiv_from_url(url: str | None) -> str | None:
    return normalize_arxiv_id(url) if url and "arxiv.org" in url else None
