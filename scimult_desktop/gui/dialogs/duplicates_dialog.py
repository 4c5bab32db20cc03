"""Reviewing duplicate proposals: two records side by side, then Merge, Keep both or Skip (undoable)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeySequence, QShortcut, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.gui.operations import Operations
from scimult_desktop.gui.organizing_commands import ServiceCommand
from scimult_desktop.services.library import merging
from scimult_desktop.services.library.merging import DuplicateComparison

_DIFFERS = QColor("#fff1b8")  # differing fields: a soft yellow that reads on light and dark palettes
_COUNT_LABELS = {"files": "Files", "tags": "Tags", "collections": "Collections", "notes": "Notes",
                 "references": "References", "cites": "Cites (in library)", "cited_by": "Cited by (in library)"}


def load_proposals(library) -> list[dict]:
    """Open proposals with both titles, for the list (runs on a worker thread)."""
    proposals = library.duplicate_proposals()
    papers = {p.id: p for p in library.papers.get_many({i for p in proposals for i in (p["paper_a"], p["paper_b"])})}
    return [dict(p, title_a=papers[p["paper_a"]].title, title_b=papers[p["paper_b"]].title,
                 key_a=papers[p["paper_a"]].citekey, key_b=papers[p["paper_b"]].citekey)
            for p in proposals if p["paper_a"] in papers and p["paper_b"] in papers]


class DuplicatesDialog(QDialog):
    """Qt view of the library's duplicate proposals, one pair at a time.

    Per differing field, a tick picks the value the merged record keeps (the richer one is
    ticked at first); "Keep" picks which record survives (its id and citation key stay).
    Merge and Keep both go on the window's undo stack (Ctrl+Z here or in the window).

    Signals:
        comparison_shown(int, int): the pair (a, b) is now laid out.
        proposals_loaded(int): the list now holds this many open proposals.
    """

    comparison_shown = Signal(int, int)
    proposals_loaded = Signal(int)

    def __init__(self, ops: Operations, undo_stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Review duplicates")
        self.ops, self.undo_stack = ops, undo_stack
        self.comparison: DuplicateComparison | None = None
        self._proposals: list[dict] = []
        self._skipped: set[tuple[int, int]] = set()

        self.pairs = QListWidget()
        self.pairs.setMinimumWidth(220)
        self.pairs.setSpacing(2)
        self.pairs.currentRowChanged.connect(self._on_pair_chosen)
        self.reason = QLabel()
        self.reason.setWordWrap(True)

        self.keep_a, self.keep_b = QRadioButton("Keep A"), QRadioButton("Keep B")
        self.keep_group = QButtonGroup(self)
        self.keep_group.addButton(self.keep_a)
        self.keep_group.addButton(self.keep_b)
        keep_row = QHBoxLayout()
        keep_row.addWidget(QLabel("Record to keep (its id and citation key stay):"))
        keep_row.addWidget(self.keep_a)
        keep_row.addWidget(self.keep_b)
        keep_row.addStretch()

        self.table = QTableWidget(0, 3)
        self.table.setHorizontalHeaderLabels(["Field", "A", "B"])
        self.table.verticalHeader().hide()
        self.table.setWordWrap(True)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.itemChanged.connect(self._on_tick)
        self.hint = QLabel("<small>Yellow rows differ: tick the value the merged record keeps. Files, tags, collections, "
                           "notes and citation links of both records end up on the kept one.</small>")
        self.hint.setWordWrap(True)

        self.merge_button = QPushButton("&Merge")
        self.merge_button.setDefault(True)
        self.merge_button.clicked.connect(self.merge)
        self.keep_both_button = QPushButton("&Keep both")
        self.keep_both_button.setToolTip("They are different works: the pair is not proposed again")
        self.keep_both_button.clicked.connect(self.keep_both)
        self.skip_button = QPushButton("&Skip")
        self.skip_button.setToolTip("Decide later")
        self.skip_button.clicked.connect(self.skip)
        self.undo_button = QPushButton("&Undo")
        self.undo_button.clicked.connect(undo_stack.undo)
        undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_button.setEnabled(undo_stack.canUndo())
        QShortcut(QKeySequence.StandardKey.Undo, self, activated=undo_stack.undo)
        self.scan_button = QPushButton("&Find more by content")
        self.scan_button.setToolTip("Compare every paper's content with the model to find versions that import "
                                    "did not match (progress in the status bar; needs the library indexed)")
        self.scan_button.clicked.connect(self.scan)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (self.merge_button, self.keep_both_button, self.skip_button, self.undo_button):
            buttons.addWidget(button)
        buttons.addStretch()
        self.scan_result = QLabel()
        buttons.addWidget(self.scan_result)
        buttons.addWidget(self.scan_button)
        buttons.addWidget(close)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.reason)
        right_layout.addLayout(keep_row)
        right_layout.addWidget(self.table, 1)
        right_layout.addWidget(self.hint)
        self.empty = QLabel("No duplicate proposals: nothing to review.", alignment=Qt.AlignmentFlag.AlignCenter)
        self.empty.hide()
        right_layout.addWidget(self.empty)
        splitter = QSplitter()
        splitter.addWidget(self.pairs)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 700])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)
        self.resize(960, 600)
        self._set_enabled(False)
        ops.session.library_did_change.connect(self._on_library_changed)
        self.refresh()

    # ---- loading ----
    def refresh(self) -> None:
        self.ops.run_query(lambda library, ctx: load_proposals(library), on_success=self._set_proposals,
                           key="duplicate-proposals", name="loading duplicate proposals")

    def _on_library_changed(self, changes: set[str]) -> None:
        if self.isVisible() and changes & {"papers", "duplicates", "edits"}:
            self.refresh()

    def _set_proposals(self, proposals: list[dict]) -> None:
        current = self._current_pair()
        fresh = [p for p in proposals if (p["paper_a"], p["paper_b"]) not in self._skipped]
        self._proposals = fresh + [p for p in proposals if (p["paper_a"], p["paper_b"]) in self._skipped]  # skipped last
        self.pairs.blockSignals(True)
        self.pairs.clear()
        for proposal in self._proposals:
            item = QListWidgetItem(f"{proposal['title_a'][:48]}\n    {proposal['key_a']} ↔ {proposal['key_b']}")
            item.setToolTip(f"A: {proposal['title_a']}\nB: {proposal['title_b']}\n{proposal['reason']}")
            self.pairs.addItem(item)
        self.pairs.blockSignals(False)
        pairs = [(p["paper_a"], p["paper_b"]) for p in self._proposals]
        row = pairs.index(current) if current in pairs else 0
        self.empty.setVisible(not self._proposals)
        self.table.setVisible(bool(self._proposals))
        self.proposals_loaded.emit(len(self._proposals))
        if self._proposals:
            self.pairs.setCurrentRow(row)
            self._on_pair_chosen(row)
        else:
            self.comparison = None
            self.reason.setText("")
            self._set_enabled(False)

    def _current_pair(self) -> tuple[int, int] | None:
        if self.comparison is None:
            return None
        return (int(self.comparison.a.paper.id), int(self.comparison.b.paper.id))

    def _on_pair_chosen(self, row: int) -> None:
        if not 0 <= row < len(self._proposals):
            return
        a, b = self._proposals[row]["paper_a"], self._proposals[row]["paper_b"]
        self._set_enabled(False)
        self.ops.run_query(lambda library, ctx: merging.compare_duplicates(library, a, b), on_success=self._show,
                           key="duplicate-compare", name="comparing two records")

    def _show(self, comparison: DuplicateComparison) -> None:
        self.comparison = comparison
        a, b = comparison.a.paper, comparison.b.paper
        position = self.pairs.currentRow() + 1
        self.reason.setText(f"<b>Pair {position} of {len(self._proposals)}</b> — {html.escape(comparison.reason or 'proposed')}")
        self.table.setHorizontalHeaderLabels(["Field", f"A: {a.citekey} (id {a.id})", f"B: {b.citekey} (id {b.id})"])
        (self.keep_a if comparison.suggested_keep == a.id else self.keep_b).setChecked(True)
        self.table.blockSignals(True)
        rows = len(comparison.fields) + len(_COUNT_LABELS)
        self.table.setRowCount(rows)
        bold = QFont()
        bold.setBold(True)
        for row, item in enumerate(comparison.fields):
            label = QTableWidgetItem(item.label)
            label.setData(Qt.ItemDataRole.UserRole, item.name)
            self.table.setItem(row, 0, label)
            for column, (text, letter) in enumerate(((item.value_a, "a"), (item.value_b, "b")), start=1):
                cell = QTableWidgetItem(text or "—")
                cell.setToolTip(text)
                if item.differs:
                    cell.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                    cell.setCheckState(Qt.CheckState.Checked if item.richer == letter else Qt.CheckState.Unchecked)
                    cell.setBackground(QBrush(_DIFFERS))
                    cell.setForeground(QBrush(QColor("#1a1a1a")))
                    if item.richer == letter:
                        cell.setFont(bold)
                else:
                    cell.setFlags(Qt.ItemFlag.ItemIsEnabled)
                self.table.setItem(row, column, cell)
            if item.differs:
                label.setBackground(QBrush(_DIFFERS))
                label.setForeground(QBrush(QColor("#1a1a1a")))
        for offset, (key, title) in enumerate(_COUNT_LABELS.items()):
            row = len(comparison.fields) + offset
            self.table.setItem(row, 0, QTableWidgetItem(title))
            for column, side in ((1, comparison.a), (2, comparison.b)):
                detail = side.tags if key == "tags" else side.collections if key == "collections" else None
                text = str(side.counts.get(key, 0)) + (f": {', '.join(detail)}" if detail else "")
                cell = QTableWidgetItem(text)
                cell.setFlags(Qt.ItemFlag.ItemIsEnabled)
                cell.setForeground(QBrush(QColor("#666666")))
                self.table.setItem(row, column, cell)
        self.table.blockSignals(False)
        self.table.resizeRowsToContents()
        self._set_enabled(True)
        self.merge_button.setFocus()
        self.comparison_shown.emit(int(a.id), int(b.id))

    def _on_tick(self, cell: QTableWidgetItem) -> None:
        """One tick per field: ticking A unticks B and the other way round."""
        if cell.column() not in (1, 2) or not cell.flags() & Qt.ItemFlag.ItemIsUserCheckable:
            return
        other = self.table.item(cell.row(), 3 - cell.column())
        self.table.blockSignals(True)
        checked = cell.checkState() == Qt.CheckState.Checked
        other.setCheckState(Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked)
        for item in (cell, other):
            font = item.font()
            font.setBold(item.checkState() == Qt.CheckState.Checked)
            item.setFont(font)
        self.table.blockSignals(False)

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.merge_button, self.keep_both_button, self.skip_button, self.keep_a, self.keep_b):
            widget.setEnabled(enabled)

    # ---- choices ----
    def chosen_values(self) -> dict[str, str]:
        """Field -> "a" or "b": whose value the merged record keeps, for the fields that differ."""
        chosen = {}
        for row in range(len(self.comparison.fields) if self.comparison else 0):
            name = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
            cell_a = self.table.item(row, 1)
            if cell_a.flags() & Qt.ItemFlag.ItemIsUserCheckable:
                chosen[name] = "a" if cell_a.checkState() == Qt.CheckState.Checked else "b"
        return chosen

    def choose(self, field: str, letter: str) -> None:
        """Tick `letter`'s value of `field` (keyboard-free access for scripts and tests)."""
        for row in range(len(self.comparison.fields) if self.comparison else 0):
            if self.table.item(row, 0).data(Qt.ItemDataRole.UserRole) == field:
                self.table.item(row, 1 if letter == "a" else 2).setCheckState(Qt.CheckState.Checked)

    def merge(self) -> None:
        """Merge the shown pair as chosen; one step on the undo stack."""
        if self.comparison is None:
            return
        a, b = self.comparison.a.paper, self.comparison.b.paper
        keep_letter = "a" if self.keep_a.isChecked() else "b"
        keep, drop = (a, b) if keep_letter == "a" else (b, a)
        take = [name for name, letter in self.chosen_values().items() if letter != keep_letter]
        keep_id, drop_id = int(keep.id), int(drop.id)
        self._set_enabled(False)
        self.undo_stack.push(ServiceCommand(
            self.ops, f"merge “{drop.title[:40]}” into [{keep.citekey}]",
            lambda library: merging.merge_papers(library, keep_id, drop_id, take=take),
            changes={"papers", "tags", "edits", "notes"}, on_failure=self._show_error,
            on_done=lambda result: self._follow_merge(result, keep_id, drop_id),
        ))
        self.comparison = None

    def _follow_merge(self, result: object, keep_id: int, drop_id: int) -> None:
        """Where the window showed the merged-away paper, show the kept one."""
        session = self.ops.session
        if isinstance(result, merging.MergeResult) and session.selected_paper == drop_id:
            session.select_paper(keep_id)

    def keep_both(self) -> None:
        """Record that the pair are different works (undoable: the proposal comes back)."""
        if self.comparison is None:
            return
        a, b = int(self.comparison.a.paper.id), int(self.comparison.b.paper.id)
        self._set_enabled(False)
        self.undo_stack.push(ServiceCommand(
            self.ops, f"keep both “{self.comparison.a.paper.title[:40]}” records",
            lambda library: merging.set_proposal_status(library, a, b, "rejected") or True,
            undo=lambda library, _receipt: merging.set_proposal_status(library, a, b, "proposed"),
            changes={"duplicates"}, on_failure=self._show_error,
        ))
        self.comparison = None

    def skip(self) -> None:
        """Leave the pair for later and show the next one."""
        pair = self._current_pair()
        if pair is None:
            return
        self._skipped.add(pair)
        row = self.pairs.currentRow()
        if row + 1 < self.pairs.count():
            self.pairs.setCurrentRow(row + 1)

    def scan(self) -> None:
        """Look for near-duplicates by content (the model's link vectors and titles) in the background."""
        self.scan_button.setEnabled(False)
        self.scan_result.setText("Looking…")

        def done(made: int) -> None:
            self.scan_button.setEnabled(True)
            self.scan_result.setText(f"{made} new by content" if made else "No new near-duplicates")
            self.refresh()

        def failed(message: str) -> None:
            self.scan_button.setEnabled(True)
            self.scan_result.setText("")
            self._show_error(message)

        self.ops.run_mutation(lambda library, ctx: library.scan_near_duplicates(progress=ctx.progress, cancel=ctx.cancel),
                              changes={"duplicates"}, on_success=done, on_failure=failed,
                              on_cancelled=lambda: (self.scan_button.setEnabled(True), self.scan_result.setText("Cancelled")),
                              name="looking for near-duplicates")

    def _show_error(self, message: str) -> None:
        self.reason.setText(f"<span style='color:#b00020'>{html.escape(message)}</span>")
        self.refresh()
