"""Proposals for tagging many papers at once with their top suggested field, with its confidence.

A bulk change is proposed, never applied here: the front end shows the proposals, ticks
only those at or above a confidence the user sees and can change, and applies what the
user confirmed with `Library.apply_tags` (undoable).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from scimult_desktop.services.library.browsing import FieldMap

# Zero-shot scores are a softmax over the whole label set (19 MAG fields, ~150 arXiv
# categories): at 0.5 the top field outweighs all the others together. A starting point
# the user sees and changes, not a calibrated cut.
DEFAULT_MIN_CONFIDENCE = 0.5


@dataclass(frozen=True)
class TopFieldProposal:
    """One paper's top suggested field and the classifier's confidence in it (0..1)."""

    paper_id: int
    title: str
    field: str
    confidence: float


def top_field_proposals(field_map: FieldMap) -> list[TopFieldProposal]:
    """Each classified paper's top field, most confident first (papers without a suggestion are left out)."""
    proposals = [
        TopFieldProposal(pid, title, labels[0]["label"], float(labels[0]["score"]))
        for pid, title, labels in zip(field_map.ids, field_map.titles, field_map.suggestions)
        if labels
    ]
    return sorted(proposals, key=lambda p: (-p.confidence, p.title.casefold()))


def pre_ticked(proposals: Iterable[TopFieldProposal], min_confidence: float) -> list[bool]:
    """Which proposals start ticked: those at or above `min_confidence`."""
    return [p.confidence >= min_confidence for p in proposals]


def assignments(proposals: Iterable[TopFieldProposal]) -> dict[int, list[str]]:
    """`Library.apply_tags` input for the confirmed proposals."""
    return {p.paper_id: [p.field] for p in proposals}
