"""Citation worthiness with the paragraph around a sentence.

Citations cluster: in a paragraph about earlier work most sentences cite, in a paragraph about
the draft's own method few do. So a sentence's own score (the classifier's log-odds `z`) is
combined with the scores of the sentences just before and after it *in the same paragraph*:

    own * z + neighbours * mean(z of those neighbours) + with_neighbours * [it has any] + bias

and the sum is compared with `threshold` (log-odds). The neighbours' scores come from their
text alone, never from whether they carry citations, so a draft whose markers are not
written yet is judged like one whose are. `tools/train_citation_worthiness.py` fits the four
weights on held-out papers' sentences (the threshold part of its split, never the training
part nor any benchmark) and sets `threshold` for the same target recall as the classifier's.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence


@dataclass(frozen=True)
class ParagraphWeights:
    """How a sentence's score and its paragraph neighbours' scores add up (see the module docstring)."""

    own: float
    neighbours: float
    with_neighbours: float
    bias: float
    threshold: float

    def logit(self, own: float, neighbours: Sequence[float]) -> float:
        around = sum(neighbours) / len(neighbours) if neighbours else 0.0
        return self.own * own + self.neighbours * around + self.with_neighbours * bool(neighbours) + self.bias

    def to_json(self) -> dict:
        return {name: round(value, 4) for name, value in asdict(self).items()}

    @classmethod
    def from_json(cls, data: dict) -> "ParagraphWeights":
        return cls(*(float(data[name]) for name in ("own", "neighbours", "with_neighbours", "bias", "threshold")))


def neighbour_scores(scores: Sequence[float], paragraphs: Sequence[int], index: int) -> list[float]:
    """Scores of the sentences just before and after `index` that share its paragraph."""
    return [scores[j] for j in neighbours_in_paragraph(paragraphs, index)]


def neighbours_in_paragraph(paragraphs: Sequence[int], index: int) -> list[int]:
    """Indexes of the sentences just before and after sentence `index` that share its paragraph
    (`paragraphs`: each sentence's paragraph number, in reading order)."""
    return [j for j in (index - 1, index + 1) if 0 <= j < len(paragraphs) and paragraphs[j] == paragraphs[index]]
