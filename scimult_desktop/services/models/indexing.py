"""Indexing a library (embed papers, keep FAISS indexes in sync) and vector search over it.

The database is the source of truth: vectors live in the `embeddings` table
(see `embedding_cache`). A FAISS index per (model, task) is a cache of those
vectors, persisted in the library folder as

    <library>/indexes/<fingerprint-12>-<task>.faiss     IndexIDMap2 over flat inner product
    <library>/indexes/<fingerprint-12>-<task>.ids.json  paper id -> text hash it holds, DB signature

Whenever the index is opened its stored signature is compared with the
database's (count, latest write) for that (model, task); on a mismatch only the
difference is applied (remove_ids + add) and the files are rewritten. A missing
or corrupt file is rebuilt from the database vectors.

Example:
    >>> report = index_library(database, encoder, "minilm@0123456789ab")
    >>> vector_search(database, encoder, "minilm@0123456789ab", Task.SEARCH, "protein folding", k=5)
    [(12, 0.61), (3, 0.58), ...]
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Protocol, Sequence

import numpy as np

from scimult_desktop.domain.progress import CancelToken, ProgressCallback, ProgressTracker
from scimult_desktop.domain.tasks import Task
from scimult_desktop.embedding.encoder import Encoder
from scimult_desktop.errors import ScimultError
from scimult_desktop.index.base import IndexFileError, VectorIndex, replaced_atomically
from scimult_desktop.index.faiss_index import FaissIndex
from scimult_desktop.services.models import embedding_cache
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.vectors import VectorStore

ALL_TASKS = (Task.SEARCH, Task.LINK, Task.CLASSIFY)


def index_library(
    database: LibraryDatabase,
    encoder: Encoder,
    model_key: str,
    *,
    tasks: Iterable[Task | str] = ALL_TASKS,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    commit_every: int = embedding_cache.COMMIT_EVERY,
) -> dict:
    """Embed every paper lacking an up-to-date vector for each task, then sync the vector indexes.

    Resumable: batches are committed as they finish, so after an interruption
    the next call embeds only what is left.

    Args:
        database: the library database.
        encoder: the model's encoder.
        model_key: how the model's vectors are keyed (`services.models.model_key`).
        tasks: which task experts to embed with (default: all three).
        progress: called with `ProgressEvent`s (stage "embedding", ETA included).
        cancel: checked between batches.

    Returns:
        JSON-able report: {"model", "model_key", "engine", "papers", "embedded",
        "already_embedded", "seconds", "tasks": [{"task", "embedded", "already_embedded", "indexed"}]}.

    Raises:
        Cancelled: `cancel` was set (finished batches stay stored).
    """
    started = time.monotonic()
    tasks = [Task.parse(t) for t in tasks]
    texts = embedding_cache.paper_texts(database)
    plans = [embedding_cache.plan(database, model_key, task, texts) for task in tasks]
    tracker = ProgressTracker("embedding", sum(len(p.pending) for p in plans), progress)
    store = VectorStore(database)
    with database.transaction():
        store.register_model(model_key, str(getattr(encoder, "folder", "")), model_key.partition("@")[2], encoder.dim)
    task_reports = []
    identity = getattr(encoder, "embedding_identity", None)
    seen: dict[str, Task] = {}
    for task_plan in plans:
        key = identity(task_plan.task) if identity else task_plan.task.value
        reuse = seen.setdefault(key, task_plan.task)
        embedded = embedding_cache.embed_pending(
            database, encoder, model_key, task_plan, tracker=tracker, cancel=cancel, commit_every=commit_every,
            reuse_task=reuse if reuse != task_plan.task else None,
        )
        index = open_index(database, model_key, task_plan.task, encoder.dim)
        task_reports.append(
            {"task": task_plan.task.value, "embedded": embedded, "already_embedded": task_plan.up_to_date, "indexed": len(index)}
        )
    return {
        "model": getattr(encoder, "name", model_key.partition("@")[0]),
        "model_key": model_key,
        "engine": getattr(encoder, "engine", None),
        "papers": len(texts),
        "embedded": sum(r["embedded"] for r in task_reports),
        "already_embedded": sum(r["already_embedded"] for r in task_reports),
        "seconds": round(time.monotonic() - started, 3),
        "tasks": task_reports,
    }


def vector_search(
    database: LibraryDatabase,
    encoder: Encoder | None,
    model_key: str,
    task: Task | str,
    query: str | np.ndarray,
    k: int = 10,
    exclude_ids: Iterable[int] = (),
) -> list[tuple[int, float]]:
    """The `k` papers whose `task` vectors score highest against `query`.

    Args:
        query: a text (embedded on the query side of `task`; needs `encoder`) or a vector (dim,).
        exclude_ids: paper ids never returned (e.g. the paper itself for "related").

    Returns:
        [(paper_id, score)] best first; inner product (cosine for cosine models).
    """
    task = Task.parse(task)
    if isinstance(query, str):
        if encoder is None:
            raise ValueError("a text query needs an encoder")
        vector = encoder.encode_query([query], task)
    else:
        vector = np.asarray(query, dtype=np.float32).reshape(1, -1)
    return search_source(database, model_key, PaperVectors(VectorStore(database), model_key, task), vector, k, exclude_ids)


def search_source(
    database: LibraryDatabase, model_key: str, source: "VectorSource", query: np.ndarray, k: int, exclude_ids: Iterable[int] = ()
) -> list[tuple[int, float]]:
    """The `k` ids of `source`'s synced index scoring highest against one query vector (dim,)."""
    vector = np.asarray(query, dtype=np.float32).reshape(1, -1)
    excluded = {int(i) for i in exclude_ids}
    entry = _entry(database, model_key, source, vector.shape[1])
    with entry.lock:
        if len(entry.index) == 0 or k <= 0:
            return []
        scores, ids = entry.index.search(vector, min(k + len(excluded), len(entry.index)))
    hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0 and int(i) not in excluded]
    return hits[:k]


