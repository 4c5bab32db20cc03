"""A small in-memory BM25 (numpy postings) for mining hard negatives from a few thousand documents."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

_TOKEN = re.compile(r"[a-z0-9]+")
STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the their this to was were which with "
    "we our these those been can not but also into than such using use used based via between over under".split()
)


def tokens(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text.lower()) if len(t) > 1 and t not in STOPWORDS]


class BM25:
    """BM25 (k1 0.9, b 0.4, as the app's keyword baseline) over a fixed list of documents."""

    def __init__(self, documents: Sequence[str], k1: float = 0.9, b: float = 0.4) -> None:
        postings: dict[str, list[tuple[int, int]]] = defaultdict(list)
        lengths = np.zeros(len(documents), dtype=np.float32)
        for doc_id, text in enumerate(documents):
            counts = Counter(tokens(text))
            lengths[doc_id] = sum(counts.values())
            for term, tf in counts.items():
                postings[term].append((doc_id, tf))
        average = float(lengths.mean()) if len(documents) else 1.0
        norm = k1 * (1 - b + b * lengths / max(average, 1e-9))
        self.size = len(documents)
        self.postings: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for term, items in postings.items():
            ids = np.fromiter((i for i, _ in items), dtype=np.int64, count=len(items))
            tf = np.fromiter((t for _, t in items), dtype=np.float32, count=len(items))
            idf = math.log(1 + (self.size - len(items) + 0.5) / (len(items) + 0.5))
            self.postings[term] = (ids, idf * tf * (k1 + 1) / (tf + norm[ids]))

    def top(self, query: str, k: int, exclude: set[int] = frozenset()) -> list[int]:
        """Indices of the k best-scoring documents (score > 0), best first, leaving out `exclude`."""
        scores = np.zeros(self.size, dtype=np.float32)
        for term in set(tokens(query)):
            if term in self.postings:
                ids, weights = self.postings[term]
                scores[ids] += weights
        depth = min(self.size, k + len(exclude))
        if depth == 0:
            return []
        best = np.argpartition(-scores, depth - 1)[:depth]
        best = best[np.argsort(-scores[best], kind="stable")]
        return [int(i) for i in best if scores[i] > 0 and int(i) not in exclude][:k]
