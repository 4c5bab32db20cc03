"""The citation graph and duplicate proposals, derived from what imports stored.

- References (bibliography entries) are matched to library papers by DOI, arXiv id
  or normalised title (+ year when both know it) and become citation edges.
- Papers that look like versions of one work (same title and first author but
  different identifiers, e.g. an arXiv preprint and its published DOI) are
  proposed as duplicates for the user to confirm; they are never merged here.
"""

from __future__ import annotations

from typing import Iterable

from scimult_desktop.domain.ids import normalize_arxiv_id, normalize_doi, normalize_title
from scimult_desktop.store.clock import utc_now
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.papers import PaperStore


def match_references(database: LibraryDatabase) -> int:
    """Resolve unmatched references to library papers; returns how many new edges were made."""
    conn = database.conn
    rows = conn.execute(
        "SELECT id, citing_paper_id, doi, arxiv_id, title, year FROM paper_references WHERE cited_paper_id IS NULL"
    ).fetchall()
    made = 0
    with database.transaction():
        for row in rows:
            cited = _find_cited(database, row["doi"], row["arxiv_id"], row["title"], row["year"])
            if cited is None or cited == row["citing_paper_id"]:
                continue
            conn.execute("UPDATE paper_references SET cited_paper_id = ? WHERE id = ?", (cited, row["id"]))
            cursor = conn.execute(
                "INSERT OR IGNORE INTO citations (citing_paper_id, cited_paper_id, source) VALUES (?, ?, 'references')",
                (row["citing_paper_id"], cited),
            )
            made += cursor.rowcount
    return made


def _find_cited(database: LibraryDatabase, doi: str | None, arxiv_id: str | None, title: str | None, year: int | None) -> int | None:
    conn = database.conn
    found = PaperStore(database).id_by_identifier(normalize_doi(doi), normalize_arxiv_id(arxiv_id))
    if found is not None:
        return found
    title_norm = normalize_title(title)
    if len(title_norm) < 16:
        return None  # short titles ("Introduction") are too ambiguous to link on
    candidates = conn.execute("SELECT id, year FROM papers WHERE title_norm = ?", (title_norm,)).fetchall()
    if year:
        exact = [c for c in candidates if c["year"] in (None, year)]
        candidates = exact or candidates
    return int(candidates[0]["id"]) if len(candidates) == 1 else None


def propose_duplicates(database: LibraryDatabase, paper_ids: Iterable[int]) -> int:
    """Record likely versions of the same work among `paper_ids` and the library; returns new proposals."""
    conn = database.conn
    made = 0
    with database.transaction():
        for paper_id in set(paper_ids):
            row = conn.execute(
                "SELECT id, title_norm, first_author_norm, doi, arxiv_id FROM papers WHERE id = ?", (paper_id,)
            ).fetchone()
            if row is None or len(row["title_norm"]) < 16:
                continue
            for other in conn.execute(
                "SELECT id, first_author_norm, doi, arxiv_id FROM papers WHERE title_norm = ? AND id != ?",
                (row["title_norm"], paper_id),
            ):
                if row["first_author_norm"] and other["first_author_norm"] and row["first_author_norm"] != other["first_author_norm"]:
                    continue
                made += add_duplicate_proposal(database, paper_id, int(other["id"]), _duplicate_reason(row, other))
    return made


def add_duplicate_proposal(database: LibraryDatabase, paper_a: int, paper_b: int, reason: str) -> int:
    """Propose a pair once (in either order; an answered pair is not asked again); returns 1 if new."""
    a, b = sorted((paper_a, paper_b))
    cursor = database.conn.execute(
        "INSERT OR IGNORE INTO duplicate_candidates (paper_a, paper_b, reason, created_at) VALUES (?, ?, ?, ?)",
        (a, b, reason, utc_now()),
    )
    return cursor.rowcount


def _duplicate_reason(a, b) -> str:
    if (a["arxiv_id"] and not b["arxiv_id"] and b["doi"]) or (b["arxiv_id"] and not a["arxiv_id"] and a["doi"]):
        return "same title and first author; one looks like the arXiv preprint of the other"
    if a["doi"] and b["doi"] and a["doi"] != b["doi"]:
        return "same title and first author, different DOIs (e.g. conference and journal versions)"
    return "same title and first author"


def duplicate_proposals(database: LibraryDatabase, status: str = "proposed") -> list[dict]:
    rows = database.conn.execute(
        """SELECT paper_a, paper_b, reason, status FROM duplicate_candidates WHERE status = ?
               AND paper_a NOT IN (SELECT id FROM papers WHERE deleted_at IS NOT NULL)
               AND paper_b NOT IN (SELECT id FROM papers WHERE deleted_at IS NOT NULL)
           ORDER BY paper_a, paper_b""",  # a pair with a paper in the trash waits until it is restored
        (status,),
    )
    return [dict(row) for row in rows]


def set_duplicate_status(database: LibraryDatabase, paper_a: int, paper_b: int, status: str) -> None:
    a, b = sorted((paper_a, paper_b))
    with database.transaction():
        database.conn.execute(
            "UPDATE duplicate_candidates SET status = ? WHERE paper_a = ? AND paper_b = ?", (status, a, b)
        )
