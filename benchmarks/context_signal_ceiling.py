"""What a library's citation contexts can teach about new drafts: the ceiling, and two more learners.

Issue 19 item 3 asks fine-tuning to lift suggestion Recall@10 on held-out citation contexts
beyond 2 standard errors. The link query adapter (`adapter_contexts_acm.py`) does not, for
sentences of citing papers it has not seen. This script measures why, on the same ACM-CR
library with its 25 citing papers, cross-fitted by citing paper exactly as there (5 folds by
a seeded hash of the citing paper; every context held out once, never sharing a citing paper
with what it learns from):

1. **the ceiling for anything learnt from this library**: how many held-out contexts cite a
   paper that some other citing paper's signals (a context or a reference) lead to. For the
   rest, only general "citation language" can help, not memory of this library.
2. **a citation memory**: at suggestion time, a candidate also scores by the most similar
   sentence in which another library paper cites it (link-expert query vectors of the stored
   contexts). Two forms: (a) the dense score plus `beta` times that similarity, `beta` chosen
   per outer fold by an inner 4-fold cross-validation grouped by citing paper and kept only
   beyond 2 SE (the app's rule for the adapter); (b) the app's suggestion ranking (FTS5 BM25
   and the link expert by reciprocal rank) with the memory's ranking fused in as a third list
   at the same weight, which has no setting to choose.
3. **a general adapter**: the query adapter fitted on 2,577 unarXive (2019 sample) citation
   contexts -> their cited reference strings, none from ACM; cross-validated there by citing
   paper, then applied unchanged to every ACM-CR link signal.

    nice -n 5 python benchmarks/context_signal_ceiling.py --library /tmp/ctx-acm-lib [--model NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sqlite3
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from adapter_contexts_acm import FOLDS, citing_paper, compare, load_problem  # noqa: E402
from finetune_acm import acm_missing, ensure_library  # noqa: E402
from finetune_contexts_acm import add_citing_texts  # noqa: E402

UNARXIVE = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "unarxive_samples" / "2019_sample" / "paper_centered_sample"
MEMORY_BETAS = (0.0, 0.1, 0.2, 0.3, 0.5)
DEPTH = 100
CUTOFF = 10


def fold_of(signals, salt: str, folds: int) -> dict[str, int]:
    return {c: int(hashlib.sha256(f"{salt}:{c}".encode()).hexdigest(), 16) % folds for c in {citing_paper(s) for s in signals}}


class Memory:
    """Dense scores and the citation-memory similarities of one problem."""

    def __init__(self, problem, signals) -> None:
        self.problem = problem
        self.index = {id(s): i for i, s in enumerate(signals)}
        self.queries = problem.queries(signals)
        self.dense = self.queries @ problem.documents.T

    def similarity(self, evaluated, remembered) -> np.ndarray:
        """Per evaluated signal and paper: the best similarity to a remembered context citing it (0 if none)."""
        rows = [self.index[id(s)] for s in evaluated]
        memory = np.zeros((len(rows), self.problem.documents.shape[0]), np.float32)
        contexts = [s for s in remembered if s.source == "contexts"]
        if contexts:
            sims = self.queries[rows] @ self.problem.queries(contexts).T
            for j, s in enumerate(contexts):
                column = self.problem.row[s.positive_paper]
                memory[:, column] = np.maximum(memory[:, column], sims[:, j])
        return memory

    def hits(self, evaluated, remembered, beta: float) -> np.ndarray:
        from scimult_desktop.services.finetuning.evaluation import known_positives, skipped_candidates

        scores = self.dense[[self.index[id(s)] for s in evaluated]].copy()
        if beta > 0:
            scores += beta * self.similarity(evaluated, remembered)
        known = known_positives(remembered)
        out = np.zeros(len(evaluated))
        for n, s in enumerate(evaluated):
            row = scores[n]
            row[[self.problem.row[p] for p in skipped_candidates(s, known) if p in self.problem.row]] = -np.inf
            out[n] = float(np.sum(row > row[self.problem.row[s.positive_paper]]) + 1 <= CUTOFF)
        return out

    def app_hits(self, evaluated, remembered, keyword: dict[str, list[int]], with_memory: bool) -> np.ndarray:
        from scimult_desktop.domain.fusion import reciprocal_rank_fusion
        from scimult_desktop.services.finetuning.evaluation import known_positives, skipped_candidates

        ids = self.problem.paper_ids
        memory = self.similarity(evaluated, remembered) if with_memory else None
        known = known_positives(remembered)
        out = np.zeros(len(evaluated))
        for n, s in enumerate(evaluated):
            skip = skipped_candidates(s, known)
            row = self.dense[self.index[id(s)]]
            lists = [[p for p in keyword[s.query] if p not in skip],
                     [p for p in (int(ids[j]) for j in np.argsort(-row)[:DEPTH + len(skip)]) if p not in skip][:DEPTH]]
            if memory is not None:
                cited = np.flatnonzero(memory[n] > 0)
                lists.append([p for p in (int(ids[j]) for j in cited[np.argsort(-memory[n][cited])]) if p not in skip][:DEPTH])
            top = [p for p, _ in reciprocal_rank_fusion(lists)][:CUTOFF]
            out[n] = float(s.positive_paper in top)
        return out


def choose_beta(memory: Memory, train) -> tuple[float, float, float]:
    """The inner cross-validation's best beta, its gain and paired SE (beta 0 when none)."""
    inner = fold_of(train, "memory-cv", 4)
    results = {}
    for beta in MEMORY_BETAS:
        parts = []
        for j in range(4):
            fit_on = [s for s in train if inner[citing_paper(s)] != j]
            judged = [s for s in train if inner[citing_paper(s)] == j]
            if fit_on and judged:
                parts.append(memory.hits(judged, fit_on, beta))
        results[beta] = np.concatenate(parts)
    best = max(MEMORY_BETAS, key=lambda b: results[b].mean())
    diff = results[best] - results[0.0]
    se = float(diff.std(ddof=1)) / math.sqrt(len(diff))
    return best, float(diff.mean()), se


