"""Classifying papers: a label set (zero-shot, few-shot when the user tagged papers with its
labels) and the user's own tags and collections (their meaning or centroid, plus the kNN vote).

Label set: each label is embedded by its meaning (`label_texts`); papers the user tagged (or
filed in a collection) with a label's name, synonym or title become examples of it, and the
calibrated kNN vote over them is mixed with the zero-shot scores (`few_shot`).

Own labels (tags, collections): a label's zero-shot vector is the label set's text when the
name is one of its labels, the embedded name when it is words, and the centroid of its papers'
vectors when the name is a code (`p2`, `ml_todo`); the kNN vote over the labelled papers is
mixed in the same way. The classifier's own tags never count as the user's.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.services.finding import few_shot, label_adaptation
from scimult_desktop.services.finding.label_sets import Label, LabelSet
from scimult_desktop.services.finding.label_texts import all_label_texts, find_label, looks_like_code
from scimult_desktop.services.finding.semantic import SemanticBackend

COSINE_TEMPERATURE = 0.05  # cosine similarities live in [-1, 1]: contrastive training's temperature
OWN_LABELS_SHOWN = 5
# The most used own tags/collections taken as labels: imported keyword lists can hold thousands,
# and each label is embedded and scored for every paper.
OWN_LABELS_MAX = 300

# paper ids -> {paper id: classification vector}
VectorsOf = Callable[[Sequence[int]], dict[int, np.ndarray]]


@dataclass
class ScoredLabels:
    """Probabilities over `names` for each query paper, and how they were obtained."""

    names: list[str]
    probabilities: np.ndarray  # (n, len(names))
    calibration: few_shot.Calibration


def softmax_rows(sims: np.ndarray, temperature: float) -> np.ndarray:
    logits = sims / temperature
    logits = logits - logits.max(axis=1, keepdims=True)
    probs = np.exp(logits)
    return probs / probs.sum(axis=1, keepdims=True)


def temperature_for(backend: SemanticBackend) -> float:
    return COSINE_TEMPERATURE if backend.similarity == "cosine" else 1.0


def label_vectors(backend: SemanticBackend, labels: Sequence[Label]) -> np.ndarray:
    """(L, dim): each label's text(s) embedded with the classification expert (averaged, normalised for cosine)."""
    groups = all_label_texts(labels, backend.similarity)
    encoded = backend.encode([text for group in groups for text in group], Task.CLASSIFY, Role.DOCUMENT)
    vectors, start = [], 0
    for group in groups:
        mean = encoded[start : start + len(group)].mean(axis=0)
        start += len(group)
        if backend.similarity == "cosine":
            mean = mean / (np.linalg.norm(mean) or 1.0)
        vectors.append(mean)
    return np.stack(vectors)


