"""`Library`: the service facade over one library folder.

Front ends hold a `Library` and call its verbs; each returns domain records or
plain JSON-able values. One `Library` per thread (it owns a SQLite connection).

Example:
    >>> lib = open_library("/tmp/demo-lib")
    >>> report = lib.import_paths(["refs.bib"])
    >>> [hit.paper.citekey for hit in lib.search("dense retrieval", mode="keyword")]
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Iterable

from scimult_desktop import config
from scimult_desktop.domain.progress import CancelToken, ProgressCallback
from scimult_desktop.domain.records import ImportReport, Paper, SearchHit
from scimult_desktop.errors import NotImplementedYet, ScimultError
from scimult_desktop.services import importing
from scimult_desktop.store import links
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.papers import PaperStore

SEARCH_MODES = ("hybrid", "semantic", "keyword")


class Library:
    """One library: a folder with `library.sqlite3`, index files and attachments."""

    def __init__(self, database: LibraryDatabase) -> None:
        self.database = database
        self.papers = PaperStore(database)

    @classmethod
    def open(cls, path: str | os.PathLike | None = None, *, create: bool = True) -> "Library":
        folder = config.library_dir(path)
        return cls(LibraryDatabase(folder, create=create))

    @classmethod
    def in_memory(cls) -> "Library":
        return cls(LibraryDatabase(None))

    @property
    def folder(self) -> Path | None:
        return self.database.folder

    def close(self) -> None:
        self.database.close()

    def __enter__(self) -> "Library":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- papers ----------------------------------------------------------
    def import_paths(
        self,
        paths: Iterable[str | os.PathLike],
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        force: bool = False,
    ) -> ImportReport:
        """Import .bib/.json/.pdf files, Zotero libraries or folders of them. See `importing.import_paths`."""
        return importing.import_paths(self.database, paths, progress=progress, cancel=cancel, force=force)

    def list_papers(self, *, limit: int | None = None, offset: int = 0) -> list[Paper]:
        return self.papers.list(limit=limit, offset=offset)

    def count_papers(self) -> int:
        return self.papers.count()

    def get_paper(self, reference: str | int) -> Paper:
        """A paper by id, citation key or DOI. Raises `PaperNotFound`."""
        return self.papers.get(self.papers.resolve(str(reference)))

    def edit_paper(self, reference: str | int, **fields: object) -> Paper:
        """Change metadata as the user; later imports keep these values."""
        paper_id = self.papers.resolve(str(reference))
        with self.database.transaction():
            self.papers.edit(paper_id, **fields)
        return self.papers.get(paper_id)

    def duplicate_proposals(self) -> list[dict]:
        """Pairs of papers that look like versions of one work, awaiting the user's decision."""
        return links.duplicate_proposals(self.database)

    def resolve_duplicate(self, paper_a: str | int, paper_b: str | int, *, same_work: bool) -> None:
        """Record the user's answer to a duplicate proposal (nothing is merged silently)."""
        a, b = self.papers.resolve(str(paper_a)), self.papers.resolve(str(paper_b))
        links.set_duplicate_status(self.database, a, b, "confirmed" if same_work else "rejected")

    def citations_of(self, reference: str | int) -> dict[str, list[int]]:
        """Library papers this paper cites and that cite it."""
        paper_id = self.papers.resolve(str(reference))
        conn = self.database.conn
        cites = [r[0] for r in conn.execute("SELECT cited_paper_id FROM citations WHERE citing_paper_id = ?", (paper_id,))]
        cited_by = [r[0] for r in conn.execute("SELECT citing_paper_id FROM citations WHERE cited_paper_id = ?", (paper_id,))]
        return {"cites": sorted(cites), "cited_by": sorted(cited_by)}

    # ---- finding ---------------------------------------------------------
    def search(self, query: str, *, k: int = 10, mode: str = "hybrid") -> list[SearchHit]:
        """Rank papers for a free-text query.

        `keyword` is BM25 over title, abstract, authors and full text; `semantic`
        uses the search expert's embeddings; `hybrid` fuses both.
        """
        if mode not in SEARCH_MODES:
            raise ScimultError(f"unknown search mode {mode!r} (expected one of: {', '.join(SEARCH_MODES)})")
        if not query.strip():
            raise ScimultError("the search query is empty")
        if mode == "keyword":
            return self.papers.keyword_search(query, k)
        raise NotImplementedYet(f"{mode} search (needs the task-aware encoder)")

    def related(self, reference: str | int, *, k: int = 10) -> list[SearchHit]:
        self.papers.resolve(str(reference))
        raise NotImplementedYet("related papers")

    def suggest(self, text: str, *, k: int = 10) -> list[SearchHit]:
        raise NotImplementedYet("citation suggestions")

    def classify(self, reference: str | int | None = None) -> list[dict]:
        raise NotImplementedYet("field classification")

    def index(self, *, progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> dict:
        raise NotImplementedYet("indexing (embedding papers)")
