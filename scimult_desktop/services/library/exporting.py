"""Exporting library papers to BibTeX or CSL-JSON.

Example:
    >>> lib = open_library("/tmp/demo-lib")
    >>> text = export_papers(lib, ["smith2020deep", "10.1145/3343413.3377979"], fmt="bibtex")
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from scimult_desktop.errors import ScimultError
from scimult_desktop.exporters.bibtex import ExportItem, write_bibtex
from scimult_desktop.exporters.csl_json import write_csl_json
from scimult_desktop.store.papers import PaperStore

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

EXPORT_FORMATS = ("bibtex", "csl-json")


def export_papers(library: "Library", references: Iterable[str] = (), *, all_papers: bool = False, fmt: str = "bibtex") -> str:
    """Papers as BibTeX or CSL-JSON text.

    Args:
        library: the open library.
        references: paper ids, citation keys or DOIs, exported in this order (duplicates once).
        all_papers: export every paper (in id order) instead of `references`.
        fmt: "bibtex" or "csl-json".

    Returns:
        The document text (UTF-8 when written; non-ASCII is kept, not LaTeX-escaped).

    Raises:
        ScimultError: unknown format, or neither references nor `all_papers` given.
        PaperNotFound: a reference names no paper.
    """
    if fmt not in EXPORT_FORMATS:
        raise ScimultError(f"unknown export format {fmt!r} (expected one of: {', '.join(EXPORT_FORMATS)})")
    store = PaperStore(library.database)
    if all_papers:
        ids = store.all_ids()
    else:
        ids = list(dict.fromkeys(store.resolve(str(reference)) for reference in references))
        if not ids:
            raise ScimultError("nothing to export: name papers (ids, citation keys or DOIs) or use --all")
    items = export_items(store, ids, decode_latex=fmt == "csl-json")
    return write_bibtex(items) if fmt == "bibtex" else write_csl_json(items)


def export_to_file(library: "Library", path: str | os.PathLike, references: Iterable[str] = (), *,
                   all_papers: bool = False, fmt: str = "bibtex") -> int:
    """Write an export to `path` (UTF-8); returns the number of characters written.

    Raises:
        ScimultError: as `export_papers`, or when the file cannot be written.
    """
    text = export_papers(library, references, all_papers=all_papers, fmt=fmt)
    target = Path(path)
    try:
        target.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ScimultError(f"{target}: cannot write the export ({exc.strerror or exc})") from exc
    return len(text)


def export_items(store: PaperStore, ids: list[int], *, decode_latex: bool) -> list[ExportItem]:
    """Papers with their tags and stored extra fields, ready for an exporter."""
    papers = store.get_many(ids)
    conn = store.conn
    extras: dict[int, dict] = {}
    tags: dict[int, list[str]] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for row in conn.execute(f"SELECT id, extra FROM papers WHERE id IN ({marks})", chunk):
            extras[row[0]] = _json_object(row[1])
        for row in conn.execute(
            f"""SELECT pt.paper_id, t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id
                WHERE pt.paper_id IN ({marks}) AND pt.source IN ('user', 'import') ORDER BY t.name""",
            chunk,
        ):
            tags.setdefault(row[0], []).append(row[1])
    items = []
    for paper in papers:
        paper.tags = tags.get(paper.id or -1, [])
        extra = extras.get(paper.id or -1, {})
        is_latex = paper.source == "bibtex"
        if decode_latex and is_latex:
            extra = {name: _decode(value) for name, value in extra.items()}
            is_latex = False
        items.append(ExportItem(paper, extra, extra_is_latex=is_latex))
    return items


def _json_object(text: str | None) -> dict:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _decode(value: object) -> object:
    if not isinstance(value, str):
        return value
    from scimult_desktop.ingest.bibtex import latex_to_text

    return latex_to_text(value)
