"""Suggestion rankings for sentences with their paragraph as a weaker second query.

A sentence of a draft is its own query; the sentences beside it in its paragraph say what the
paragraph is about, which helps where the sentence alone is vague ("One exception is SoftRank.").
The link expert's part of the ranking scores each candidate as

    similarity(sentence, paper) + weight * similarity(context, paper)

over the sentence's *own* candidates only (its `pool` closest papers and its keyword matches),
so the context re-orders what the sentence found and never brings in a paper of its own; the
keyword part is the sentence's alone. Both are fused by reciprocal rank, as
`Finder.suggestion_rankings` fuses them for a sentence asked alone (it calls this module
when given contexts).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

import numpy as np

from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.services.finding.ranked import Ranked, fuse

if TYPE_CHECKING:
    from scimult_desktop.services.finding.finder import Finder


def rankings_in_context(
    finder: "Finder", texts: Sequence[str], contexts: Sequence[str], depth: int, weight: float, pool: int
) -> list[Ranked]:
    """Each text's candidates to cite, `depth` deep, its context ("" for none) counting at `weight`.

    Called by `Finder.suggestion_rankings(..., contexts=...)`.
    """
    backend = finder.require_backend()
    own = backend.encode(list(texts), Task.LINK, Role.QUERY)
    with_context = [i for i, context in enumerate(contexts) if context]
    around = dict(zip(with_context, backend.encode([contexts[i] for i in with_context], Task.LINK, Role.QUERY)))
    closest = backend.neighbours(Task.LINK, own, max(pool, depth), finder.papers.trashed_ids())
    keyword = [finder.keyword_ranking(text, depth, None, snippets=0) for text in texts]
    pools = {i: list(dict.fromkeys([pid for pid, _ in closest[i]] + keyword[i].ids)) for i in with_context}
    vectors = finder.paper_vectors(Task.LINK, sorted({pid for ids in pools.values() for pid in ids}))
    rankings = []
    for i in range(len(texts)):
        if i not in around:
            dense = Ranked([pid for pid, _ in closest[i][:depth]], dict(closest[i][:depth]), {})
        else:
            ids = [pid for pid in pools[i] if pid in vectors]
            matrix = np.stack([vectors[pid] for pid in ids]) if ids else np.zeros((0, own.shape[1]), np.float32)
            scores = matrix @ own[i] + weight * (matrix @ around[i])
            order = np.argsort(-scores, kind="stable")[:depth]
            dense = Ranked([ids[j] for j in order], {ids[j]: float(scores[j]) for j in order}, {})
        rankings.append(fuse([keyword[i], dense]))
    return rankings
