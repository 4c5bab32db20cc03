"""How many stored papers still lack vectors, so that a front end can offer to index them
(after a cancelled import, nothing indexes them by itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library


def unindexed_count(library: "Library") -> int:
    """Papers without a vector for at least one task of the active model (all papers when no model exists yet)."""
    status = library.status()
    indexed = status.get("indexed")
    if not indexed:
        return int(status["papers"])
    return max(0, int(status["papers"]) - min(int(n) for n in indexed.values()))
