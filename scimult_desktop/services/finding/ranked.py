"""An intermediate ranking of library papers, and the fusion of several by reciprocal rank."""

from __future__ import annotations

from dataclasses import dataclass

from scimult_desktop.domain.fusion import reciprocal_rank_fusion


@dataclass
class Ranked:
    """An intermediate ranking: paper ids best first, with scores and optional reasons."""

    ids: list[int]
    scores: dict[int, float]
    reasons: dict[int, str]


def fuse(rankings: list[Ranked]) -> Ranked:
    """One ranking from several, by reciprocal rank (reasons are the caller's to keep)."""
    fused = reciprocal_rank_fusion([r.ids for r in rankings])
    return Ranked([pid for pid, _ in fused], dict(fused), {})
