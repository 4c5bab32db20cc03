"""The status bar's background-work indicator: what runs now, how far it is, and Cancel.

Every operation of `gui/operations.py` is listed once it has run for `SHOW_AFTER_MS`
(quick lookups never flicker into view). With nothing running it reads "Ready" with the
library's paper count, and, when there are any, the open duplicate proposals. Clicking
it opens a menu: each running task with its progress and a Cancel entry, or the
duplicates review when idle.
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QHBoxLayout, QMenu, QProgressBar, QToolButton, QWidget

from scimult_desktop.domain.progress import ProgressEvent
from scimult_desktop.gui.operations import Operation, Operations

SHOW_AFTER_MS = 400


class _Task:
    def __init__(self, op: Operation) -> None:
        self.op = op
        self.name = op.name
        self.event: ProgressEvent | None = None
        self.started = time.monotonic()
        self.visible = False

    def fraction(self) -> float | None:
        event = self.event
        if event is None or not event.total:
            return None
        return max(0.0, min(1.0, event.done / event.total))

    def label(self) -> str:
        text = self.name[:1].upper() + self.name[1:]
        fraction = self.fraction()
        if fraction is not None:
            text += f" {fraction:.0%} ({self.event.done:,}/{self.event.total:,})"
        elif self.event is not None and self.event.done:
            text += f" ({self.event.done:,} done)"
        return text


class BackgroundStatus(QWidget):
    """Qt view of the running background operations, for the window's status bar.

    Signals:
        review_duplicates_requested(): the user picked "Review duplicates…" from the idle menu.
    """

    review_duplicates_requested = Signal()

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.tasks: dict[int, _Task] = {}
        self.papers: int | None = None
        self.duplicates = 0

        self.bar = QProgressBar()
        self.bar.setMaximumWidth(110)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.bar.hide()
        self.button = QToolButton()
        self.button.setAutoRaise(True)
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # a status-bar widget: Tab cycles through the panes only
        self.button.setToolTip("Background work (click to see or cancel it)")
        self.button.clicked.connect(self.show_menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 4, 0)
        layout.setSpacing(4)
        layout.addWidget(self.bar)
        layout.addWidget(self.button)

        ops.operation_started.connect(self._on_started)
        ops.session.library_did_change.connect(lambda changes: self.refresh_counts() if changes & {"papers", "duplicates"} else None)
        ops.session.library_did_open.connect(lambda _folder: self.refresh_counts())
        self._update()

    # ---- tracking operations ----
    def _on_started(self, op: Operation) -> None:
        task = _Task(op)
        key = id(op)
        self.tasks[key] = task
        op.progressed.connect(lambda event, k=key: self._on_progress(k, event))
        op.finished.connect(lambda k=key: self._on_finished(k))
        QTimer.singleShot(SHOW_AFTER_MS, self, lambda k=key: self._reveal(k))  # dropped with the widget

    def _reveal(self, key: int) -> None:
        task = self.tasks.get(key)
        if task is not None:
            task.visible = True
            self._update()

    def _on_progress(self, key: int, event: ProgressEvent) -> None:
        task = self.tasks.get(key)
        if task is not None:
            task.event = event
            if task.visible:
                self._update()

    def _on_finished(self, key: int) -> None:
        task = self.tasks.pop(key, None)
        if task is not None and task.visible:
            self._update()

    def running(self) -> list[_Task]:
        """The tasks shown (running longer than `SHOW_AFTER_MS`), oldest first."""
        return sorted((t for t in self.tasks.values() if t.visible), key=lambda t: t.started)

    # ---- library counts when idle ----
    def refresh_counts(self) -> None:
        def counts(library, _ctx) -> tuple[int, int]:
            return library.count_papers(), len(library.duplicate_proposals())

        self.ops.run_query(counts, on_success=self._set_counts, key="status-counts", name="counting papers")

    def _set_counts(self, counts: tuple[int, int]) -> None:
        self.papers, self.duplicates = counts
        self._update()

    # ---- drawing ----
    def text(self) -> str:
        return self.button.text()

    def _update(self) -> None:
        running = self.running()
        if not running:
            self.bar.hide()
            parts = ["Ready"]
            if self.papers is not None:
                parts.append(f"{self.papers:,} papers")
            if self.duplicates:
                parts.append(f"{self.duplicates} possible duplicate{'s' if self.duplicates != 1 else ''}")
            self.button.setText(" · ".join(parts))
            self.button.setToolTip("No background work. Click for more.")
            return
        first = running[0]
        fraction = first.fraction()
        if fraction is None:
            self.bar.setRange(0, 0)  # busy, no total known
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(fraction * 1000))
        self.bar.show()
        more = f" (+{len(running) - 1} more)" if len(running) > 1 else ""
        self.button.setText(first.label() + more)
        self.button.setToolTip("\n".join(t.label() for t in running) + "\nClick to cancel.")

    def show_menu(self) -> None:
        menu = self.build_menu()
        menu.exec(self.mapToGlobal(self.rect().topLeft()))

    def build_menu(self) -> QMenu:
        """The click menu: a Cancel entry per running task, or the idle entries."""
        menu = QMenu(self)
        running = self.running()
        for task in running:
            action = menu.addAction(f"Cancel: {task.label()}")
            action.triggered.connect(task.op.cancel)
            if task.op.token.cancelled:
                action.setText(f"Cancelling: {task.label()}")
                action.setEnabled(False)
        if len(running) > 1:
            menu.addSeparator()
            menu.addAction("Cancel all", self.ops.cancel_all)
        if not running:
            idle = menu.addAction("No background work")
            idle.setEnabled(False)
            if self.duplicates:
                menu.addAction(f"Review {self.duplicates} possible duplicate(s)…", self.review_duplicates_requested.emit)
        return menu
