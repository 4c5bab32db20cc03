"""What the finding features need from the encoder side, as one small object.

`SemanticBackend` bundles: encoding texts with a task expert, nearest-neighbour
search over the library's stored paper vectors of that task, and reading stored
vectors. The real one is built by the indexing service (ONNX encoder + FAISS);
tests build one from a fake encoder and exact search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

import numpy as np

from scimult_desktop.domain.tasks import Role, Task

# (task, query vectors (n, dim), k, paper ids to leave out) -> per query [(paper_id, score)], best first
NeighbourSearch = Callable[[Task, np.ndarray, int, Iterable[int]], list[list[tuple[int, float]]]]
# (task, paper ids) -> {paper_id: vector} for those that are embedded
StoredVectors = Callable[[Task, Sequence[int]], dict[int, np.ndarray]]
# (texts, task, role) -> (n, dim) float32
EncodeTexts = Callable[[Sequence[str], Task, Role], np.ndarray]
# (query vectors (n, dim), k, paper ids allowed or None for all) -> per query [(passage_id, score)], best first
PassageNeighbours = Callable[[np.ndarray, int, "set[int] | None"], list[list[tuple[int, float]]]]


@dataclass
class SemanticBackend:
    model_name: str
    similarity: str  # "cosine" | "dot"
    encode: EncodeTexts
    neighbours: NeighbourSearch
    stored_vectors: StoredVectors
    embedded_count: Callable[[Task], int]
    # None: passage search is off (setting) or not available for this backend.
    passage_neighbours: PassageNeighbours | None = None
