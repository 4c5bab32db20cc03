"""The library behind the language server: opened once, read-only, used from two worker threads.

A `Library` belongs to one thread (it owns a SQLite connection), and the server's
event loop must never wait on the model, so each worker thread holds its own
read-only library (`services.writing.editor_library`): one answers the editor's
requests (completion, hover, code actions), the other runs the slower checks behind
diagnostics and loads and warms the model at start. Encoder sessions and the
in-memory vector index are shared by both (cached per process by the services).

Every method here blocks; the server calls them through `submit`/`check_soon` and
awaits the futures. Results are plain values, no LSP types.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, TypeVar

from scimult_desktop.errors import ScimultError
from scimult_desktop.lsp.cite_context import (
    CiteContext,
    cited_keys,
    completion_text,
    paragraph_bounds,
    without_unfinished_citations,
)
from scimult_desktop.services.writing import citekeys, draft_places, editor_library

log = logging.getLogger(__name__)
T = TypeVar("T")

RANKED_K = 20  # papers ranked by meaning per completion; the rest are reached by typing
MATCHED_K = 50  # papers listed for what is typed (key, title or author)
CHECK_K = 1  # suggestions per uncited claim computed while checking (diagnostics need none)
CODE_ACTION_K = 3
_RANKING_CACHE_SIZE = 32


@dataclass(frozen=True)
class Candidate:
    """A paper offered for the key being typed."""

    citekey: str
    title: str
    authors: tuple[str, ...]
    year: int | None
    reason: str  # why it is offered
    suggested: bool  # ranked for the sentence (True) or found by what was typed


@dataclass(frozen=True)
class KeyFlag:
    """A problem with a cited key, on lines `first_line`..`last_line` (1-based) of the draft."""

    key: str
    message: str
    missing: bool  # not in the library (else: looks unrelated)
    first_line: int
    last_line: int


@dataclass
class StartReport:
    """What the editor should be told after start: the library's and the model's state."""

    library_error: str | None = None
    model_error: str | None = None
    model: editor_library.ModelState | None = None
    notes: list[str] = field(default_factory=list)


class _LibraryThread:
    """One worker thread and the read-only library it alone uses."""

    def __init__(self, name: str, open_library: Callable[[], "editor_library.Library"]) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._open = open_library
        self._library = None
        self.model: editor_library.ModelState | None = None

    def submit(self, work: Callable[["editor_library.Library"], T]) -> "Future[T]":
        return self._executor.submit(self._run, work)

    def _run(self, work: Callable[["editor_library.Library"], T]) -> T:
        if self._library is None:
            self._library = self._open()
        return work(self._library)

    def attach_model(self, library) -> editor_library.ModelState:
        if self.model is None:
            self.model = editor_library.attach_model(library)
        return self.model

    def close(self) -> None:
        def close_library() -> None:
            if self._library is not None:
                self._library.close()
                self._library = None

        self._executor.submit(close_library)  # on its own thread: SQLite connections stay on theirs
        self._executor.shutdown(wait=True)


class EditorSession:
    """Completion, hover, checks and citation suggestions over one library, read-only.

    Args:
        library_path: the library folder (None: `$SCIMULT_LIBRARY`, else the default one).
    """

    def __init__(self, library_path: str | os.PathLike | None = None, *, model: str | None = None, engine: str | None = None) -> None:
        def open_library():
            return editor_library.open_for_editor(library_path, model=model, engine=engine)

        self.requests = _LibraryThread("scimult-lsp-requests", open_library)
        self.checks = _LibraryThread("scimult-lsp-checks", open_library)
        self.started: Future[StartReport] = Future()
        self._rankings: dict[tuple, list[Candidate]] = {}
        self._rankings_lock = threading.Lock()

    # ---- life cycle ------------------------------------------------------------------
    def start(self) -> "Future[StartReport]":
        """Open the library and load and warm the model, on the checks thread (returns at once)."""
        self.checks.submit(self._start).add_done_callback(self._finish_start)
        return self.started

    def _finish_start(self, done: Future) -> None:
        # Requests wait on `started`: it must resolve whatever went wrong (no library, most often).
        error = done.exception()
        self.started.set_result(done.result() if error is None else StartReport(library_error=str(error)))

    def _start(self, library) -> StartReport:
        report = StartReport()
        try:
            state = self.checks.attach_model(library)
        except ScimultError as exc:
            report.model_error = str(exc)
            return report
        report.model = state
        if not state.fully_indexed:
            report.notes.append(
                f"{state.papers - state.embedded} of {state.papers} papers are not indexed with {state.model}: "
                "run `scimult index`; until then they are found by typing, not ranked by meaning"
            )
        editor_library.warm_up(library)
        return report

    @property
    def model_ready(self) -> bool:
        return self.started.done() and self.started.result().model is not None

    def close(self) -> None:
        self.requests.close()
        self.checks.close()

    # ---- completion --------------------------------------------------------------------
    def complete_async(self, text: str, kind: str, context: CiteContext) -> "Future[list[Candidate]]":
        """Papers for the key being typed: ranked for the sentence first, then those matching the prefix."""
        return self.requests.submit(lambda library: self._complete(library, text, kind, context))

    def _complete(self, library, text: str, kind: str, context: CiteContext) -> list[Candidate]:
        typed = set(context.typed_keys)
        ranked = [c for c in self._ranked(library, text, kind, context) if c.citekey not in typed]
        prefix = context.prefix.lower()
        if prefix:
            ranked = [c for c in ranked if _matches(c, prefix)]
        offered = typed | {c.citekey for c in ranked}
        matched = [
            Candidate(m.citekey, m.title, m.authors, m.year, f"its key, title or authors contain “{context.prefix}”", False)
            for m in citekeys.papers_matching(library, context.prefix, limit=MATCHED_K, exclude=offered)
        ]
        return ranked + matched

    def _ranked(self, library, text: str, kind: str, context: CiteContext) -> list[Candidate]:
        paragraph, position = completion_text(text, context)
        paragraph = without_unfinished_citations(paragraph, kind)  # another key being typed nearby
        if not paragraph.strip():
            return []
        use_model = self.model_ready
        key = (kind, paragraph, position, use_model)
        with self._rankings_lock:
            cached = self._rankings.get(key)
        if cached is not None:
            return cached
        try:
            ranked = self._rank(library, paragraph, kind, position, len(context.typed_keys), use_model)
        except ScimultError as exc:  # e.g. the paragraph has no sentence yet
            log.info("no ranking: %s", exc)
            ranked = []
        self._remember(key, ranked)
        return ranked

    def _rank(self, library, paragraph: str, kind: str, position: int, typed: int, use_model: bool) -> list[Candidate]:
        if use_model:
            self.requests.attach_model(library)
            item = library.suggest_at(paragraph, kind, position, k=RANKED_K + typed)
            sentence = item["sentence"]
            suggestions = item["suggestions"]
        else:
            # No model: the words of the sentence still rank papers (BM25 over the library).
            found = draft_places.sentence_at(paragraph, kind, position)
            if found is None:
                return []
            sentence = found.text
            suggestions = [{**h.to_json(), "why": h.why} for h in library.search(sentence, k=RANKED_K + typed, mode="keyword")]
        papers = citekeys.papers_by_citekey(library, [s["citekey"] for s in suggestions])
        ranked = []
        for rank, suggestion in enumerate(suggestions, start=1):
            paper = papers.get(suggestion["citekey"])
            if paper is None:
                continue
            why = suggestion.get("why") or ""
            how = "by meaning and words" if use_model else "by words (no model)"
            reason = f"#{rank} for “{_shorten(sentence, 120)}”, {how}" + (f": {why}" if why else "")
            ranked.append(Candidate(paper.citekey, paper.title, tuple(paper.authors), paper.year, reason, True))
        return ranked

    # ---- hover -------------------------------------------------------------------------
    def describe_async(self, key: str) -> "Future":
        """The paper with citation key `key` (None when the library has none)."""
        return self.requests.submit(lambda library: citekeys.papers_by_citekey(library, [key]).get(key))

    # ---- diagnostics -------------------------------------------------------------------
    def check_async(self, text: str, kind: str) -> "Future[list[KeyFlag]]":
        """Cited keys missing from the library, and (with a model) cited papers that look unrelated."""
        return self.checks.submit(lambda library: self._check(library, text, kind))

    def _check(self, library, text: str, kind: str) -> list[KeyFlag]:
        text = without_unfinished_citations(text, kind)
        # Missing keys need no model, and are checked wherever they are cited (a table cell, \nocite too).
        spans = cited_keys(text, kind)
        known = citekeys.papers_by_citekey(library, [span.key for span in spans])
        flags = []
        for span in spans:
            if span.key not in known:
                line = text.count("\n", 0, span.start) + 1
                flags.append(KeyFlag(span.key, f"{span.key}: not in the library", True, line, line))
        if self.checks.model is not None:  # with a model: cited papers that look unrelated to their sentence
            for item in library.suggest_for_text(text, kind=kind, k=CHECK_K):
                for flag in item["key_flags"]:
                    if flag["problem"] != "missing":
                        flags.append(KeyFlag(flag["key"], flag["message"], False, item["line"], item["end_line"]))
        return flags

    # ---- code actions ------------------------------------------------------------------
    def suggest_here_async(self, text: str, kind: str, offset: int) -> "Future[Suggestion | None]":
        """Papers to cite when the sentence at `offset` is a claim that cites nothing, else None."""
        return self.requests.submit(lambda library: self._suggest_here(library, text, kind, offset))

    def _suggest_here(self, library, text: str, kind: str, offset: int) -> "Suggestion | None":
        start, end = paragraph_bounds(text, offset)
        paragraph = without_unfinished_citations(text[start:end], kind)
        sentence = draft_places.sentence_at(paragraph, kind, offset - start)
        if sentence is None or not sentence.missing_citation or not sentence.start <= offset - start <= sentence.end:
            return None
        use_model = self.model_ready
        key = ("here", kind, paragraph, sentence.start, use_model)
        with self._rankings_lock:
            cached = self._rankings.get(key)
        if cached is None:
            if use_model:
                self.requests.attach_model(library)
                hits = library.suggest_at(paragraph, kind, offset - start, k=CODE_ACTION_K)["suggestions"]
            else:
                hits = [hit.to_json() for hit in library.search(sentence.text, k=CODE_ACTION_K, mode="keyword")]
            papers = citekeys.papers_by_citekey(library, [hit["citekey"] for hit in hits])
            cached = [papers[hit["citekey"]] for hit in hits if hit["citekey"] in papers]
            self._remember(key, cached)
        return Suggestion(start + sentence.start, start + sentence.end, sentence.text, cached)

    def _remember(self, key: tuple, value: list) -> None:
        with self._rankings_lock:
            if len(self._rankings) >= _RANKING_CACHE_SIZE:
                self._rankings.pop(next(iter(self._rankings)))
            self._rankings[key] = value


@dataclass(frozen=True)
class Suggestion:
    """Papers to cite for the sentence at `start`..`end` (offsets into the draft)."""

    start: int
    end: int
    sentence: str
    papers: list


def _matches(candidate: Candidate, prefix: str) -> bool:
    return (
        prefix in candidate.citekey.lower()
        or prefix in candidate.title.lower()
        or any(prefix in author.lower() for author in candidate.authors)
    )


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
