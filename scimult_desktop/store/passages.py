"""PDF text passages and their vectors (tables `passages`, `passage_sources`, `passage_embeddings`).

A paper's passages are replaced as a whole when its page texts change (or the
splitting rules do): `passage_sources` keeps the fingerprint they were cut from.
Passage vectors are keyed by (passage, model key) and are always the search
expert's document vectors. Callers wrap writes in `LibraryDatabase.transaction()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from scimult_desktop.store.clock import utc_now
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.sql_chunks import in_chunks
from scimult_desktop.store.vectors import decode_vectors


@dataclass(frozen=True)
class StoredPassage:
    id: int
    paper_id: int
    page: int
    text: str


class PassageStore:
    """Reads and writes one library's passages and passage vectors."""

    def __init__(self, database: LibraryDatabase) -> None:
        self.database = database
        self.conn = database.conn

    # ---- passages ------------------------------------------------------
    def papers_with_pages(self) -> list[int]:
        """Ids of papers that have page text (the ones passages are cut from)."""
        return [int(r[0]) for r in self.conn.execute("SELECT DISTINCT paper_id FROM pages ORDER BY paper_id")]

    def pages(self, paper_id: int) -> list[tuple[int, str]]:
        rows = self.conn.execute("SELECT page, text FROM pages WHERE paper_id = ? ORDER BY page", (paper_id,))
        return [(int(page), text) for page, text in rows]

    def fingerprints(self) -> dict[int, str]:
        """paper id -> fingerprint of the page texts its stored passages were cut from."""
        return {int(pid): fp for pid, fp in self.conn.execute("SELECT paper_id, pages_fingerprint FROM passage_sources")}

    def replace(self, paper_id: int, passages: Iterable[tuple[int, int, str]], fingerprint: str) -> int:
        """Store a paper's passages [(position, page, text)] in place of its old ones; returns how many."""
        rows = [(paper_id, int(position), int(page), text) for position, page, text in passages]
        self.conn.execute("DELETE FROM passages WHERE paper_id = ?", (paper_id,))
        self.conn.executemany("INSERT INTO passages (paper_id, position, page, text) VALUES (?, ?, ?, ?)", rows)
        self.conn.execute(
            """INSERT INTO passage_sources (paper_id, pages_fingerprint, passages, split_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (paper_id) DO UPDATE SET pages_fingerprint = excluded.pages_fingerprint,
                   passages = excluded.passages, split_at = excluded.split_at""",
            (paper_id, fingerprint, len(rows), utc_now()),
        )
        return len(rows)

    def forget(self, paper_ids: Sequence[int]) -> None:
        """Drop the passages of papers that no longer have page text."""
        for chunk, marks in in_chunks(paper_ids):
            self.conn.execute(f"DELETE FROM passages WHERE paper_id IN ({marks})", chunk)
            self.conn.execute(f"DELETE FROM passage_sources WHERE paper_id IN ({marks})", chunk)

    def get_many(self, passage_ids: Sequence[int]) -> dict[int, StoredPassage]:
        found: dict[int, StoredPassage] = {}
        ids = [int(i) for i in passage_ids]
        for chunk, marks in in_chunks(ids):
            for pid, paper_id, page, text in self.conn.execute(
                f"SELECT id, paper_id, page, text FROM passages WHERE id IN ({marks})", chunk
            ):
                found[int(pid)] = StoredPassage(int(pid), int(paper_id), int(page), text)
        return found

    def of_papers(self, paper_ids: Sequence[int]) -> list[StoredPassage]:
        """Every passage of these papers, in reading order."""
        found: list[StoredPassage] = []
        ids = [int(i) for i in paper_ids]
        for chunk, marks in in_chunks(ids):
            found += [
                StoredPassage(int(r[0]), int(r[1]), int(r[2]), r[3])
                for r in self.conn.execute(
                    f"SELECT id, paper_id, page, text FROM passages WHERE paper_id IN ({marks}) ORDER BY paper_id, position",
                    chunk,
                )
            ]
        return found

    def ids_of_papers(self, paper_ids: Sequence[int], limit: int | None = None) -> list[int] | None:
        """Passage ids of these papers; None when there are more than `limit` (not worth listing)."""
        found: list[int] = []
        ids = [int(i) for i in paper_ids]
        for chunk, marks in in_chunks(ids):
            found += [int(r[0]) for r in self.conn.execute(f"SELECT id FROM passages WHERE paper_id IN ({marks})", chunk)]
            if limit is not None and len(found) > limit:
                return None
        return found

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM passages").fetchone()[0])

    # ---- vectors -------------------------------------------------------
    def unembedded(self, model: str) -> list[tuple[int, str]]:
        """(passage id, text) of passages without a vector for `model`, in id order."""
        rows = self.conn.execute(
            """SELECT p.id, p.text FROM passages p
               WHERE NOT EXISTS (SELECT 1 FROM passage_embeddings e WHERE e.passage_id = p.id AND e.model = ?)
               ORDER BY p.id""",
            (model,),
        )
        return [(int(pid), text) for pid, text in rows]

    def text_hashes(self, model: str) -> dict[int, str]:
        rows = self.conn.execute("SELECT passage_id, text_hash FROM passage_embeddings WHERE model = ?", (model,))
        return {int(pid): h for pid, h in rows}

    def signature(self, model: str) -> tuple[int, str]:
        """Changes whenever the set of passage vectors may have changed; costs three O(1)-ish lookups.

        Counting or summing the vectors themselves scans every row (60 ms at 100k passages, on
        each query). Instead: a passage's text never changes under its id (a re-split makes new
        ids, AUTOINCREMENT never reuses one), so new vectors raise the table's largest rowid, a
        re-split raises the passages sequence, and passages dropped without new ones (a paper
        losing its text or deleted, a re-split into fewer) change the passage total kept per
        paper in `passage_sources` (one row a paper: a small scan). The signature is
        the same for every model: another model's new vectors only cause one needless re-check.
        """
        row = self.conn.execute(
            """SELECT (SELECT coalesce(sum(passages), 0) FROM passage_sources),
                      (SELECT coalesce(max(rowid), 0) FROM passage_embeddings),
                      (SELECT coalesce(max(seq), 0) FROM sqlite_sequence WHERE name = 'passages'),
                      (SELECT count(*) FROM passage_sources)"""
        ).fetchone()
        return int(row[0]), f"{row[1]}:{row[2]}:{row[3]}"

    def has_vectors(self, model: str) -> bool:
        return self.conn.execute("SELECT 1 FROM passage_embeddings WHERE model = ? LIMIT 1", (model,)).fetchone() is not None

    def embedded_count(self, model: str) -> int:
        return int(self.conn.execute("SELECT count(*) FROM passage_embeddings WHERE model = ?", (model,)).fetchone()[0])

    def vectors(self, model: str, passage_ids: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids int64 (n,), vectors float32 (n, dim)) for `passage_ids`, or all when None."""
        if passage_ids is None:
            rows = list(self.conn.execute("SELECT passage_id, dim, vector FROM passage_embeddings WHERE model = ?", (model,)))
        else:
            rows = []
            ids = [int(i) for i in passage_ids]
            for chunk, marks in in_chunks(ids):
                rows += list(self.conn.execute(
                    f"SELECT passage_id, dim, vector FROM passage_embeddings WHERE model = ? AND passage_id IN ({marks})",
                    (model, *chunk),
                ))
        return decode_vectors(rows)

    def copy_vectors(self, source: str, target: str) -> int:
        """Store `source`'s passage vectors under `target` too (a model whose search expert is the same)."""
        return self.conn.execute(
            """INSERT INTO passage_embeddings (passage_id, model, text_hash, dim, vector, created_at)
               SELECT passage_id, ?, text_hash, dim, vector, created_at FROM passage_embeddings WHERE model = ?
               ON CONFLICT (passage_id, model) DO UPDATE SET text_hash = excluded.text_hash, dim = excluded.dim,
                   vector = excluded.vector, created_at = excluded.created_at""",
            (target, source),
        ).rowcount

    def put_vectors(self, model: str, passage_ids: Sequence[int], text_hashes: Sequence[str], vectors: np.ndarray) -> int:
        vectors = np.ascontiguousarray(vectors, dtype="<f4")
        dim = int(vectors.shape[1])
        stamp = utc_now()
        rows = [(int(pid), model, h, dim, vectors[i].tobytes(), stamp) for i, (pid, h) in enumerate(zip(passage_ids, text_hashes))]
        self.conn.executemany(
            """INSERT INTO passage_embeddings (passage_id, model, text_hash, dim, vector, created_at) VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (passage_id, model) DO UPDATE SET text_hash = excluded.text_hash, dim = excluded.dim,
                   vector = excluded.vector, created_at = excluded.created_at""",
            rows,
        )
        return len(rows)
