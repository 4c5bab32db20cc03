"""Stored citation contexts (schema 0005): writing a paper's contexts, reading how a paper is cited."""

from __future__ import annotations

import json
from typing import Iterable, Sequence

from scimult_desktop.store.clock import utc_now
from scimult_desktop.store.database import LibraryDatabase


def analysis_input(database: LibraryDatabase, paper_id: int) -> tuple[list[tuple[int, str]], list[str]]:
    """A paper's page texts (page order) and raw reference strings (list order)."""
    conn = database.conn
    pages = [(int(page), text or "") for page, text in
             conn.execute("SELECT page, text FROM pages WHERE paper_id = ? ORDER BY page", (paper_id,))]
    references = [raw for (raw,) in
                  conn.execute("SELECT raw FROM paper_references WHERE citing_paper_id = ? ORDER BY position", (paper_id,))]
    return pages, references


def replace_contexts(database: LibraryDatabase, paper_id: int, contexts: Sequence, version: int) -> int:
    """Store a paper's contexts (`ingest.citation_contexts.CitationContext`s) in place of its old ones and
    record the run of analyser `version`; returns how many were stored."""
    conn = database.conn
    with database.transaction():
        reference_ids = [int(rid) for (rid,) in conn.execute(
            "SELECT id FROM paper_references WHERE citing_paper_id = ? ORDER BY position", (paper_id,))]
        conn.execute("DELETE FROM citation_contexts WHERE citing_paper_id = ?", (paper_id,))
        rows = []
        for c in contexts:
            reference = reference_ids[c.reference_index] if c.reference_index is not None and c.reference_index < len(reference_ids) else None
            rows.append((paper_id, reference, c.page, c.marker, c.style, c.sentence, c.marker_offset,
                         c.paragraph_start, c.paragraph_end))
        conn.executemany(
            """INSERT INTO citation_contexts (citing_paper_id, reference_id, page, marker, style, sentence, marker_offset,
                                              paragraph_start, paragraph_end) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            rows,
        )
        conn.execute(
            "INSERT OR REPLACE INTO citation_context_runs (paper_id, analyser_version, contexts, analysed_at) VALUES (?, ?, ?, ?)",
            (paper_id, version, len(rows), utc_now()),
        )
    return len(rows)


def papers_to_analyse(database: LibraryDatabase, version: int, paper_ids: Iterable[int] | None = None, *,
                      force: bool = False) -> list[int]:
    """Papers with page texts not yet analysed by analyser `version` (all of them with `force`)."""
    conn = database.conn
    sql = """SELECT DISTINCT p.paper_id FROM pages p
             LEFT JOIN citation_context_runs r ON r.paper_id = p.paper_id
             WHERE (? OR r.paper_id IS NULL OR r.analyser_version < ?)"""
    ids = [int(pid) for (pid,) in conn.execute(sql + " ORDER BY p.paper_id", (int(force), version))]
    if paper_ids is not None:
        wanted = set(paper_ids)
        ids = [pid for pid in ids if pid in wanted]
    return ids


def analysed_count(database: LibraryDatabase, version: int) -> tuple[int, int]:
    """(papers analysed by analyser `version` or newer, papers with page texts)."""
    conn = database.conn
    done = conn.execute("SELECT count(*) FROM citation_context_runs WHERE analyser_version >= ?", (version,)).fetchone()[0]
    total = conn.execute("SELECT count(DISTINCT paper_id) FROM pages").fetchone()[0]
    return int(done), int(total)


_CONTEXT_COLUMNS = """c.id, c.citing_paper_id, c.reference_id, c.page, c.marker, c.style, c.sentence, c.marker_offset,
                      c.paragraph_start, c.paragraph_end, r.cited_paper_id, r.raw AS reference,
                      p.citekey AS citing_citekey, p.title AS citing_title, p.year AS citing_year, p.authors AS citing_authors"""


def contexts_citing(database: LibraryDatabase, cited_paper_id: int, *, limit: int | None = None) -> list[dict]:
    """How library papers cite `cited_paper_id`: one dict per citing sentence (deduplicated), newest citing paper first."""
    rows = database.conn.execute(
        f"""SELECT {_CONTEXT_COLUMNS} FROM citation_contexts c
            JOIN paper_references r ON r.id = c.reference_id
            JOIN papers p ON p.id = c.citing_paper_id
            WHERE r.cited_paper_id = ? AND c.citing_paper_id != ? {_NOT_TRASHED}
            ORDER BY coalesce(p.year, 0) DESC, c.citing_paper_id, c.page, c.id""",
        (cited_paper_id, cited_paper_id),
    )
    return _distinct(rows, limit)


def contexts_citing_many(database: LibraryDatabase, cited_paper_ids: Sequence[int]) -> dict[int, list[dict]]:
    """`contexts_citing` for several papers at once (one query)."""
    found: dict[int, list[dict]] = {}
    ids = list(dict.fromkeys(int(i) for i in cited_paper_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = database.conn.execute(
            f"""SELECT {_CONTEXT_COLUMNS} FROM citation_contexts c
                JOIN paper_references r ON r.id = c.reference_id
                JOIN papers p ON p.id = c.citing_paper_id
                WHERE r.cited_paper_id IN ({",".join("?" * len(chunk))}) AND c.citing_paper_id != r.cited_paper_id
                {_NOT_TRASHED}
                ORDER BY c.citing_paper_id, c.page, c.id""",
            chunk,
        )
        for row in rows:
            found.setdefault(int(row["cited_paper_id"]), []).append(row)
    return {pid: _distinct(rows, None) for pid, rows in found.items()}


def contexts_in(database: LibraryDatabase, citing_paper_id: int) -> list[dict]:
    """Every context found in one paper, in reading order (linked or not)."""
    rows = database.conn.execute(
        f"""SELECT {_CONTEXT_COLUMNS} FROM citation_contexts c
            LEFT JOIN paper_references r ON r.id = c.reference_id
            JOIN papers p ON p.id = c.citing_paper_id
            WHERE c.citing_paper_id = ? ORDER BY c.page, c.paragraph_start, c.id""",
        (citing_paper_id,),
    )
    return [_as_dict(row) for row in rows]


def linked_contexts(database: LibraryDatabase) -> list[dict]:
    """Every context whose reference is matched to a library paper (for training signals)."""
    rows = database.conn.execute(
        f"""SELECT {_CONTEXT_COLUMNS} FROM citation_contexts c
            JOIN paper_references r ON r.id = c.reference_id
            JOIN papers p ON p.id = c.citing_paper_id
            WHERE r.cited_paper_id IS NOT NULL AND r.cited_paper_id != c.citing_paper_id
            ORDER BY c.citing_paper_id, r.cited_paper_id, c.id"""
    )
    return [_as_dict(row) for row in rows]


# Soft-deleted papers (schema 0004_trash) are not shown as citing papers.
_NOT_TRASHED = "AND p.deleted_at IS NULL"


def _distinct(rows, limit: int | None) -> list[dict]:
    seen: set[tuple[int, str]] = set()
    result = []
    for row in rows:
        key = (int(row["citing_paper_id"]), row["sentence"])
        if key in seen:
            continue
        seen.add(key)
        result.append(_as_dict(row))
        if limit is not None and len(result) >= limit:
            break
    return result


def _as_dict(row) -> dict:
    record = dict(row)
    try:
        record["citing_authors"] = json.loads(record.get("citing_authors") or "[]")
    except ValueError:
        record["citing_authors"] = []
    return record
