"""Search that still answers when the semantic half cannot run.

When the chosen engine or model cannot be loaded (CUDA chosen on a machine without it, a
broken model file), hybrid and semantic searches fall back to keyword search and say so,
instead of failing and leaving the previous results on screen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from scimult_desktop.domain.records import SearchHit
from scimult_desktop.errors import ModelError
from scimult_desktop.services.finding.filters import SearchFilters

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library


@dataclass
class SearchOutcome:
    """Hits, the mode that produced them, and a notice when that is not the mode asked for."""

    hits: list[SearchHit]
    mode: str
    notice: str | None = None


def search_with_fallback(library: "Library", query: str, *, k: int = 10, mode: str = "hybrid",
                         filters: SearchFilters | None = None) -> SearchOutcome:
    """`Library.search`, falling back to keyword search when the semantic engine or model fails to load."""
    try:
        return SearchOutcome(library.search(query, k=k, mode=mode, filters=filters), mode)
    except ModelError as exc:
        if mode == "keyword":
            raise
        hits = library.search(query, k=k, mode="keyword", filters=filters)
        notice = (f"Semantic search is unavailable ({exc}); showing keyword results. "
                  "Choose another engine in Settings.")
        return SearchOutcome(hits, "keyword", notice)
