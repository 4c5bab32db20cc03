"""The Fine-tune dialog (Model menu): example counts, start/cancel, live loss, before/after, accept.

Everything slow goes through `gui.operations`: counting examples is a query; training
(a separate process), evaluation, accepting (re-embedding while the old vectors serve)
and declining are mutations. The trainer's metric lines reach the loss plot through a
queued Qt signal, so the worker thread never touches a widget.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QPointF, QSize, Qt, Signal
from PySide6.QtGui import QAction, QPainter, QPen, QPolygonF
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.errors import ModelError
from scimult_desktop.gui.operations import Operations
from scimult_desktop.gui.panels.import_panel import ProgressRow
from scimult_desktop.services.finetuning import pipeline as finetuning
from scimult_desktop.services.finetuning.signals import TASKS

COLUMNS = ("task", "train", "held out", "metric", "before", "after")


class LossPlot(QWidget):
    """Training loss per logged step, drawn with QPainter (one polyline, min/max labels)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.points: list[tuple[float, float]] = []
        self.setMinimumHeight(140)

    def sizeHint(self) -> QSize:
        return QSize(520, 160)

    def clear(self) -> None:
        self.points = []
        self.update()

    def add(self, step: float, loss: float) -> None:
        if self.points and step <= self.points[-1][0]:
            # A resumed run replays its metrics: keep one point per step.
            self.points = [p for p in self.points if p[0] < step]
        self.points.append((float(step), float(loss)))
        self.update()

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        rect = self.rect().adjusted(48, 10, -10, -22)
        painter.setPen(QPen(self.palette().mid().color()))
        painter.drawRect(rect)
        painter.setPen(self.palette().text().color())
        if not self.points:
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "training loss appears here")
            return
        steps = [p[0] for p in self.points]
        losses = [p[1] for p in self.points]
        lo, hi = min(losses), max(losses)
        span = (hi - lo) or 1.0
        first, last = steps[0], max(steps[-1], steps[0] + 1)
        polygon = QPolygonF([
            QPointF(rect.left() + (s - first) / (last - first) * rect.width(), rect.bottom() - (loss - lo) / span * rect.height())
            for s, loss in self.points
        ])
        painter.drawText(4, rect.top() + 10, f"{hi:.3g}")
        painter.drawText(4, rect.bottom(), f"{lo:.3g}")
        painter.drawText(rect.left(), rect.bottom() + 16, f"step {int(first)}")
        painter.drawText(rect.right() - 70, rect.bottom() + 16, f"step {int(steps[-1])}")
        painter.setPen(QPen(self.palette().highlight().color(), 2))
        painter.drawPolyline(polygon)


class _MetricsBridge(QObject):
    """Carries trainer metric records from the worker thread to the UI thread (queued)."""

    metric = Signal(object)


