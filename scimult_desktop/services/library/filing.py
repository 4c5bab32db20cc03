"""Filing papers by hand: add or remove a tag, add to, remove from or move between collections,
rename or delete a collection.

What the context menu on papers offers. Each change is one undo-log entry listing exactly
the links it added and removed, so undo (the window's Ctrl+Z, or `scimult undo`) reverses
that change and nothing else. Collections made here are the user's own (source "user").

Example:
    >>> change = add_tag(lib, [3, 7], "to read")
    >>> undo_filing(lib, change.undo_id)
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from scimult_desktop.errors import ScimultError
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store import undo_log

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

UNDO_ACTION = "refile"


@dataclass
class FilingChange:
    """How many papers a filing change touched, and its undo entry (None when it changed nothing)."""

    description: str
    changed: int
    undo_id: int | None


def add_tag(library: "Library", paper_ids: Iterable[int], name: str) -> FilingChange:
    """Tag papers (as the user's own tag, creating it when new)."""
    name = _clean(name, "tag")
    ids = _ids(paper_ids)
    conn = library.database.conn
    with library.database.transaction():
        conn.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (name,))
        tag_id = int(conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()[0])
        added = [pid for pid in ids if conn.execute(
            "INSERT OR IGNORE INTO paper_tags (paper_id, tag_id, source) VALUES (?, ?, 'user')", (pid, tag_id)).rowcount]
        return _record(library.database, f"tag {len(added)} paper(s) “{name}”",
                       {"tags_added": [[pid, tag_id] for pid in added]}, len(added))


def remove_tag(library: "Library", paper_ids: Iterable[int], name: str) -> FilingChange:
    """Take a tag off papers (the tag itself stays in the library)."""
    ids = _ids(paper_ids)
    conn = library.database.conn
    row = conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()
    if row is None:
        raise ScimultError(f"no tag named {name!r} in this library")
    tag_id = int(row[0])
    with library.database.transaction():
        removed = []
        for pid in ids:
            found = conn.execute("SELECT source FROM paper_tags WHERE paper_id = ? AND tag_id = ?", (pid, tag_id)).fetchone()
            if found:
                conn.execute("DELETE FROM paper_tags WHERE paper_id = ? AND tag_id = ?", (pid, tag_id))
                removed.append([pid, tag_id, found[0]])
        return _record(library.database, f"remove tag “{name}” from {len(removed)} paper(s)", {"tags_removed": removed}, len(removed))


def add_to_collection(library: "Library", paper_ids: Iterable[int], collection: str) -> FilingChange:
    """Put papers in a collection (made when no collection has that name)."""
    name = _clean(collection, "collection")
    ids = _ids(paper_ids)
    with library.database.transaction():
        collection_id = _collection_id(library.database, name, create=True)
        added = _link(library.database, ids, collection_id)
        return _record(library.database, f"add {len(added)} paper(s) to “{name}”",
                       {"collections_added": [[pid, collection_id] for pid in added]}, len(added))


def remove_from_collection(library: "Library", paper_ids: Iterable[int], collection: str) -> FilingChange:
    """Take papers out of a collection (the papers stay in the library)."""
    ids = _ids(paper_ids)
    with library.database.transaction():
        collection_ids = _collection_ids(library.database, collection)
        removed = _unlink(library.database, ids, collection_ids)
        return _record(library.database, f"remove {len(removed)} paper(s) from “{collection}”",
                       {"collections_removed": removed}, len(removed))


def move_to_collection(library: "Library", paper_ids: Iterable[int], source: str, target: str) -> FilingChange:
    """Move papers from collection `source` to collection `target` (made when new); one undo step."""
    name = _clean(target, "collection")
    ids = _ids(paper_ids)
    with library.database.transaction():
        source_ids = _collection_ids(library.database, source)
        target_id = _collection_id(library.database, name, create=True)
        removed = _unlink(library.database, ids, [cid for cid in source_ids if cid != target_id])
        added = _link(library.database, ids, target_id)
        return _record(library.database, f"move {len(ids)} paper(s) from “{source}” to “{name}”",
                       {"collections_removed": removed, "collections_added": [[pid, target_id] for pid in added]},
                       len(set(pid for pid, _ in removed) | set(added)))


