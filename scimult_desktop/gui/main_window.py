"""The main window: menus and shortcuts, tabs for the main views, docks for sidebar/details/related,
layout persisted with QSettings."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QMessageBox, QTabWidget, QWidget

from scimult_desktop.gui.dialogs.model_dialog import ModelDialog, model_summary
from scimult_desktop.gui.dialogs.settings_dialog import SettingsDialog
from scimult_desktop.gui.panels.citing_contexts import find_pending_citation_contexts
from scimult_desktop.gui.operations import Operations
from scimult_desktop.gui.panels.detail_panel import DetailPanel
from scimult_desktop.gui.panels.fields_panel import FieldsPanel
from scimult_desktop.gui.panels.import_panel import ImportPanel
from scimult_desktop.gui.panels.library_panel import LibraryPanel, Sidebar
from scimult_desktop.gui.panels.related_panel import RelatedPanel
from scimult_desktop.gui.panels.search_panel import SearchPanel
from scimult_desktop.gui.panels.write_panel import WritePanel
from scimult_desktop.gui.session import Session
from scimult_desktop.services.library import browsing
from scimult_desktop.services.models import bundles as models

LAYOUT_VERSION = 1


DEFAULT_WINDOW_SIZE = (1280, 800)
MIN_RESTORED_SIZE = (640, 420)  # smaller restored windows are replaced by the default size


def default_window_size(available) -> tuple[int, int]:
    """1280x800, shrunk to 90% of the screen's free area where that is smaller."""
    return (min(DEFAULT_WINDOW_SIZE[0], int(available.width() * 0.9)), min(DEFAULT_WINDOW_SIZE[1], int(available.height() * 0.9)))


