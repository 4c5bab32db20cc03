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
from scimult_desktop.ingest.text_decoding import decode_text


# Keys only CSL items have together with a list-of-objects shape (seen in the first 16 KB).
_CSL_KEYS = re.compile(r'"(?:title|container-title|citation-key|issued|DOI|ISSN|author)"\s*:')


class CslJsonImporter:
    kind = "csl-json"

    def can_import(self, path: Path) -> bool:
        if path.suffix.lower() != ".json":
            return False
        try:
            with path.open("rb") as handle:
                head = handle.read(16384)
        except OSError:
            return False
        # A CSL-JSON file is a list of objects with CSL fields; other JSON lists
        # (tool outputs, data files) found while scanning a folder are not ours.
        try:
            text = decode_text(head).text.lstrip()
        except ValueError:
            return False
        if re.match(r"\[\s*\]", text):
            return True  # an empty export
        return re.match(r"\[\s*\{", text) is not None and _CSL_KEYS.search(text) is not None

    def claims_name(self, path: Path) -> bool:
        """Whether a file named by the user goes to this importer even when its content does not look like CSL:
        reading it then says what is wrong with it, which "unsupported file type" would not."""
        return path.suffix.lower() == ".json"

    def read(self, path: Path) -> Iterator[ImportItem]:
        """Yield one record per item with a title, one problem per item that cannot be read.

        Values of the wrong JSON type (a string where a list of names belongs, a
        number as DOI...) are read as well as they can be; an item that still
        cannot be made into a record is reported and the others go on.

        Raises:
            ImportFailed: the file is unreadable, not JSON, too deeply nested, or not a list.
        """
        items, notes = read_csl_items(path)
        for place, message in notes:
            yield ImportProblem(place, message)
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


def read_csl_items(path: Path) -> tuple[list, list[tuple[str, str]]]:
    """The items of a CSL-JSON file, and (place, message) for what was mended or where the file breaks off.

    A file cut short or damaged in the middle keeps the items before the damage
    (they are decoded one by one); what follows is reported with its line.

    Raises:
        ImportFailed: unreadable, not text, not JSON at all, too deeply nested, or not a list of items.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    if not raw.strip():
        raise ImportFailed(f"{path}: the file is empty (a CSL-JSON export is a list of items)")
    try:
        decoded = decode_text(raw, "CSL-JSON text")
    except ValueError as exc:
        raise ImportFailed(f"{path}: {exc}") from exc
    text = decoded.text
    notes = [(f"{path}:{decoded.line}", f"read as {decoded.encoding}: " + "; ".join(decoded.notes))] if decoded.notes else []
    try:
        document = json.loads(text)
    except RecursionError as exc:
        raise ImportFailed(f"{path}: not a readable CSL-JSON file (nested too deeply)") from exc
    except json.JSONDecodeError as exc:
        items, damage = _items_before_damage(text, path, exc)
        return items, notes + [damage]
    if not isinstance(document, list):
        raise ImportFailed(f"{path}: CSL-JSON must be a list of items; {_shape(document)}")
    if document and not any(isinstance(item, dict) for item in document):
        raise ImportFailed(f"{path}: CSL-JSON must be a list of items (objects); this list holds {_shape_of_items(document)}")
    return document, notes


def _items_before_damage(text: str, path: Path, error: json.JSONDecodeError) -> tuple[list, tuple[str, str]]:
    """The whole items before the place where the JSON breaks, and where it breaks."""
    decoder = json.JSONDecoder()
    start = len(text) - len(text.lstrip())
    if not text.startswith("[", start):
        if text.lstrip().startswith("{") and "\n{" in text.strip():
            raise ImportFailed(f"{path}: one JSON object per line (JSON Lines), not a CSL-JSON list of items")
        raise ImportFailed(f"{path}: not a readable CSL-JSON file: the JSON is broken at line {error.lineno}, "
                           f"column {error.colno} ({error.msg.lower()})")
    items: list = []
    position = start + 1
    try:
        while True:
            while position < len(text) and text[position] in " \t\r\n,":
                position += 1
            if position >= len(text) or text[position] == "]":
                break
            item, position = decoder.raw_decode(text, position)
            items.append(item)
    except (json.JSONDecodeError, RecursionError):
        pass
    where = f"line {error.lineno}, column {error.colno}"
    cut_short = not text.rstrip().endswith("]")  # an export always ends with the list's closing bracket
    ending = "the file ends in the middle of an item (cut short?)" if cut_short else \
        f"the JSON is broken there ({error.msg.lower()})"
    message = (f"CSL-JSON damaged at {where}: {ending}; the {len(items):,} items before it were read, "
               f"anything after it was not")
    return items, (f"{path}:{error.lineno}", message)


def _shape(document: object) -> str:
    if isinstance(document, dict):
        keys = ", ".join(list(map(str, document))[:5])
        if "title" not in document and any(isinstance(v, list) for v in document.values()):
            return f"this file is an object with keys {keys} (an API response or a wrapper, not an export)"
        return f"this file is one object with keys {keys} (a single item? wrap it in [ ])"
    return f"this file holds a JSON {type(document).__name__}"


def _shape_of_items(items: list) -> str:
    kinds = sorted({type(item).__name__ for item in items})
    return " and ".join(f"{kind}s" for kind in kinds)


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
