"""Passage indexing: cut PDF page texts into passages, embed them with the search expert, keep an index.

Two resumable steps, both committed in small batches so Ctrl+C, a crash or a
cancel keeps the finished work and the next run does only the rest:
1. split: papers whose page texts (or the splitting rules) changed since their
   passages were cut get new passages (`ingest.passages.split_passages`);
2. embed: passages without a vector for the model get one (the search expert's
   document side), and the passage index (`<fingerprint>-passages.faiss`) is
   brought in sync, exactly as paper indexes are (`indexing.search_source`).

Example:
    >>> report = index_passages(database, encoder, "minilm@0123456789ab")
    >>> passage_search(database, "minilm@0123456789ab", encoder.encode_query(["hash join"], Task.SEARCH)[0], k=20)
    [(412, 0.63), ...]
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from scimult_desktop.domain.progress import CancelToken, ProgressCallback, ProgressTracker, cancellable_batches
from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.embedding.encoder import Encoder
from scimult_desktop.ingest.passages import pages_fingerprint, split_passages
from scimult_desktop.services.models import indexing
from scimult_desktop.services.models.embedding_cache import text_hash
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.passages import PassageStore

SOURCE_NAME = "passages"
SPLIT_COMMIT_EVERY = 50  # papers per transaction while splitting (cheap: ~1 ms a page)
COMMIT_EVERY = 64  # passages per transaction while embedding
# Up to this many passages of the filtered papers, exact scoring beats over-fetching from the index.
EXACT_LIMIT = 50_000


@dataclass
class PassageVectors:
    """The passage vectors of one model, as `indexing.VectorSource`."""

    store: PassageStore
    model_key: str
    name: str = SOURCE_NAME

    def signature(self) -> tuple[int, str]:
        return self.store.signature(self.model_key)

    def text_hashes(self) -> dict[int, str]:
        return self.store.text_hashes(self.model_key)

    def vectors(self, ids: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
        return self.store.vectors(self.model_key, ids)


def split_pending(
    database: LibraryDatabase, *, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
) -> dict:
    """Cut passages for papers whose page texts changed; drop those of papers that lost theirs.

    Returns:
        {"papers_split", "passages_written", "papers_current"}.
    """
    store = PassageStore(database)
    known = store.fingerprints()
    with_pages = store.papers_with_pages()
    gone = sorted(set(known) - set(with_pages))
    if gone:
        with database.transaction():
            store.forget(gone)
    todo = []
    for paper_id in with_pages:
        pages = store.pages(paper_id)
        fingerprint = pages_fingerprint(pages)
        if known.get(paper_id) != fingerprint:
            todo.append((paper_id, pages, fingerprint))
    tracker = ProgressTracker("splitting passages", len(todo), progress)
    written = 0
    for chunk in cancellable_batches(todo, SPLIT_COMMIT_EVERY, cancel):
        cut = [(paper_id, split_passages(pages), fingerprint) for paper_id, pages, fingerprint in chunk]
        with database.transaction():
            for paper_id, passages, fingerprint in cut:
                written += store.replace(paper_id, [(p.position, p.page, p.text) for p in passages], fingerprint)
        tracker.advance(len(chunk))
    return {"papers_split": len(todo), "passages_written": written, "papers_current": len(with_pages) - len(todo)}


def index_passages(
    database: LibraryDatabase,
    encoder: Encoder,
    model_key: str,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    commit_every: int = COMMIT_EVERY,
    batch_size: int = 16,
) -> dict:
    """Split what changed, embed every passage lacking a vector, and sync the passage index.

    Returns:
        JSON-able report: {"papers_split", "passages", "embedded", "already_embedded", "indexed", "seconds"}.

    Raises:
        Cancelled: `cancel` was set (finished batches stay stored).
    """
    started = time.monotonic()
    split = split_pending(database, progress=progress, cancel=cancel)
    store = PassageStore(database)
    pending = store.unembedded(model_key)
    total = store.count()
    tracker = ProgressTracker("embedding passages", len(pending), progress)
    embedded = 0
    for chunk in cancellable_batches(pending, commit_every, cancel):
        vectors = encoder.encode([text for _, text in chunk], Task.SEARCH, Role.DOCUMENT, batch_size)
        with database.transaction():
            store.put_vectors(model_key, [pid for pid, _ in chunk], [text_hash(text) for _, text in chunk], vectors)
        embedded += len(chunk)
        tracker.advance(len(chunk), current="passages")
    indexed = len(indexing.open_source_index(database, model_key, PassageVectors(store, model_key), encoder.dim)) if total else 0
    return {
        "papers_split": split["papers_split"],
        "passages": total,
        "embedded": embedded,
        "already_embedded": total - len(pending),
        "indexed": indexed,
        "seconds": round(time.monotonic() - started, 3),
    }


def passage_search(
    database: LibraryDatabase, model_key: str, query: np.ndarray, k: int, exclude_ids: Iterable[int] = ()
) -> list[tuple[int, float]]:
    """The `k` passages whose vectors score highest against one query vector: [(passage id, score)]."""
    store = PassageStore(database)
    if not store.has_vectors(model_key):
        return []
    return indexing.search_source(database, model_key, PassageVectors(store, model_key), query, k, exclude_ids)


def passage_search_many(
    database: LibraryDatabase, model_key: str, queries: np.ndarray, k: int, allowed: set[int] | None = None
) -> list[list[tuple[int, float]]]:
    """`passage_search` for each query vector; with `allowed`, only passages of those papers.

    A filter that leaves few passages is scored exactly from the stored vectors; a wide
    one over-fetches from the index and filters.
    """
    queries = np.atleast_2d(np.asarray(queries, dtype=np.float32))
    store = PassageStore(database)
    if allowed is not None:
        candidates = store.ids_of_papers(sorted(allowed), limit=EXACT_LIMIT)
        if candidates is not None:
            ids, matrix = store.vectors(model_key, candidates)
            if len(ids) == 0:
                return [[] for _ in range(len(queries))]
            scores = queries @ matrix.T
            return [[(int(ids[j]), float(row[j])) for j in np.argsort(-row)[:k]] for row in scores]
        k *= 10
    return [passage_search(database, model_key, query, k) for query in queries]
