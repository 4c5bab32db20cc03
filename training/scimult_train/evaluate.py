"""Periodic evaluation: retrieval of each eval query's positive among its task's eval positives.

For every task in the eval data (at most `max_examples` examples each, in file order), the
queries are ranked against the distinct positive texts of that task; the metrics are
top-1 accuracy and MRR of the own positive (other queries' positives are the negatives,
like in-batch negatives over the whole eval set). Hard negatives are not used here.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from scimult_train.data.examples import Example, read_examples
from scimult_train.model.encoder import TaskAwareEncoder


def load_eval_examples(paths: list[str | Path], max_examples: int) -> dict[str, list[Example]]:
    """The first `max_examples` examples per task across the eval files (streamed)."""
    per_task: dict[str, list[Example]] = {}
    for path in paths:
        for example in read_examples(path):
            bucket = per_task.setdefault(example.task, [])
            if len(bucket) < max_examples:
                bucket.append(example)
    return per_task


UNSEEN = "unseen:"  # key prefix of a zero-shot set in evaluate()'s results


def load_unseen_examples(sets: dict[str, str | Path], max_examples: int) -> dict[str, list[Example]]:
    """{"unseen:NAME": the first `max_examples` examples} of each zero-shot set (TrainConfig.eval_unseen)."""
    out = {}
    for name, path in sets.items():
        items = []
        for example in read_examples(path):
            if len(items) >= max_examples:
                break
            items.append(example)
        out[f"{UNSEEN}{name}"] = items
    return out


def rank_metrics(query_vectors: np.ndarray, candidate_vectors: np.ndarray, gold: np.ndarray) -> dict:
    """acc@1 and MRR of `gold[i]` among the candidates for query i (higher score = better)."""
    scores = query_vectors @ candidate_vectors.T  # (queries, candidates)
    gold_scores = scores[np.arange(len(gold)), gold][:, None]
    ranks = 1 + (scores > gold_scores).sum(axis=1)  # ties count in the query's favour
    return {"acc@1": float((ranks == 1).mean()), "mrr": float((1.0 / ranks).mean()), "n": int(len(gold))}


@torch.no_grad()
def evaluate(
    model: TaskAwareEncoder, tokenizer, examples: dict[str, list[Example]], batch_size: int = 64,
    *, expert_task: str | None = None,
) -> dict:
    """{task: {"acc@1", "mrr", "n"}} for the eval examples of each task (or zero-shot set: its
    examples go through their own task's expert).

    `expert_task` encodes every task's examples with that task's expert instead of their own
    (see `expert_matrix`).
    """
    results = {}
    for task, items in examples.items():
        if not items:
            continue
        _, gold, queries, docs = encode_task(model, tokenizer, items, expert_task or items[0].task, batch_size)
        results[task] = rank_metrics(queries, docs, np.array(gold))
    return results


def encode_task(
    model: TaskAwareEncoder, tokenizer, items: list[Example], encode_as: str, batch_size: int = 64
) -> tuple[list[str], list[int], np.ndarray, np.ndarray]:
    """(candidates, gold index per query, query vectors, candidate vectors) of one task's examples.

    The candidates are the distinct positives; encode() L2-normalises for cosine models, so the
    dot product of the vectors is the model's score.
    """
    candidates = list(dict.fromkeys(e.positive for e in items))
    position = {text: i for i, text in enumerate(candidates)}
    gold = [position[e.positive] for e in items]
    queries = model.encode([e.query for e in items], encode_as, "query", tokenizer=tokenizer, batch_size=batch_size)
    docs = model.encode(candidates, encode_as, "document", tokenizer=tokenizer, batch_size=batch_size)
    return candidates, gold, queries, docs


def expert_matrix(model: TaskAwareEncoder, tokenizer, examples: dict[str, list[Example]]) -> dict:
    """{data task: {expert's task: MRR}}: does each task's own expert serve it best?

    A task-aware model should have its largest value of each row on the diagonal; identical
    (untrained, upcycled) experts give equal rows.
    """
    matrix: dict[str, dict[str, float]] = {task: {} for task in examples}
    for expert_task in examples:
        for task, metrics in evaluate(model, tokenizer, examples, expert_task=expert_task).items():
            matrix[task][expert_task] = round(metrics["mrr"], 4)
    return matrix


@torch.no_grad()
def hybrid_check(model: TaskAwareEncoder, tokenizer, examples: dict[str, list[Example]], depth: int = 100) -> dict:
    """{task: {"bm25"|"dense"|"hybrid": {"recall@10", "mrr"}}} on the eval examples of each task.

    The app ranks with BM25 and the task's expert fused by reciprocal rank (`domain.fusion`),
    so a better expert is only worth shipping if the fused ranking improves too; this measures
    that on held-out training data, where choosing settings is allowed.
    """
    from scimult_desktop.domain.fusion import reciprocal_rank_fusion
    from scimult_train.data.bm25 import BM25

    results = {}
    for task, items in examples.items():
        if not items:
            continue
        candidates, gold, queries, docs = encode_task(model, tokenizer, items, task)
        bm25 = BM25(candidates)
        keyword = [bm25.top(e.query, depth) for e in items]
        dense = [list(np.argsort(-row, kind="stable")[:depth]) for row in queries @ docs.T]
        hybrid = [[i for i, _ in reciprocal_rank_fusion([k, d])] for k, d in zip(keyword, dense)]
        results[task] = {name: _recall_mrr(ranked, gold) for name, ranked in
                         (("bm25", keyword), ("dense", dense), ("hybrid", hybrid))}
    return results


def _recall_mrr(rankings: list[list[int]], gold: list[int]) -> dict:
    recall = float(np.mean([g in ranked[:10] for ranked, g in zip(rankings, gold)]))
    mrr = float(np.mean([1.0 / (ranked.index(g) + 1) if g in ranked else 0.0 for ranked, g in zip(rankings, gold)]))
    return {"recall@10": round(recall, 4), "mrr": round(mrr, 4)}
