"""Test doubles for the encoder side (never used by the app).

`bag_of_words_backend` embeds text as a hashed, L2-normalised bag of words, so
"similar" means "shares words": enough to test ranking plumbing deterministically.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

from scimult_desktop.services.finding.semantic import SemanticBackend
from scimult_desktop.store.papers import PaperStore

DIM = 256
_WORD = re.compile(r"[a-z0-9]+")


def hash_embed(texts, dim: int = DIM) -> np.ndarray:
    out = np.zeros((len(texts), dim), np.float32)
    for i, text in enumerate(texts):
        for word in _WORD.findall(text.lower()):
            if len(word) < 3:
                continue
            h = int.from_bytes(hashlib.blake2b(word[:6].encode(), digest_size=4).digest(), "little")
            out[i, h % dim] += 1.0
        norm = np.linalg.norm(out[i])
        if norm:
            out[i] /= norm
    return out


def bag_of_words_backend(database) -> SemanticBackend:
    store = PaperStore(database)
    calls = {"encode": 0}

    def encode(texts, task, role):
        calls["encode"] += 1
        return hash_embed(list(texts))

    def stored_vectors(task, ids):
        papers = store.get_many(list(ids))
        vecs = hash_embed([p.embedding_text() for p in papers])
        return {p.id: vecs[i] for i, p in enumerate(papers)}

    def neighbours(task, queries, k, exclude):
        ids = store.all_ids()
        vectors = stored_vectors(task, ids)
        matrix = np.stack([vectors[i] for i in ids]) if ids else np.zeros((0, DIM), np.float32)
        skip = set(exclude)
        result = []
        for row in queries @ matrix.T:
            order = [j for j in np.argsort(-row) if ids[j] not in skip][:k]
            result.append([(ids[j], float(row[j])) for j in order])
        return result

    backend = SemanticBackend("bag-of-words-test", "cosine", encode, neighbours, stored_vectors, lambda task: store.count())
    backend.calls = calls  # type: ignore[attr-defined]
    return backend
