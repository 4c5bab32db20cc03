"""Background work: the one doorway between widgets and slow service calls.

Everything that may take more than ~50 ms (import, indexing, search, related,
suggestions, classification, model installs) runs through `Operations`, in the
style of Anki's `QueryOp` / `CollectionOp`:

    ops = Operations(session)
    ops.run_query(
        lambda library, ctx: library.search(text, mode="hybrid"),
        on_success=self._show_hits,          # called on the UI thread with the result
        on_failure=self._show_error,         # called on the UI thread with one line of text
        key="search",                        # a newer query with the same key supersedes this one
    )
    op = ops.run_mutation(
        lambda library, ctx: library.import_paths(paths, progress=ctx.progress, cancel=ctx.cancel),
        changes={"papers"},                  # broadcast as session.library_did_change after success
        on_success=..., on_progress=...,     # on_progress gets domain.progress.ProgressEvent
    )
    op.cancel()                              # sets the CancelToken the work function checks

Rules (the work function runs on a worker thread):
- It receives a `Library` opened for that thread (closed afterwards) and an `OpContext`
  with `progress` (a `ProgressCallback`) and `cancel` (a `CancelToken`).
- It calls services only, never widgets or any Qt object: that may crash Qt.
- It returns plain records; they are handed to `on_success` on the UI thread.
- `ScimultError` (including `Cancelled`) becomes `on_failure(message)` / `on_cancelled()`;
  any other exception is a bug: its traceback is printed and `on_failure` gets a summary.

Queries run on a pool of two threads; mutations run one at a time, in order, on a
second pool, so writes never contend with each other. SQLite's WAL journal lets
queries read while a mutation writes. For the fine-tuning page: run the training
subprocess from a mutation's work function and report its progress through
`ctx.progress`; add a menu entry with `MainWindow.model_menu.addAction(...)`.
"""

from __future__ import annotations

import sys
import traceback
from dataclasses import dataclass
from typing import Any, Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot

from scimult_desktop.domain.progress import CancelToken, ProgressEvent
from scimult_desktop.errors import Cancelled, ScimultError
from scimult_desktop.gui.session import Session
from scimult_desktop.services.library.facade import Library

WorkFunction = Callable[[Library, "OpContext"], Any]


@dataclass
class OpContext:
    """What a work function gets besides the library: a progress callback and a cancel token."""

    progress: Callable[[ProgressEvent], None]
    cancel: CancelToken


