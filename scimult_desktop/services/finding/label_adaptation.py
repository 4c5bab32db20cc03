"""Fitting zero-shot labels to the library's papers, without any labelled paper.

1. Close the gap. A label's text ("Computer Vision: ...", "A research paper in recommender
   systems.") is short and written unlike an abstract, so with a sentence encoder every label
   sits in one region of the space and every paper in another (the "modality gap" of Liang et
   al., 2022). The labels are moved, all by the same vector, so their mean lands on the mean
   of the library's papers (`shift_labels_to_papers`): broad labels near the mass of papers
   stop winning most papers.
2. Follow the library's label mix. The shift treats labels alike, which in a library of one
   field spreads papers over fields it does not cover. So each label's probability is then
   weighted by how much of the library it takes, (K x its mean zero-shot probability over the
   library) ** 0.5: one step of the EM prior re-estimation of Saerens et al. (2002), damped.

Chosen with `tools/select_label_adaptation.py` on data the benchmark does not score (ACM
records of the training split with their author keywords, in libraries of 100 to 1,500
papers and two where one keyword dominates; the 49 unarXive papers with arXiv categories;
single-field libraries: ACM computer-science papers with the broad MAG and arXiv label sets).
Top-1 change against labels as written, mean over the six label-set libraries / the four
single-field ones: shift alone +5.1 / -4.3; shift and weights (0.5, one step) +3.5 / +2.7 and
no set below as written; stronger weights (1.0, or more steps) lose label-set libraries, the
weights alone lose them too (-3.2). Pulling each label towards its nearest papers (the
tool's `pull_labels_to_nearest_papers`) added +0.5 on label-set libraries and cost
single-field ones 11. Only cosine models are adapted: dot-product models (official
SciMult checkpoints) were trained with their label format and are left as trained.
"""

from __future__ import annotations

import numpy as np

# Fewer papers than this are no distribution to fit to: with one paper, "the papers' mean" is that
# paper, and the shift cost ACM training-split keywords 13 points top-1 (29.5 -> 16.5), while 3,
# 10 and 30 papers gained 2 to 3 (tools/select_label_adaptation.py's data, papers classified alone).
MIN_REFERENCE_PAPERS = 10
# Library papers used for the statistics: a deterministic sample beyond this many.
REFERENCE_PAPERS_MAX = 20_000


# The label-mix weights: exponent and EM steps (see above).
PRIOR_STRENGTH = 0.5


def prior_weights(library_probabilities: np.ndarray, strength: float = PRIOR_STRENGTH) -> np.ndarray:
    """Per-label weights (L,) from the library's zero-shot probabilities (N, L): (L x mean probability) ** strength."""
    share = library_probabilities.mean(axis=0) * library_probabilities.shape[1]
    return np.power(np.maximum(share, 1e-12), strength)


def reweight(probabilities: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Rows of `probabilities` times `weights`, renormalised; unchanged when `weights` is None."""
    if weights is None:
        return probabilities
    weighted = probabilities * weights
    return weighted / weighted.sum(axis=1, keepdims=True)


def adapt_label_vectors(labels: np.ndarray, papers: np.ndarray) -> np.ndarray:
    """Unit label vectors (L, dim) fitted to the library's unit paper vectors (N, dim).

    Returns `labels` unchanged when there are fewer than `MIN_REFERENCE_PAPERS` papers.
    """
    if papers.shape[0] < MIN_REFERENCE_PAPERS or labels.shape[0] == 0:
        return labels
    return shift_labels_to_papers(labels, papers)


def shift_labels_to_papers(labels: np.ndarray, papers: np.ndarray) -> np.ndarray:
    moved = labels + (papers.mean(axis=0) - labels.mean(axis=0))
    return unit_rows(moved)


def reference_sample(ids: list[int]) -> list[int]:
    """The library papers whose vectors feed the statistics: all of them, or an even spread of `REFERENCE_PAPERS_MAX`."""
    if len(ids) <= REFERENCE_PAPERS_MAX:
        return list(ids)
    step = len(ids) / REFERENCE_PAPERS_MAX
    return [ids[int(i * step)] for i in range(REFERENCE_PAPERS_MAX)]


def unit_rows(matrix: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)
