"""The `VectorIndex` protocol: inner-product search over vectors keyed by paper id.

Vectors are float32 (n, dim); ids are int64 paper ids. For cosine models the
vectors are unit length, so inner product is cosine similarity.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Protocol, Sequence

import numpy as np

from scimult_desktop.errors import ScimultError


class IndexFileError(ScimultError):
    """An index file is missing, unreadable or not what it should be (it can be rebuilt)."""


class VectorIndex(Protocol):
    """Inner-product nearest-neighbour search keyed by paper id."""

    dim: int

    def add(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Add vectors; an id already present is replaced."""
        ...

    def remove(self, ids: Sequence[int] | np.ndarray) -> int:
        """Remove ids (absent ones are ignored); returns how many were removed."""
        ...

    def search(self, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Top-k per query: (scores float32 (q, k), ids int64 (q, k)); missing slots have id -1."""
        ...

    def ids(self) -> np.ndarray:
        """Every id in the index (int64, any order)."""
        ...

    def save(self, path: Path) -> None:
        """Write the index atomically (temporary file, then rename)."""
        ...

    def __len__(self) -> int: ...


def as_ids(ids: Sequence[int] | np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(np.asarray(ids, dtype=np.int64).reshape(-1))


def as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    matrix = np.ascontiguousarray(np.asarray(vectors, dtype=np.float32))
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.shape[1] != dim:
        raise ValueError(f"vectors have dimension {matrix.shape[1]}, the index has {dim}")
    return matrix


@contextmanager
def replaced_atomically(path: Path) -> Iterator[Path]:
    """A temporary file of its own beside `path`; written in the block, then renamed over `path`.

    Each writer gets a unique name, so processes saving the same index at once never move
    each other's files; readers see the old file or a complete new one. On an error the
    temporary file is removed and `path` is untouched.
    """
    path = Path(path)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())  # the rename must not land before the data does
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