def rename_collection(library: "Library", old: str, new: str) -> FilingChange:
    """Rename a collection and its sub-collections ("Old/Child" becomes "New/Child").

    Re-imports keep filing into it: an imported collection is found by its source key, not its name.

    Raises:
        ScimultError: no such collection, an empty name, or a collection named `new` exists already.
    """
    name = _clean(new, "collection").strip("/")
    conn = library.database.conn
    with library.database.transaction():
        rows = _collection_tree(library.database, old)
        if name.casefold() != old.casefold() and conn.execute(
                "SELECT 1 FROM collections WHERE name = ? COLLATE NOCASE", (name,)).fetchone():
            raise ScimultError(f"a collection named {name!r} exists already")
        renamed = []
        for collection_id, current in rows:
            conn.execute("UPDATE collections SET name = ? WHERE id = ?", (name + current[len(old):], collection_id))
            renamed.append([collection_id, current])
        return _record(library.database, f"rename collection “{old}” to “{name}”", {"collections_renamed": renamed}, len(renamed))


def delete_collection(library: "Library", name: str) -> FilingChange:
    """Delete a collection and its sub-collections; their papers stay in the library. Undo brings both back."""
    conn = library.database.conn
    with library.database.transaction():
        ids = [collection_id for collection_id, _ in _collection_tree(library.database, name)]
        marks = ",".join("?" * len(ids))
        rows = [list(r) for r in conn.execute(
            f"SELECT id, name, parent_id, source, source_key FROM collections WHERE id IN ({marks}) ORDER BY id", ids)]
        links = [list(r) for r in conn.execute(
            f"SELECT paper_id, collection_id FROM paper_collections WHERE collection_id IN ({marks})", ids)]
        conn.execute(f"DELETE FROM collections WHERE id IN ({marks})", ids)
        return _record(library.database, f"delete collection “{name}”",
                       {"collections_deleted": rows, "collections_removed": links}, len(rows))


def collection_names(library: "Library") -> list[str]:
    """Every collection name, sorted (also empty ones)."""
    return [r[0] for r in library.database.conn.execute("SELECT DISTINCT name FROM collections ORDER BY name COLLATE NOCASE")]


def undo_filing(library: "Library", undo_id: int | None) -> str | None:
    """Reverse one filing change (the window's undo); returns its description, None when there was nothing."""
    if undo_id is None:
        return None
    database = library.database
    row = database.conn.execute("SELECT description, payload, undone FROM undo_log WHERE id = ?", (undo_id,)).fetchone()
    if row is None or row["undone"]:
        return None
    with database.transaction():
        reverse(database, json.loads(row["payload"]))
        database.conn.execute("UPDATE undo_log SET undone = 1 WHERE id = ?", (undo_id,))
    return str(row["description"])


