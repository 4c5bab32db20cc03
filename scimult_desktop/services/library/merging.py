"""Reviewing a duplicate proposal side by side, and merging two records of one work (undoable).

`compare_duplicates` lays two papers out field by field, marks where they differ and which
value is the richer one, and suggests which record to keep. `merge_papers` keeps one
record: per field, the value the user chose (or, by default, the richer one), and
everything that hangs off the other record moves to it: sources, files, tags, collections,
notes, feedback, citation links, labels and anything later migrations attach to papers.
The other record is then deleted. The whole change is one undo entry holding a snapshot of
every row it touched, so undo brings the merged-away paper back exactly, with its id.

What does not move, and why:
- stored vectors: they were computed from the other record's text; the kept paper's own
  vectors stay (and are recomputed when its text changed);
- a bibliography, page texts, passages or in-text citation contexts when the kept paper has its
  own: two lists would interleave (positions, page numbers), so the kept paper's own wins.

Example:
    >>> cmp = compare_duplicates(lib, 12, 40)
    >>> [f.name for f in cmp.fields if f.differs]
    ['title', 'doi', 'arxiv_id']
    >>> result = merge_papers(lib, cmp.suggested_keep, 40 if cmp.suggested_keep == 12 else 12)
    >>> undo_entry(lib, result.undo_id)   # services.library.undo_entries
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable

from scimult_desktop.domain.records import Paper
from scimult_desktop.errors import ScimultError
from scimult_desktop.services.library import undo_entries
from scimult_desktop.store import links, row_snapshots
from scimult_desktop.store.labels import paper_collections, paper_tags

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

MERGE_FIELDS = ("title", "authors", "year", "venue", "abstract", "doi", "arxiv_id", "entry_type")
FIELD_LABELS = {"title": "Title", "authors": "Authors", "year": "Year", "venue": "Venue", "abstract": "Abstract",
                "doi": "DOI", "arxiv_id": "arXiv", "entry_type": "Type"}
# Fields where the longer value is the richer one (a full abstract over a truncated one).
_LONGER_IS_RICHER = ("abstract", "authors")
# Per-paper content that is a list in the paper's own order: moved only to a paper that has none.
_OWN_CONTENT = {("paper_references", "citing_paper_id"), ("pages", "paper_id"), ("passages", "paper_id"),
                ("passage_sources", "paper_id"), ("citation_contexts", "citing_paper_id"), ("citation_context_runs", "paper_id")}
# Computed from the paper's own text: never moved to another paper.
_DERIVED_TABLES = ("embeddings",)


@dataclass
class FieldComparison:
    """One field of two records: the values as text, whether they differ, which is richer ("a" or "b")."""

    name: str
    label: str
    value_a: str
    value_b: str
    differs: bool
    richer: str

    def to_json(self) -> dict:
        return {"name": self.name, "label": self.label, "a": self.value_a, "b": self.value_b,
                "differs": self.differs, "richer": self.richer}


@dataclass
class RecordSide:
    """One record of a proposal: the paper and what hangs off it."""

    paper: Paper
    tags: list[str]
    collections: list[str]
    counts: dict[str, int]

    def to_json(self) -> dict:
        return {"id": self.paper.id, "citekey": self.paper.citekey, "title": self.paper.title,
                "tags": self.tags, "collections": self.collections, "counts": self.counts}


@dataclass
class DuplicateComparison:
    """Two records side by side; `suggested_keep` is the id of the richer record."""

    a: RecordSide
    b: RecordSide
    fields: list[FieldComparison]
    suggested_keep: int
    reason: str | None = None

    def to_json(self) -> dict:
        return {"a": self.a.to_json(), "b": self.b.to_json(), "fields": [f.to_json() for f in self.fields],
                "suggested_keep": self.suggested_keep, "reason": self.reason}


@dataclass
class MergeResult:
    """What a merge did; `undo_id` reverts it (`undo_entries.undo_entry`, or `scimult undo`)."""

    kept: int
    merged: int
    merged_citekey: str | None
    fields_taken: list[str]
    moved: dict[str, int] = field(default_factory=dict)
    undo_id: int = 0

    def to_json(self) -> dict:
        return {"kept": self.kept, "merged": self.merged, "merged_citekey": self.merged_citekey,
                "fields_taken": self.fields_taken, "moved": self.moved, "undo_id": self.undo_id}


def field_text(paper: Paper, name: str) -> str:
    value = getattr(paper, name)
    if name == "authors":
        return "; ".join(value)
    return "" if value is None else str(value)


def richer_side(name: str, value_a: object, value_b: object) -> str:
    """"a" or "b": the non-empty value; for abstracts and author lists the longer; else a's."""
    empty_a, empty_b = value_a in (None, "", []), value_b in (None, "", [])
    if empty_a != empty_b:
        return "b" if empty_a else "a"
    if name in _LONGER_IS_RICHER and not empty_a and len(value_b) > len(value_a):  # type: ignore[arg-type]
        return "b"
    return "a"


