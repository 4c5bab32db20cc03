"""Import: drop files and folders, per-file status, errors with file and reason, cancel,
then indexing in the background with its own progress; watch folders."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QProgressBar,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.domain.progress import ProgressEvent
from scimult_desktop.domain.records import ImportReport
from scimult_desktop.gui.operations import Operation, Operations
from scimult_desktop.gui.widgets.buttons import button_box
from scimult_desktop.services.library import index_backlog, watching

WATCH_SCAN_INTERVAL_MS = 60_000


@dataclass
class FileStatus:
    """One row of the import table."""

    path: str
    status: str  # importing | done | failed | cancelled
    detail: str = ""


NO_TEXT_LAYER = "stored, no text layer"
_STATUS_COLOURS = {"failed": "#d62728", "cancelled": "#b07a00", "done": "#2ca02c", NO_TEXT_LAYER: "#b07a00"}
_BAR_FORMATS = {"done": "%p%", "cancelled": "Cancelled", "failed": "Failed"}
LAST_FOLDER_KEY = "import/last_folder"


class FileStatusTableModel(QAbstractTableModel):
    """Per-file rows of the current import (file, status, reason)."""

    HEADERS = ("File", "Status", "Details")

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.rows: list[FileStatus] = []
        self._by_path: dict[str, int] = {}

    def clear(self) -> None:
        self.beginResetModel()
        self.rows, self._by_path = [], {}
        self.endResetModel()

    def set_status(self, path: str, status: str, detail: str = "") -> None:
        row = self._by_path.get(path)
        if row is None:
            self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows))
            self._by_path[path] = len(self.rows)
            self.rows.append(FileStatus(path, status, detail))
            self.endInsertRows()
            return
        self.rows[row].status, self.rows[row].detail = status, detail or self.rows[row].detail
        self.dataChanged.emit(self.index(row, 0), self.index(row, 2))

    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else 3

    def headerData(self, section, orientation, role=Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        return None

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return (Path(row.path).name or row.path, row.status, row.detail)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.path}\n{row.detail}".strip()
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 1 and row.status in _STATUS_COLOURS:
            return QColor(_STATUS_COLOURS[row.status])
        return None


class ProgressRow(QWidget):
    """A labelled progress bar with a Cancel button, for one background job."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = title
        self.label = QLabel(f"{title}: idle")
        self.label.setMinimumWidth(120)
        self.bar = QProgressBar()
        self.bar.setRange(0, 1)
        self.bar.setValue(0)
        self.bar.setTextVisible(True)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        row.addWidget(self.bar, 1)
        row.addWidget(self.cancel_button)
        layout.addWidget(self.label)
        layout.addLayout(row)
        self._op: Operation | None = None
        self.cancel_button.clicked.connect(self.cancel)
        self.bar.hide()  # no bar until there is something to show: an idle 0% bar reads as frozen
        self.cancel_button.hide()

    def start(self, op: Operation, text: str) -> None:
        self._op = op
        self.label.setText(f"{self.title}: {text}")
        self.bar.setRange(0, 0)  # busy until the first event says how much there is
        self.bar.show()
        self.cancel_button.show()
        self.cancel_button.setEnabled(True)
        op.progressed.connect(self.show_event)

    def show_event(self, event: ProgressEvent) -> None:
        if event.total:
            self.bar.setRange(0, event.total)
            self.bar.setValue(event.done)
            self.bar.setFormat(f"%v / %m {event.stage}")
        else:
            self.bar.setRange(0, 0)
        eta = f", about {_duration(event.eta_seconds)} left" if event.eta_seconds and event.done else ""
        current = f": {Path(event.current).name}" if event.current else ""
        self.label.setText(f"{self.title}: {event.stage}{current}{eta}")

    def finish(self, text: str, outcome: str = "done") -> None:
        """Stop showing progress; `outcome` (done, cancelled, failed) is what the bar says: a cancelled job is not at 100%."""
        self._op = None
        self.bar.setRange(0, 1)
        self.bar.setValue(1 if outcome == "done" else 0)
        self.bar.setFormat(_BAR_FORMATS[outcome])
        self.label.setText(f"{self.title}: {text}")
        self.cancel_button.setEnabled(False)
        self.cancel_button.hide()

    def cancel(self) -> None:
        if self._op is not None:
            self._op.cancel()
            self.label.setText(f"{self.title}: cancelling…")
            self.cancel_button.setEnabled(False)

    @property
    def running(self) -> bool:
        return self._op is not None


def _duration(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.0f} min"