def score_label_set(
    backend: SemanticBackend,
    ids: Sequence[int],
    matrix: np.ndarray,
    label_set: LabelSet,
    examples: dict[int, set[str]],
    vectors_of: VectorsOf,
    library_vectors: dict[int, np.ndarray] | None = None,
) -> ScoredLabels:
    """Zero-shot over `label_set` (aliases folded), few-shot when `examples` name its labels.

    Args:
        ids, matrix: the papers to classify and their classification vectors (n, dim).
        examples: paper id -> the user's tag/collection names; names that are not labels
            of the set are ignored.
        vectors_of: classification vectors of example papers.
        library_vectors: paper id -> classification vector, for the library's papers; label
            vectors of a cosine model are fitted to those not in `examples` (`label_adaptation`).
    """
    labels = list(label_set.canonical().labels)
    names = [label.name for label in labels]
    column = {name: j for j, name in enumerate(names)}
    tau = temperature_for(backend)
    written = label_vectors(backend, labels)
    example_labels: dict[int, set[int]] = {}
    for pid, tags in examples.items():
        found = {column[label.name] for label in map(lambda t: find_label(label_set, t), tags) if label is not None and label.name in column}
        if found:
            example_labels[pid] = found
    # Zero-shot labels are fitted to the library when it has enough papers (`label_adaptation`).
    fits = bool(library_vectors) and backend.similarity == "cosine" and len(library_vectors) >= label_adaptation.MIN_REFERENCE_PAPERS

    def fitted_to(papers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vectors = label_adaptation.adapt_label_vectors(written, papers)
        return vectors, label_adaptation.prior_weights(softmax_rows(papers @ vectors.T, tau))

    def probabilities(papers: np.ndarray, vectors: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
        return label_adaptation.reweight(softmax_rows(papers @ vectors.T, tau), weights)

    def zero_shot_only(calibration: few_shot.Calibration) -> ScoredLabels:
        # Without a kNN share the tagged papers are ordinary library papers again.
        vectors, weights = fitted_to(np.stack(list(library_vectors.values()))) if fits else (written, None)
        return ScoredLabels(names, probabilities(matrix, vectors, weights), dataclasses.replace(calibration, labels_fitted=bool(fits)))

    example_ids = sorted(example_labels)
    stored = vectors_of(example_ids) if example_ids else {}
    example_ids = [pid for pid in example_ids if pid in stored]
    if not example_ids:
        return zero_shot_only(few_shot.Calibration())
    # Candidate zero-shot labels: fitted to the library, else as written. Tagged papers stay
    # out of the fit, so leave-one-out judges zero-shot on papers it did not see.
    candidates: list[tuple[np.ndarray, np.ndarray | None, bool]] = []  # (label vectors, label weights, fitted)
    if fits:
        unseen = [vector for pid, vector in library_vectors.items() if pid not in example_labels]
        if len(unseen) >= label_adaptation.MIN_REFERENCE_PAPERS:
            candidates.append((*fitted_to(np.stack(unseen)), True))
    candidates.append((written, None, False))
    ex_matrix = np.stack([stored[pid] for pid in example_ids])
    ex_labels = np.zeros((len(example_ids), len(names)))
    for row, pid in enumerate(example_ids):
        ex_labels[row, list(example_labels[pid])] = 1
    # With tagged papers, the user's own papers decide between fitted and written label
    # vectors: the pair (vectors, kNN mixture) that classifies more of them right, leaving
    # each out, wins (the fitted vectors on a tie).
    best = None
    for vectors, weights, fitted in candidates:
        ex_zero_shot = probabilities(ex_matrix, vectors, weights)
        calibration = few_shot.calibrate(ex_zero_shot, ex_matrix, ex_labels)
        accuracy = few_shot.leave_one_out_accuracy(ex_zero_shot, ex_matrix, ex_labels, calibration)
        if best is None or accuracy > best[0] + 1e-9:
            best = (accuracy, vectors, weights, dataclasses.replace(calibration, labels_fitted=fitted))
    _, vectors, weights, calibration = best
    if calibration.weight <= 0:
        return zero_shot_only(calibration)
    zero_shot = probabilities(matrix, vectors, weights)
    probs = _mixed(zero_shot, ids, matrix, example_ids, ex_matrix, ex_labels, calibration)
    return ScoredLabels(names, probs, calibration)


def score_own_labels(
    backend: SemanticBackend,
    ids: Sequence[int],
    matrix: np.ndarray,
    filed: dict[int, set[str]],
    vectors_of: VectorsOf,
    label_set: LabelSet | None = None,
) -> ScoredLabels | None:
    """The user's own tags (or collections) as a label space: meaning/centroid zero-shot plus kNN.

    Only the `OWN_LABELS_MAX` most used names are labels. Returns None when nothing is filed.
    """
    if not filed:
        return None
    example_ids = sorted(filed)
    stored = vectors_of(example_ids)
    example_ids = [pid for pid in example_ids if pid in stored]
    if not example_ids:
        return None
    usage = Counter(name for pid in example_ids for name in filed[pid])
    names = sorted(name for name, _ in sorted(usage.items(), key=lambda kv: (-kv[1], kv[0]))[:OWN_LABELS_MAX])
    column = {name: j for j, name in enumerate(names)}
    example_ids = [pid for pid in example_ids if filed[pid] & column.keys()]
    ex_matrix = np.stack([stored[pid] for pid in example_ids]).astype(np.float64)
    ex_labels = np.zeros((len(example_ids), len(names)))
    for row, pid in enumerate(example_ids):
        ex_labels[row, [column[n] for n in filed[pid] if n in column]] = 1
    tau = temperature_for(backend)

    # Zero-shot vector per own label: a label set's text, the name's words, or (a code) its papers' centroid.
    text_labels: list[Label] = []
    text_columns: list[int] = []
    centroid_columns: list[int] = []
    for j, name in enumerate(names):
        match = find_label(label_set, name) if label_set is not None else None
        if match is not None:
            text_labels.append(match)
            text_columns.append(j)
        elif looks_like_code(name):
            centroid_columns.append(j)
        else:
            text_labels.append(Label(name=name))
            text_columns.append(j)
    dim = ex_matrix.shape[1]
    vectors = np.zeros((len(names), dim))
    if text_labels:
        vectors[text_columns] = label_vectors(backend, text_labels)
    sums = ex_labels.T @ ex_matrix  # (L, dim)
    counts = ex_labels.sum(axis=0)
    for j in centroid_columns:
        vectors[j] = _normalised(sums[j] / counts[j]) if backend.similarity == "cosine" else sums[j] / counts[j]
    zero_shot = softmax_rows(matrix.astype(np.float64) @ vectors.T, tau)

    # The tagged papers' own zero-shot scores leave each paper out of its centroids.
    ex_sims = ex_matrix @ vectors.T
    for j in centroid_columns:
        members = np.nonzero(ex_labels[:, j])[0]
        for row in members:
            if counts[j] <= 1:
                ex_sims[row, j] = -np.inf
                continue
            rest = (sums[j] - ex_matrix[row]) / (counts[j] - 1)
            rest = _normalised(rest) if backend.similarity == "cosine" else rest
            ex_sims[row, j] = float(ex_matrix[row] @ rest)
    finite_min = np.where(np.isfinite(ex_sims), ex_sims, np.inf).min(axis=1, keepdims=True)
    ex_sims = np.where(np.isfinite(ex_sims), ex_sims, finite_min)
    ex_zero_shot = softmax_rows(ex_sims, tau)
    calibration = few_shot.calibrate(ex_zero_shot, ex_matrix, ex_labels)
    probs = _mixed(zero_shot, ids, matrix, example_ids, ex_matrix, ex_labels, calibration)
    return ScoredLabels(names, probs, calibration)


def _mixed(zero_shot, ids, matrix, example_ids, ex_matrix, ex_labels, calibration: few_shot.Calibration) -> np.ndarray:
    if calibration.weight <= 0:
        return zero_shot
    row_of = {pid: row for row, pid in enumerate(example_ids)}
    exclude = np.array([row_of.get(pid, -1) for pid in ids])  # a tagged paper does not vote for itself
    vote = few_shot.knn_vote(matrix, ex_matrix, ex_labels, temperature=calibration.temperature, exclude=exclude)
    return few_shot.combine(zero_shot, vote, calibration.weight)


def _normalised(vector: np.ndarray) -> np.ndarray:
    return vector / (np.linalg.norm(vector) or 1.0)
