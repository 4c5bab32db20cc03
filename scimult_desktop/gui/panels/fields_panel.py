"""Fields: classification of each paper and of the library, a bar chart of field counts,
a 2-D map of the classification embeddings, and accepting suggested tags (with undo)."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.gui.dialogs.bulk_tag_dialog import BulkTagDialog
from scimult_desktop.gui.operations import Operations
from scimult_desktop.services.finding import top_fields
from scimult_desktop.gui.widgets.charts import BarChart, ScatterMap, colour_for
from scimult_desktop.services.library import browsing
from scimult_desktop.services.library.browsing import FieldMap

LABEL_SETS = {"mag": "Fields of study (MAG)", "arxiv": "arXiv categories"}


class ApplyTagsCommand(QUndoCommand):
    """Accepting suggested labels as tags; undo removes exactly the tags it added (`Library.undo`)."""

    def __init__(self, ops: Operations, assignments: dict[int, list[str]], on_done=None) -> None:
        count = sum(len(v) for v in assignments.values())
        super().__init__(f"tag {len(assignments)} paper(s) with {count} field(s)")
        self.ops, self.assignments, self.on_done = ops, assignments, on_done

    def redo(self) -> None:
        assignments = self.assignments
        self.ops.run_mutation(lambda library, ctx: library.apply_tags(assignments), changes={"tags"},
                              on_success=self.on_done, name="applying tags")

    def undo(self) -> None:
        self.ops.run_mutation(lambda library, ctx: library.undo(), changes={"tags"}, on_success=self.on_done,
                              name="undoing tags")


class FieldsPanel(QWidget):
    """Qt view of the library's fields.

    Signals:
        map_shown(int): the chart and map show this many papers.
        tags_changed(): suggested tags were applied or undone.
    """

    map_shown = Signal(int)
    tags_changed = Signal()

    def __init__(self, ops: Operations, undo_stack: QUndoStack, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.settings = settings
        self.session = ops.session
        self.undo_stack = undo_stack
        self.field_map: FieldMap | None = None
        self.stale = True

        self.label_set = QComboBox()
        for value, label in LABEL_SETS.items():
            self.label_set.addItem(label, value)
        self.classify_button = QPushButton("Classify library")
        self.classify_button.clicked.connect(self.classify)
        self.status = QLabel("Classify the library to see its fields: each paper gets suggested fields, "
                             "the chart counts them and the map places similar papers together.")
        self.status.setWordWrap(True)
        self.chart = BarChart()
        chart_scroll = QScrollArea()
        chart_scroll.setWidgetResizable(True)
        chart_scroll.setWidget(self.chart)
        self.map = ScatterMap()
        self.map.point_clicked.connect(self.session.select_paper)

        self.paper_title = QLabel("Select a paper (in the table or on the map) to see its suggested fields.")
        self.paper_title.setWordWrap(True)
        self.suggestions = QListWidget()
        self.accept_button = QPushButton("Accept checked as tags")
        self.accept_button.clicked.connect(self.accept_checked)
        self.accept_all_button = QPushButton("Tag papers with their top field…")
        self.accept_all_button.clicked.connect(self.accept_top_for_all)
        self.undo_button = QPushButton("Undo")
        self.undo_button.clicked.connect(undo_stack.undo)
        undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_button.setEnabled(undo_stack.canUndo())
        for button in (self.accept_button, self.accept_all_button):
            button.setEnabled(False)

        top = QHBoxLayout()
        top.addWidget(QLabel("Labels"))
        top.addWidget(self.label_set)
        top.addWidget(self.classify_button)
        top.addStretch()
        paper_box = QWidget()
        paper_layout = QVBoxLayout(paper_box)
        paper_layout.setContentsMargins(0, 0, 0, 0)
        paper_layout.addWidget(self.paper_title)
        paper_layout.addWidget(self.suggestions, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.undo_button)
        paper_layout.addLayout(buttons)
        paper_layout.addWidget(self.accept_all_button)
        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(chart_scroll)
        left.addWidget(paper_box)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.map)
        splitter.setSizes([360, 560])
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(splitter, 1)

        self.session.paper_selected.connect(self.show_paper)
        self.session.library_did_change.connect(self._on_library_changed)
        self.session.library_did_open.connect(lambda _f: self._on_library_changed({"papers"}))

    def _on_library_changed(self, changes: set[str]) -> None:
        if changes & {"papers", "index", "models"}:
            self.stale = True

    def classify(self) -> None:
        label_set = self.label_set.currentData()
        self.classify_button.setEnabled(False)
        self.status.setText("Classifying the library…")
        self.ops.run_query(
            lambda library, ctx: browsing.field_map(library, label_set=label_set),
            on_success=self._show_map, on_failure=self._on_failure, key="fields", name="classifying",
            on_progress=lambda e: self.status.setText(f"Embedding the library first: {e.done}/{e.total or '?'}…"),
        )

    def _on_failure(self, message: str) -> None:
        self.classify_button.setEnabled(True)
        self.status.setText(message)

    def _show_map(self, field_map: FieldMap) -> None:
        self.field_map = field_map
        self.stale = False
        self.classify_button.setEnabled(True)
        colours = {name: colour_for(i) for i, (name, _count) in enumerate(field_map.counts)}
        self.chart.set_counts(field_map.counts, colours)
        self.map.set_points(field_map.ids, field_map.titles, field_map.xy, field_map.fields, colours)
        self.accept_all_button.setEnabled(bool(field_map.ids))
        if field_map.ids:
            self.status.setText(f"{len(field_map.ids)} papers in {len(field_map.counts)} fields "
                                f"({LABEL_SETS.get(field_map.label_set, field_map.label_set)}; {field_map.method_note or 'zero-shot'}). "
                                "Hover a dot for its title, click it to open the paper.")
        else:
            self.status.setText("The library is empty: import papers first (File → Import…).")
        if self.session.selected_paper is not None:
            self.show_paper(self.session.selected_paper)
        self.map_shown.emit(len(field_map.ids))

    def show_paper(self, paper_id: int) -> None:
        self.map.set_selected(paper_id)
        self.suggestions.clear()
        if self.field_map is None or paper_id not in self.field_map.ids:
            self.accept_button.setEnabled(False)
            return
        i = self.field_map.ids.index(paper_id)
        self.paper_title.setText(f"<b>{self.field_map.titles[i]}</b>: suggested fields")
        for n, label in enumerate(self.field_map.suggestions[i]):
            item = QListWidgetItem(f"{label['label']}  ({label['score']:.0%})")
            item.setData(Qt.ItemDataRole.UserRole, label["label"])
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if n == 0 else Qt.CheckState.Unchecked)
            self.suggestions.addItem(item)
        self.accept_button.setEnabled(self.suggestions.count() > 0)

    def checked_labels(self) -> list[str]:
        return [self.suggestions.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.suggestions.count())
                if self.suggestions.item(i).checkState() == Qt.CheckState.Checked]

    def accept_checked(self) -> None:
        paper_id, labels = self.session.selected_paper, self.checked_labels()
        if paper_id is not None and labels:
            self.undo_stack.push(ApplyTagsCommand(self.ops, {int(paper_id): labels}, on_done=self._on_tags_done))

    def accept_top_for_all(self) -> None:
        """Ask first (count, each field's confidence, a threshold), then tag what the user ticked (undoable)."""
        if self.field_map is None:
            return
        proposals = top_fields.top_field_proposals(self.field_map)
        if not proposals:
            return
        dialog = BulkTagDialog(proposals, self.settings, self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.chosen():
            self.undo_stack.push(ApplyTagsCommand(self.ops, top_fields.assignments(dialog.chosen()), on_done=self._on_tags_done))

    def _on_tags_done(self, _result) -> None:
        self.status.setText("Tags updated (Edit → Undo reverts).")
        self.tags_changed.emit()