def open_index(database: LibraryDatabase, model_key: str, task: Task | str, dim: int) -> VectorIndex:
    """The (model, task) vector index, loaded or rebuilt and brought in sync with the database."""
    return _entry(database, model_key, PaperVectors(VectorStore(database), model_key, Task.parse(task)), dim).index


def open_source_index(database: LibraryDatabase, model_key: str, source: "VectorSource", dim: int) -> VectorIndex:
    """The index over any vector source (e.g. passages), loaded or rebuilt and brought in sync."""
    return _entry(database, model_key, source, dim).index


def index_files(database: LibraryDatabase, model_key: str, task: Task | str) -> tuple[Path, Path] | None:
    """(index file, id-map file) of a (model, task) index, or of a named source such as "passages".

    None for an in-memory library.
    """
    folder = database.index_folder
    if folder is None:
        return None
    fingerprint = model_key.partition("@")[2] or model_key
    name = task.value if isinstance(task, Task) else str(task)
    stem = f"{fingerprint[:12]}-{name}"
    return folder / f"{stem}.faiss", folder / f"{stem}.ids.json"


class VectorSource(Protocol):
    """Vectors an index is a cache of: ids with text hashes, and a signature that changes with them."""

    name: str  # names the index files and the cache entry: a task, or "passages"

    def signature(self) -> tuple[int, str]: ...

    def text_hashes(self) -> dict[int, str]: ...

    def vectors(self, ids: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]: ...


@dataclass
class PaperVectors:
    """The paper vectors of one (model, task): rows of the `embeddings` table."""

    store: VectorStore
    model_key: str
    task: Task

    @property
    def name(self) -> str:
        return self.task.value

    def signature(self) -> tuple[int, str]:
        return self.store.signature(self.model_key, self.task.value)

    def text_hashes(self) -> dict[int, str]:
        return self.store.text_hashes(self.model_key, self.task.value)

    def vectors(self, ids: Sequence[int] | None) -> tuple[np.ndarray, np.ndarray]:
        return self.store.vectors(self.model_key, self.task.value, ids)


