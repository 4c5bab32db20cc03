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
import re
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterable, Sequence

import numpy as np

from scimult_desktop import config
from scimult_desktop.domain.progress import CancelToken, ProgressCallback
from scimult_desktop.domain.records import ImportReport, Paper, SearchHit
from scimult_desktop.errors import ScimultError
from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.services.library import importing
from scimult_desktop.services.finding.filters import SearchFilters
from scimult_desktop.services.finding.finder import Finder
from scimult_desktop.services.finding.semantic import SemanticBackend
from scimult_desktop.store.clock import utc_now
from scimult_desktop.store import links
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.papers import PaperStore

if TYPE_CHECKING:
    from scimult_desktop.embedding.encoder import Encoder

SEARCH_MODES = ("hybrid", "semantic", "keyword")


class Library:
    """One library: a folder with `library.sqlite3`, index files and attachments."""

    def __init__(self, database: LibraryDatabase, *, model: str | None = None, engine: str | None = None) -> None:
        self.database = database
        self.papers = PaperStore(database)
        self.model_name = model  # None: the active model
        self.engine = engine  # None: the engine from settings
        self._backend: SemanticBackend | None = None
        self._ensured_tasks: set[Task] = set()
        # Receives progress of work a query triggers implicitly (embedding papers not indexed yet).
        self.background_progress: ProgressCallback | None = None

    @classmethod
    def open(
        cls, path: str | os.PathLike | None = None, *, create: bool = True, model: str | None = None, engine: str | None = None
    ) -> "Library":
        """Open the library folder `path` (see `config.library_dir`), using `model`/`engine` for semantic work."""
        folder = config.library_dir(path)
        return cls(LibraryDatabase(folder, create=create), model=model, engine=engine)

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

    def status(self) -> dict:
        """What the library holds and whether it is ready for semantic work (JSON-able)."""
        from scimult_desktop.services.models import bundles as models
        from scimult_desktop.store.vectors import VectorStore

        conn = self.database.conn

        def count(sql: str) -> int:
            return int(conn.execute(sql).fetchone()[0])

        name = self.model_name or models.active_model_name()
        indexed = None
        if name is not None:
            key = models.model_key(name)
            vectors = VectorStore(self.database)
            trashed = "SELECT id FROM papers WHERE deleted_at IS NOT NULL"
            indexed = {
                task.value: vectors.count(key, task.value) - int(conn.execute(
                    f"SELECT count(*) FROM embeddings WHERE model = ? AND task = ? AND paper_id IN ({trashed})",
                    (key, task.value)).fetchone()[0])
                for task in Task
            }
        last = conn.execute("SELECT started_at, finished_at, status FROM import_jobs ORDER BY id DESC LIMIT 1").fetchone()
        return {
            "library": str(self.folder) if self.folder else None,
            "papers": self.count_papers(),
            "trash": count("SELECT count(*) FROM papers WHERE deleted_at IS NOT NULL"),
            "files": count("SELECT count(*) FROM files"),
            "files_missing": count("SELECT count(*) FROM files WHERE status = 'missing'"),
            "citations": count("SELECT count(*) FROM citations"),
            "duplicate_proposals": len(self.duplicate_proposals()),  # as `duplicates` lists them (trash left out)
            "model": name,
            # Why the active default should be rebuilt (built without the shipped trained weights), else None.
            "model_outdated": models.outdated_default() if name == models.DEFAULT_MODEL_NAME else None,
            "indexed": indexed,
            "last_import": dict(last) if last else None,
        }

    def get_paper(self, reference: str | int) -> Paper:
        """A paper by id, citation key or DOI. Raises `PaperNotFound`."""
        return self.papers.get(self.papers.resolve(str(reference)))

    def edit_paper(self, reference: str | int, **fields: object) -> Paper:
        """Change metadata as the user; later imports keep these values. `undo()` reverts the
        values and the "edited by you" marks (`services/library/editing.py`)."""
        from scimult_desktop.services.library import editing

        paper_id = self.papers.resolve(str(reference))
        editing.edit_paper(self, paper_id, fields)
        return self.papers.get(paper_id)

    def duplicate_proposals(self) -> list[dict]:
        """Pairs of papers that look like versions of one work, awaiting the user's decision."""
        return links.duplicate_proposals(self.database)

    def resolve_duplicate(self, paper_a: str | int, paper_b: str | int, *, same_work: bool) -> None:
        """Record the user's answer to a duplicate proposal (nothing is merged silently)."""
        a, b = self.papers.resolve(str(paper_a)), self.papers.resolve(str(paper_b))
        links.set_duplicate_status(self.database, a, b, "confirmed" if same_work else "rejected")

    def scan_near_duplicates(self, *, progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> int:
        """Propose pairs whose embeddings and titles are nearly identical; returns new proposals."""
        from scimult_desktop.services.library.duplicates import scan_near_duplicates

        finder = self._finder(Task.LINK)
        return scan_near_duplicates(self.database, finder.backend, progress=progress, cancel=cancel)

    def citation_contexts(self, reference: str | int, *, limit: int | None = None) -> list[dict]:
        """How library papers cite this paper (sentence, citing paper, page); see `services.library.citation_contexts`."""
        from scimult_desktop.services.library import citation_contexts

        return citation_contexts.how_cited(self.database, self.papers.resolve(str(reference)), limit=limit)

    def contexts_in(self, reference: str | int) -> list[dict]:
        """Every in-text citation found in this paper's own text, in reading order."""
        from scimult_desktop.services.library import citation_contexts

        return citation_contexts.contexts_in(self.database, self.papers.resolve(str(reference)))

    def citation_context_backlog(self) -> int:
        """Papers whose text has not been searched for citation contexts yet (see `analyse_citation_contexts`)."""
        from scimult_desktop.services.library import citation_contexts

        return citation_contexts.backlog(self.database)

    def analyse_citation_contexts(
        self, *, force: bool = False, progress: ProgressCallback | None = None, cancel: CancelToken | None = None
    ) -> dict:
        """Find citation contexts in papers not analysed yet (resumable; `force`: all again). No PDF is read."""
        from scimult_desktop.services.library import citation_contexts

        return citation_contexts.analyse_papers(self.database, force=force, progress=progress, cancel=cancel)

    def citations_of(self, reference: str | int) -> dict[str, list[int]]:
        """Library papers this paper cites and that cite it."""
        paper_id = self.papers.resolve(str(reference))
        conn = self.database.conn
        trashed = "SELECT id FROM papers WHERE deleted_at IS NOT NULL"  # papers in the trash are left out
        cites = [r[0] for r in conn.execute(
            f"SELECT cited_paper_id FROM citations WHERE citing_paper_id = ? AND cited_paper_id NOT IN ({trashed})", (paper_id,))]
        cited_by = [r[0] for r in conn.execute(
            f"SELECT citing_paper_id FROM citations WHERE cited_paper_id = ? AND citing_paper_id NOT IN ({trashed})", (paper_id,))]
        return {"cites": sorted(cites), "cited_by": sorted(cited_by)}

    # ---- finding ---------------------------------------------------------
    def search(
        self, query: str, *, k: int = 10, mode: str = "hybrid", filters: SearchFilters | None = None
    ) -> list[SearchHit]:
        """Rank papers for a free-text query.

        `keyword` is BM25 over title, abstract, authors and full text; `semantic`
        uses the search expert's embeddings; `hybrid` (default) fuses both.
        """
        return self.search_many([query], k=k, mode=mode, filters=filters)[0]

    def search_many(
        self, queries: Sequence[str], *, k: int = 10, mode: str = "hybrid", filters: SearchFilters | None = None
    ) -> list[list[SearchHit]]:
        """`search` for many queries at once (one encoder call for all of them)."""
        if mode not in SEARCH_MODES:
            raise ScimultError(f"unknown search mode {mode!r} (expected one of: {', '.join(SEARCH_MODES)})")
        if not queries or any(not q.strip() for q in queries):
            raise ScimultError("a search query is empty")
        finder = self._finder(Task.SEARCH if mode != "keyword" else None)
        return finder.search_many(queries, k=k, mode=mode, filters=filters)

    def related(self, reference: str | int, *, k: int = 10) -> list[SearchHit]:
        """Papers related to one paper: link-prediction expert neighbours fused with the citation graph."""
        paper_id = self.papers.resolve(str(reference))
        return self._finder(Task.LINK).related(paper_id, k=k)

    def suggest(self, text: str, *, k: int = 10) -> list[SearchHit]:
        """Papers to cite for a sentence or paragraph being written (papers it already cites are skipped)."""
        return self.suggest_many([text], k=k)[0]

    def suggest_many(self, texts: Sequence[str], *, k: int = 10) -> list[list[SearchHit]]:
        """`suggest` for many texts at once (one encoder call for all of them)."""
        if not texts or any(not t.strip() for t in texts):
            raise ScimultError("the text to find citations for is empty")
        exclude = [self._cited_ids(text) for text in texts]
        return self._finder(Task.LINK).suggest_many(texts, k=k, exclude=exclude)

    def suggest_for_draft(self, path: str | os.PathLike, *, k: int = 5, follow_inputs: bool = False,
                          on_problem: Callable[[str], None] | None = None) -> list[dict]:
        """Citation suggestions for a .tex/.md/.txt draft, sentence by sentence.

        For each sentence that makes a claim but cites nothing: the top `k` papers (the
        previous sentence is added as context; papers cited next to it are skipped). For
        each sentence that cites: a flag when a cited key is not in the library, or when a
        cited paper ranks far down the library for that sentence (it may be the wrong key).

        Returns:
            [{"line", "end_line", "sentence", "cited": [keys], "suggestions": [hit JSON], "flags": [text], "key_flags": [{"key", "problem", "message"}], ...}]
            for the sentences that need attention, in draft order.

        `follow_inputs`: a LaTeX draft's `\\input`/`\\include`d files are read too, where they
        stand; their items carry `"file"` (relative to the draft's folder) and lines in that file.
        A file read in that cannot be found or read is told to `on_problem` and skipped.
        """
        from scimult_desktop.writing.draft import draft_kind, read_draft

        if follow_inputs and draft_kind(path) == "latex":
            from scimult_desktop.writing.latex_inputs import read_latex_project

            return self._suggest_for_sentences(read_latex_project(path, on_problem), k)
        return self._suggest_for_sentences(read_draft(path), k)

    def suggest_for_text(self, text: str, *, kind: str = "plain", k: int = 5) -> list[dict]:
        """`suggest_for_draft` for text being typed or pasted (`kind`: latex, markdown or plain)."""
        from scimult_desktop.writing.draft import analyse_draft

        return self._suggest_for_sentences(analyse_draft(text, kind), k)

    def suggest_at(self, text: str, kind: str, position: int, *, k: int = 5) -> dict:
        """Suggestions for the one sentence of `text` at character offset `position`, claim or not.

        `kind` is latex, markdown or plain. Returns the same item as `suggest_for_text` gives for a
        sentence (`line`, `end_line`, `sentence`, `cited`, `suggestions`, `flags`), with up to `k`
        suggestions. Between sentences the nearest one is used.

        Raises:
            ScimultError: unknown kind, or the text has no sentence.
        """
        from scimult_desktop.services.writing import drafting
        from scimult_desktop.writing.draft import analyse_draft

        sentences = analyse_draft(text, kind)
        index = drafting.sentence_index_at(sentences, position)
        return drafting.suggest_at(self.papers, self._finder(Task.LINK), sentences, index, k)

    def suggest_at_line(self, path: str | os.PathLike, line: int, *, k: int = 5) -> dict:
        """`suggest_at` for the first sentence of a draft file on 1-based `line`, claim or not.

        Raises:
            DraftError: the file cannot be read. ScimultError: no sentence on that line.
        """
        from scimult_desktop.services.writing import drafting
        from scimult_desktop.writing.draft import analyse_draft, draft_kind, read_draft_text

        sentences = analyse_draft(read_draft_text(path), draft_kind(path))
        on_line = [i for i, s in enumerate(sentences) if s.line <= line <= s.end_line]
        if not on_line:
            raise ScimultError(f"{path}: no sentence on line {line}")
        return drafting.suggest_at(self.papers, self._finder(Task.LINK), sentences, on_line[0], k)

    def _suggest_for_sentences(self, sentences: list, k: int) -> list[dict]:
        from scimult_desktop.services.writing import drafting

        return drafting.suggest_for_sentences(self.papers, self._finder(Task.LINK), sentences, k)

    def classify(self, reference: str | int | None = None, *, label_set: str = "mag", k: int = 5) -> list[dict]:
        """Suggested labels for one paper (or all when `reference` is None), with scores.

        Labels come from a label set (`mag` fields of study, `arxiv` categories, or a
        JSON/CSV file of the user's) matched by the classification expert, and, when the
        user has filed papers, from their tags and collections. Papers the user tagged with
        a label of the set make it few-shot (`method`, `method_note`, `few_shot` say which).
        """
        from scimult_desktop.services.finding import classifying
        from scimult_desktop.services.finding import label_sets

        ids = self.papers.all_ids() if reference is None else [self.papers.resolve(str(reference))]
        labels = label_sets.load_label_set(label_set)  # a bad label file fails before any model work
        if not ids:
            return []
        finder = self._finder(Task.CLASSIFY)
        vectors = finder.paper_vectors(Task.CLASSIFY, ids)
        matrix = np.stack([vectors[i] for i in ids])
        scored = classifying.classify_papers(
            self.database, finder.backend, ids, matrix, labels, lambda wanted: finder.paper_vectors(Task.CLASSIFY, wanted), k=k,
            library_vectors=self._classification_reference(finder, vectors),
        )
        papers = {p.id: p for p in self.papers.get_many(ids)}
        return [{"id": pid, "citekey": papers[pid].citekey, "title": papers[pid].title, **scored[i]} for i, pid in enumerate(ids)]

    def _classification_reference(self, finder, classified: dict[int, np.ndarray]) -> dict[int, np.ndarray]:
        """The library's classification vectors that label vectors are fitted to: the indexed
        papers (a sample in a very large library) and the papers being classified."""
        from scimult_desktop.services.finding.label_adaptation import reference_sample

        sample = reference_sample(self.papers.all_ids())
        stored = finder.backend.stored_vectors(Task.CLASSIFY, [pid for pid in sample if pid not in classified])  # the rest are in hand
        reference = {pid: classified[pid] if pid in classified else stored[pid] for pid in sample if pid in classified or pid in stored}
        reference.update(classified)  # classified papers outside the sample
        return reference

    def apply_tags(self, assignments: dict[str | int, list[str]]) -> int:
        """Tag papers with labels the user accepted; `undo()` reverts it. Returns the undo entry id."""
        from scimult_desktop.services.finding import classifying

        resolved = {self.papers.resolve(str(ref)): names for ref, names in assignments.items()}
        count = sum(len(v) for v in resolved.values())
        return classifying.apply_tags(self.database, resolved, f"tag {len(resolved)} paper(s) with {count} suggested label(s)")

    def undo(self) -> str | None:
        """Revert the last undoable change; returns what was undone, or None."""
        from scimult_desktop.services.finding import classifying

        return classifying.undo_last(self.database)

    def record_feedback(self, kind: str, value: float, *, query: str | None = None, paper: str | int | None = None) -> None:
        """Keep a user signal (relevant result, accepted suggestion...) for local fine-tuning."""
        paper_id = self.papers.resolve(str(paper)) if paper is not None else None
        with self.database.transaction():
            self.database.conn.execute(
                "INSERT INTO feedback (kind, query, paper_id, value, created_at) VALUES (?, ?, ?, ?, ?)",
                (kind, query, paper_id, value, utc_now()),
            )

    def paper_vectors(self, task: "Task | str", reference_ids: Sequence[int] | None = None) -> tuple[list[int], "np.ndarray"]:
        """Stored vectors of `task`'s expert for papers (default: all), embedding missing ones first.

        Returns:
            (paper ids that have a vector, float32 matrix with one row per id).
        """
        task = Task.parse(task)
        ids = self.papers.all_ids() if reference_ids is None else list(reference_ids)
        vectors = self._finder(task).paper_vectors(task, ids)
        kept = [pid for pid in ids if pid in vectors]
        matrix = np.stack([vectors[pid] for pid in kept]) if kept else np.zeros((0, 0), np.float32)
        return kept, matrix

    def use_semantic_backend(self, backend: SemanticBackend) -> None:
        """Use a given backend instead of the active model (tests, evaluations of other models)."""
        self._backend = backend
        self._ensured_tasks = set(Task)

    def _finder(self, task: Task | None) -> Finder:
        if task is None:
            return Finder(self.database, None)
        from scimult_desktop.services.finding import semantic_backend

        if self._backend is None:
            self._backend = semantic_backend.build_backend(self.database, self.model_name, self.engine)
        if task not in self._ensured_tasks:
            semantic_backend.ensure_indexed(
                self.database, self._backend, task, model=self.model_name, engine=self.engine, progress=self.background_progress
            )
            self._ensured_tasks.add(task)
        return Finder(self.database, self._backend)

    def _cited_ids(self, text: str) -> list[int]:
        """Library papers whose citation keys already appear in `text` (LaTeX cite commands or pandoc @keys)."""
        names = set()
        for group in re.findall(r"\\[A-Za-z]*cite[a-zA-Z]*\*?(?:\[[^\]]*\])*\{([^}]*)\}", text):
            names |= {k.strip() for k in group.split(",") if k.strip()}
        names |= {k.rstrip(".:") for k in re.findall(r"(?<![\w.])@([A-Za-z0-9_:.\-]+)", text)}
        return list(self.papers.ids_by_citekey(sorted(names)).values())

    def index(
        self,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        model: str | None = None,
        engine: str | None = None,
        passages: bool | None = None,
    ) -> dict:
        """Embed every paper lacking an up-to-date vector (all three tasks) and sync the vector indexes.

        Then, unless passage search is off (`passages`, default: the `passage_search` setting),
        cut PDF texts into passages and embed those lacking a vector (`passage_indexing`).
        Resumable: finished batches are committed, so after Ctrl+C or a crash the next
        run embeds only the rest. Builds the default model first when none is installed.

        Returns:
            {"model", "model_key", "engine", "papers", "embedded", "already_embedded",
             "seconds", "tasks": [{"task", "embedded", "already_embedded", "indexed"}],
             "passages": {"enabled", "papers_split", "passages", "embedded", "already_embedded", "indexed", "seconds"}}
        """
        from scimult_desktop.services.library.preferences import passage_search_enabled
        from scimult_desktop.services.models import indexing, passage_indexing
        from scimult_desktop.services.models import bundles as models

        name = model or models.ensure_model(progress)
        encoder, key = self.encoder(name, engine), models.model_key(name)
        report = indexing.index_library(self.database, encoder, key, progress=progress, cancel=cancel)
        if passage_search_enabled() if passages is None else passages:
            report["passages"] = {"enabled": True, **passage_indexing.index_passages(
                self.database, encoder, key, progress=progress, cancel=cancel)}
        else:
            report["passages"] = {"enabled": False}
        return report

    def encoder(self, model: str | None = None, engine: str | None = None) -> "Encoder":
        """The encoder of `model` (default: the active model), cached per process.

        Args:
            model: an installed model name.
            engine: "auto", "onnxruntime-cpu", "onnxruntime-cuda" or "openvino" (default: settings).
        """
        from scimult_desktop.services.models import bundles as models

        return models.load_encoder(model, engine)

    def embed(
        self,
        texts: list[str],
        task: "Task | str",
        *,
        role: "Role | str" = "document",
        model: str | None = None,
        engine: str | None = None,
    ) -> "np.ndarray":
        """Embed `texts` with `task`'s expert: float32 (len(texts), dim), unit rows for cosine models."""
        from scimult_desktop.domain.tasks import Role

        return self.encoder(model, engine).encode(texts, task, Role(role))
