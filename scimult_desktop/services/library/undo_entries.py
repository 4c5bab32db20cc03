"""Undo entries whose payload is a row snapshot (`store.row_snapshots`).

Merging papers, editing tags and deleting notes record, in the undo log, every row the
change touched as it was before. Undoing puts those rows back exactly, so a merged-away
paper returns with its id, files, tags, collections, references, citations, notes,
vectors and feedback. `Library.undo()` (`scimult undo`) reverts the newest entry;
the window's undo stack reverts the entry of its own command with `undo_entry`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from scimult_desktop.store import row_snapshots, undo_log
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
    return undo_log.append(database, description, payload)


def restore_payload(database: LibraryDatabase, payload: dict) -> None:
    """Undo one snapshot payload (the caller holds the transaction)."""
    row_snapshots.restore(database.conn, payload["rows"], payload.get("created", ()))


def undo_entry(library: "Library", entry_id: int) -> str:
    """Revert one undo entry of this kind; returns its description.

    Raises:
        ScimultError: no such entry, it was undone already, or the rows it restores were reused since.
    """
    return undo_log.revert(library.database, entry_id, UNDO_ACTION, "a row snapshot", restore_payload)