class Operation(QObject):
    """One piece of background work. Its public signals fire on the UI thread.

    Signals:
        progressed(ProgressEvent), succeeded(object), failed(str), cancelled(), finished().
    """

    progressed = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    finished = Signal()

    # Emitted from the worker thread; connected (queued) to slots of this UI-thread object.
    # `_worker_done` carries no payload: the outcome is stored on the object first, because
    # results never travel through Qt signal arguments across threads.
    _worker_progress = Signal(object)
    _worker_done = Signal()

    def __init__(self, name: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.name = name
        self.token = CancelToken()
        self.superseded = False
        self.done = False
        self.outcome: tuple[str, object] = ("pending", None)
        self._worker_progress.connect(self._on_worker_progress)
        self._worker_done.connect(self._on_worker_done)

    def cancel(self) -> None:
        """Ask the work to stop at its next check; what it already committed stays."""
        self.token.cancel()

    @Slot(object)
    def _on_worker_progress(self, event: ProgressEvent) -> None:
        if not self.superseded:
            self.progressed.emit(event)

    def _finish_from_worker(self, outcome: str, payload: object) -> None:
        """Called on the worker thread: keep the outcome, then wake the UI thread."""
        self.outcome = (outcome, payload)
        self._worker_done.emit()

    @Slot()
    def _on_worker_done(self) -> None:
        outcome, payload = self.outcome
        self.done = True
        if not self.superseded:
            if outcome == "ok":
                self.succeeded.emit(payload)
            elif outcome == "cancelled":
                self.cancelled.emit()
            else:
                self.failed.emit(str(payload))
        self.finished.emit()


class _Runnable(QRunnable):
    def __init__(self, session: Session, op: Operation, work: WorkFunction) -> None:
        super().__init__()
        self.setAutoDelete(True)
        self._session = session
        self._folder = session.folder  # the library at submit time, even if the user switches meanwhile
        self._op = op
        self._work = work

    def run(self) -> None:
        op = self._op
        context = OpContext(progress=op._worker_progress.emit, cancel=op.token)
        try:
            library = Library.open(self._folder, model=self._session.model, engine=self._session.engine)
            try:
                library.background_progress = context.progress
                result = self._work(library, context)
            finally:
                library.close()
        except Cancelled:
            op._finish_from_worker("cancelled", None)
        except ScimultError as exc:
            op._finish_from_worker("failed", str(exc))
        except Exception as exc:  # a bug: keep the traceback visible, tell the user in one line
            traceback.print_exc(file=sys.stderr)
            op._finish_from_worker("failed", f"internal error in {op.name}: {type(exc).__name__}: {exc}")
        else:
            op._finish_from_worker("ok", result)


class Operations(QObject):
    """Runs work functions off the UI thread and hands results back to it (see module docstring).

    Signals:
        operation_started(Operation): an operation was submitted (the status-bar indicator lists them).
    """

    operation_started = Signal(object)

    def __init__(self, session: Session, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self._queries = QThreadPool(self)
        self._queries.setMaxThreadCount(2)
        self._mutations = QThreadPool(self)
        self._mutations.setMaxThreadCount(1)
        self._running: set[Operation] = set()
        self._latest: dict[str, Operation] = {}

    def run_query(
        self,
        work: WorkFunction,
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
        key: str | None = None,
        name: str = "query",
    ) -> Operation:
        """Run a read-only `work(library, ctx)` on the query pool.

        Args:
            key: when set, a later query with the same key supersedes this one: its result
                is dropped and its cancel token set (search-as-you-type keeps only the newest).
        """
        if key is not None:
            previous = self._latest.get(key)
            if previous is not None and not previous.done:
                previous.superseded = True
                previous.cancel()
        op = self._start(self._queries, work, name or key or "query", on_success, on_failure, on_progress)
        if key is not None:
            self._latest[key] = op
        return op

    def run_mutation(
        self,
        work: WorkFunction,
        *,
        changes: set[str] | frozenset[str] = frozenset({"papers"}),
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        on_progress: Callable[[ProgressEvent], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
        name: str = "change",
    ) -> Operation:
        """Run a `work(library, ctx)` that writes, one at a time; then broadcast `changes`.

        `session.library_did_change(changes)` fires after `on_success` (also after a cancel,
        since a cancelled import keeps what it stored).
        """
        op = self._start(self._mutations, work, name, on_success, on_failure, on_progress, on_cancelled)
        op.succeeded.connect(lambda _result: self.session.library_did_change.emit(set(changes)))
        op.cancelled.connect(lambda: self.session.library_did_change.emit(set(changes)))
        return op

    def busy(self) -> bool:
        """Whether any operation is still running."""
        return bool(self._running)

    def wait(self, timeout_ms: int = 30000) -> bool:
        """Block until both pools are idle (shutdown and tests); True when they are."""
        return self._mutations.waitForDone(timeout_ms) and self._queries.waitForDone(timeout_ms)

    def cancel_all(self) -> None:
        for op in list(self._running):
            op.cancel()

    def _start(self, pool, work, name, on_success, on_failure, on_progress, on_cancelled=None) -> Operation:
        op = Operation(name, self)
        if on_success is not None:
            op.succeeded.connect(on_success)
        if on_failure is not None:
            op.failed.connect(on_failure)
        if on_progress is not None:
            op.progressed.connect(on_progress)
        if on_cancelled is not None:
            op.cancelled.connect(on_cancelled)
        self._running.add(op)
        self.operation_started.emit(op)
        op.finished.connect(lambda: self._forget(op))
        pool.start(_Runnable(self.session, op, work))
        return op

    def _forget(self, op: Operation) -> None:
        self._running.discard(op)
        op.deleteLater()
