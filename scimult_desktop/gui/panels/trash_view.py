"""The trash: papers deleted from the library, with Restore and Empty trash (which asks first)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.gui.item_models import authors_text
from scimult_desktop.gui.operations import Operations
from scimult_desktop.services.library import trash
from scimult_desktop.services.library.trash import TrashedPaper

_ID_ROLE = Qt.ItemDataRole.UserRole + 2


class TrashView(QDialog):
    """Qt view of the library's trash.

    Signals:
        shown(int): the list now shows this many papers.
    """

    shown = Signal(int)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Trash")
        self.setObjectName("trash-view")
        self.resize(760, 420)
        self.ops = ops
        self.papers: list[TrashedPaper] = []
        self.summary = QLabel("Loading the trash…")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, 4)
        self.table.setHorizontalHeaderLabels(["Title", "Authors", "Year", "Deleted"])
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 170), (2, 50), (3, 140)):
            header.resizeSection(column, width)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.restore_button = QPushButton("&Restore")
        self.restore_button.setToolTip("Put the selected papers back in the library")
        self.restore_button.clicked.connect(self.restore_selected)
        self.empty_button = QPushButton("&Empty trash…")
        self.empty_button.setToolTip("Delete every paper in the trash for good (asks first; files on disk are kept)")
        self.empty_button.clicked.connect(self.empty)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(self.restore_button)
        buttons.addWidget(self.empty_button)
        buttons.addStretch()
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        ops.session.library_did_change.connect(self._on_library_changed)
        self._update_buttons()
        self.refresh()

    def refresh(self) -> None:
        self.ops.run_query(lambda library, ctx: trash.list_trash(library), on_success=self._show,
                           on_failure=self.summary.setText, key="trash-list", name="reading the trash")

    def _on_library_changed(self, changes: set[str]) -> None:
        if "papers" in changes:
            self.refresh()

    def _show(self, papers: list[TrashedPaper]) -> None:
        self.papers = papers
        self.table.setRowCount(len(papers))
        for row, paper in enumerate(papers):
            cells = (paper.title, authors_text(paper.authors), str(paper.year or ""), paper.deleted_at.replace("T", " ")[:16])
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setData(_ID_ROLE, paper.id)
                item.setToolTip(text)
                self.table.setItem(row, column, item)
        self.summary.setText(
            f"{len(papers)} paper(s) in the trash. They are left out of the library, search, related papers and "
            "suggestions; Restore puts them back with their tags, collections, notes and files."
            if papers else "The trash is empty. Papers you delete (Delete key) wait here until you empty it."
        )
        self._update_buttons()
        self.shown.emit(len(papers))

    def selected_ids(self) -> list[int]:
        return sorted({int(self.table.item(index.row(), 0).data(_ID_ROLE)) for index in self.table.selectionModel().selectedRows()})

    def _update_buttons(self) -> None:
        self.restore_button.setEnabled(bool(self.table.selectionModel().selectedRows()))
        self.empty_button.setEnabled(bool(self.papers))

    def restore_selected(self) -> None:
        ids = self.selected_ids()
        if ids:
            self.ops.run_mutation(lambda library, ctx: trash.restore_papers(library, ids), changes={"papers"},
                                  on_failure=self.summary.setText, name="restoring papers")

    def empty(self, *, confirm: bool = True) -> None:
        """Delete everything in the trash for good, after asking (with the count)."""
        count = len(self.papers)
        if not count:
            return
        if confirm:
            answer = QMessageBox.question(
                self, "Empty trash",
                f"Delete {count} paper(s) in the trash for good?\n\nThis cannot be undone. "
                "Their files on disk are kept.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel, QMessageBox.StandardButton.Cancel)
            if answer != QMessageBox.StandardButton.Yes:
                return
        ids = [paper.id for paper in self.papers]  # exactly what the user saw and agreed to
        self.ops.run_mutation(lambda library, ctx: trash.empty_trash(library, ids), changes={"papers"},
                              on_failure=self.summary.setText, name="emptying the trash")
