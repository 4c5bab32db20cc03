"""Notes on a paper: the user's own text, several per paper, Markdown or plain, found by keyword.

Notes are saved as the user types (the window saves a second after the last keystroke),
so each save is a plain update of one row. Deleting a note is undoable (`undo_entries`);
editing is not on the undo stack because the editor's own Ctrl+Z covers typing.
A merge of two papers moves their notes to the kept paper.

Example:
    >>> note = add_note(lib, "smith2020deep", "Uses **BM25** as the baseline.")
    >>> update_note(lib, note.id, "Uses BM25 and DPR as baselines.").body
    'Uses BM25 and DPR as baselines.'
    >>> [hit.paper_id for hit in search_notes(lib, "baselines")]
    [12]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from scimult_desktop.errors import ScimultError
from scimult_desktop.services.library import undo_entries
from scimult_desktop.store import row_snapshots
from scimult_desktop.store.clock import utc_now
from scimult_desktop.store.papers import query_words

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

FORMATS = ("markdown", "plain")


@dataclass
class Note:
    """One note of a paper."""

    id: int
    paper_id: int
    body: str
    format: str
    created_at: str
    updated_at: str

    @property
    def title(self) -> str:
        """The first non-empty line, without Markdown heading marks: how lists name the note."""
        for line in self.body.splitlines():
            text = line.strip().lstrip("#").strip()
            if text:
                return text[:80]
        return "(empty note)"

    def to_json(self) -> dict:
        return {"id": self.id, "paper_id": self.paper_id, "body": self.body, "format": self.format,
                "created_at": self.created_at, "updated_at": self.updated_at}


@dataclass
class NoteHit:
    """A note matching a keyword query, with a highlighted snippet."""

    note_id: int
    paper_id: int
    snippet: str

    def to_json(self) -> dict:
        return {"note_id": self.note_id, "paper_id": self.paper_id, "snippet": self.snippet}


def list_notes(library: "Library", paper: str | int) -> list[Note]:
    """The notes of a paper, oldest first. Raises `PaperNotFound`."""
    paper_id = library.papers.resolve(str(paper))
    rows = library.database.conn.execute("SELECT * FROM notes WHERE paper_id = ? ORDER BY id", (paper_id,))
    return [_note(row) for row in rows]


def get_note(library: "Library", note_id: int) -> Note:
    row = library.database.conn.execute("SELECT * FROM notes WHERE id = ?", (int(note_id),)).fetchone()
    if row is None:
        raise ScimultError(f"no note {note_id} in this library")
    return _note(row)


def add_note(library: "Library", paper: str | int, body: str, *, format: str = "markdown") -> Note:
    """A new note on a paper. Raises `PaperNotFound`, or `ScimultError` for an unknown format."""
    _check_format(format)
    paper_id = library.papers.resolve(str(paper))
    now = utc_now()
    with library.database.transaction():
        cursor = library.database.conn.execute(
            "INSERT INTO notes (paper_id, body, format, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
            (paper_id, body, format, now, now),
        )
    return get_note(library, int(cursor.lastrowid))


def update_note(library: "Library", note_id: int, body: str, *, format: str | None = None) -> Note:
    """Replace a note's text (and format). Raises `ScimultError` when the note is gone."""
    current = get_note(library, note_id)
    if format is not None:
        _check_format(format)
    if body == current.body and (format is None or format == current.format):
        return current  # the editor saves on every pause: an unchanged text is not a change
    with library.database.transaction():
        library.database.conn.execute(
            "UPDATE notes SET body = ?, format = ?, updated_at = ? WHERE id = ?",
            (body, format or current.format, utc_now(), current.id),
        )
    return get_note(library, note_id)


def delete_note(library: "Library", note_id: int) -> int:
    """Delete a note; returns the undo entry that brings it back."""
    note = get_note(library, note_id)
    database = library.database
    with database.transaction():
        root = ("notes", "id", [note.id])
        snapshot = row_snapshots.capture(database.conn, *root)
        database.conn.execute("DELETE FROM notes WHERE id = ?", (note.id,))
        return undo_entries.record(database, f"delete note “{note.title[:40]}”", snapshot, root)


def search_notes(library: "Library", query: str, *, k: int = 20) -> list[NoteHit]:
    """Notes matching the words of `query` (any of them, best first by BM25); papers in the trash are left out."""
    words = query_words(query)
    if not words:
        return []
    match = " OR ".join(f'"{w}"' for w in words)
    rows = library.database.conn.execute(
        """SELECT n.id, n.paper_id, snippet(notes_fts, 0, '[', ']', '…', 16) FROM notes_fts
           JOIN notes n ON n.id = notes_fts.rowid JOIN papers p ON p.id = n.paper_id AND p.deleted_at IS NULL
           WHERE notes_fts MATCH ? ORDER BY bm25(notes_fts) LIMIT ?""",
        (match, k),
    )
    return [NoteHit(int(r[0]), int(r[1]), r[2]) for r in rows]


def papers_with_matching_notes(
    database, query: str, k: int, allowed: set[int] | None = None, *, snippets: int = 10
) -> list[tuple[int, str | None]]:
    """(paper id, best note snippet) for papers whose notes match `query`, best first, one row per paper.

    Keyword search fuses this with its ranking of the papers' own text (`Finder`), so a paper is
    found by what the user wrote about it. Only the first `snippets` papers get a snippet (the
    costly part); papers in the trash, or outside `allowed`, are left out.
    """
    words = query_words(query)
    if not words:
        return []
    match = " OR ".join(f'"{w}"' for w in words)
    best: dict[int, int] = {}  # paper id -> its best-matching note
    for paper_id, note_id in database.conn.execute(
        """SELECT n.paper_id, n.id FROM notes_fts JOIN notes n ON n.id = notes_fts.rowid
           JOIN papers p ON p.id = n.paper_id AND p.deleted_at IS NULL
           WHERE notes_fts MATCH ? ORDER BY bm25(notes_fts) LIMIT ?""",
        (match, k * 3),
    ):
        if (allowed is None or paper_id in allowed) and paper_id not in best:
            best[int(paper_id)] = int(note_id)
    found = list(best.items())[:k]
    shown = [note_id for _, note_id in found[:snippets]]
    texts: dict[int, str] = {}
    if shown:
        marks = ",".join("?" * len(shown))
        bodies = database.conn.execute(f"SELECT id, body FROM notes WHERE id IN ({marks})", shown).fetchall()
        texts = {int(note_id): _note_snippet(body, query) for note_id, body in bodies}
    return [(paper_id, texts.get(note_id)) for paper_id, note_id in found]


def _note_snippet(body: str, query: str) -> str:
    """The note's first line holding a query word, query words marked (cheaper than FTS5's snippet())."""
    from scimult_desktop.services.finding.evidence import highlight, query_terms

    terms = query_terms(query)
    lines = [line.strip().lstrip("#").strip() for line in body.splitlines() if line.strip()]
    hit = next((line for line in lines if terms & {w.lower() for w in re.findall(r"\w+", line)}), lines[0] if lines else "")
    return highlight(hit, terms)


def _check_format(format: str) -> None:
    if format not in FORMATS:
        raise ScimultError(f"unknown note format {format!r} (expected one of: {', '.join(FORMATS)})")


def _note(row) -> Note:
    return Note(int(row["id"]), int(row["paper_id"]), row["body"], row["format"], row["created_at"], row["updated_at"])