class MainWindow(QMainWindow):
    """SciMult Desktop's window.

    Attributes:
        model_menu: the Model menu (other features add actions to it, e.g. fine-tuning).
        ops: the `Operations` every panel uses for background work.
    """

    def __init__(self, session: Session, *, settings: QSettings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.settings = settings or QSettings()
        self.ops = Operations(session, self)
        self.undo_stack = QUndoStack(self)
        self.setWindowTitle(f"SciMult Desktop — {session.folder}")
        self.setAcceptDrops(True)

        self.library_panel = LibraryPanel(self.ops)
        self.search_panel = SearchPanel(self.ops)
        self.write_panel = WritePanel(self.ops, self.undo_stack, self.settings)
        self.fields_panel = FieldsPanel(self.ops, self.undo_stack, self.settings)
        self.import_panel = ImportPanel(self.ops, self.settings)
        self.tabs = QTabWidget()
        self.tabs.setDocumentMode(True)
        for panel, title in ((self.library_panel, "Library"), (self.search_panel, "Search"), (self.write_panel, "Write && cite"),
                             (self.fields_panel, "Fields"), (self.import_panel, "Import")):
            self.tabs.addTab(panel, title)
        self.setCentralWidget(self.tabs)
        self.tabs.currentChanged.connect(self._on_tab_changed)

        self.sidebar = Sidebar(self.ops)
        self.detail_panel = DetailPanel(self.ops, self.undo_stack)
        self.related_panel = RelatedPanel(self.ops)
        self.sidebar_dock = self._dock("Collections && tags", "sidebar", self.sidebar, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.detail_dock = self._dock("Details", "details", self.detail_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.related_dock = self._dock("Related papers", "related", self.related_panel, Qt.DockWidgetArea.RightDockWidgetArea)
        self.splitDockWidget(self.detail_dock, self.related_dock, Qt.Orientation.Vertical)
        self._default_dock_sizes()

        self.status_model = QLabel()
        self.statusBar().addPermanentWidget(self.status_model)
        self.sidebar.filter_changed.connect(self._on_sidebar_filter)
        self.library_panel.demo_requested.connect(self.open_demo_library)
        self.library_panel.import_requested.connect(self.import_panel.choose_files)
        self.library_panel.rows_loaded.connect(self._on_rows_loaded)
        self.import_panel.import_finished.connect(lambda r: self.statusBar().showMessage(
            f"Import: {r.added} added, {r.updated} updated, {len(r.failed)} failed", 8000))
        # The first indexing run may build the default model: show its name once it exists.
        self.import_panel.index_finished.connect(lambda _report: self.refresh_model_status())
        self.undo_stack.indexChanged.connect(self._on_undo_index_changed)

        self._build_menus()
        from scimult_desktop.gui.organizing import install as install_organizing

        install_organizing(self)  # duplicates review, tag manager, background-work indicator
        from scimult_desktop.gui.context_menus import install as install_context_menus

        install_context_menus(self)  # right-click menus, copy citation, delete to trash, trash view, column chooser
        self._restore_layout()

    # ---- construction ----
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{name}")  # saveState needs stable names
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _action(self, menu, text: str, slot, shortcut=None, tip: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        menu.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self._action(file_menu, "&Import files…", self.import_panel.choose_files, QKeySequence.StandardKey.Open)
        self._action(file_menu, "Import &folder…", self.import_panel.choose_folder, "Ctrl+Shift+I")
        self._action(file_menu, "Import &Zotero library…", self.import_panel.choose_zotero)
        self._action(file_menu, "&Watch a folder…", self.import_panel.choose_watch_folder)
        self._action(file_menu, "Open &demo library", self.open_demo_library)
        self._action(file_menu, "Open draft for &citing…", lambda: (self.show_tab(self.write_panel), self.write_panel.choose_draft()))
        file_menu.addSeparator()
        self._action(file_menu, "&Settings…", self.open_settings, QKeySequence.StandardKey.Preferences)
        self._action(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit_menu = bar.addMenu("&Edit")
        undo = self.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcuts(QKeySequence.StandardKey.Undo)  # every platform binding, not only the first
        redo = self.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts(QKeySequence.StandardKey.Redo)  # Ctrl+Y and Ctrl+Shift+Z
        edit_menu.addAction(undo)
        edit_menu.addAction(redo)
        self.undo_action = undo
        edit_menu.addSeparator()
        self._action(edit_menu, "&Find in library…", lambda: (self.show_tab(self.search_panel), self.search_panel.query_edit.setFocus()),
                     QKeySequence.StandardKey.Find)
        self._action(edit_menu, "&Filter table", lambda: (self.show_tab(self.library_panel), self.library_panel.filter_edit.setFocus()),
                     "Ctrl+L")
        self._action(edit_menu, "&Save paper edits", self.detail_panel.save_edits, QKeySequence.StandardKey.Save)

        view_menu = bar.addMenu("&View")
        for number, (panel, title) in enumerate(((self.library_panel, "&Library"), (self.search_panel, "&Search"),
                                                 (self.write_panel, "&Write && cite"), (self.fields_panel, "&Fields"),
                                                 (self.import_panel, "&Import")), 1):
            self._action(view_menu, title, lambda _c=False, p=panel: self.show_tab(p), f"Ctrl+{number}")
        view_menu.addSeparator()
        for dock in (self.sidebar_dock, self.detail_dock, self.related_dock):
            view_menu.addAction(dock.toggleViewAction())

        self.model_menu = bar.addMenu("&Model")
        self._action(self.model_menu, "&Model and engine…", self.open_model_dialog)
        self._action(self.model_menu, "&Index library now", self.import_panel.start_indexing, "Ctrl+R")
        self._action(self.model_menu, "&Classify library", lambda: (self.show_tab(self.fields_panel), self.fields_panel.classify()))
        from scimult_desktop.gui.finetune_dialog import add_menu_actions

        add_menu_actions(self)  # Fine-tune on this library…, Roll back to the previous model

        help_menu = bar.addMenu("&Help")
        self._action(help_menu, "&About SciMult Desktop", self.show_about)

    # ---- layout persistence ----
    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        restored = geometry is not None and self.restoreGeometry(geometry)
        usable = restored and self.width() >= MIN_RESTORED_SIZE[0] and self.height() >= MIN_RESTORED_SIZE[1]
        if not usable:
            # A layout saved on another screen (or by a headless run) can come back tiny.
            self.resize(*default_window_size(self.screen().availableGeometry().size()))
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state, LAYOUT_VERSION)  # which docks are shown, floating, where
            if not usable:
                self._default_dock_sizes()  # the saved sizes were those of the tiny window
        tab = self.settings.value("window/tab")
        if tab is not None:
            self.tabs.setCurrentIndex(int(tab))

    def _default_dock_sizes(self) -> None:
        self.resizeDocks([self.sidebar_dock, self.detail_dock], [190, 380], Qt.Orientation.Horizontal)
        self.resizeDocks([self.detail_dock, self.related_dock], [480, 320], Qt.Orientation.Vertical)

    def save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState(LAYOUT_VERSION))
        self.settings.setValue("window/tab", self.tabs.currentIndex())
        self.settings.setValue("selection/library", self.session.folder)  # the paper id means nothing in another library
        self.settings.setValue("selection/paper", self.session.selected_paper if self.session.selected_paper is not None else -1)
        self.write_panel.save_state()
        self.settings.sync()

    def closeEvent(self, event) -> None:
        self.save_layout()
        self.ops.cancel_all()
        self.ops.wait(10000)
        super().closeEvent(event)

    # ---- startup and library ----
    def start(self, *, demo_if_empty: bool = False) -> None:
        """Load the library in the background (the window is usable at once)."""
        self._demo_if_empty = demo_if_empty
        self.library_panel.refresh()
        self.sidebar.refresh()
        self.search_panel.refresh_facets()
        self.import_panel.refresh_watch_folders()
        self.refresh_model_status()

    def _on_rows_loaded(self, count: int) -> None:
        if not getattr(self, "_selection_restored", False):
            self._selection_restored = True
            self._restore_selected_paper()
        if not getattr(self, "_warmed_up", False):
            # Once the window is interactive: load the model and index in the background so the
            # first search answers at once (and those loads never land in the middle of an import).
            self._warmed_up = True
            self.ops.run_query(lambda library, ctx: browsing.warm_up(library), key="warm-up", name="warming up")
            find_pending_citation_contexts(self.ops)
        if count == 0:
            self.show_tab(self.library_panel)  # the empty state says what to do next
        if count == 0 and getattr(self, "_demo_if_empty", False):
            self._demo_if_empty = False
            self.open_demo_library()
        self.statusBar().showMessage(f"{count:,} papers in {self.session.folder}", 5000)

    def _restore_selected_paper(self) -> None:
        """Select the paper that was selected when this library was last closed, if it is still there."""
        paper = int(self.settings.value("selection/paper", -1) or -1)
        same_library = self.settings.value("selection/library") == self.session.folder
        if same_library and paper >= 0 and self.session.selected_paper is None and self.library_panel.model.row_of(paper) is not None:
            self.session.select_paper(paper)

    def open_demo_library(self) -> None:
        """Import the demo library (300 SciFact abstracts) into the open library; indexing follows."""
        self.show_tab(self.import_panel)
        self.ops.run_query(lambda library, ctx: str(browsing.demo_source()), on_success=lambda path: self.import_panel.import_paths([path]),
                           on_failure=lambda message: QMessageBox.warning(self, "Demo library", message))

    def open_library_folder(self, folder: str) -> None:
        self.undo_stack.clear()
        self.session.switch_folder(folder)
        self.setWindowTitle(f"SciMult Desktop — {folder}")

    def refresh_model_status(self) -> None:
        self.ops.run_query(lambda library, ctx: models.active_model_name(), key="model-name",
                           on_success=lambda name: self.status_model.setText(f"Model: {name or 'none (built on first indexing)'}"))

    # ---- actions ----
    def _on_undo_index_changed(self, _index: int) -> None:
        if self.undo_stack.undoText():
            self.statusBar().showMessage(f"Done: {self.undo_stack.undoText()} (Ctrl+Z undoes it)", 4000)

    def show_tab(self, panel: QWidget) -> None:
        self.tabs.setCurrentWidget(panel)

    def _on_tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.fields_panel and self.fields_panel.stale and self.library_panel.model.rowCount():
            self.fields_panel.classify()

    def _on_sidebar_filter(self, filters) -> None:
        if filters is None:
            self.library_panel.set_allowed_ids(None)
            return
        self.show_tab(self.library_panel)
        self.ops.run_query(lambda library, ctx: browsing.ids_matching(library, filters), key="sidebar-filter",
                           on_success=self.library_panel.set_allowed_ids)

    def open_settings(self) -> None:
        dialog = SettingsDialog(self.ops, self)
        if dialog.exec() and dialog.saved is not None:
            saved = dialog.saved
            self.session.engine = None  # None: the engine from settings, now saved
            self.write_panel.format.setCurrentIndex(max(self.write_panel.format.findData(saved.citation_format), 0))
            if saved.library_folder and saved.library_folder != self.session.folder:
                self.open_library_folder(saved.library_folder)
            self.refresh_model_status()

    def open_model_dialog(self) -> None:
        dialog = ModelDialog(self.ops, self)
        dialog.model_changed.connect(lambda _name: self.refresh_model_status())
        dialog.exec()

    def show_about(self) -> None:
        engine = self.session.engine
        self.ops.run_query(lambda library, ctx: model_summary(library, engine), key="about",
                           on_success=self._show_about_box, on_failure=lambda m: self._show_about_box({"active": None, "engine": m}))

    def _show_about_box(self, summary: dict) -> None:
        from scimult_desktop.gui.dialogs.about_text import about_html

        QMessageBox.about(self, "About SciMult Desktop", about_html(summary, self.session.folder))

    # ---- drag and drop anywhere ----
    def dragEnterEvent(self, event) -> None:
        self.import_panel.dragEnterEvent(event)

    def dropEvent(self, event) -> None:
        self.show_tab(self.import_panel)
        self.import_panel.dropEvent(event)