def compare_duplicates(library: "Library", paper_a: str | int, paper_b: str | int) -> DuplicateComparison:
    """Two papers field by field, with what each carries and which one to keep by default.

    Raises:
        PaperNotFound: a reference names no paper. ScimultError: both name the same paper.
    """
    a_id, b_id = _two_ids(library, paper_a, paper_b)
    a, b = _side(library, a_id), _side(library, b_id)
    fields = []
    for name in MERGE_FIELDS:
        va, vb = getattr(a.paper, name), getattr(b.paper, name)
        fields.append(FieldComparison(name, FIELD_LABELS[name], field_text(a.paper, name), field_text(b.paper, name),
                                      va != vb and not (va in (None, "", []) and vb in (None, "", [])),
                                      richer_side(name, va, vb)))
    score_a, score_b = _richness(a, fields, "a"), _richness(b, fields, "b")
    keep = a_id if score_a >= score_b else b_id
    row = library.database.conn.execute(
        "SELECT reason FROM duplicate_candidates WHERE paper_a = ? AND paper_b = ?", tuple(sorted((a_id, b_id)))
    ).fetchone()
    return DuplicateComparison(a, b, fields, keep, row[0] if row else None)


def merge_papers(
    library: "Library", keep: str | int, drop: str | int, *, take: Iterable[str] | None = None
) -> MergeResult:
    """Merge paper `drop` into paper `keep` as one undoable change.

    Args:
        take: fields whose value comes from `drop` (the rest keep `keep`'s). None: per field,
            the richer value (`richer_side`). Values taken from `drop` are marked as the user's
            edits, so a later re-import does not overwrite the user's choice.

    Raises:
        PaperNotFound: a reference names no paper. ScimultError: the same paper twice, an
        unknown field name, or a paper in the trash.
    """
    keep_id, drop_id = _two_ids(library, keep, drop)
    database, conn = library.database, library.database.conn
    kept, dropped = library.papers.get(keep_id), library.papers.get(drop_id)
    _refuse_trashed(library, (keep_id, drop_id))
    if take is None:
        taken = [n for n in MERGE_FIELDS if richer_side(n, getattr(kept, n), getattr(dropped, n)) == "b"
                 and getattr(kept, n) != getattr(dropped, n)]
    else:
        taken = list(dict.fromkeys(take))
        unknown = [n for n in taken if n not in MERGE_FIELDS]
        if unknown:
            raise ScimultError(f"cannot take field(s) {', '.join(unknown)} (fields: {', '.join(MERGE_FIELDS)})")
    moved: dict[str, int] = {}
    with database.transaction():
        root = ("papers", "id", [keep_id, drop_id])
        snapshot = row_snapshots.capture(conn, *root)
        if taken:
            library.papers.edit(keep_id, **{n: getattr(dropped, n) for n in taken})
        conn.execute(
            """UPDATE papers SET full_text = (SELECT full_text FROM papers WHERE id = ?)
               WHERE id = ? AND coalesce(full_text, '') = ''""",
            (drop_id, keep_id),
        )
        for table, column in row_snapshots.referencing_columns(conn, "papers"):
            count = _move(conn, table, column, keep_id, drop_id)
            if count:
                moved[table] = moved.get(table, 0) + count
        # A paper citing its own preprint would now cite itself.
        conn.execute("DELETE FROM citations WHERE citing_paper_id = ? AND cited_paper_id = ?", (keep_id, keep_id))
        library.papers.delete(drop_id)
        description = f"merge “{dropped.title[:40]}” into “{kept.title[:40]}”"
        undo_id = undo_entries.record(database, description, snapshot, root)
    return MergeResult(keep_id, drop_id, dropped.citekey, taken, moved, undo_id)


