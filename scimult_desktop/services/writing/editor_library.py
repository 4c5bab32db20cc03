"""A library opened for an editor's language server: read-only, never indexing, never building a model.

`open_for_editor` opens an existing library (no folder or database is created, an
out-of-date schema is refused instead of migrated) and makes its connection refuse
every write to the library database; temporary tables (the keyword search's scratch
tables) still work. `attach_model` gives it the active model for ranking without the
facade's side effects: no default model is built when none is installed, no paper is
embedded when the library is not fully indexed (unindexed papers are simply not ranked by
meaning), and vector search runs on an in-memory index loaded from the database, so no
index file is rewritten. Front ends then call the ordinary `Library` verbs.

Example:
    >>> library = open_for_editor("~/papers")        # LibraryError when there is none
    >>> state = attach_model(library)                # ModelError when no model is installed
    >>> library.suggest("Dense retrieval beats BM25", k=5)
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence
from urllib.parse import quote

import numpy as np

from scimult_desktop import config
from scimult_desktop.domain.tasks import Task
from scimult_desktop.errors import LibraryError, ModelError
from scimult_desktop.services.library.facade import Library
from scimult_desktop.store.database import DATABASE_NAME
from scimult_desktop.store.migrations import MIGRATIONS
from scimult_desktop.store.vectors import VectorStore

if TYPE_CHECKING:
    from scimult_desktop.index.faiss_index import FaissIndex

# Statements that change a database; denied on the library's own ("main") database.
_WRITE_ACTIONS = frozenset(
    getattr(sqlite3, name)
    for name in (
        "SQLITE_INSERT", "SQLITE_UPDATE", "SQLITE_DELETE", "SQLITE_CREATE_INDEX", "SQLITE_CREATE_TABLE",
        "SQLITE_CREATE_TRIGGER", "SQLITE_CREATE_VIEW", "SQLITE_CREATE_VTABLE", "SQLITE_DROP_INDEX",
        "SQLITE_DROP_TABLE", "SQLITE_DROP_TRIGGER", "SQLITE_DROP_VIEW", "SQLITE_DROP_VTABLE", "SQLITE_ALTER_TABLE",
        "SQLITE_REINDEX", "SQLITE_ANALYZE", "SQLITE_ATTACH", "SQLITE_DETACH",
    )
    if hasattr(sqlite3, name)
)
# How often a search checks whether the library's vectors changed (another process indexed).
RESYNC_EVERY_S = 2.0


@dataclass(frozen=True)
class ModelState:
    """The model attached to an editor's library and how much of the library it has embedded."""

    model: str
    papers: int
    embedded: int  # papers with a citation (link task) vector

    @property
    def fully_indexed(self) -> bool:
        return self.embedded >= self.papers

    def to_json(self) -> dict:
        return {"model": self.model, "papers": self.papers, "embedded": self.embedded}


def open_for_editor(path: str | os.PathLike | None = None, *, model: str | None = None, engine: str | None = None) -> Library:
    """Open the existing library at `path` (see `config.library_dir`) for reading only.

    Raises:
        LibraryError: no library there, or one an older version made (it needs
            migrating, which is a write: any other `scimult` command does it).
    """
    folder = config.library_dir(path)
    _check_schema_is_current(folder)
    library = Library.open(folder, create=False, model=model, engine=engine)
    library.database.conn.set_authorizer(_refuse_library_writes)
    return library


def attach_model(library: Library) -> ModelState:
    """Load the active model (or the library's `model`) for ranking, read-only (see the module docstring).

    Raises:
        ModelError: no model is installed, or the named one is not.
    """
    from scimult_desktop.services.finding.semantic_backend import build_backend
    from scimult_desktop.services.models import bundles as models

    name = library.model_name or models.active_model_name()
    if name is None:
        raise ModelError(
            "no model installed: run `scimult model build-default` or `scimult model install BUNDLE_DIR` "
            "(the language server does not build one)"
        )
    database = library.database
    vectors = VectorStore(database)

    def in_memory_search(key: str, task: Task, query: np.ndarray, k: int, excluded: Sequence[int]) -> list[tuple[int, float]]:
        return _shared_index(database.folder, key, task).search(vectors, query, k, {int(i) for i in excluded})

    backend = build_backend(database, name, library.engine, vector_search=in_memory_search)
    library.use_semantic_backend(backend)
    return ModelState(name, library.count_papers(), backend.embedded_count(Task.LINK))