def unarxive_problem(encode):
    """Query adapter problem of unarXive 2019 contexts -> cited reference strings (one 'paper' per cited id)."""
    from scimult_desktop.services.finetuning.query_adapter import Problem
    from scimult_desktop.services.finetuning.signals import Signal

    database = sqlite3.connect(UNARXIVE / "papers" / "refs.db")
    strings = {}
    for citing, cited, text in database.execute("SELECT citing_arxiv_id, cited_mag_id, bibitem_string FROM bibitem"):
        strings.setdefault((citing, cited), text.replace("\u00a6", " "))
    placeholders = re.compile(r"\b(MAINCIT|CIT|FORMULA|FIGURE|TABLE)\b")
    pairs = []
    for line in (UNARXIVE / "contexts" / "citation_contexts.csv").open(encoding="utf-8"):
        fields = line.rstrip("\n").split("\u241e")
        if len(fields) < 7 or (fields[5], fields[0]) not in strings:
            continue
        sentence = re.sub(r"\s+([,.])", r"\1", re.sub(r"\s+", " ", placeholders.sub("", fields[6]))).strip()
        reference = strings[(fields[5], fields[0])]
        if len(sentence.split()) >= 6 and len(reference) >= 30:
            pairs.append((fields[5], fields[0], sentence, reference))
    cited = sorted({p[1] for p in pairs})
    row = {c: i for i, c in enumerate(cited)}
    reference_of = {p[1]: p[3] for p in pairs}
    sentences = sorted({p[2] for p in pairs})
    documents = encode([reference_of[c] for c in cited], "document")
    queries = encode(sentences, "query")
    signals = [Signal(task="link", unit=f"edge:{p[0]}>{p[1]}", query=p[2], positive=p[3], positive_paper=row[p[1]],
                      source="contexts") for p in pairs]
    return Problem(np.arange(len(cited)), documents, dict(zip(sentences, queries))), signals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, required=True, help="library folder (built when absent)")
    parser.add_argument("--model", default=None, help="installed model (default: the active one)")
    args = parser.parse_args(argv)
    if acm_missing():
        return 0
    from scimult_desktop.domain.tasks import Role, Task
    from scimult_desktop.services.finding.finder import Finder
    from scimult_desktop.services.finetuning import query_adapter
    from scimult_desktop.services.library.facade import Library
    from scimult_desktop.services.models import bundles as models

    ensure_library(args.library)
    model = args.model or models.active_model_name()
    started = time.monotonic()
    with Library.open(args.library) as library:
        add_citing_texts(library)
        problem, signals = load_problem(library, model)
        everything = problem.usable(signals.train["link"] + signals.held_out["link"])
        finder = Finder(library.database, None)
        keyword = {s.query: finder.keyword_ranking(s.query, DEPTH, None, snippets=0).ids for s in everything}
    fold = fold_of(everything, "crossfit", FOLDS)
    splits = [([s for s in everything if fold[citing_paper(s)] != j], [s for s in everything if fold[citing_paper(s)] == j])
              for j in range(FOLDS)]

    # 1. the ceiling
    ceiling = []
    for j, (train, held) in enumerate(splits):
        reached = {s.positive_paper for s in train}
        contexts = [s for s in held if s.source == "contexts"]
        ceiling.append({"fold": j, "held_out_contexts": len(contexts),
                        "citing_a_paper_other_citing_papers_lead_to": sum(s.positive_paper in reached for s in contexts)})
    citers = {}
    for s in everything:
        citers.setdefault(s.positive_paper, set()).add(citing_paper(s))
    print(json.dumps({"part": "ceiling", "model": model, "folds": ceiling,
                      "cited_papers": len(citers), "cited_by_one_citing_paper_only": sum(len(c) == 1 for c in citers.values()),
                      "seconds": round(time.monotonic() - started, 1)}), flush=True)

    # 2. the citation memory
    memory = Memory(problem, everything)
    before, added, app_before, app_fused, sources = [], [], [], [], []
    for j, (train, held) in enumerate(splits):
        beta, gain, se = choose_beta(memory, train)
        kept = beta if gain > 2 * se else 0.0
        print(json.dumps({"fold": j, "beta": beta, "inner_cv_change": round(gain, 4), "inner_cv_se": round(se, 4),
                          "kept": kept > 0}), flush=True)
        before.append(memory.hits(held, train, 0.0))
        added.append(memory.hits(held, train, kept))
        app_before.append(memory.app_hits(held, train, keyword, False))
        app_fused.append(memory.app_hits(held, train, keyword, True))
        sources.extend(s.source for s in held)
    sources = np.asarray(sources)
    print(json.dumps({"part": "citation memory, dense + beta x similarity, beta by inner CV (2-SE rule)",
                      **compare(np.concatenate(before), np.concatenate(added), sources)}), flush=True)
    print(json.dumps({"part": "citation memory, app ranking (BM25 + link) with the memory fused in",
                      **compare(np.concatenate(app_before), np.concatenate(app_fused), sources)}), flush=True)

    # 3. the general adapter
    if not UNARXIVE.is_dir():
        print(json.dumps({"part": "general adapter", "skipped": f"{UNARXIVE} is absent"}), flush=True)
        return 0
    encoder = models.load_encoder(model)
    roles = {"query": Role.QUERY, "document": Role.DOCUMENT}
    general, general_signals = unarxive_problem(lambda texts, role: encoder.encode(texts, Task.LINK, roles[role]))
    fitted = query_adapter.choose_and_fit(general, general_signals)
    report = {"part": "general adapter (unarXive contexts -> reference strings)", "pairs": len(general_signals),
              "cross_validation_on_unarxive": fitted.to_json()}
    best = max(fitted.to_json()["settings"], key=lambda row: row["cv_recall@10_change"])["l2"]
    matrix = query_adapter.fit(general, general_signals, best)
    unchanged = query_adapter.recall_hits(problem, everything, [], None)
    adapted = query_adapter.recall_hits(problem, everything, [], matrix)
    report.update({"l2": best, **compare(unchanged, adapted, np.asarray([s.source for s in everything])),
                   "seconds": round(time.monotonic() - started, 1)})
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
