"""The real `SemanticBackend`: the active model's encoder plus the library's vector indexes."""

from __future__ import annotations

from typing import Callable, Iterable, Sequence

import numpy as np

from scimult_desktop.domain.progress import CancelToken, ProgressCallback
from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.services.library.preferences import passage_search_enabled
from scimult_desktop.services.models import indexing, passage_indexing
from scimult_desktop.services.models import bundles as models
from scimult_desktop.services.finding.semantic import SemanticBackend
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.vectors import VectorStore

# (model key, task, query vector, k, excluded paper ids) -> [(paper id, score)], best first.
VectorSearch = Callable[[str, Task, np.ndarray, int, Sequence[int]], list[tuple[int, float]]]


def build_backend(
    database: LibraryDatabase, model: str | None = None, engine: str | None = None, *, vector_search: VectorSearch | None = None
) -> SemanticBackend:
    """The model's encoder over the library's stored vectors.

    `vector_search(model_key, task, query, k, excluded)` answers nearest-neighbour queries; by
    default the library's index files (`indexing.vector_search`), which it builds and updates.
    """
    encoder = models.load_encoder(model, engine)
    key = models.model_key(model)
    vectors = VectorStore(database)
    search = vector_search or (lambda key_, task, query, k, excluded: indexing.vector_search(database, None, key_, task, query, k, excluded))

    def encode(texts: Sequence[str], task: Task, role: Role) -> np.ndarray:
        return encoder.encode(list(texts), task, role)

    def neighbours(task: Task, queries: np.ndarray, k: int, exclude: Iterable[int]) -> list[list[tuple[int, float]]]:
        excluded = list(exclude)
        return [search(key, task, query, k, excluded) for query in np.atleast_2d(queries)]

    def stored_vectors(task: Task, paper_ids: Sequence[int]) -> dict[int, np.ndarray]:
        ids, matrix = vectors.vectors(key, task.value, list(paper_ids))
        return {int(pid): matrix[i] for i, pid in enumerate(ids)}

    def embedded_count(task: Task) -> int:
        return vectors.count(key, task.value)

    backend = SemanticBackend(encoder.name, encoder.similarity, encode, neighbours, stored_vectors, embedded_count)
    if vector_search is None and passage_search_enabled():
        # Only over the library's own index files: a read-only library (editor) passes its own search.
        def passage_neighbours(queries: np.ndarray, k: int, allowed: set[int] | None) -> list[list[tuple[int, float]]]:
            return passage_indexing.passage_search_many(database, key, queries, k, allowed)

        backend.passage_neighbours = passage_neighbours
    return backend


def ensure_indexed(
    database: LibraryDatabase,
    backend: SemanticBackend,
    task: Task,
    *,
    model: str | None = None,
    engine: str | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> int:
    """Embed the papers a task is still missing before answering with it; returns how many.

    Usually nothing (imports are followed by `scimult index`); after a fresh import it is
    the same resumable work as `scimult index`, for this one task, with progress reported.
    """
    total = int(database.conn.execute("SELECT count(*) FROM papers").fetchone()[0])
    if total - backend.embedded_count(task) <= 0:
        return 0
    report = indexing.index_library(
        database, models.load_encoder(model, engine), models.model_key(model), tasks=[task], progress=progress, cancel=cancel
    )
    return int(report["embedded"])