def warm_up(library: Library) -> None:
    """Run one suggestion so the first real one pays no session start-up or index load."""
    library.suggest("warming up the citation model for the editor", k=1)


def _refuse_library_writes(action: int, arg1: str | None, arg2: str | None, database: str | None, trigger: str | None) -> int:
    if action not in _WRITE_ACTIONS or database == "temp":
        return sqlite3.SQLITE_OK
    # Opening an FTS5 table asks to update the schema table (no row changes); real schema
    # changes arrive as CREATE/DROP/ALTER actions, which stay denied.
    if action == sqlite3.SQLITE_UPDATE and arg1 in ("sqlite_master", "sqlite_schema"):
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


def _check_schema_is_current(folder: Path) -> None:
    path = folder / DATABASE_NAME
    if not path.is_file():
        raise LibraryError(f"{folder}: no library here (missing {DATABASE_NAME})")
    try:
        conn = sqlite3.connect(f"file:{quote(str(path.absolute()))}?mode=ro", uri=True)
        try:
            done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise LibraryError(f"{path}: not a usable library database ({exc})") from exc
    if any(name not in done for name, _ in MIGRATIONS):
        raise LibraryError(
            f"{path}: made by an older SciMult Desktop; run `scimult status` once to upgrade it "
            "(the language server only reads the library)"
        )


# ---- vector search without index files ------------------------------------------------
class _MemoryIndex:
    """One (library, model, task) FAISS index held in memory and kept in step with the database."""

    def __init__(self, model_key: str, task: Task) -> None:
        self.model_key = model_key
        self.task = task
        self.index: "FaissIndex | None" = None
        self.signature: tuple[int, str] = (0, "")
        self.checked_at = float("-inf")
        self.lock = threading.Lock()

    def search(self, store: VectorStore, query: np.ndarray, k: int, excluded: set[int]) -> list[tuple[int, float]]:
        with self.lock:
            now = time.monotonic()
            if self.index is None or now - self.checked_at >= RESYNC_EVERY_S:
                self._sync(store)
                self.checked_at = now
            index = self.index
            if index is None or len(index) == 0 or k <= 0:
                return []
            scores, ids = index.search(query.reshape(1, -1), min(k + len(excluded), len(index)))
        hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0 and int(i) not in excluded]
        return hits[:k]

    def _sync(self, store: VectorStore) -> None:
        from scimult_desktop.index.faiss_index import FaissIndex

        signature = store.signature(self.model_key, self.task.value)
        if signature == self.signature and self.index is not None:
            return
        # Rebuilt whole: a personal library's vectors load in well under a second, and
        # changes come only from another process indexing, which is rare while writing.
        ids, matrix = store.vectors(self.model_key, self.task.value)
        index = FaissIndex(matrix.shape[1] if len(ids) else 1)
        if len(ids):
            index.add(ids, matrix)
        self.index, self.signature = index, signature


_indexes: dict[tuple, _MemoryIndex] = {}
_indexes_lock = threading.Lock()


def _shared_index(folder: Path | None, model_key: str, task: Task) -> _MemoryIndex:
    """The in-memory index every editor library of this process shares for (folder, model, task)."""
    place = str(folder.resolve()) if folder is not None else ""
    with _indexes_lock:
        entry = _indexes.get((place, model_key, task))
        if entry is None:
            entry = _indexes[(place, model_key, task)] = _MemoryIndex(model_key, task)
    return entry
