"""The user's metadata edits, undoable.

An edit marks its fields "edited by you" so that imports never overwrite them. Its undo
entry keeps the old values *and* the old marks: undoing an edit must also unfreeze the
fields for re-import, else an undone typo would still block every later import of them.
`Library.undo()` (`scimult undo`) reverts the newest entry; the window's undo stack
reverts the entry of its own command with `undo_edit`.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from scimult_desktop.errors import ScimultError
from scimult_desktop.store import undo_log
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.papers import MERGEABLE_FIELDS, PaperStore

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

UNDO_ACTION = "restore_fields"


def edit_paper(library: "Library", paper_id: int, fields: dict[str, object]) -> int:
    """Store the user's values for `fields` of one paper; returns the undo entry's id.

    Raises:
        ScimultError: a field that is not paper metadata, or nothing to change.
    """
    unknown = sorted(set(fields) - set(MERGEABLE_FIELDS))
    if unknown:
        raise ScimultError(f"cannot edit {', '.join(unknown)} (editable: {', '.join(MERGEABLE_FIELDS)})")
    if not fields:
        raise ScimultError("no field to edit")
    database = library.database
    paper = library.papers.get(paper_id)
    before = {name: getattr(paper, name) for name in fields}
    marks = _marks(database, paper_id)
    description = f"edit {', '.join(fields)} of “{paper.title[:40]}”"
    payload = {"action": UNDO_ACTION, "paper_id": paper_id, "values": before, "user_edited": marks}
    with database.transaction():
        library.papers.edit(paper_id, **fields)
        return undo_log.append(database, description, payload)


def restore_payload(database: LibraryDatabase, payload: dict) -> None:
    """Put the old values and the old "edited by you" marks back (the caller holds the transaction)."""
    PaperStore(database).edit(int(payload["paper_id"]), user_edited=list(payload["user_edited"]), **payload["values"])


def undo_edit(library: "Library", entry_id: int) -> str:
    """Revert one edit's undo entry; returns its description.

    Raises:
        ScimultError: no such entry, it was undone already, or it is not an edit.
    """
    return undo_log.revert(library.database, entry_id, UNDO_ACTION, "a metadata edit", restore_payload)


def _marks(database: LibraryDatabase, paper_id: int) -> list[str]:
    row = database.conn.execute("SELECT user_edited FROM papers WHERE id = ?", (paper_id,)).fetchone()
    return sorted(json.loads(row[0] or "[]")) if row else []
