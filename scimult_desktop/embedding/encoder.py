"""The `Encoder` protocol: texts in, one float32 vector per text out, per task.

Everything above the embedding layer (indexing, search, related papers,
citation suggestions, classification) talks to this protocol only, so an ONNX
Runtime encoder, an OpenVINO one and a fake from the tests are interchangeable.

Example:
    >>> encoder = OnnxEncoder("/path/to/bundle")
    >>> vectors = encoder.encode_document(["BERT [SEP] We introduce ..."], Task.LINK)
    >>> vectors.shape
    (1, 384)
"""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np

from scimult_desktop.domain.tasks import Role, Task

DEFAULT_BATCH_SIZE = 16


@runtime_checkable
class Encoder(Protocol):
    """Turns texts into task-aware embeddings.

    Attributes:
        name: the model's name (the bundle name for real encoders).
        dim: length of every vector.
        similarity: "cosine" (vectors are unit length) or "dot".
    """

    name: str
    dim: int
    similarity: str

    def encode(
        self,
        texts: Sequence[str],
        task: Task | str,
        role: Role = Role.DOCUMENT,
        batch_size: int = DEFAULT_BATCH_SIZE,
    ) -> np.ndarray:
        """Embed `texts` with the expert of `task`.

        Args:
            texts: the inputs; papers as `"title [SEP] abstract"`.
            task: which task expert to use (search, link, classify).
            role: query or document side (weights are shared; only instructions may differ).
            batch_size: texts per forward pass.

        Returns:
            float32 array of shape (len(texts), dim), rows in the order of `texts`.
        """
        ...

    def encode_query(self, texts: Sequence[str], task: Task | str, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """`encode(texts, task, Role.QUERY)`."""
        ...

    def encode_document(self, texts: Sequence[str], task: Task | str, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        """`encode(texts, task, Role.DOCUMENT)`."""
        ...


class EncoderBase:
    """Shared helpers for encoders: the query/document shortcuts."""

    def encode(self, texts, task, role=Role.DOCUMENT, batch_size=DEFAULT_BATCH_SIZE):  # pragma: no cover - abstract
        raise NotImplementedError

    def encode_query(self, texts: Sequence[str], task: Task | str, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        return self.encode(texts, task, Role.QUERY, batch_size)

    def encode_document(self, texts: Sequence[str], task: Task | str, batch_size: int = DEFAULT_BATCH_SIZE) -> np.ndarray:
        return self.encode(texts, task, Role.DOCUMENT, batch_size)


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero), in place when possible."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    np.maximum(norms, 1e-12, out=norms)
    vectors /= norms
    return vectors
