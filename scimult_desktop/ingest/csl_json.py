"""CSL-JSON import (Zotero's and pandoc's exchange format; also our demo library)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Iterator

from scimult_desktop.domain.ids import normalize_arxiv_id, normalize_doi
from scimult_desktop.domain.records import ImportedRecord, ImportProblem, Paper
from scimult_desktop.errors import ImportFailed
from scimult_desktop.ingest.base import ImportItem


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
        try:
            items = json.loads(path.read_text(encoding="utf-8-sig"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ImportFailed(f"{path}: not a readable CSL-JSON file ({exc})") from exc
        if not isinstance(items, list):
            raise ImportFailed(f"{path}: CSL-JSON must be a list of items")
        for position, item in enumerate(items):
            where = f"{path}#{position}"
            if not isinstance(item, dict) or not item.get("title"):
                yield ImportProblem(where, "CSL-JSON item skipped: it has no title")
                continue
            key = str(item.get("citation-key") or item.get("id") or position)
            paper = Paper(
                title=" ".join(str(item["title"]).split()),
                authors=[_name(a) for a in item.get("author", []) if _name(a)],
                year=_year(item),
                venue=item.get("container-title") or item.get("publisher"),
                abstract=item.get("abstract"),
                doi=normalize_doi(item.get("DOI")),
                arxiv_id=normalize_arxiv_id(item.get("arxiv") or _arxiv_from_url(item.get("URL"))),
                citekey=item.get("citation-key") or _key_like(item.get("id")),
                entry_type=item.get("type"),
                source="csl-json",
            )
            yield ImportedRecord(paper, "csl-json", str(path), key)


def _key_like(value: object) -> str | None:
    # Zotero and pandoc exports use the citation key as the item id; numeric or
    # URL-like ids are not keys.
    if isinstance(value, str) and value and not value.isdigit() and " " not in value and "/" not in value:
        return value
    return None


def _name(author: dict) -> str:
    if "literal" in author:
        return str(author["literal"])
    family, given = author.get("family", ""), author.get("given", "")
    return f"{family}, {given}".strip(", ") if family else given


def _year(item: dict) -> int | None:
    try:
        return int(item["issued"]["date-parts"][0][0])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


def _arxiv_from_url(url: str | None) -> str | None:
    return normalize_arxiv_id(url) if url and "arxiv.org" in url else None
