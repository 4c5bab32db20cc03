"""Paper embeddings in the library database (table `embeddings`).

Rows are keyed by (paper, model key, task); `text_hash` says which text the
vector was computed from, so a changed title or abstract is re-embedded.
Vectors are float32 little-endian blobs. `created_at` carries microseconds and
strictly increases within a process, so (count, latest created_at) per
(model, task) changes whenever the set of vectors changes: a cheap way for an
index file to tell whether it is still in sync.

Callers wrap writes in `LibraryDatabase.transaction()`.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from typing import Iterable, Sequence

import numpy as np

from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.sql_chunks import in_chunks

_clock_lock = threading.Lock()
_last_stamp = ""


def _stamp() -> str:
    """A UTC ISO timestamp with microseconds, strictly increasing within this process."""
    global _last_stamp
    with _clock_lock:
        now = datetime.now(timezone.utc)
        if _last_stamp and now.isoformat(timespec="microseconds") <= _last_stamp:
            # Same microsecond, or the clock stepped back: one past the last stamp.
            now = datetime.fromisoformat(_last_stamp) + timedelta(microseconds=1)
        _last_stamp = now.isoformat(timespec="microseconds")
        return _last_stamp


def decode_vectors(rows: list) -> tuple[np.ndarray, np.ndarray]:
    """(ids int64 (n,), vectors float32 (n, dim)) from stored (id, dim, little-endian float32 blob) rows."""
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
    dim = int(rows[0][1])
    ids = np.fromiter((int(r[0]) for r in rows), dtype=np.int64, count=len(rows))
    matrix = np.frombuffer(b"".join(r[2] for r in rows), dtype="<f4").reshape(len(rows), dim)
    return ids, matrix.astype(np.float32, copy=True)


class VectorStore:
    """Reads and writes the `embeddings` rows of one library database."""

    def __init__(self, database: LibraryDatabase) -> None:
        self.database = database
        self.conn = database.conn

    # ---- reading -------------------------------------------------------
    def paper_texts(self) -> list[tuple[int, str, str | None]]:
        """(id, title, abstract) of every paper: what embedding texts are built from."""
        return [(int(r[0]), r[1], r[2]) for r in self.conn.execute("SELECT id, title, abstract FROM papers ORDER BY id")]

    def text_hashes(self, model: str, task: str) -> dict[int, str]:
        """paper id -> text hash of every stored vector for (model, task)."""
        rows = self.conn.execute("SELECT paper_id, text_hash FROM embeddings WHERE model = ? AND task = ?", (model, task))
        return {int(paper_id): text_hash for paper_id, text_hash in rows}

    def signature(self, model: str, task: str) -> tuple[int, str]:
        """(count, latest created_at): changes whenever the (model, task) vectors change."""
        row = self.conn.execute(
            "SELECT count(*), coalesce(max(created_at), '') FROM embeddings WHERE model = ? AND task = ?", (model, task)
        ).fetchone()
        return int(row[0]), str(row[1])

    def count(self, model: str, task: str) -> int:
        return self.signature(model, task)[0]

    def vectors(self, model: str, task: str, paper_ids: Sequence[int] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """(ids int64 (n,), vectors float32 (n, dim)) for `paper_ids`, or all when None.

        Ids without a stored vector are left out.
        """
        if paper_ids is None:
            rows = list(self.conn.execute("SELECT paper_id, dim, vector FROM embeddings WHERE model = ? AND task = ?", (model, task)))
        else:
            rows = []
            ids = list(paper_ids)
            for chunk, marks in in_chunks(ids):
                rows.extend(
                    self.conn.execute(
                        f"SELECT paper_id, dim, vector FROM embeddings WHERE model = ? AND task = ? AND paper_id IN ({marks})",
                        (model, task, *chunk),
                    )
                )
        return decode_vectors(rows)

    # ---- writing -------------------------------------------------------
    def put_many(self, model: str, task: str, paper_ids: Iterable[int], text_hashes: Iterable[str], vectors: np.ndarray) -> int:
        """Store (or replace) one vector per paper; returns how many rows were written."""
        vectors = np.ascontiguousarray(vectors, dtype="<f4")
        dim = int(vectors.shape[1])
        stamp = _stamp()
        rows = [
            (int(pid), model, task, text_hash, dim, vectors[i].tobytes(), stamp)
            for i, (pid, text_hash) in enumerate(zip(paper_ids, text_hashes))
        ]
        self.conn.executemany(
            """INSERT INTO embeddings (paper_id, model, task, text_hash, dim, vector, created_at)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (paper_id, model, task) DO UPDATE SET
                   text_hash = excluded.text_hash, dim = excluded.dim,
                   vector = excluded.vector, created_at = excluded.created_at""",
            rows,
        )
        return len(rows)

    def copy_model(self, source: str, target: str, tasks: Sequence[str] | None = None) -> int:
        """Store `source`'s vectors (all tasks, or `tasks`) under `target` too; returns rows written.

        For a model whose documents embed exactly as another's (a query-side change only).
        """
        chosen = "" if tasks is None else f" AND task IN ({', '.join('?' for _ in tasks)})"
        return self.conn.execute(
            f"""INSERT INTO embeddings (paper_id, model, task, text_hash, dim, vector, created_at)
                SELECT paper_id, ?, task, text_hash, dim, vector, created_at FROM embeddings WHERE model = ?{chosen}
                ON CONFLICT (paper_id, model, task) DO UPDATE SET
                    text_hash = excluded.text_hash, dim = excluded.dim,
                    vector = excluded.vector, created_at = excluded.created_at""",
            (target, source, *(tasks or ())),
        ).rowcount

    def delete_model(self, model: str) -> int:
        """Drop every vector of one model key (e.g. after the bundle changed)."""
        return self.conn.execute("DELETE FROM embeddings WHERE model = ?", (model,)).rowcount

    def register_model(self, name: str, bundle_path: str, bundle_sha256: str, dim: int) -> None:
        """Record in the library which bundle its vectors came from (table `models`)."""
        self.conn.execute(
            """INSERT INTO models (name, bundle_path, bundle_sha256, dim, installed_at) VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (name) DO UPDATE SET bundle_path = excluded.bundle_path,
                   bundle_sha256 = excluded.bundle_sha256, dim = excluded.dim""",
            (name, bundle_path, bundle_sha256, dim, _stamp()),
        )
