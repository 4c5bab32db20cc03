"""Few-shot classification: the user's tagged papers vote, mixed with the zero-shot scores.

For each paper, its nearest tagged papers (classification vectors, top `KNN_NEIGHBOURS`)
vote for their labels, weighted by softmax(similarity / temperature); the vote `v` and the
zero-shot probabilities `z` are mixed as `(1 - w) z + w v`. Labels nobody tagged keep
their zero-shot share, so a handful of tags cannot silence the rest of a label set.

`w` and the temperature are calibrated per request on the user's own tagged papers by
leave-one-out: each tagged paper is classified from the other tagged papers, and the pair
that gives its own labels the highest mean log-probability wins (ties: the smaller weight).
Only papers whose label is also on another tagged paper are judged, since a label tagged
once cannot be voted for once its only paper is left out (a paper classified later still has
it). With fewer than two such papers there is nothing to judge and `w` is 0: zero-shot.
Uninformative tags get `w` = 0 too, so the mixture never does worse than zero-shot on the
user's own papers. Pure NumPy: no encoder, no database.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

KNN_NEIGHBOURS = 15
WEIGHTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
TEMPERATURES = (0.02, 0.05, 0.1)
MIN_JUDGED = 2
MAX_JUDGED = 1000  # leave-one-out on at most this many tagged papers (a seeded sample), against all of them
CHUNK = 512


@dataclass(frozen=True)
class Calibration:
    """The fitted mixture: kNN `weight` in [0, 1), vote `temperature`, and what it was fitted on."""

    weight: float = 0.0
    temperature: float = 0.05
    tagged_papers: int = 0   # papers with at least one label of the set
    judged_papers: int = 0   # of those, papers leave-one-out could judge
    labels_fitted: bool = False  # whether the zero-shot label vectors were fitted to the library (label_adaptation)

    @property
    def method(self) -> str:
        return "few-shot" if self.weight > 0 else "zero-shot"

    def describe(self) -> str:
        if self.weight > 0:
            return f"few-shot from {self.tagged_papers} tagged paper{'s' if self.tagged_papers != 1 else ''}"
        if self.tagged_papers:
            return f"zero-shot ({self.tagged_papers} tagged paper{'s' if self.tagged_papers != 1 else ''} did not help on themselves)"
        return "zero-shot"

    def to_json(self) -> dict:
        return {"method": self.method, "tagged_papers": self.tagged_papers, "judged_papers": self.judged_papers,
                "knn_weight": self.weight, "knn_temperature": self.temperature, "labels_fitted_to_library": self.labels_fitted}


def knn_vote(
    queries: np.ndarray,
    examples: np.ndarray,
    example_labels: np.ndarray,
    *,
    temperature: float,
    k: int = KNN_NEIGHBOURS,
    exclude: np.ndarray | None = None,
) -> np.ndarray:
    """Per query, a distribution over labels voted by its `k` nearest examples.

    Args:
        queries: (n, dim) vectors; examples: (m, dim) tagged papers' vectors.
        example_labels: (m, L) 0/1; a paper with several labels splits its vote.
        exclude: (n,) index of an example to leave out per query (the query itself), or -1.

    Returns:
        (n, L), rows summing to 1 (0 where no example is left).
    """
    n, m = queries.shape[0], examples.shape[0]
    out = np.zeros((n, example_labels.shape[1]), np.float64)
    if m == 0 or n == 0:
        return out
    per_example = example_labels / np.maximum(example_labels.sum(axis=1, keepdims=True), 1)
    examples = examples.astype(np.float64)
    for start in range(0, n, CHUNK):  # bounded memory: CHUNK x m similarities at a time
        stop = min(start + CHUNK, n)
        part = None if exclude is None else exclude[start:stop]
        out[start:stop] = _vote_chunk(queries[start:stop].astype(np.float64) @ examples.T, per_example, temperature, k, part)
    return out


def _vote_chunk(sims: np.ndarray, per_example: np.ndarray, temperature: float, k: int, exclude: np.ndarray | None) -> np.ndarray:
    out = np.zeros((sims.shape[0], per_example.shape[1]), np.float64)
    m = sims.shape[1]
    if exclude is not None:
        rows = np.nonzero(exclude >= 0)[0]
        sims[rows, exclude[rows]] = -np.inf
    kk = min(k, m)
    top = np.argpartition(-sims, kk - 1, axis=1)[:, :kk]
    top_sims = np.take_along_axis(sims, top, axis=1)
    logits = top_sims / temperature
    finite = np.isfinite(logits)
    logits = np.where(finite, logits, -np.inf)
    best = np.max(logits, axis=1, keepdims=True)
    best = np.where(np.isfinite(best), best, 0.0)
    weights = np.where(finite, np.exp(logits - best), 0.0)
    total = weights.sum(axis=1, keepdims=True)
    weights = np.divide(weights, total, out=np.zeros_like(weights), where=total > 0)
    for j in range(kk):
        out += weights[:, j : j + 1] * per_example[top[:, j]]
    return out


def combine(zero_shot: np.ndarray, vote: np.ndarray, weight: float) -> np.ndarray:
    """`(1 - weight) * zero_shot + weight * vote`; a row without votes keeps its zero-shot scores."""
    if weight <= 0:
        return zero_shot
    has_vote = vote.sum(axis=1, keepdims=True) > 0
    mixed = (1 - weight) * zero_shot + weight * vote
    return np.where(has_vote, mixed, zero_shot)


def calibrate(zero_shot: np.ndarray, vectors: np.ndarray, labels: np.ndarray) -> Calibration:
    """Fit the kNN weight and temperature by leave-one-out on the tagged papers themselves.

    Args:
        zero_shot: (m, L) zero-shot probabilities of the tagged papers (computed without
            using their own tags).
        vectors: (m, dim) their classification vectors.
        labels: (m, L) 0/1, their labels.
    """
    labels = labels.astype(np.float64)
    tagged = labels.sum(axis=1) > 0
    zero_shot, vectors, labels = zero_shot[tagged], vectors[tagged], labels[tagged]
    count = int(tagged.sum())
    judged = _judged(labels)
    if judged.sum() < MIN_JUDGED:
        return Calibration(tagged_papers=count, judged_papers=int(judged.sum()))
    rows = np.nonzero(judged)[0]
    if len(rows) > MAX_JUDGED:
        rows = np.sort(np.random.default_rng(0).choice(rows, MAX_JUDGED, replace=False))
    best = (-np.inf, 0.0, TEMPERATURES[0])
    for temperature in TEMPERATURES:
        vote = knn_vote(vectors[rows], vectors, labels, temperature=temperature, exclude=rows)
        for weight in WEIGHTS:
            probs = combine(zero_shot[rows], vote, weight)
            score = float(np.mean(np.log((probs * labels[rows]).sum(axis=1) + 1e-9)))
            if score > best[0] + 1e-9:
                best = (score, weight, temperature)
    return Calibration(best[1], best[2], count, int(judged.sum()))


def leave_one_out_accuracy(zero_shot: np.ndarray, vectors: np.ndarray, labels: np.ndarray, calibration: Calibration) -> float:
    """Share of the judged tagged papers whose top label, from the others with `calibration`'s mixture, is one of theirs (nan: none judged)."""
    labels = labels.astype(np.float64)
    rows = np.nonzero(_judged(labels))[0]
    if len(rows) < MIN_JUDGED:
        return float("nan")
    vote = knn_vote(vectors[rows], vectors, labels, temperature=calibration.temperature, exclude=rows)
    probs = combine(zero_shot[rows], vote, calibration.weight)
    return float(np.mean(labels[rows, probs.argmax(axis=1)] > 0))


def _judged(labels: np.ndarray) -> np.ndarray:
    """Which tagged papers leave-one-out can judge: those with a label that another paper also has."""
    return (labels * (labels.sum(axis=0) >= 2)).sum(axis=1) > 0
