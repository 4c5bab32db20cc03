"""The library table (sortable, filterable) and the collections/tags sidebar."""

from __future__ import annotations

from contextlib import contextmanager

from PySide6.QtCore import QItemSelectionModel, QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.gui.item_models import ID_ROLE, PaperFilterProxy, PaperTableModel, PreparedRows
from scimult_desktop.gui.operations import Operations
from scimult_desktop.services.library import browsing
from scimult_desktop.services.library.browsing import Facets
from scimult_desktop.services.finding.filters import SearchFilters

_KIND_ROLE = Qt.ItemDataRole.UserRole + 10


class LibraryPanel(QWidget):
    """Qt view of the library's papers: a filter box over a sortable table, or an empty state.

    Signals:
        demo_requested(): the user asked for the demo library from the empty state.
        import_requested(): the user asked to import files from the empty state.
        rows_loaded(int): the table was refreshed with this many papers.
    """

    demo_requested = Signal()
    import_requested = Signal()
    rows_loaded = Signal(int)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.session = ops.session
        self.model = PaperTableModel(self)
        self.proxy = PaperFilterProxy(self)
        self.proxy.setSourceModel(self.model)

        self.filter_edit = QLineEdit(placeholderText="Filter by title, author, year, venue, tag… (Ctrl+L)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.textChanged.connect(self._on_filter_changed)
        self.count_label = QLabel()

        self.table = QTableView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        # (column, has no value in any row) -> hidden; the column chooser replaces it (gui/widgets/column_chooser.py).
        self.column_rule = lambda column, empty: empty
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 180), (2, 56), (3, 150), (4, 44), (5, 140)):
            header.resizeSection(column, width)
        header.setSortIndicatorShown(True)
        self.table.setTabKeyNavigation(False)  # Tab leaves the table for the next pane (arrows move between cells)
        self.table.selectionModel().currentRowChanged.connect(self._on_current_changed)
        self._following_paper = False  # set while the table re-highlights the selected paper itself

        self.empty = QWidget()
        empty_layout = QVBoxLayout(self.empty)
        empty_layout.addStretch()
        self.empty_label = QLabel(
            "<h2>Your library is empty</h2>"
            "<p>Drop PDFs, .bib files or folders anywhere on this window, use <b>File → Import…</b> "
            "(Ctrl+O), or start with the demo library: 300 SciFact abstracts.</p>"
        )
        self.empty_label.setWordWrap(True)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        buttons = QHBoxLayout()
        self.demo_button = QPushButton("Open the demo library")
        self.demo_button.clicked.connect(self.demo_requested)
        import_button = QPushButton("Import files…")
        import_button.clicked.connect(self.import_requested)
        buttons.addStretch()
        buttons.addWidget(self.demo_button)
        buttons.addWidget(import_button)
        buttons.addStretch()
        empty_layout.addWidget(self.empty_label)
        empty_layout.addLayout(buttons)
        empty_layout.addStretch()

        table_page = QWidget()
        table_layout = QVBoxLayout(table_page)
        table_layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        top.addWidget(self.filter_edit, 1)
        top.addWidget(self.count_label)
        table_layout.addLayout(top)
        table_layout.addWidget(self.table)

        self.stack = QStackedWidget()
        self.loading = QLabel("Loading the library…", alignment=Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.loading)
        self.stack.addWidget(table_page)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.stack)

        self.session.library_did_change.connect(self._on_library_changed)
        self.session.library_did_open.connect(lambda _folder: self.refresh())
        self.session.paper_selected.connect(self._select_in_table)

    # ---- loading ----
    def refresh(self) -> None:
        """Reload the rows in the background (the table stays usable meanwhile), sorted as shown."""
        header = self.table.horizontalHeader()
        column, order = header.sortIndicatorSection(), header.sortIndicatorOrder()
        self.ops.run_query(lambda library, ctx: PaperTableModel.prepare(browsing.list_rows(library), column, order),
                           on_success=self._set_rows, on_failure=self._show_error, key="library-rows", name="loading the library")

    def _on_library_changed(self, changes: set[str]) -> None:
        if changes & {"papers", "tags", "edits"}:  # indexing changes no row
            self.refresh()

    def _set_rows(self, prepared: PreparedRows) -> None:
        with self._keeping_selected_paper():
            self.model.set_rows(prepared)
        self.stack.setCurrentIndex(1 if prepared.rows else 2)
        # Columns no paper has a value for (the demo library has no authors or venues) are hidden until one does.
        for column in range(1, self.model.columnCount()):
            hidden = self.column_rule(column, column in prepared.empty_columns)
            if self.table.isColumnHidden(column) != hidden:  # each change re-lays out the header
                self.table.setColumnHidden(column, hidden)
        self._update_count()
        self.rows_loaded.emit(len(prepared.rows))

    def _show_error(self, message: str) -> None:
        self.loading.setText(f"The library could not be read: {message}")
        self.stack.setCurrentIndex(0)

    # ---- filtering and selection ----
    def _on_filter_changed(self, text: str) -> None:
        with self._keeping_selected_paper():
            self.proxy.set_text(text)
        self._update_count()

    def set_allowed_ids(self, ids: set[int] | None) -> None:
        with self._keeping_selected_paper():
            self.proxy.set_allowed_ids(ids)
        self._update_count()

    @contextmanager
    def _keeping_selected_paper(self):
        """Rows come and go inside: Qt then moves the current row to a neighbour, which must not select it."""
        self._following_paper = True
        try:
            yield
        finally:
            self._following_paper = False
        self._select_in_table(self.session.selected_paper)

    def _update_count(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        self.count_label.setText(f"{shown:,} of {total:,} papers" if shown != total else f"{total:,} papers")

    def _on_current_changed(self, current, _previous) -> None:
        if current.isValid() and not self._following_paper:
            paper_id = current.data(ID_ROLE)
            if paper_id is not None and paper_id != self.session.selected_paper:
                self.session.select_paper(int(paper_id))

    def _select_in_table(self, paper_id: int | None) -> None:
        """Highlight the selected paper's row; when the table does not show it, highlight none (never another paper)."""
        row = self.model.row_of(paper_id) if paper_id is not None else None
        index = self.proxy.mapFromSource(self.model.index(row, 0)) if row is not None else QModelIndex()
        selection = self.table.selectionModel()
        self._following_paper = True
        try:
            if not index.isValid():
                if selection.hasSelection() or self.table.currentIndex().isValid():
                    selection.clear()
            elif self.table.currentIndex().row() != index.row() or not selection.isRowSelected(index.row(), QModelIndex()):
                selection.setCurrentIndex(
                    index, QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows
                )
                self.table.scrollTo(index)
        finally:
            self._following_paper = False

    def selected_ids(self) -> list[int]:
        return [int(i.data(ID_ROLE)) for i in self.table.selectionModel().selectedRows()]


class Sidebar(QTreeWidget):
    """Collections and tags with counts; picking one filters the library table.

    Signals:
        filter_changed(object): a `SearchFilters` with the chosen collection or tag, or None for all papers.
    """

    filter_changed = Signal(object)
    rebuilt = Signal()  # the entries were listed again (tag colours are drawn on them, gui/organizing.py)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.setHeaderHidden(True)
        self.setColumnCount(1)
        self.itemSelectionChanged.connect(self._on_selection)
        ops.session.library_did_change.connect(lambda changes: self.refresh() if changes & {"papers", "tags"} else None)
        ops.session.library_did_open.connect(lambda _folder: self.refresh())
        self._build(Facets([], []))

    def refresh(self) -> None:
        self.ops.run_query(lambda library, ctx: browsing.facets(library), on_success=self._build, key="facets", name="loading tags")

    def _build(self, facets: Facets) -> None:
        chosen = self._current_filter()
        self.blockSignals(True)
        self.clear()
        everything = QTreeWidgetItem(self, ["All papers"])
        everything.setData(0, _KIND_ROLE, ("all", None))
        for title, kind, entries in (("Collections", "collection", facets.collections), ("Tags", "tag", facets.tags)):
            group = QTreeWidgetItem(self, [title])
            group.setFlags(Qt.ItemFlag.ItemIsEnabled)
            if not entries:
                hint = QTreeWidgetItem(group, ["none yet"])
                hint.setToolTip(0, "Import a Zotero library or .bib groups" if kind == "collection"
                                else "Accept suggested fields on the Fields page")
                hint.setFlags(Qt.ItemFlag.NoItemFlags)
            for name, count in entries:
                item = QTreeWidgetItem(group, [f"{name}  ({count})"])
                item.setData(0, _KIND_ROLE, (kind, name))
                if chosen == (kind, name):
                    item.setSelected(True)
            group.setExpanded(True)
        if chosen is None or chosen[0] not in ("collection", "tag"):
            everything.setSelected(True)
        self.blockSignals(False)
        self.rebuilt.emit()

    def _current_filter(self):
        items = self.selectedItems()
        return items[0].data(0, _KIND_ROLE) if items else None

    def _on_selection(self) -> None:
        chosen = self._current_filter()
        if chosen and chosen[0] not in ("all", "collection", "tag"):
            return  # an entry that opens something (the trash) keeps the table's filter
        if not chosen or chosen[0] == "all":
            self.filter_changed.emit(None)
        elif chosen[0] == "collection":
            self.filter_changed.emit(SearchFilters(collection=chosen[1]))
        else:
            self.filter_changed.emit(SearchFilters(tag=chosen[1]))