def reverse(database: LibraryDatabase, payload: dict) -> None:
    """Undo a filing payload inside the caller's transaction (also `scimult undo`'s way back)."""
    conn = database.conn
    for collection_id, name, parent_id, source, source_key in payload.get("collections_deleted", []):
        conn.execute("INSERT OR IGNORE INTO collections (id, name, parent_id, source, source_key) VALUES (?, ?, ?, ?, ?)",
                     (collection_id, name, parent_id, source, source_key))
    for collection_id, name in payload.get("collections_renamed", []):
        conn.execute("UPDATE collections SET name = ? WHERE id = ?", (name, collection_id))
    for pid, tag_id in payload.get("tags_added", []):
        conn.execute("DELETE FROM paper_tags WHERE paper_id = ? AND tag_id = ?", (pid, tag_id))
    for pid, tag_id, source in payload.get("tags_removed", []):
        conn.execute("INSERT OR IGNORE INTO paper_tags (paper_id, tag_id, source) SELECT ?, ?, ? WHERE EXISTS "
                     "(SELECT 1 FROM papers WHERE id = ?) AND EXISTS (SELECT 1 FROM tags WHERE id = ?)",
                     (pid, tag_id, source, pid, tag_id))
    for pid, collection_id in payload.get("collections_added", []):
        conn.execute("DELETE FROM paper_collections WHERE paper_id = ? AND collection_id = ?", (pid, collection_id))
    for pid, collection_id in payload.get("collections_removed", []):
        conn.execute("INSERT OR IGNORE INTO paper_collections (paper_id, collection_id) SELECT ?, ? WHERE EXISTS "
                     "(SELECT 1 FROM papers WHERE id = ?) AND EXISTS (SELECT 1 FROM collections WHERE id = ?)",
                     (pid, collection_id, pid, collection_id))


def _record(database: LibraryDatabase, description: str, payload: dict, changed: int) -> FilingChange:
    if not changed:
        return FilingChange(description, 0, None)
    return FilingChange(description, changed, undo_log.append(database, description, {"action": UNDO_ACTION, **payload}))


def _link(database: LibraryDatabase, ids: list[int], collection_id: int) -> list[int]:
    return [pid for pid in ids if database.conn.execute(
        "INSERT OR IGNORE INTO paper_collections (paper_id, collection_id) VALUES (?, ?)", (pid, collection_id)).rowcount]


def _unlink(database: LibraryDatabase, ids: list[int], collection_ids: list[int]) -> list[list[int]]:
    removed = []
    for cid in collection_ids:
        for pid in ids:
            if database.conn.execute("DELETE FROM paper_collections WHERE paper_id = ? AND collection_id = ?", (pid, cid)).rowcount:
                removed.append([pid, cid])
    return removed


def _collection_tree(database: LibraryDatabase, name: str) -> list[tuple[int, str]]:
    """(id, name) of the collections named `name` (any case) and of those below them."""
    wanted = name.strip().strip("/").casefold()
    rows = [(int(r[0]), r[1]) for r in database.conn.execute("SELECT id, name FROM collections ORDER BY id")
            if r[1].casefold() == wanted or r[1].casefold().startswith(wanted + "/")]
    if not wanted or not rows:
        raise ScimultError(f"no collection named {name!r} in this library")
    return rows


def _collection_ids(database: LibraryDatabase, name: str) -> list[int]:
    ids = [int(r[0]) for r in database.conn.execute("SELECT id FROM collections WHERE name = ? COLLATE NOCASE", (name,))]
    if not ids:
        raise ScimultError(f"no collection named {name!r} in this library")
    return ids


def _collection_id(database: LibraryDatabase, name: str, *, create: bool) -> int:
    # The user's own collection of that name first, else any collection of that name (an imported one).
    row = database.conn.execute(
        "SELECT id FROM collections WHERE name = ? COLLATE NOCASE ORDER BY (source = 'user') DESC, id LIMIT 1", (name,)
    ).fetchone()
    if row is not None:
        return int(row[0])
    if not create:
        raise ScimultError(f"no collection named {name!r} in this library")
    cursor = database.conn.execute("INSERT INTO collections (name, source, source_key) VALUES (?, 'user', ?)", (name, name))
    return int(cursor.lastrowid)


def _ids(paper_ids: Iterable[int]) -> list[int]:
    ids = list(dict.fromkeys(int(pid) for pid in paper_ids))
    if not ids:
        raise ScimultError("no papers chosen")
    return ids


def _clean(name: str, what: str) -> str:
    cleaned = " ".join((name or "").split())
    if not cleaned:
        raise ScimultError(f"a {what} name is empty")
    return cleaned
