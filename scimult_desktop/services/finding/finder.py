"""Search, related papers and citation suggestions over one library.

Each feature ranks with the right task expert and, where the library has
signals beyond text, fuses them in:
- search: BM25 (FTS5) and the *search* expert, fused by reciprocal rank;
- related: the *link-prediction* expert's neighbours and the citation graph
  (cites / cited by / co-cited / shared references);
- suggest: the *link-prediction* expert with the writer's text as the query
  side, fused with BM25 over the same text.
Every hit says why it was returned.
"""

from __future__ import annotations

from typing import Iterable, Sequence

import numpy as np

from scimult_desktop.domain.fusion import reciprocal_rank_fusion
from scimult_desktop.domain.records import PassageMatch, SearchHit
from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.services.finding import context_ranking, passage_ranking
from scimult_desktop.services.finding.evidence import best_passage, keyword_snippet, passage_excerpt
from scimult_desktop.services.finding.context_evidence import attach_library_contexts, shared_context_reasons
from scimult_desktop.services.finding.filters import SearchFilters
from scimult_desktop.services.finding.ranked import Ranked, fuse
from scimult_desktop.services.finding.semantic import SemanticBackend
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.papers import PaperStore

# How deep each list goes before fusion: deep enough that a paper ranked well
# by only one method still reaches the fused top k.
CANDIDATE_DEPTH = 100


