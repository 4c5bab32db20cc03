"""Query adapters: a (dim, dim) matrix a bundle may carry for one task's query vectors.

Local fine-tuning writes one for the link task (`services/finetuning/query_adapter.py`);
documents are never adapted, so a library's stored vectors stay valid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from scimult_desktop.errors import ModelError


def load(folder: Path, name: str, dim: int) -> np.ndarray:
    """The matrix stored as `name` in a bundle folder, checked (a `ModelError` names the file)."""
    path = Path(folder) / name
    try:
        matrix = np.load(path, allow_pickle=False)
    except OSError as exc:
        raise ModelError(f"{path}: unreadable query adapter ({str(exc)[:200]})") from None
    except ValueError:  # numpy's own text would suggest loading it with pickle, which a bundle must never need
        raise ModelError(f"{path}: unreadable query adapter (not a matrix saved by numpy as .npy)") from None
    if matrix.shape != (dim, dim) or not np.issubdtype(matrix.dtype, np.floating) or not np.all(np.isfinite(matrix)):
        raise ModelError(f"{path}: a query adapter must be a finite float ({dim}, {dim}) matrix, not {matrix.dtype} {matrix.shape}")
    return matrix.astype(np.float32)


def apply(matrix: np.ndarray, vectors: np.ndarray) -> np.ndarray:
    """Adapted query vectors, each keeping its own length (rankings by dot or cosine alike)."""
    vectors = np.asarray(vectors, dtype=np.float32)
    adapted = vectors @ matrix
    lengths = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (adapted * (lengths / np.maximum(np.linalg.norm(adapted, axis=1, keepdims=True), 1e-12))).astype(np.float32)
