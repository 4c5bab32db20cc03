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


def rank_metrics(query_vectors: np.ndarray, candidate_vectors: np.ndarray, gold: np.ndarray) -> dict:
    """acc@1 and MRR of `gold[i]` among the candidates for query i (higher score = better)."""
    scores = query_vectors @ candidate_vectors.T  # (queries, candidates)
    gold_scores = scores[np.arange(len(gold)), gold][:, None]
    ranks = 1 + (scores > gold_scores).sum(axis=1)  # ties count in the query's favour
    return {"acc@1": float((ranks == 1).mean()), "mrr": float((1.0 / ranks).mean()), "n": int(len(gold))}


@torch.no_grad()
def evaluate(model: TaskAwareEncoder, tokenizer, examples: dict[str, list[Example]], batch_size: int = 64) -> dict:
    """{task: {"acc@1", "mrr", "n"}} for the eval examples of each task."""
    results = {}
    for task, items in examples.items():
        if not items:
            continue
        candidates = list(dict.fromkeys(e.positive for e in items))
        position = {text: i for i, text in enumerate(candidates)}
        gold = np.array([position[e.positive] for e in items])
        # encode() L2-normalises for cosine models, so the dot product below is the model's score.
        queries = model.encode([e.query for e in items], task, "query", tokenizer=tokenizer, batch_size=batch_size)
        docs = model.encode(candidates, task, "document", tokenizer=tokenizer, batch_size=batch_size)
        results[task] = rank_metrics(queries, docs, gold)
    return results
