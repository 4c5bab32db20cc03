"""Passage hits folded into paper search: a paper ranks by its abstract or its best passage.

The search expert scores the query against each paper's title+abstract and, through
the passage index, against passages of its PDF text. A paper's dense score is the
larger of the two, the passage score shifted by `PASSAGE_OFFSET`: passages are
shorter and more specific than abstracts, so their cosines run on a slightly
different scale. The offset was chosen on a held-out slice: 91 questions from unarXive full
texts (`benchmarks/eval_passages.py`, hybrid MRR@20 over offsets -0.3..0.1: -0.15 best at 82.5,
0.0 at 81.5, a difference within noise), never on the PDF benchmark queries.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from scimult_desktop.domain.records import PassageMatch
from scimult_desktop.services.finding.semantic import SemanticBackend
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.store.passages import PassageStore

PASSAGE_OFFSET = -0.15
# Passages fetched per paper wanted: a paper often has several among the top passages.
PASSAGES_PER_PAPER = 4


def best_passages(
    database: LibraryDatabase,
    backend: SemanticBackend,
    queries: np.ndarray,
    depth: int,
    allowed: set[int] | None,
) -> list[dict[int, PassageMatch]]:
    """For each query vector, paper id -> its best-scoring passage among the top passages.

    Papers in the trash, and papers outside `allowed` when it is given, are left out.
    """
    if backend.passage_neighbours is None:
        return [{} for _ in range(len(queries))]
    store = PassageStore(database)
    ranked = backend.passage_neighbours(queries, depth * PASSAGES_PER_PAPER, allowed)
    passages = store.get_many(sorted({pid for hits in ranked for pid, _ in hits}))
    trashed = PaperStore(database).trashed_ids()
    results = []
    for hits in ranked:
        best: dict[int, PassageMatch] = {}
        for passage_id, score in hits:  # best first, so the first passage of a paper is its best
            passage = passages.get(passage_id)
            if passage is None or passage.paper_id in trashed or passage.paper_id in best:
                continue
            if allowed is not None and passage.paper_id not in allowed:
                continue
            best[passage.paper_id] = PassageMatch(passage.text, passage.page, float(score))
        results.append(best)
    return results


def fuse_scores(
    paper_ids: Sequence[int], paper_scores: dict[int, float], passages: dict[int, PassageMatch], depth: int
) -> tuple[list[int], dict[int, float]]:
    """Papers by max(abstract score, best passage score + offset), best first, `depth` deep."""
    scores = {pid: paper_scores[pid] for pid in paper_ids}
    for pid, match in passages.items():
        shifted = match.score + PASSAGE_OFFSET
        if shifted > scores.get(pid, -np.inf):
            scores[pid] = shifted
    order = sorted(scores, key=lambda pid: (-scores[pid], pid))[:depth]
    return order, {pid: scores[pid] for pid in order}