class ImportPanel(QWidget):
    """Qt view of imports and indexing: per-file status, errors, progress, cancel, watch folders.

    Signals:
        import_finished(object): the `ImportReport` of a finished import.
        index_finished(object): the report of a finished indexing run.
    """

    import_finished = Signal(object)
    index_finished = Signal(object)

    def __init__(self, ops: Operations, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.session = ops.session
        self.settings = settings  # remembers the folder of the last file dialog
        self.setAcceptDrops(True)
        self.last_report: ImportReport | None = None
        self.auto_index = True
        self._current_file: str | None = None

        intro = QLabel("Drop PDFs, .bib / CSL-JSON files, a Zotero data folder or any folder here, "
                       "or choose files. New papers are indexed automatically afterwards.")
        intro.setWordWrap(True)
        buttons = button_box([("Add files…", self.choose_files), ("Add folder…", self.choose_folder),
                              ("Import Zotero library…", self.choose_zotero)])

        self.import_progress = ProgressRow("Import")
        self.index_progress = ProgressRow("Indexing")
        self.files = FileStatusTableModel(self)
        self.table = QTableView()
        self.table.setModel(self.files)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().resizeSection(0, 260)
        self.table.horizontalHeader().resizeSection(1, 80)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.summary = QLabel("Nothing imported in this session yet.")
        self.summary.setWordWrap(True)
        self.index_now_button = QPushButton("Index them now")
        self.index_now_button.clicked.connect(lambda: (self.index_now_button.hide(), self.start_indexing()))
        self.index_now_button.hide()
        summary_row = QHBoxLayout()
        summary_row.addWidget(self.summary, 1)
        summary_row.addWidget(self.index_now_button)

        watch_box = QGroupBox("Watch folders (new or changed PDFs and .bib files import automatically)")
        self.watch_list = QListWidget()
        self.watch_list.setMaximumHeight(80)
        watch_buttons = button_box([("Watch a folder…", self.choose_watch_folder), ("Stop watching", self.remove_selected_watch),
                                    ("Scan now", self.scan_watch_folders)], vertical=True)
        watch_layout = QHBoxLayout(watch_box)
        watch_layout.addWidget(self.watch_list, 1)
        watch_layout.addLayout(watch_buttons)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(buttons)
        layout.addWidget(self.import_progress)
        layout.addWidget(self.index_progress)
        layout.addWidget(self.table, 1)
        layout.addLayout(summary_row)
        layout.addWidget(watch_box)

        self.watch_timer = QTimer(self)
        self.watch_timer.setInterval(WATCH_SCAN_INTERVAL_MS)
        self.watch_timer.timeout.connect(self._scan_if_idle)
        self.watch_timer.start()
        self.session.library_did_open.connect(lambda _f: self.refresh_watch_folders())

    # ---- starting imports ----
    def _start_folder(self, fallback: str = "") -> str:
        """Where file dialogs open: the folder of the last file or folder chosen (kept across restarts)."""
        last = self.settings.value(LAST_FOLDER_KEY) if self.settings is not None else None
        return str(last) if last and Path(str(last)).is_dir() else fallback

    def _remember(self, chosen: str, *, is_folder: bool) -> None:
        if self.settings is not None:
            self.settings.setValue(LAST_FOLDER_KEY, chosen if is_folder else str(Path(chosen).parent))

    def choose_files(self) -> None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Import files", self._start_folder(),
                                                "References (*.pdf *.bib *.bibtex *.json *.sqlite);;All files (*)")
        if paths:
            self._remember(paths[0], is_folder=False)
            self.import_paths(paths)

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import a folder", self._start_folder())
        if folder:
            self._remember(folder, is_folder=True)
            self.import_paths([folder])

    def choose_zotero(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Zotero data folder (the one holding zotero.sqlite)",
                                                  self._start_folder(str(Path.home() / "Zotero")))
        if folder:
            self._remember(folder, is_folder=True)
            self.import_paths([folder])

    def dragEnterEvent(self, event) -> None:
        if event.mimeData().hasUrls():
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        paths = [url.toLocalFile() for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.import_paths(paths)

    def import_paths(self, paths: list[str]) -> Operation | None:
        """Import files/folders in the background; per-file rows fill in as it goes."""
        if self.import_progress.running:
            self.summary.setText("An import is already running; wait for it or cancel it first.")
            return None
        self.files.clear()
        self._current_file = None
        self.index_now_button.hide()
        op = self.ops.run_mutation(
            lambda library, ctx: library.import_paths(paths, progress=ctx.progress, cancel=ctx.cancel),
            changes={"papers"}, on_success=self._on_import_done, on_failure=self._on_import_failed,
            on_cancelled=self._on_import_cancelled, name="import",
        )
        op.progressed.connect(self._on_import_progress)
        self.import_progress.start(op, f"{len(paths)} item(s)")
        self.summary.setText("Importing…")
        return op

    def _on_import_progress(self, event: ProgressEvent) -> None:
        if event.current and event.current != self._current_file:
            if self._current_file is not None:
                self.files.set_status(self._current_file, "done")
            self._current_file = event.current
            self.files.set_status(event.current, "importing")
        if event.total and event.done == event.total and self._current_file:
            self.files.set_status(self._current_file, "done")

    def _on_import_done(self, report: ImportReport) -> None:
        if self._current_file is not None:
            self.files.set_status(self._current_file, "done")
        for problem in report.failed:
            self.files.set_status(problem.path, "failed", problem.error)
        for path in report.no_text_layer:
            self.files.set_status(path, NO_TEXT_LAYER, "image-only PDF: found by its metadata only (OCR needs Tesseract)")
        self.last_report = report
        failed = f", {len(report.failed)} failed (see the rows in red)" if report.failed else ""
        text = f"{report.added} added, {report.updated} updated, {report.skipped} unchanged{failed}"
        self.import_progress.finish(text)
        self.summary.setText(f"Import finished: {text}.")
        self.import_finished.emit(report)
        if self.auto_index and (report.added or report.updated):
            self.start_indexing()

    def _on_import_failed(self, message: str) -> None:
        self.import_progress.finish(f"failed: {message}", "failed")
        self.summary.setText(f"Import failed: {message}")

    def _on_import_cancelled(self) -> None:
        if self._current_file is not None:
            self.files.set_status(self._current_file, "cancelled", "stopped here; re-import to resume")
        self.import_progress.finish("cancelled", "cancelled")
        self.summary.setText("Import cancelled. Papers imported before the cancel are kept; importing again resumes.")
        # Nothing indexes the papers stored before the cancel: say how many wait, and offer it.
        self.ops.run_query(lambda library, ctx: index_backlog.unindexed_count(library), key="index-backlog",
                           on_success=self._offer_indexing)

    def _offer_indexing(self, unindexed: int) -> None:
        if unindexed and not self.index_progress.running:
            self.summary.setText(f"{self.summary.text()} {unindexed:,} stored paper{'s are' if unindexed != 1 else ' is'} "
                                 "not indexed yet (search and related papers do not see them).")
            self.index_now_button.show()

    # ---- indexing ----
    def start_indexing(self) -> Operation | None:
        """Embed what is new with the active model (builds the default model on first use)."""
        if self.index_progress.running:
            return None
        op = self.ops.run_mutation(
            lambda library, ctx: library.index(progress=ctx.progress, cancel=ctx.cancel),
            changes={"index"}, on_success=self._on_index_done,
            on_failure=lambda message: self.index_progress.finish(f"failed: {message}", "failed"),
            on_cancelled=lambda: self.index_progress.finish("cancelled (finished batches are kept; it resumes next time)", "cancelled"),
            name="indexing",
        )
        self.index_progress.start(op, "preparing the model…")
        self.index_now_button.hide()
        return op

    def _on_index_done(self, report: dict) -> None:
        passages = report.get("passages") or {}
        found = f"; {passages['embedded']} new PDF passages ({passages['passages']} in all)" if passages.get("enabled") else ""
        self.index_progress.finish(
            f"{report['embedded']} new vectors with {report['model']} on {report['engine']} in {report['seconds']:.1f} s{found}"
        )
        self.index_finished.emit(report)

    # ---- watch folders ----
    def refresh_watch_folders(self) -> None:
        self.ops.run_query(lambda library, ctx: watching.list_watch_folders(library), on_success=self._show_watch_folders,
                           key="watch-folders", name="listing watch folders")

    def _show_watch_folders(self, folders: list) -> None:
        self.watch_list.clear()
        for folder in folders:
            scanned = f"  (last scan {folder.last_scan_at[:16].replace('T', ' ')})" if folder.last_scan_at else "  (not scanned yet)"
            self.watch_list.addItem(folder.path + scanned)
            self.watch_list.item(self.watch_list.count() - 1).setData(Qt.ItemDataRole.UserRole, folder.path)
        if not folders:
            self.watch_list.addItem("No watched folders.")

    def choose_watch_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Watch a folder", self._start_folder())
        if folder:
            self._remember(folder, is_folder=True)
            self.add_watch_folder(folder)

    def add_watch_folder(self, folder: str) -> None:
        self.ops.run_mutation(lambda library, ctx: watching.add_watch_folder(library, folder), changes={"watch"},
                              on_success=lambda _w: (self.refresh_watch_folders(), self.scan_watch_folders()),
                              on_failure=self.summary.setText, name="adding a watch folder")

    def remove_selected_watch(self) -> None:
        item = self.watch_list.currentItem()
        path = item.data(Qt.ItemDataRole.UserRole) if item else None
        if path:
            self.ops.run_mutation(lambda library, ctx: watching.remove_watch_folder(library, path), changes={"watch"},
                                  on_success=lambda _r: self.refresh_watch_folders(), on_failure=self.summary.setText)

    def _scan_if_idle(self) -> None:
        if not self.import_progress.running and self.watch_list.count() and self.watch_list.item(0).data(Qt.ItemDataRole.UserRole):
            self.scan_watch_folders()

    def scan_watch_folders(self) -> None:
        if self.import_progress.running:
            return
        self.files.clear()
        self._current_file = None
        op = self.ops.run_mutation(
            lambda library, ctx: watching.scan_watch_folders(library, progress=ctx.progress, cancel=ctx.cancel),
            changes={"papers", "watch"}, on_success=lambda report: (self._on_import_done(report), self.refresh_watch_folders()),
            on_failure=self._on_import_failed, on_cancelled=self._on_import_cancelled, name="scanning watch folders",
        )
        op.progressed.connect(self._on_import_progress)
        self.import_progress.start(op, "scanning watch folders")
