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
from scimult_desktop.index.base import replaced_atomically
from scimult_desktop.store.papers import PaperStore

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

EXPORT_FORMATS = ("bibtex", "csl-json")


def export_papers(library: "Library", references: Iterable[str] = (), *, all_papers: bool = False, fmt: str = "bibtex",
                  collection: str | None = None) -> str:
    """Papers as BibTeX or CSL-JSON text.

    Args:
        library: the open library.
        references: paper ids, citation keys or DOIs, exported in this order (duplicates once).
        all_papers: export every paper (in id order) instead of `references`.
        fmt: "bibtex" or "csl-json".
        collection: export the papers of this collection and its sub-collections ("Parent/Child"
            names, case-insensitive), in id order, after any `references`.

    Returns:
        The document text (UTF-8 when written; non-ASCII is kept, not LaTeX-escaped).

    Raises:
        ScimultError: unknown format, neither references nor `all_papers` nor `collection` given,
            or no collection has that name.
        PaperNotFound: a reference names no paper.
    """
    if fmt not in EXPORT_FORMATS:
        raise ScimultError(f"unknown export format {fmt!r} (expected one of: {', '.join(EXPORT_FORMATS)})")
    store = PaperStore(library.database)
    if all_papers:
        ids = store.all_ids()  # papers in the trash are left out
    else:
        ids = [store.resolve(str(reference)) for reference in references]
        if collection is not None:
            ids += collection_paper_ids(library, collection)
        ids = list(dict.fromkeys(ids))
        if not ids and collection is None:
            raise ScimultError("nothing to export: name papers (ids, citation keys or DOIs), a collection, or use --all")
    items = export_items(store, ids, decode_latex=fmt == "csl-json")
    return write_bibtex(items) if fmt == "bibtex" else write_csl_json(items)


def export_to_file(library: "Library", path: str | os.PathLike, references: Iterable[str] = (), *,
                   all_papers: bool = False, fmt: str = "bibtex", collection: str | None = None) -> int:
    """Write an export to `path` (UTF-8); returns the number of characters written.

    Raises:
        ScimultError: as `export_papers`, or when the file cannot be written.
    """
    text = export_papers(library, references, all_papers=all_papers, fmt=fmt, collection=collection)
    target = Path(path)
    try:
        # Renamed into place when complete: a reader (a watching editor, pandoc) never sees half
        # a file, and a failed write leaves an earlier export as it was.
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o644
        with replaced_atomically(target) as partial:
            partial.write_text(text, encoding="utf-8")
            partial.chmod(mode)
    except OSError as exc:
        raise ScimultError(f"{target}: cannot write the export ({exc.strerror or exc})") from exc
    return len(text)


def collection_paper_ids(library: "Library", name: str) -> list[int]:
    """Ids of the papers in collection `name` or any collection below it ("name/..."), by id; trash left out.

    Raises:
        ScimultError: no collection has that name (the message lists a few that exist).
    """
    conn = library.database.conn
    wanted = name.strip().strip("/")
    names = [row[0] for row in conn.execute("SELECT DISTINCT name FROM collections ORDER BY name")]
    chosen = [n for n in names if n.casefold() == wanted.casefold() or n.casefold().startswith(wanted.casefold() + "/")]
    if not wanted or not chosen:
        known = ", ".join(repr(n) for n in names[:8]) + (", …" if len(names) > 8 else "")
        raise ScimultError(f"no collection named {name!r} in this library" + (f" (collections: {known})" if names else " (it has none)"))
    marks = ",".join("?" * len(chosen))
    rows = conn.execute(
        f"""SELECT DISTINCT pc.paper_id FROM paper_collections pc JOIN collections c ON c.id = pc.collection_id
            JOIN papers p ON p.id = pc.paper_id AND p.deleted_at IS NULL
            WHERE c.name IN ({marks}) ORDER BY pc.paper_id""",
        chosen,
    )
    return [int(row[0]) for row in rows]


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