def set_proposal_status(library: "Library", paper_a: str | int, paper_b: str | int, status: str) -> None:
    """Answer a proposal ("rejected": keep both), or put it back ("proposed") when that answer is undone."""
    if status not in ("proposed", "confirmed", "rejected"):
        raise ScimultError(f"unknown duplicate status {status!r}")
    a_id, b_id = _two_ids(library, paper_a, paper_b)
    links.set_duplicate_status(library.database, a_id, b_id, status)


def _move(conn, table: str, column: str, keep_id: int, drop_id: int) -> int:
    """Re-point `table.column` from the dropped paper to the kept one; rows that would clash stay (and go with it)."""
    if table in _DERIVED_TABLES:
        return 0
    if (table, column) in _OWN_CONTENT and conn.execute(f'SELECT 1 FROM "{table}" WHERE "{column}" = ? LIMIT 1', (keep_id,)).fetchone():
        return 0
    if table == "duplicate_candidates":
        # Pairs are stored lowest id first; the pair of the two merged records itself goes away.
        other = "paper_b" if column == "paper_a" else "paper_a"
        cursor = conn.execute(
            f"""UPDATE OR IGNORE duplicate_candidates SET paper_a = min(?, {other}), paper_b = max(?, {other})
                WHERE {column} = ? AND {other} != ?""",
            (keep_id, keep_id, drop_id, keep_id),
        )
        return cursor.rowcount
    cursor = conn.execute(f'UPDATE OR IGNORE "{table}" SET "{column}" = ? WHERE "{column}" = ?', (keep_id, drop_id))
    return cursor.rowcount


def _two_ids(library: "Library", first: str | int, second: str | int) -> tuple[int, int]:
    a, b = library.papers.resolve(str(first)), library.papers.resolve(str(second))
    if a == b:
        raise ScimultError(f"{first!r} and {second!r} name the same paper (id {a})")
    return a, b


def _refuse_trashed(library: "Library", ids: tuple[int, int]) -> None:
    conn = library.database.conn
    if not any(row[1] == "deleted_at" for row in conn.execute("PRAGMA table_info(papers)")):
        return
    marks = ",".join("?" * len(ids))
    trashed = [r[0] for r in conn.execute(f"SELECT id FROM papers WHERE id IN ({marks}) AND deleted_at IS NOT NULL", ids)]
    if trashed:
        raise ScimultError(f"paper {trashed[0]} is in the trash: restore it before merging")


def _side(library: "Library", paper_id: int) -> RecordSide:
    conn = library.database.conn
    paper = library.papers.get(paper_id)

    def count(sql: str, *params: object) -> int:
        return int(conn.execute(sql, params or (paper_id,)).fetchone()[0])

    counts = {
        "files": len(paper.files),
        "references": count("SELECT count(*) FROM paper_references WHERE citing_paper_id = ?"),
        "cites": count("SELECT count(*) FROM citations WHERE citing_paper_id = ?"),
        "cited_by": count("SELECT count(*) FROM citations WHERE cited_paper_id = ?"),
        "notes": _notes_count(conn, paper_id),
    }
    tags = [label.name for label in paper_tags(conn, paper_id=paper_id)]
    collections = [label.name for label in paper_collections(conn, paper_id=paper_id)]
    counts["tags"], counts["collections"] = len(tags), len(collections)
    return RecordSide(paper, tags, collections, counts)


def _notes_count(conn, paper_id: int) -> int:
    if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'notes'").fetchone() is None:
        return 0
    return int(conn.execute("SELECT count(*) FROM notes WHERE paper_id = ?", (paper_id,)).fetchone()[0])


def _richness(side: RecordSide, fields: list[FieldComparison], letter: str) -> float:
    """Filled fields, richer values and attached material: the record with more is kept by default."""
    filled = sum(1 for f in fields if (f.value_a if letter == "a" else f.value_b))
    richer = sum(1 for f in fields if f.differs and f.richer == letter)
    attached = sum(side.counts.values())
    # Ties go to the older record (lower id): its key is the one drafts have cited longest.
    return filled + richer + 0.1 * attached - 1e-9 * (side.paper.id or 0)
