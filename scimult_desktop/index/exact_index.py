"""`ExactIndex`: brute-force inner product in NumPy (fallback and test oracle for FAISS)."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from scimult_desktop.index.base import IndexFileError, as_ids, as_matrix, replaced_atomically


class ExactIndex:
    """All vectors in one matrix; search is one matrix product. Exact by construction."""

    def __init__(self, dim: int) -> None:
        self.dim = int(dim)
        self._ids = np.zeros(0, dtype=np.int64)
        self._vectors = np.zeros((0, self.dim), dtype=np.float32)

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = as_ids(ids), as_matrix(vectors, self.dim)
        if len(ids) != len(vectors):
            raise ValueError(f"{len(ids)} ids for {len(vectors)} vectors")
        self.remove(ids)
        self._ids = np.concatenate([self._ids, ids])
        self._vectors = np.concatenate([self._vectors, vectors])

    def remove(self, ids: Sequence[int] | np.ndarray) -> int:
        keep = ~np.isin(self._ids, as_ids(ids))
        removed = int(len(self._ids) - keep.sum())
        self._ids, self._vectors = self._ids[keep], self._vectors[keep]
        return removed

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        queries = as_matrix(queries, self.dim)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        if len(self._ids) == 0 or k <= 0:
            return scores, ids
        all_scores = queries @ self._vectors.T  # (q, n)
        take = min(k, len(self._ids))
        top = np.argpartition(-all_scores, take - 1, axis=1)[:, :take]
        for row in range(len(queries)):
            # Ties broken by id so FAISS and this oracle agree on equal scores.
            order = np.lexsort((self._ids[top[row]], -all_scores[row, top[row]]))
            chosen = top[row][order]
            scores[row, :take] = all_scores[row, chosen]
            ids[row, :take] = self._ids[chosen]
        return scores, ids

    def ids(self) -> np.ndarray:
        return self._ids.copy()

    def __len__(self) -> int:
        return len(self._ids)

    def save(self, path: Path) -> None:
        with replaced_atomically(Path(path)) as tmp, open(tmp, "wb") as handle:
            np.savez(handle, ids=self._ids, vectors=self._vectors)

    @classmethod
    def load(cls, path: Path) -> "ExactIndex":
        try:
            with np.load(Path(path)) as data:
                ids, vectors = data["ids"], data["vectors"]
        except (OSError, ValueError, KeyError) as exc:
            raise IndexFileError(f"{path}: unreadable index file ({exc})") from exc
        index = cls(vectors.shape[1])
        index._ids, index._vectors = ids.astype(np.int64), vectors.astype(np.float32)
        return index
