"""Undo entries whose payload is a row snapshot (`store.row_snapshots`).

Merging papers, editing tags and deleting notes record, in the undo log, every row the
change touched as it was before. Undoing puts those rows back exactly, so a merged-away
paper returns with its id, files, tags, collections, references, citations, notes,
vectors and feedback. `Library.undo()` (`scimult undo`) reverts the newest entry;
the window's undo stack reverts the entry of its own command with `undo_entry`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scimult_desktop.errors import ScimultError
from scimult_desktop.store import row_snapshots
from scimult_desktop.store.clock import utc_now
from scimult_desktop.store.database import LibraryDatabase

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

UNDO_ACTION = "restore_rows"


def record(database: LibraryDatabase, description: str, snapshot: list[dict], root: tuple[str, str, list]) -> int:
    """Write an undo entry for a change just made (inside the change's transaction); returns its id.

    Args:
        snapshot: `row_snapshots.capture(conn, *root)` taken before the change.
        root: (table, column, values) the snapshot was captured from.
    """
    conn = database.conn
    row_snapshots.mark_gone(conn, snapshot)
    created = row_snapshots.created_rows(conn, snapshot, *root)
    payload = {"action": UNDO_ACTION, "rows": snapshot, "created": created}
    cursor = conn.execute(
        "INSERT INTO undo_log (description, payload, created_at) VALUES (?, ?, ?)",
        (description, json.dumps(payload, ensure_ascii=False), utc_now()),
    )
    return int(cursor.lastrowid)


def restore_payload(database: LibraryDatabase, payload: dict) -> None:
    """Undo one snapshot payload (the caller holds the transaction)."""
    row_snapshots.restore(database.conn, payload["rows"], payload.get("created", ()))


def undo_entry(library: "Library", entry_id: int) -> str:
    """Revert one undo entry of this kind; returns its description.

    Raises:
        ScimultError: no such entry, it was undone already, or the rows it restores were reused since.
    """
    database = library.database
    row = database.conn.execute("SELECT description, payload, undone FROM undo_log WHERE id = ?", (entry_id,)).fetchone()
    if row is None:
        raise ScimultError(f"no undo entry {entry_id} in this library")
    if row["undone"]:
        raise ScimultError(f"“{row['description']}” was undone already")
    payload = json.loads(row["payload"])
    if payload.get("action") != UNDO_ACTION:
        raise ScimultError(f"undo entry {entry_id} (“{row['description']}”) is not a row snapshot")
    with database.transaction():
        restore_payload(database, payload)
        database.conn.execute("UPDATE undo_log SET undone = 1 WHERE id = ?", (entry_id,))
    return str(row["description"])