class Finder:
    """Ranks library papers for queries, papers and drafts."""

    def __init__(self, database: LibraryDatabase, backend: SemanticBackend | None) -> None:
        self.database = database
        self.papers = PaperStore(database)
        self.backend = backend

    # ---- search ------------------------------------------------------------------------
    def search_many(
        self, queries: Sequence[str], *, k: int, mode: str, filters: SearchFilters | None = None
    ) -> list[list[SearchHit]]:
        allowed = (filters or SearchFilters()).allowed_ids(self.database)
        depth = max(CANDIDATE_DEPTH, k)
        encoded = self.require_backend().encode(list(queries), Task.SEARCH, Role.QUERY) if mode != "keyword" else None
        dense = self._dense_rankings(queries, Task.SEARCH, depth, allowed, encoded=encoded) if encoded is not None else None
        matches = [{} for _ in queries]
        if encoded is not None:
            # A paper ranks by its abstract or its best PDF passage, whichever matches better.
            matches = passage_ranking.best_passages(self.database, self.backend, encoded, depth, allowed)
            for i, found in enumerate(matches):
                if found:
                    dense[i] = Ranked(*passage_ranking.fuse_scores(dense[i].ids, dense[i].scores, found, depth), {})
        results = []
        for i, query in enumerate(queries):
            keyword = self.keyword_ranking(query, depth, allowed, snippets=k) if mode != "semantic" else None
            if mode == "keyword":
                ranked = keyword
            elif mode == "semantic":
                ranked = dense[i]
            else:
                ranked = fuse([keyword, dense[i]])
            results.append(self._hits(ranked, k, query, keyword.reasons if keyword else {}, matches[i]))
        return results

    # ---- suggest -----------------------------------------------------------------------
    def suggest_many(
        self, texts: Sequence[str], *, k: int, exclude: Sequence[Sequence[int]] | None = None
    ) -> list[list[SearchHit]]:
        """Papers to cite for each text (a sentence or paragraph being written)."""
        rankings = self.suggestion_rankings(texts, max(CANDIDATE_DEPTH, k))
        return [self.suggestion_hits(ranked, k, text, exclude[i] if exclude else ())
                for i, (text, ranked) in enumerate(zip(texts, rankings))]

    def suggestion_rankings(
        self, texts: Sequence[str], depth: int, *, contexts: Sequence[str] | None = None, context_weight: float = 0.0,
        pool: int = CANDIDATE_DEPTH,
    ) -> list[Ranked]:
        """Each text's candidates to cite, `depth` deep: BM25 and the link expert, fused.

        `contexts` (one per text, "" for none): the text's surroundings, a weaker second query at
        `context_weight` that re-orders the text's own `pool` closest papers (`context_ranking`).
        """
        if not texts:
            return []
        if contexts is not None and context_weight > 0 and any(contexts):
            return context_ranking.rankings_in_context(self, texts, contexts, depth, context_weight, pool)
        dense = self._dense_rankings(texts, Task.LINK, depth, None, role=Role.QUERY)
        return [fuse([self.keyword_ranking(text, depth, None, snippets=0), semantic])
                for text, semantic in zip(texts, dense)]

    def suggestion_hits(self, ranked: Ranked, k: int, text: str, exclude: Iterable[int] = ()) -> list[SearchHit]:
        """The top `k` of a suggestion ranking for `text`, without the papers in `exclude`."""
        skip = set(exclude)
        hits = self._hits(Ranked([pid for pid in ranked.ids if pid not in skip], ranked.scores, ranked.reasons), k, text, {})
        attach_library_contexts(self.database, hits, text)
        return hits

    # ---- related -----------------------------------------------------------------------
    def related(self, paper_id: int, *, k: int) -> list[SearchHit]:
        depth = max(CANDIDATE_DEPTH, k)
        rankings = []
        if self.backend is not None:
            vector = self.paper_vectors(Task.LINK, [paper_id]).get(paper_id)
            if vector is not None:
                skip = [paper_id, *self.papers.trashed_ids()]
                [neighbours] = self.backend.neighbours(Task.LINK, vector[None, :], depth + 1, skip)
                dense = Ranked([pid for pid, _ in neighbours], dict(neighbours), {})
                dense.reasons = {pid: f"similar content (similarity {score:.2f})" for pid, score in neighbours}
                rankings.append(dense)
        graph = self._graph_ranking(paper_id)
        if graph.ids:
            rankings.append(graph)
        if not rankings:
            return []
        fused = fuse(rankings)
        fused.ids = [pid for pid in fused.ids if pid != paper_id]
        hits = []
        quoted = shared_context_reasons(self.database, paper_id, fused.ids[:k])
        for pid in fused.ids[:k]:
            reasons = [r.reasons[pid] for r in reversed(rankings) if pid in r.reasons]
            if pid in quoted:
                reasons.insert(0, quoted[pid])
            hits.append((pid, fused.scores[pid], "; ".join(reasons)))
        papers = {p.id: p for p in self.papers.get_many([pid for pid, _, _ in hits])}
        return [SearchHit(papers[pid], round(score, 6), why=why) for pid, score, why in hits if pid in papers]

    def _graph_ranking(self, paper_id: int) -> Ranked:
        conn = self.database.conn
        strength: dict[int, float] = {}
        reasons: dict[int, list[str]] = {}

        def add(pid: int, weight: float, reason: str) -> None:
            strength[pid] = strength.get(pid, 0.0) + weight
            reasons.setdefault(pid, []).append(reason)

        for (pid,) in conn.execute("SELECT cited_paper_id FROM citations WHERE citing_paper_id = ?", (paper_id,)):
            add(pid, 3.0, "this paper cites it")
        for (pid,) in conn.execute("SELECT citing_paper_id FROM citations WHERE cited_paper_id = ?", (paper_id,)):
            add(pid, 3.0, "it cites this paper")
        for pid, n in conn.execute(
            """SELECT c2.cited_paper_id, count(*) FROM citations c1 JOIN citations c2
               ON c1.citing_paper_id = c2.citing_paper_id
               WHERE c1.cited_paper_id = ? AND c2.cited_paper_id != ? GROUP BY c2.cited_paper_id""",
            (paper_id, paper_id),
        ):
            add(pid, float(n), f"co-cited with it {n}×")
        for pid, n in conn.execute(
            """SELECT c2.citing_paper_id, count(*) FROM citations c1 JOIN citations c2
               ON c1.cited_paper_id = c2.cited_paper_id
               WHERE c1.citing_paper_id = ? AND c2.citing_paper_id != ? GROUP BY c2.citing_paper_id""",
            (paper_id, paper_id),
        ):
            add(pid, 0.5 * n, f"shares {n} reference{'s' if n > 1 else ''}")
        trashed = self.papers.trashed_ids()
        ids = sorted((pid for pid in strength if pid not in trashed), key=lambda pid: (-strength[pid], pid))
        return Ranked(ids, strength, {pid: ", ".join(r) for pid, r in reasons.items()})

    # ---- building blocks ----------------------------------------------------------------
    def keyword_ranking(self, query: str, depth: int, allowed: set[int] | None, *, snippets: int = 10) -> Ranked:
        hits = self.papers.keyword_search(query, depth if allowed is None else depth * 5, snippets=snippets)
        if allowed is not None:
            hits = [h for h in hits if h.paper.id in allowed][:depth]
        ranked = Ranked([h.paper.id for h in hits], {h.paper.id: h.score for h in hits}, {h.paper.id: h.why for h in hits if h.why})
        from scimult_desktop.services.library.notes import papers_with_matching_notes

        noted = papers_with_matching_notes(self.database, query, depth, allowed)  # what the user wrote counts too
        if not noted:
            return ranked
        fused = reciprocal_rank_fusion([ranked.ids, [pid for pid, _ in noted]])
        reasons = {pid: f"Your note: {snippet}" for pid, snippet in noted if snippet} | ranked.reasons
        return Ranked([pid for pid, _ in fused], dict(fused), reasons)

    def _dense_rankings(
        self, texts: Sequence[str], task: Task, depth: int, allowed: set[int] | None, role: Role = Role.QUERY,
        *, encoded: np.ndarray | None = None,
    ) -> list[Ranked]:
        backend = self.require_backend()
        queries = backend.encode(list(texts), task, role) if encoded is None else encoded
        if allowed is not None and len(allowed) <= 20000:
            # Exact scoring over the few allowed papers beats over-fetching from the index.
            vectors = self.paper_vectors(task, sorted(allowed))
            ids = list(vectors)
            matrix = np.stack([vectors[i] for i in ids]) if ids else np.zeros((0, queries.shape[1]), np.float32)
            scores = queries @ matrix.T
            rankings = []
            for row in scores:
                order = np.argsort(-row)[:depth]
                rankings.append(Ranked([ids[j] for j in order], {ids[j]: float(row[j]) for j in order}, {}))
            return rankings
        neighbours = backend.neighbours(task, queries, depth, self.papers.trashed_ids())
        return [Ranked([pid for pid, _ in hits], dict(hits), {}) for hits in neighbours]

    def paper_vectors(self, task: Task, paper_ids: Sequence[int]) -> dict[int, np.ndarray]:
        """Stored vectors, embedding papers on the fly when they are not indexed yet."""
        backend = self.require_backend()
        vectors = backend.stored_vectors(task, paper_ids)
        missing = [pid for pid in paper_ids if pid not in vectors]
        if missing:
            papers = self.papers.get_many(missing)
            fresh = backend.encode([p.embedding_text() for p in papers], task, Role.DOCUMENT)
            vectors.update({p.id: fresh[i] for i, p in enumerate(papers)})
        return vectors

    def _hits(
        self, ranked: Ranked, k: int, query: str, snippets: dict[int, str], passages: dict[int, PassageMatch] | None = None
    ) -> list[SearchHit]:
        ids = ranked.ids[:k]
        papers = {p.id: p for p in self.papers.get_many(ids)}
        hits = []
        for pid in ids:
            if pid not in papers:
                continue
            passage = (passages or {}).get(pid)
            if passage is not None:
                why, page = passage_excerpt(passage.text, query), passage.page
            else:
                why, page = keyword_snippet(snippets.get(pid), query), None
                if why is None:
                    why, page = best_passage(self.database, pid, query, papers[pid].abstract)
            hits.append(SearchHit(papers[pid], round(float(ranked.scores[pid]), 6), why=why, page=page, passage=passage))
        return hits

    def require_backend(self) -> SemanticBackend:
        if self.backend is None:
            from scimult_desktop.errors import ModelError

            raise ModelError("no model installed: run `scimult model build-default` (or `scimult model install PATH`)")
        return self.backend