# ---- keeping indexes in sync --------------------------------------------------
@dataclass
class _IndexEntry:
    index: FaissIndex
    entries: dict[int, str] = field(default_factory=dict)  # paper id -> text hash held by the index
    signature: tuple[int, str] = (0, "")
    lock: threading.Lock = field(default_factory=threading.Lock)


# Loaded indexes, shared by every Library of this process (one per thread):
# a 100k x 768 index is ~300 MB and must not be reloaded per query.
_loaded: dict[tuple, _IndexEntry] = {}
_loaded_lock = threading.Lock()


def _entry(database: LibraryDatabase, model_key: str, source: VectorSource, dim: int) -> _IndexEntry:
    place = str(database.folder.resolve()) if database.folder is not None else f"memory:{id(database)}"
    key = (place, model_key, source.name)
    with _loaded_lock:
        entry = _loaded.get(key)
        if entry is None or entry.index.dim != dim:
            entry = _load_entry(database, model_key, source.name, dim)
            _loaded[key] = entry
    with entry.lock:
        _sync(database, model_key, source, entry)
    return entry


def _load_entry(database: LibraryDatabase, model_key: str, name: str, dim: int) -> _IndexEntry:
    files = index_files(database, model_key, name)
    if files is None:
        return _IndexEntry(FaissIndex(dim))
    index_path, ids_path = files
    try:
        meta = json.loads(ids_path.read_text(encoding="utf-8"))
        if meta.get("model") != model_key or meta.get("task") != name or meta.get("dim") != dim:
            raise IndexFileError(f"{ids_path}: belongs to another model or task")
        index = FaissIndex.load(index_path, dim)
        entries = {int(k): str(v) for k, v in meta["entries"].items()}
        if len(index) != len(entries) or set(index.ids().tolist()) != set(entries):
            raise IndexFileError(f"{index_path}: ids do not match {ids_path.name}")
        return _IndexEntry(index, entries, tuple(meta["signature"]))  # type: ignore[arg-type]
    except (OSError, ValueError, KeyError, TypeError, ScimultError):
        # Missing, corrupt or foreign: the database holds every vector, so rebuild.
        return _IndexEntry(FaissIndex(dim))


def _sync(database: LibraryDatabase, model_key: str, source: VectorSource, entry: _IndexEntry) -> None:
    signature = source.signature()
    if signature == entry.signature:
        return
    stored = source.text_hashes()
    stale = [pid for pid, h in entry.entries.items() if stored.get(pid) != h]
    fresh = [pid for pid, h in stored.items() if entry.entries.get(pid) != h]
    entry.index.remove(stale)
    for pid in stale:
        entry.entries.pop(pid, None)
    ids, vectors = source.vectors(None if not entry.entries else fresh)
    if len(ids):
        entry.index.add(ids, vectors)
        entry.entries.update((int(pid), stored[int(pid)]) for pid in ids)
    entry.signature = signature
    _save(database, model_key, source.name, entry)


def _save(database: LibraryDatabase, model_key: str, name: str, entry: _IndexEntry) -> None:
    files = index_files(database, model_key, name)
    if files is None:
        return
    index_path, ids_path = files
    index_path.parent.mkdir(parents=True, exist_ok=True)
    # Index first, id map second: a crash in between leaves a map that does not
    # match the index, which the next load detects and rebuilds.
    entry.index.save(index_path)
    meta = {
        "model": model_key,
        "task": name,
        "dim": entry.index.dim,
        "signature": list(entry.signature),
        "entries": {str(k): v for k, v in entry.entries.items()},
    }
    with replaced_atomically(ids_path) as tmp:  # a temporary of its own: other processes may save too
        tmp.write_text(json.dumps(meta), encoding="utf-8")


def forget_loaded_indexes() -> None:
    """Drop the in-process index cache (tests, or after deleting index files by hand)."""
    with _loaded_lock:
        _loaded.clear()
