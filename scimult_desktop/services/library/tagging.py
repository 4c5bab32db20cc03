"""Editing tags themselves: rename, merge several into one, colour, delete. Each change is undoable.

Renaming a tag to the name of another tag merges the two (as Zotero does). Every change
writes one undo entry with a snapshot of the tags and paper-tag rows it touched
(`undo_entries`), so undo restores names, colours and which papers carried which tag,
including each tag's source (user, import, classifier).

Example:
    >>> rename_tag(lib, "ml", "machine learning").undo_id
    7
    >>> [t.name for t in list_tags(lib)][:2]
    ['machine learning', 'retrieval']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from scimult_desktop.errors import ScimultError
from scimult_desktop.services.library import undo_entries
from scimult_desktop.store import row_snapshots

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass
class TagInfo:
    """A tag with how many papers carry it and its colour (#rrggbb or None)."""

    name: str
    papers: int
    colour: str | None

    def to_json(self) -> dict:
        return {"name": self.name, "papers": self.papers, "colour": self.colour}


@dataclass
class TagChange:
    """What a tag edit did: a line for the user and the undo entry that reverts it."""

    description: str
    undo_id: int
    papers: int

    def to_json(self) -> dict:
        return {"description": self.description, "undo_id": self.undo_id, "papers": self.papers}


def list_tags(library: "Library") -> list[TagInfo]:
    """Every tag (also those no paper carries any more), most used first; papers in the trash are not counted."""
    rows = library.database.conn.execute(
        """SELECT t.name, count(p.id), t.colour FROM tags t LEFT JOIN paper_tags pt ON pt.tag_id = t.id
           LEFT JOIN papers p ON p.id = pt.paper_id AND p.deleted_at IS NULL
           GROUP BY t.id ORDER BY count(p.id) DESC, t.name"""
    )
    return [TagInfo(r[0], int(r[1]), r[2]) for r in rows]


def tag_colours(library: "Library") -> dict[str, str]:
    """Tag name -> colour, for the tags that have one."""
    return {r[0]: r[1] for r in library.database.conn.execute("SELECT name, colour FROM tags WHERE colour IS NOT NULL")}


def rename_tag(library: "Library", old: str, new: str) -> TagChange:
    """Rename tag `old`; when a tag `new` exists already, `old` is merged into it.

    Raises:
        ScimultError: no tag `old`, or `new` is empty.
    """
    new = _clean_name(new)
    old_id = _tag_id(library, old)
    target = _find_tag(library, new)
    if target is not None and target != old_id:
        return merge_tags(library, [old], new)
    return _change(library, [old_id], f"rename tag “{old}” to “{new}”",
                   lambda conn: conn.execute("UPDATE tags SET name = ? WHERE id = ?", (new, old_id)))


def merge_tags(library: "Library", names: Iterable[str], into: str) -> TagChange:
    """Give every paper tagged with any of `names` the tag `into` instead, and delete those tags.

    `into` may be one of `names` or another existing tag; a new name renames the first
    of `names` and merges the rest into it.

    Raises:
        ScimultError: an unknown tag, or nothing to merge.
    """
    into = _clean_name(into)
    ids = [_tag_id(library, n) for n in dict.fromkeys(names)]
    target = _find_tag(library, into)
    if target is None:
        target = ids[0]
    sources = [i for i in ids if i != target]
    if not sources and target in ids and _name_of(library, target) == into:
        raise ScimultError("pick at least two tags to merge")

    def apply(conn) -> None:
        for source in sources:
            # Where a paper has both tags, its row of the source tag goes with the tag.
            conn.execute("UPDATE OR IGNORE paper_tags SET tag_id = ? WHERE tag_id = ?", (target, source))
            conn.execute("DELETE FROM tags WHERE id = ?", (source,))
        conn.execute("UPDATE tags SET name = ? WHERE id = ?", (into, target))

    listed = ", ".join(f"“{n}”" for n in dict.fromkeys(names))
    return _change(library, [target, *sources], f"merge tags {listed} into “{into}”", apply)


def set_tag_colour(library: "Library", name: str, colour: str | None) -> TagChange:
    """Colour a tag (#rrggbb), or clear its colour with None.

    Raises:
        ScimultError: no such tag, or a colour that is not #rrggbb.
    """
    if colour is not None and not _COLOUR.match(colour.strip()):
        raise ScimultError(f"colour {colour!r} is not of the form #rrggbb")
    value = colour.strip().lower() if colour else None
    tag_id = _tag_id(library, name)
    what = f"colour tag “{name}” {value}" if value else f"clear the colour of tag “{name}”"
    return _change(library, [tag_id], what, lambda conn: conn.execute("UPDATE tags SET colour = ? WHERE id = ?", (value, tag_id)))


def delete_tag(library: "Library", name: str) -> TagChange:
    """Remove a tag from every paper and from the library (undo brings it back on the same papers).

    Raises:
        ScimultError: no such tag.
    """
    tag_id = _tag_id(library, name)
    return _change(library, [tag_id], f"delete tag “{name}”", lambda conn: conn.execute("DELETE FROM tags WHERE id = ?", (tag_id,)))


def _change(library: "Library", tag_ids: list[int], description: str, apply) -> TagChange:
    database, conn = library.database, library.database.conn
    marks = ",".join("?" * len(tag_ids))
    papers = int(conn.execute(f"SELECT count(DISTINCT paper_id) FROM paper_tags WHERE tag_id IN ({marks})", tag_ids).fetchone()[0])
    with database.transaction():
        root = ("tags", "id", list(tag_ids))
        snapshot = row_snapshots.capture(conn, *root)
        apply(conn)
        undo_id = undo_entries.record(database, description, snapshot, root)
    return TagChange(description, undo_id, papers)


def _clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise ScimultError("a tag name is empty")
    return name


def _find_tag(library: "Library", name: str) -> int | None:
    row = library.database.conn.execute("SELECT id FROM tags WHERE name = ?", (name,)).fetchone()
    return int(row[0]) if row else None


def _tag_id(library: "Library", name: str) -> int:
    found = _find_tag(library, name)
    if found is None:
        raise ScimultError(f"no tag named {name!r} in this library")
    return found


def _name_of(library: "Library", tag_id: int) -> str:
    return str(library.database.conn.execute("SELECT name FROM tags WHERE id = ?", (tag_id,)).fetchone()[0])