class FinetuneDialog(QDialog):
    """Fine-tune the active model on this library. Signals: model_changed(str) after an accept."""

    model_changed = Signal(str)
    plan_shown = Signal()
    run_finished = Signal(object)  # the FinetuneResult, or None when it failed or was cancelled

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Fine-tune on this library")
        self.resize(680, 560)
        self.ops = ops
        self.result: finetuning.FinetuneResult | None = None
        self._op = None
        self.bridge = _MetricsBridge(self)
        self.bridge.metric.connect(self._on_metric)

        self.task_boxes = {task: QCheckBox(task) for task in TASKS}
        tasks_row = QHBoxLayout()
        tasks_row.addWidget(QLabel("Tasks:"))
        for box in self.task_boxes.values():
            box.setChecked(True)
            box.toggled.connect(self.refresh_plan)
            tasks_row.addWidget(box)
        tasks_row.addStretch()
        self.adapter_only_box = QCheckBox("&Quick: only adapt citation queries (minutes, no training)")
        self.adapter_only_box.setToolTip(
            "Fits a small map on the citation (link) expert's queries from your citations and citing sentences; "
            "the transformer is not trained. Needs the link task."
        )
        self.adapter_only_box.toggled.connect(self.refresh_plan)
        self.adapter_only_box.toggled.connect(lambda quick: self.plot.setVisible(not quick))  # nothing trains: no loss
        self.table = QTableWidget(len(TASKS), len(COLUMNS))
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        for row, task in enumerate(TASKS):
            self._set(row, 0, task)
        self.plan_label = QLabel("Counting the examples in your library…")
        self.plan_label.setWordWrap(True)
        self.start_button = QPushButton("Start fine-tuning")
        self.start_button.setEnabled(False)
        self.start_button.clicked.connect(self.start)
        self.progress = ProgressRow("Fine-tuning")
        self.plot = LossPlot()
        self.verdict = QLabel("")
        self.verdict.setWordWrap(True)
        self.accept_button = QPushButton("Accept new model")
        self.keep_button = QPushButton("Keep current model")
        for button in (self.accept_button, self.keep_button):
            button.setEnabled(False)
        self.accept_button.clicked.connect(self.accept_model)
        self.keep_button.clicked.connect(self.keep_model)
        decision = QHBoxLayout()
        decision.addWidget(self.start_button)
        decision.addStretch()
        decision.addWidget(self.accept_button)
        decision.addWidget(self.keep_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        intro = QLabel(
            "Teaches the model your field from your own library: citations between your papers, your "
            "collections and tags, titles and abstracts, and the suggestions you marked. 20% of these "
            "signals are held out first; both models are scored on them, and nothing changes until you accept."
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addLayout(tasks_row)
        layout.addWidget(self.adapter_only_box)
        layout.addWidget(self.table)
        layout.addWidget(self.plan_label)
        layout.addWidget(self.progress)
        layout.addWidget(self.plot, 1)
        layout.addWidget(self.verdict)
        layout.addLayout(decision)
        layout.addWidget(close)
        self.refresh_plan()

    # ---- counts ----
    def selected_tasks(self) -> list[str]:
        return [task for task, box in self.task_boxes.items() if box.isChecked()]

    def refresh_plan(self) -> None:
        tasks = self.selected_tasks()
        self.start_button.setEnabled(False)
        if not tasks:
            self.plan_label.setText("Choose at least one task.")
            return
        if self.adapter_only_box.isChecked() and "link" not in tasks:
            self.plan_label.setText("The quick adapter learns from citations: tick the link task.")
            return
        adapter_only = self.adapter_only_box.isChecked()
        self.ops.run_query(lambda library, ctx: finetuning.plan(library, tasks, adapter_only=adapter_only), key="finetune-plan",
                           on_success=self._show_plan, on_failure=self.plan_label.setText)

    def _show_plan(self, plan: finetuning.FinetunePlan) -> None:
        for row, task in enumerate(TASKS):
            counts = plan.counts.get(task)
            self._set(row, 1, counts["train"] if counts else "")
            self._set(row, 2, counts["held_out"] if counts else "")
        s = plan.settings
        where = "GPU, all weights" if s.device == "cuda" else f"CPU, {s.trainable}, {s.max_length} tokens"
        text = f"Base model {plan.base_model}; {s.max_steps} steps of {s.batch_size} ({where})."
        if plan.settings.trainable == finetuning.ADAPTER_ONLY:
            text = f"Base model {plan.base_model}; no training: a query adapter fitted from your link signals."
        self.plan_label.setText(f"Cannot start: {plan.problem}" if plan.problem else text)
        self.start_button.setEnabled(plan.problem is None and self._op is None)
        self.plan_shown.emit()

    # ---- run ----
    def start(self) -> None:
        tasks = self.selected_tasks()
        adapter_only = self.adapter_only_box.isChecked()
        emit = self.bridge.metric.emit
        self.plot.clear()
        self.verdict.setText("")
        self.start_button.setEnabled(False)
        self._op = self.ops.run_mutation(
            lambda library, ctx: finetuning.finetune(
                library, tasks, adapter_only=adapter_only, progress=ctx.progress, on_metrics=emit, cancel=ctx.cancel
            ),
            changes={"model"}, name="fine-tune", on_success=self._on_done, on_failure=self._on_failed, on_cancelled=self._on_cancelled,
        )
        self.progress.start(self._op, "starting the training process")

    def cancel(self) -> None:
        """Stop training: the trainer saves a checkpoint and exits; Start resumes it."""
        self.progress.cancel()

    def _on_metric(self, record: dict) -> None:
        if isinstance(record.get("loss"), (int, float)) and "step" in record:
            self.plot.add(record["step"], record["loss"])

    def _on_done(self, result: finetuning.FinetuneResult) -> None:
        self._op = None
        self.result = result
        seconds = result.seconds.get("training", 0.0)
        self.progress.finish(f"done: {result.model}, trained in {seconds / 60:.1f} min" if seconds >= 1 else f"done: {result.model}")
        for row, task in enumerate(TASKS):
            values = result.tasks.get(task)
            if values:
                self._set(row, 3, values["metric"])
                self._set(row, 4, _fmt(values["before"]))
                self._set(row, 5, _fmt(values["after"]))
        decision = result.adapter_decision()
        if result.made_nothing:  # nothing to accept or decline
            self.verdict.setText(decision)
            self.start_button.setEnabled(True)
            self.run_finished.emit(result)
            return
        verdict = (
            f"{result.model} is better on your held-out signals: recommended." if result.recommended
            else f"{result.model} is not better on your held-out signals: keeping the current model is recommended."
        )
        if decision:
            verdict += f" {decision}"
        self.verdict.setText(verdict)
        self.accept_button.setEnabled(True)
        self.keep_button.setEnabled(True)
        self.run_finished.emit(result)

    def _on_failed(self, message: str) -> None:
        self._op = None
        self.progress.finish(message)
        self.start_button.setEnabled(True)
        self.run_finished.emit(None)

    def _on_cancelled(self) -> None:
        self._op = None
        self.progress.finish("cancelled; a checkpoint was kept, Start resumes it")
        self.start_button.setEnabled(True)
        self.run_finished.emit(None)

    # ---- decision ----
    def accept_model(self) -> None:
        name = self.result.model if self.result else None
        if not name:
            return
        self._decided()
        op = self.ops.run_mutation(
            lambda library, ctx: finetuning.accept(library, name, progress=ctx.progress, cancel=ctx.cancel),
            changes={"model", "index"}, name="accept model",
            on_success=lambda info: (self.verdict.setText(f"Now using {info.name}. Model ▸ Roll back returns to the previous one."),
                                     self.model_changed.emit(info.name)),
            on_failure=self.verdict.setText,
        )
        self.progress.start(op, f"embedding your library with {name} (the current model keeps serving)")

    def keep_model(self) -> None:
        name = self.result.model if self.result else None
        if not name:
            return
        self._decided()
        self.ops.run_mutation(lambda library, ctx: finetuning.keep_current(library, name), changes={"model"}, name="keep model",
                              on_success=lambda _r: self.verdict.setText(f"Kept the current model; {name} stays installed."),
                              on_failure=self.verdict.setText)

    def _decided(self) -> None:
        self.accept_button.setEnabled(False)
        self.keep_button.setEnabled(False)

    def reject(self) -> None:
        """Closing stops a running fine-tune (the checkpoint stays: Start resumes it)."""
        if self._op is not None:
            self.cancel()
        super().reject()

    def _set(self, row: int, column: int, value: object) -> None:
        item = QTableWidgetItem(str(value))
        if column:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.table.setItem(row, column, item)


def add_menu_actions(window) -> list[QAction]:
    """Add "Fine-tune on this library…" and "Roll back model" to `window.model_menu`."""
    from scimult_desktop.services.models import history as model_history

    window.model_menu.addSeparator()
    finetune = window.model_menu.addAction("&Fine-tune on this library…")

    def open_dialog() -> None:
        dialog = FinetuneDialog(window.ops, window)
        dialog.model_changed.connect(lambda _name: window.refresh_model_status())
        dialog.exec()

    finetune.triggered.connect(open_dialog)
    rollback = window.model_menu.addAction("&Roll back to the previous model")

    def roll_back() -> None:
        try:
            replaced, info = model_history.rollback()
        except ModelError as exc:  # nothing to roll back to
            window.statusBar().showMessage(str(exc), 8000)
            return
        window.statusBar().showMessage(f"Active model: {info.name} (was {replaced})", 8000)
        window.refresh_model_status()

    rollback.triggered.connect(roll_back)
    return [finetune, rollback]


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"

