"""Deleting papers to a trash, restoring them, and emptying the trash for good.

Deleting is a soft delete (`papers.deleted_at`, migration 0004_trash): the paper keeps its
row, files, tags, collections, notes and vectors, and every listing, count, search,
related-papers and suggestion ranking leaves it out. Restoring clears the mark, so nothing
is lost and nothing needs re-embedding. Each deletion is written to the undo log, so
`scimult undo` (and Ctrl+Z in the window) brings the papers back. Only `empty_trash`
removes rows, and it cannot be undone: front ends ask first.

Re-importing a source that holds a paper in the trash updates the trashed paper and
leaves it in the trash: nothing the user deleted comes back by itself.

Example:
    >>> receipt = trash_papers(lib, ["smith2020deep"])
    >>> [p.citekey for p in list_trash(lib)]
    ['smith2020deep']
    >>> restore_papers(lib, ["smith2020deep"])
    [12]
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from scimult_desktop.errors import ScimultError
from scimult_desktop.store.clock import utc_now
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.store import undo_log

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

# The undo log's action for a deletion: undoing it restores the listed paper ids.
UNDO_ACTION = "restore_papers"


@dataclass
class TrashedPaper:
    """A paper in the trash, as the trash view and `scimult trash list` show it."""

    id: int
    citekey: str
    title: str
    authors: list[str]
    year: int | None
    deleted_at: str

    def to_json(self) -> dict:
        return {"id": self.id, "citekey": self.citekey, "title": self.title, "authors": self.authors,
                "year": self.year, "deleted_at": self.deleted_at}


@dataclass
class TrashReceipt:
    """What a deletion did: the papers it moved to the trash, those already there, and its undo entry."""

    trashed: list[int]
    already_in_trash: list[int]
    undo_id: int | None

    def to_json(self) -> dict:
        return {"trashed": self.trashed, "already_in_trash": self.already_in_trash, "undo_id": self.undo_id}


def trash_papers(library: "Library", references: Iterable[str | int]) -> TrashReceipt:
    """Move papers (ids, citation keys or DOIs) to the trash; `scimult undo` brings them back.

    Raises:
        ScimultError: no papers named. PaperNotFound: a reference names no paper (nothing is changed).
    """
    ids = _resolve_all(library, references)
    database = library.database
    in_trash = _trashed_among(database, ids)
    fresh = [pid for pid in ids if pid not in in_trash]
    undo_id = None
    with database.transaction():
        if fresh:
            stamp = utc_now()
            for chunk in _chunks(fresh):
                database.conn.execute(
                    f"UPDATE papers SET deleted_at = ? WHERE id IN ({_marks(chunk)})", (stamp, *chunk)
                )
            undo_id = undo_log.append(database, _description(len(fresh)), {"action": UNDO_ACTION, "items": fresh})
    return TrashReceipt(fresh, [pid for pid in ids if pid in in_trash], undo_id)


def restore_papers(library: "Library", references: Iterable[str | int]) -> list[int]:
    """Take papers out of the trash; returns the ids restored (papers not in the trash are left as they are).

    Raises:
        ScimultError: no papers named. PaperNotFound: a reference names no paper.
    """
    ids = _resolve_all(library, references)
    with library.database.transaction():
        restored = restore_ids(library.database, ids)
        # Their deletion is settled: `scimult undo` should reach the change before it, not redo nothing.
        _forget_in_undo_log(library.database, set(restored))
        return restored


def undo_deletion(library: "Library", paper_ids: Iterable[int]) -> list[int]:
    """Undo the latest deletion of these papers (the window's Ctrl+Z); returns the ids restored.

    Marks that deletion's undo-log entry as undone, so `scimult undo` does not undo it twice.
    """
    wanted = {int(pid) for pid in paper_ids}
    database = library.database
    with database.transaction():
        for row in database.conn.execute(
            "SELECT id, payload FROM undo_log WHERE undone = 0 ORDER BY id DESC"
        ).fetchall():
            payload = json.loads(row["payload"])
            if payload.get("action") == UNDO_ACTION and set(payload["items"]) <= wanted:
                database.conn.execute("UPDATE undo_log SET undone = 1 WHERE id = ?", (row["id"],))
                return restore_ids(database, payload["items"])
        return []


def restore_ids(database: LibraryDatabase, paper_ids: Iterable[int]) -> list[int]:
    """Clear the trash mark of these papers inside the caller's transaction; returns the ids restored.

    Also the undo log's way back for a deletion (`classifying.undo_last`). Ids of papers
    removed for good since then are skipped.
    """
    ids = list(dict.fromkeys(int(pid) for pid in paper_ids))
    restored = sorted(_trashed_among(database, ids))
    for chunk in _chunks(restored):
        database.conn.execute(f"UPDATE papers SET deleted_at = NULL WHERE id IN ({_marks(chunk)})", chunk)
    return restored


def list_trash(library: "Library") -> list[TrashedPaper]:
    """The papers in the trash, most recently deleted first."""
    rows = library.database.conn.execute(
        """SELECT id, citekey, title, authors, year, deleted_at FROM papers
           WHERE deleted_at IS NOT NULL ORDER BY deleted_at DESC, id DESC"""
    )
    return [TrashedPaper(int(r["id"]), r["citekey"], r["title"], json.loads(r["authors"] or "[]"), r["year"], r["deleted_at"])
            for r in rows]


def empty_trash(library: "Library", references: Iterable[str | int] | None = None) -> int:
    """Delete papers in the trash for good (all of them, or the named ones); returns how many.

    Their files on disk are not touched (the library links to them, it never owns them);
    their tags, collection links, vectors and citation edges go with them. This cannot be
    undone: front ends ask first. Named papers that are not in the trash are refused.

    Raises:
        ScimultError: a named paper is not in the trash. PaperNotFound: a reference names no paper.
    """
    database = library.database
    if references is None:
        ids = sorted(_trashed_among(database, None))
    else:
        ids = _resolve_all(library, references)
        in_trash = _trashed_among(database, ids)
        live = [pid for pid in ids if pid not in in_trash]
        if live:
            raise ScimultError(f"paper {live[0]} is not in the trash (delete it first); nothing was removed")
    if not ids:
        return 0
    gone = set(ids)
    with database.transaction():
        for chunk in _chunks(ids):
            database.conn.execute(f"DELETE FROM papers WHERE id IN ({_marks(chunk)})", chunk)
        _forget_in_undo_log(database, gone)
    return len(ids)


def _forget_in_undo_log(database: LibraryDatabase, gone: set[int]) -> None:
    # An undo entry for papers removed for good (or already restored) would "undo" nothing; drop
    # those ids and retire entries left empty, so `scimult undo` reaches the change before them.
    for row in database.conn.execute("SELECT id, payload FROM undo_log WHERE undone = 0").fetchall():
        payload = json.loads(row["payload"])
        if payload.get("action") != UNDO_ACTION or not gone & set(payload["items"]):
            continue
        payload["items"] = [pid for pid in payload["items"] if pid not in gone]
        database.conn.execute(
            "UPDATE undo_log SET payload = ?, undone = ? WHERE id = ?",
            (json.dumps(payload), 0 if payload["items"] else 1, row["id"]),
        )


def _resolve_all(library: "Library", references: Iterable[str | int]) -> list[int]:
    ids = list(dict.fromkeys(library.papers.resolve(str(reference)) for reference in references))
    if not ids:
        raise ScimultError("no papers named: give ids, citation keys or DOIs")
    return ids


def _trashed_among(database: LibraryDatabase, ids: list[int] | None) -> set[int]:
    if ids is None:
        return PaperStore(database).trashed_ids()
    found: set[int] = set()
    for chunk in _chunks(ids):
        found.update(int(r[0]) for r in database.conn.execute(
            f"SELECT id FROM papers WHERE deleted_at IS NOT NULL AND id IN ({_marks(chunk)})", chunk))
    return found


def _description(count: int) -> str:
    return f"delete {count} paper{'s' if count != 1 else ''} to the trash"


def _chunks(ids: list[int], size: int = 500) -> Iterable[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def _marks(chunk: list[int]) -> str:
    return ",".join("?" * len(chunk))
