"""The link query adapter that `scimult finetune` fits, measured on held-out citation contexts (ACM-CR).

Issue 19 item 3: fine-tuning learns from citation contexts (context -> cited paper, a link
signal). This runs the app's own rule (`services/finetuning/query_adapter.choose_and_fit`:
settings by 5-fold cross-validation on the training signals only, the adapter kept only
when that shows a gain beyond `KEEP_MARGIN_SE` = 2 standard errors) on the ACM-CR library with its 25
citing papers (`finetune_contexts_acm.add_citing_texts`), two ways:

1. **the pipeline's split**: trained on `finetune_signals.collect`'s training part, scored
   on its held-out part (what `scimult finetune --adapter-only` reports; 73 held-out
   contexts from 15 citing papers, so a paired SE of about 0.035);
2. **cross-fitted over every linked context** (fixed before looking, session 7): the 25
   citing papers fall into 5 folds by a seeded hash of the citing paper; for each fold the
   adapter is fitted by the same rule on the signals of the other folds' citing papers
   (contexts and citation edges) and scores the fold's own. Every context is held out
   exactly once, and never shares a citing paper with the signals that trained its adapter.

Printed per part: Recall@10 before/after (every library paper a candidate, ranked as
`finetuning.evaluation` ranks link signals), the paired difference and its standard error,
for contexts, for citation edges and for the whole link task; and what cross-validation
chose in each fit. `--train-without contexts` is the ablation: the same, with the contexts
left out of training (still scored).

    nice -n 5 python benchmarks/adapter_contexts_acm.py --library /tmp/ctx-acm-lib [--model NAME]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from finetune_acm import acm_missing, ensure_library  # noqa: E402
from finetune_contexts_acm import add_citing_texts  # noqa: E402

FOLDS = 5


def citing_paper(signal) -> str:
    """The citing paper of a link signal (its split unit is "edge:citing>cited")."""
    return signal.unit.split(":", 1)[1].split(">", 1)[0]


def compare(before: np.ndarray, after: np.ndarray, sources: np.ndarray) -> dict:
    """Recall@10 before/after with the paired SE, for each signal source and for all of them."""
    report = {}
    for name, rows in [(s, sources == s) for s in ("contexts", "citations")] + [("link", np.ones(len(sources), bool))]:
        diff = after[rows] - before[rows]
        se = float(diff.std(ddof=1)) / math.sqrt(len(diff)) if len(diff) > 1 else float("nan")
        report[name] = {
            "evaluated": int(rows.sum()),
            "recall@10_before": round(float(before[rows].mean()), 4),
            "recall@10_after": round(float(after[rows].mean()), 4),
            "difference": round(float(diff.mean()), 4),
            "paired_se": round(se, 4),
            "difference_in_se": round(float(diff.mean()) / se, 2) if se > 0 else None,
        }
    return report


def score(problem, train, evaluated, query_adapter, without=()) -> tuple[dict, np.ndarray, np.ndarray, list[str]]:
    fitted = query_adapter.choose_and_fit(problem, [s for s in train if s.source not in without])
    evaluated = problem.usable(evaluated)
    before = query_adapter.recall_hits(problem, evaluated, train, None)
    after = before if fitted.matrix is None else query_adapter.recall_hits(problem, evaluated, train, fitted.matrix)
    return fitted.to_json(), before, after, [s.source for s in evaluated]


def load_problem(library, model: str):
    from scimult_desktop.domain.tasks import Role, Task
    from scimult_desktop.services.finetuning import adapter_fitting
    from scimult_desktop.services.finetuning import signals as finetune_signals
    from scimult_desktop.services.finetuning.query_adapter import Problem
    from scimult_desktop.services.models import bundles as models
    from scimult_desktop.services.models import indexing
    from scimult_desktop.store.vectors import VectorStore

    signals = finetune_signals.collect(library.database, ["link"])
    encoder, key = models.load_encoder(model), models.model_key(model)
    indexing.index_library(library.database, encoder, key, tasks=[Task.LINK])
    ids, docs = VectorStore(library.database).vectors(key, "link")
    everything = signals.train["link"] + signals.held_out["link"]
    texts = sorted({s.query for s in everything})
    vectors = encoder.encode(texts, Task.LINK, Role.QUERY)
    problem = Problem(ids, docs, dict(zip(texts, vectors)), adapter_fitting.inverse_cloze_pairs(
        library.database, lambda texts, role, what: encoder.encode(texts, Task.LINK, role), ids))
    return problem, signals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, required=True, help="library folder (built when absent)")
    parser.add_argument("--model", default=None, help="installed model (default: the active one)")
    parser.add_argument("--skip-pipeline-split", action="store_true", help="only the cross-fitted evaluation")
    parser.add_argument("--train-without", default="", help="ablation: signal sources left out of training, e.g. contexts")
    args = parser.parse_args(argv)
    if acm_missing():
        return 0
    from scimult_desktop.services.finetuning import query_adapter
    from scimult_desktop.services.library.facade import Library
    from scimult_desktop.services.models import bundles as models

    ensure_library(args.library)
    model = args.model or models.active_model_name()
    without = {name for name in args.train_without.split(",") if name}
    started = time.monotonic()
    with Library.open(args.library) as library:
        print(json.dumps({"contexts": add_citing_texts(library)}), flush=True)
        problem, signals = load_problem(library, model)
    train, held = signals.train["link"], signals.held_out["link"]
    print(json.dumps({"model": model, "train": len(train), "held_out": len(held), "train_without": sorted(without),
                      "inverse_cloze_pairs": 0 if problem.ict is None else len(problem.ict.rows),
                      "seconds_to_embed": round(time.monotonic() - started, 1)}), flush=True)

    if not args.skip_pipeline_split:
        fitted, before, after, sources = score(problem, train, held, query_adapter, without)
        print(json.dumps({"part": "pipeline split", "adapter": fitted,
                          **compare(before, after, np.asarray(sources))}), flush=True)

    everything = problem.usable(train + held)
    fold = {c: int(hashlib.sha256(f"crossfit:{c}".encode()).hexdigest(), 16) % FOLDS for c in {citing_paper(s) for s in everything}}
    befores, afters, sources = [], [], []
    for j in range(FOLDS):
        inner = [s for s in everything if fold[citing_paper(s)] != j]
        outer = [s for s in everything if fold[citing_paper(s)] == j]
        fitted, before, after, names = score(problem, inner, outer, query_adapter, without)
        befores.append(before), afters.append(after), sources.extend(names)
        print(json.dumps({"fold": j, "citing_papers": sum(1 for v in fold.values() if v == j), "evaluated": len(outer),
                          "fitted": fitted["fitted"], "l2": fitted["l2"], "cv_change": fitted["cv_recall@10_change"],
                          "seconds": round(time.monotonic() - started, 1)}), flush=True)
    print(json.dumps({"part": "cross-fitted by citing paper", "model": model,
                      **compare(np.concatenate(befores), np.concatenate(afters), np.asarray(sources)),
                      "seconds": round(time.monotonic() - started, 1)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
