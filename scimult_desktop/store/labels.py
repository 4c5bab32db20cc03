"""Which papers carry which tags and collections: the one place that joins the label tables.

Tags have a source ("user", "import", "classifier"); the classifier's own tags are left out
where a caller learns from the user's filing (kNN tag scores, fine-tuning signals), so the
model never trains on or votes with its own guesses.
"""

from __future__ import annotations

import sqlite3
from typing import NamedTuple


class PaperLabel(NamedTuple):
    paper_id: int
    name: str
    source: str  # tags: user/import/classifier; collections: "collection"


def paper_tags(
    conn: sqlite3.Connection, *, paper_id: int | None = None, user_filed_only: bool = False
) -> list[PaperLabel]:
    """(paper, tag, source) rows ordered by tag name; one paper's with `paper_id`."""
    where, params = _where(paper_id, "pt.paper_id")
    if user_filed_only:
        where.append("pt.source != 'classifier'")
    sql = "SELECT pt.paper_id, t.name, pt.source FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id"
    return [PaperLabel(int(r[0]), r[1], r[2]) for r in conn.execute(_finish(sql, where), params)]


def paper_collections(conn: sqlite3.Connection, *, paper_id: int | None = None) -> list[PaperLabel]:
    """(paper, collection, "collection") rows ordered by collection name; one paper's with `paper_id`."""
    where, params = _where(paper_id, "pc.paper_id")
    sql = "SELECT pc.paper_id, c.name FROM paper_collections pc JOIN collections c ON c.id = pc.collection_id"
    return [PaperLabel(int(r[0]), r[1], "collection") for r in conn.execute(_finish(sql, where), params)]


def _where(paper_id: int | None, column: str) -> tuple[list[str], tuple]:
    return ([f"{column} = ?"], (paper_id,)) if paper_id is not None else ([], ())


def _finish(sql: str, where: list[str]) -> str:
    return sql + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY 2, 1"
