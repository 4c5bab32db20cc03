"""Before/after evaluation of a fine-tuned model on the held-out signals (ONNX encoders, no torch).

One metric per task, computed the same way for the old and the new bundle:

- link: **Recall@10** of held-out citation edges. The citing paper (or the writer's text of
  an accepted suggestion) is the query; every library paper is a candidate, except the
  query paper itself and the papers it cites in the training part (they are known, so they
  do not count against the held-out one);
- classify: **accuracy@1** of the collections/tags of held-out papers, predicted as the
  classify service does for the user's own labels: the 15 nearest papers *filed in the
  training part* vote, weighted by similarity; a hit when the top label is one of the
  paper's own;
- search: **MRR@10** of held-out titles finding their own paper among every library paper
  represented by its abstract only (with its title in the candidate text the query would
  be trivially contained in it), plus relevant results marked by the user ranked among the
  full paper texts.

Candidate vectors on the "full" view are the library's stored embeddings of that model
(`embedding_cache`): the new model's are computed once here and are exactly what serving
needs after an accept, so accepting re-embeds only what evaluation did not.

**Recommended** (`recommend`): no task is worse by more than noise (mean paired
difference below -2 standard errors of that difference, and at least 0.01) and the mean
change over the tasks is positive.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from scimult_desktop.domain.progress import CancelToken, ProgressCallback, ProgressTracker, cancellable_batches
from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.embedding.encoder import Encoder
from scimult_desktop.services.models import embedding_cache
from scimult_desktop.services.models import indexing
from scimult_desktop.services.finding.classifying import KNN_NEIGHBOURS
from scimult_desktop.services.finetuning.signals import SignalSet, Signal
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.vectors import VectorStore

CUTOFF = 10
METRICS = {"link": "recall@10", "classify": "accuracy@1", "search": "mrr@10"}
MIN_NOISE = 0.01


@dataclass
class TaskScore:
    """One model's score on one task's held-out signals, with the per-signal values."""

    task: str
    metric: str
    per_item: list[float] = field(default_factory=list)

    @property
    def value(self) -> float:
        return float(np.mean(self.per_item)) if self.per_item else 0.0


def evaluate(
    database: LibraryDatabase,
    encoder: Encoder,
    model_key: str,
    signals: SignalSet,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict[str, TaskScore]:
    """Score one model on every task of `signals` that has held-out signals.

    Embeds the library papers the model has no stored vectors for yet (stored, resumable).
    """
    tasks = [task for task, items in signals.held_out.items() if items]
    full_view = [Task.parse(t) for t in tasks if t != "search" or any(s.view == "full" for s in signals.held_out[t])]
    if full_view:
        indexing.index_library(database, encoder, model_key, tasks=full_view, progress=progress, cancel=cancel)
    candidates = _Candidates(database, encoder, model_key, progress, cancel)
    scores = {}
    for task in tasks:
        if cancel is not None:
            cancel.raise_if_cancelled()
        if task == "classify":
            scores[task] = _classify_score(candidates, signals.train.get(task, []), signals.held_out[task])
        else:
            scores[task] = _ranking_score(candidates, task, signals.train.get(task, []), signals.held_out[task])
    return scores


def recommend(before: dict[str, TaskScore], after: dict[str, TaskScore]) -> bool:
    """True when no task is worse beyond noise and the mean change over tasks is positive."""
    changes = []
    for task, old in before.items():
        new = after.get(task)
        if new is None or len(new.per_item) != len(old.per_item) or not old.per_item:
            return False
        diff = np.asarray(new.per_item) - np.asarray(old.per_item)
        noise = max(MIN_NOISE, 2 * float(diff.std(ddof=1)) / math.sqrt(len(diff))) if len(diff) > 1 else MIN_NOISE
        if float(diff.mean()) < -noise:
            return False
        changes.append(float(diff.mean()))
    return bool(changes) and float(np.mean(changes)) > 0


def by_source(held_out: Sequence[Signal], before: TaskScore, after: TaskScore) -> dict[str, dict]:
    """Before/after of one task split by where its held-out signals came from (e.g. link: citations, contexts).

    Each entry has the count, both means and the paired standard error of the change.
    """
    if len(before.per_item) != len(held_out) or len(after.per_item) != len(held_out):
        return {}
    groups: dict[str, list[int]] = {}
    for i, signal in enumerate(held_out):
        groups.setdefault(signal.source or "other", []).append(i)
    table = {}
    for source, rows in sorted(groups.items()):
        old = np.asarray([before.per_item[i] for i in rows])
        new = np.asarray([after.per_item[i] for i in rows])
        diff = new - old
        se = float(diff.std(ddof=1)) / math.sqrt(len(diff)) if len(diff) > 1 else None
        table[source] = {"held_out": len(rows), "before": round(float(old.mean()), 4), "after": round(float(new.mean()), 4),
                         "paired_se": None if se is None else round(se, 4)}
    return table


# ---- ranking tasks (link, search) ---------------------------------------------------
def known_positives(signals: Sequence[Signal]) -> dict[object, set[int]]:
    """The papers each query (its query paper, else its text) is known to lead to in `signals`."""
    known: dict[object, set[int]] = {}
    for s in signals:
        if s.positive_paper is not None:
            known.setdefault(_query_key(s), set()).add(s.positive_paper)
    return known


def skipped_candidates(signal: Signal, known: dict[object, set[int]]) -> set[int]:
    """Papers not ranked against `signal`'s own: the query paper and the query's other known positives."""
    skip = set(known.get(_query_key(signal), set()))
    if signal.query_paper is not None:
        skip.add(signal.query_paper)
    skip.discard(signal.positive_paper)
    return skip


def _query_key(signal: Signal) -> object:
    return signal.query_paper if signal.query_paper is not None else signal.query


def _ranking_score(candidates: "_Candidates", task: str, train: Sequence[Signal], held_out: Sequence[Signal]) -> TaskScore:
    known = known_positives(train)
    queries = candidates.encoder.encode([s.query for s in held_out], Task.parse(task), Role.QUERY)
    per_item = []
    for signal, vector in zip(held_out, queries):
        ids, matrix = candidates.view(task, signal.view)
        scores = matrix @ vector
        rank = _rank_of(ids, scores, signal.positive_paper, skipped_candidates(signal, known))
        if task == "search":
            per_item.append(1.0 / rank if rank <= CUTOFF else 0.0)
        else:
            per_item.append(1.0 if rank <= CUTOFF else 0.0)
    return TaskScore(task, METRICS[task], per_item)


def _rank_of(ids: np.ndarray, scores: np.ndarray, target: int | None, skip: set[int]) -> int:
    """1-based rank of `target` among the candidates not in `skip` (len+1 when absent)."""
    where = np.nonzero(ids == target)[0]
    if target is None or not len(where):
        return len(ids) + 1
    mask = np.ones(len(ids), dtype=bool)
    if skip:
        mask &= ~np.isin(ids, list(skip))
    return int(np.sum(scores[mask] > scores[where[0]])) + 1


# ---- classification ---------------------------------------------------------------------
def _classify_score(candidates: "_Candidates", train: Sequence[Signal], held_out: Sequence[Signal]) -> TaskScore:
    filed: dict[int, set[str]] = {}
    for s in train:
        filed.setdefault(s.query_paper, set()).add(s.label)  # type: ignore[arg-type]
    truth: dict[int, set[str]] = {}
    for s in held_out:
        truth.setdefault(s.query_paper, set()).add(s.label)  # type: ignore[arg-type]
    ids, matrix = candidates.view("classify", "full")
    row = {int(pid): i for i, pid in enumerate(ids)}
    voters = [pid for pid in filed if pid in row]
    voter_matrix = matrix[[row[p] for p in voters]] if voters else np.zeros((0, matrix.shape[1]), np.float32)
    per_item = []
    for pid, labels in truth.items():
        if pid not in row or not voters:
            per_item.append(0.0)
            continue
        sims = voter_matrix @ matrix[row[pid]]
        votes: dict[str, float] = {}
        for j in np.argsort(-sims)[:KNN_NEIGHBOURS]:
            for name in filed[voters[j]]:
                votes[name] = votes.get(name, 0.0) + max(float(sims[j]), 0.0)
        best = max(sorted(votes), key=votes.get) if votes else None
        per_item.append(1.0 if best in labels else 0.0)
    return TaskScore("classify", METRICS["classify"], per_item)


# ---- candidate vectors -------------------------------------------------------------------
class _Candidates:
    """Every library paper's document vectors for a task, per view, loaded once."""

    def __init__(self, database, encoder, model_key, progress, cancel) -> None:
        self.database, self.encoder, self.model_key = database, encoder, model_key
        self.progress, self.cancel = progress, cancel
        self._views: dict[tuple[str, str], tuple[np.ndarray, np.ndarray]] = {}

    def view(self, task: str, view: str) -> tuple[np.ndarray, np.ndarray]:
        key = (task, view)
        if key not in self._views:
            self._views[key] = self._abstracts(task) if view == "abstract" else VectorStore(self.database).vectors(self.model_key, task)
        return self._views[key]

    def _abstracts(self, task: str) -> tuple[np.ndarray, np.ndarray]:
        rows = [(int(pid), abstract.strip()) for pid, abstract in
                self.database.conn.execute("SELECT id, abstract FROM papers WHERE trim(coalesce(abstract, '')) != '' ORDER BY id")]
        vectors = np.zeros((len(rows), self.encoder.dim), np.float32)
        tracker = ProgressTracker("evaluating", len(rows), self.progress)
        for chunk in cancellable_batches(rows, embedding_cache.COMMIT_EVERY, self.cancel):
            start = tracker.done
            vectors[start : start + len(chunk)] = self.encoder.encode([text for _, text in chunk], Task.parse(task), Role.DOCUMENT)
            tracker.advance(len(chunk), f"{self.encoder.name}: abstracts")
        return np.asarray([pid for pid, _ in rows], dtype=np.int64), vectors
