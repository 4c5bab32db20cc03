"""The undo log: one row per undoable change, its payload saying how to put things back.

Each kind of change (a metadata edit, a row snapshot, ...) owns its payload's format and its
`action` name; writing an entry and reverting one by id are the same for every kind.
"""

from __future__ import annotations

import json
from typing import Callable

from scimult_desktop.errors import ScimultError
from scimult_desktop.store.clock import utc_now
from scimult_desktop.store.database import LibraryDatabase


# Entries kept: Undo walks back from the newest, and a merge's entry holds both papers' whole
# rows, so an unbounded log only grows the library. Older entries are dropped as new ones come.
KEPT_ENTRIES = 500


def append(database: LibraryDatabase, description: str, payload: dict) -> int:
    """Write an entry (inside the change's transaction) and drop those beyond the newest `KEPT_ENTRIES`; returns its id."""
    cursor = database.conn.execute(
        "INSERT INTO undo_log (description, payload, created_at) VALUES (?, ?, ?)",
        (description, json.dumps(payload, ensure_ascii=False), utc_now()),
    )
    entry_id = int(cursor.lastrowid)
    database.conn.execute("DELETE FROM undo_log WHERE id <= ?", (entry_id - KEPT_ENTRIES,))
    return entry_id


def revert(database: LibraryDatabase, entry_id: int, action: str, kind: str,
           restore: Callable[[LibraryDatabase, dict], None]) -> str:
    """Revert entry `entry_id` with `restore(database, payload)` and mark it undone; returns its description.

    Raises:
        ScimultError: no such entry, it was undone already, or its action is not `action`
            (`kind` names what it should have been, for the message).
    """
    row = database.conn.execute("SELECT description, payload, undone FROM undo_log WHERE id = ?", (entry_id,)).fetchone()
    if row is None:
        raise ScimultError(f"no undo entry {entry_id} in this library")
    if row["undone"]:
        raise ScimultError(f"“{row['description']}” was undone already")
    payload = json.loads(row["payload"])
    if payload.get("action") != action:
        raise ScimultError(f"undo entry {entry_id} (“{row['description']}”) is not {kind}")
    with database.transaction():
        restore(database, payload)
        database.conn.execute("UPDATE undo_log SET undone = 1 WHERE id = ?", (entry_id,))
    return str(row["description"])
