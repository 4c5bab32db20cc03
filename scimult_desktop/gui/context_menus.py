"""Right-click menus and the paper shortcuts of the main window (one `install(window)` call).

- papers in the library table: open, copy citation / bibliography, show related, add / remove
  tag, add to / remove from / move to collection, export selection, move to trash;
- collections and tags in the sidebar: export, rename / delete a collection, plus the tag entries
  of gui/organizing.py, and a "Trash" entry that opens the trash;
- attachments in the detail pane: open, show in folder, copy path;
- search results and related papers: open, copy citation / bibliography, show related, show in library.

Also: Edit → Copy citation (Ctrl+Shift+C), Copy bibliography (Ctrl+Shift+A), Move to trash
(Delete, in the library table), Trash…; and the table header's column chooser.
Menu builders return the `QMenu` so tests can trigger its actions directly.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QAbstractItemView, QMenu, QTreeWidgetItem

from scimult_desktop.gui.item_models import ID_ROLE
from scimult_desktop.gui.paper_actions import PaperActions
from scimult_desktop.gui.panels.trash_view import TrashView
from scimult_desktop.gui.widgets import column_chooser
from scimult_desktop.services.library import trash

_KIND_ROLE = Qt.ItemDataRole.UserRole + 10  # the sidebar's (kind, name) role (panels/library_panel.py)


def install(window) -> PaperActions:
    """Add the menus, shortcuts, trash view and column chooser to a `MainWindow`."""
    actions = PaperActions(window)
    window.paper_actions = actions
    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.menu() and a.text() == "&Edit")
    edit_menu.addSeparator()
    window.copy_citation_action = _action(window, edit_menu, "Copy &citation", lambda: actions.copy_citation(), "Ctrl+Shift+C")
    window.copy_bibliography_action = _action(window, edit_menu, "Copy &bibliography",
                                              lambda: actions.copy_citation(bibliography=True), "Ctrl+Shift+A")
    window.trash_view_action = _action(window, edit_menu, "T&rash…", lambda: open_trash(window))

    table = window.library_panel.table
    window.delete_action = QAction("Move to &trash", table)
    window.delete_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Delete), QKeySequence("Backspace")])
    window.delete_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
    window.delete_action.triggered.connect(lambda: actions.delete(window.library_panel.selected_ids()))
    table.addAction(window.delete_action)

    _custom_menu(table, lambda point: _popup(table, paper_menu(window, window.library_panel.selected_ids()), point))
    for view in (window.search_panel.view, window.related_panel.view):
        _custom_menu(view, lambda point, v=view: _result_menu_at(window, v, point))
    attachments = window.detail_panel.attachments
    _custom_menu(attachments, lambda point: _attachment_menu_at(window, point))
    _install_sidebar(window)
    window.column_chooser = column_chooser.install(window.library_panel, window.settings)
    return actions


def _action(window, menu: QMenu, text: str, slot, shortcut: str | None = None) -> QAction:
    action = QAction(text, window)
    if shortcut:
        action.setShortcut(QKeySequence(shortcut))
    action.triggered.connect(slot)
    menu.addAction(action)
    return action


def _custom_menu(widget, handler) -> None:
    widget.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    widget.customContextMenuRequested.connect(handler)


def _popup(widget, menu: QMenu | None, point: QPoint) -> None:
    if menu is not None and not menu.isEmpty():
        target = widget.viewport() if isinstance(widget, QAbstractItemView) else widget
        menu.popup(target.mapToGlobal(point))


# ---- papers --------------------------------------------------------------------------------------
def paper_menu(window, ids: list[int]) -> QMenu | None:
    """The menu for papers chosen in the library table (None when none is chosen)."""
    if not ids:
        return None
    actions: PaperActions = window.paper_actions
    rows = [r for r in (_row(window, pid) for pid in ids) if r is not None]
    one = ids[0] if len(ids) == 1 else None
    menu = QMenu(window.library_panel.table)
    menu.setObjectName("paper-menu")
    opener = menu.addAction("&Open", lambda: actions.open_paper(ids[0]))
    opener.setEnabled(one is not None and any(r.has_pdf for r in rows))
    menu.addSeparator()
    menu.addAction("Copy &citation", lambda: actions.copy_citation(ids)).setShortcut(QKeySequence("Ctrl+Shift+C"))
    menu.addAction("Copy &bibliography", lambda: actions.copy_citation(ids, bibliography=True)).setShortcut(
        QKeySequence("Ctrl+Shift+A"))
    menu.addAction("Show &related papers", lambda: actions.show_related(ids[0])).setEnabled(one is not None)
    menu.addSeparator()

    menu.addAction("Add &tag…", lambda: actions.add_tag(ids))
    tags = sorted({t for r in rows for t in r.tags}, key=str.casefold)
    remove_tags = menu.addMenu("Remove tag")
    remove_tags.setEnabled(bool(tags))
    for name in tags:
        remove_tags.addAction(name, lambda n=name: actions.remove_tag(ids, n))

    collections = window.known_collections if hasattr(window, "known_collections") else []
    add_to = menu.addMenu("Add to &collection")
    for name in collections:
        add_to.addAction(name, lambda n=name: actions.add_to_collection(ids, n))
    if collections:
        add_to.addSeparator()
    add_to.addAction("New collection…", lambda: actions.add_to_collection(ids))
    current = {c for r in rows for c in r.collections}
    remove_from = menu.addMenu("Remove from collection")
    remove_from.setEnabled(bool(current))
    for name in sorted(current, key=str.casefold):
        remove_from.addAction(name, lambda n=name: actions.remove_from_collection(ids, n))
    source = _sidebar_collection(window)
    if source is not None:
        move = menu.addMenu(f"&Move from “{source}” to")
        for name in collections:
            if name != source:
                move.addAction(name, lambda n=name: actions.move_to_collection(ids, source, n))
        move.setEnabled(not move.isEmpty())
    menu.addSeparator()
    menu.addAction(f"&Export {len(ids)} paper{'s' if len(ids) != 1 else ''}…", lambda: actions.export(ids=ids))
    menu.addSeparator()
    delete = menu.addAction("Move to &trash", lambda: actions.delete(ids))
    delete.setShortcut(QKeySequence(QKeySequence.StandardKey.Delete))
    return menu


def result_menu(window, view, paper_id: int) -> QMenu:
    """The menu for one search result or related paper."""
    actions: PaperActions = window.paper_actions
    menu = QMenu(view)
    menu.setObjectName("result-menu")
    row = _row(window, paper_id)
    menu.addAction("&Open", lambda: actions.open_paper(paper_id)).setEnabled(row is None or row.has_pdf)
    menu.addAction("Copy &citation", lambda: actions.copy_citation([paper_id]))
    menu.addAction("Copy &bibliography", lambda: actions.copy_citation([paper_id], bibliography=True))
    menu.addAction("Show &related papers", lambda: actions.show_related(paper_id))
    menu.addAction("Show in &library", lambda: actions.show_in_library(paper_id))
    return menu


def _result_menu_at(window, view, point: QPoint) -> None:
    index = view.indexAt(point)
    paper_id = index.data(ID_ROLE) if index.isValid() else None
    if paper_id is not None:
        _popup(view, result_menu(window, view, int(paper_id)), point)


# ---- attachments ---------------------------------------------------------------------------------
def attachment_menu(window, path: str) -> QMenu:
    actions: PaperActions = window.paper_actions
    menu = QMenu(window.detail_panel.attachments)
    menu.setObjectName("attachment-menu")
    menu.addAction("&Open", lambda: actions.open_path(path))
    menu.addAction("Show in &folder", lambda: actions.show_in_folder(path))
    menu.addAction("Copy &path", lambda: QGuiApplication.clipboard().setText(path))
    return menu


def _attachment_menu_at(window, point: QPoint) -> None:
    item = window.detail_panel.attachments.itemAt(point)
    path = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
    if path:
        _popup(window.detail_panel.attachments, attachment_menu(window, str(path)), point)


# ---- sidebar -------------------------------------------------------------------------------------
def sidebar_menu(window, kind: tuple | None) -> QMenu:
    """The menu for a sidebar entry: (kind, name) as the sidebar stores it, or None for empty space."""
    actions: PaperActions = window.paper_actions
    sidebar = window.sidebar
    menu = QMenu(sidebar)
    menu.setObjectName("sidebar-menu")
    if kind and kind[0] == "collection":
        menu.addAction(f"&Export collection “{kind[1]}”…", lambda: actions.export(collection=kind[1]))
        menu.addAction("&Rename collection…", lambda: actions.rename_collection(kind[1]))
        count = dict(getattr(window, "collection_counts", {})).get(kind[1], 0)
        menu.addAction("&Delete collection…", lambda: actions.delete_collection(kind[1], count))
    elif kind and kind[0] == "tag":
        menu.addAction(f"&Export papers tagged “{kind[1]}”…", lambda: _export_tag(window, kind[1]))
        try:
            from scimult_desktop.gui import organizing

            if hasattr(window, "tag_editor"):
                menu.addSeparator()
                organizing.add_tag_menu(window, menu, kind[1])  # rename, colour, delete (another helper's view)
        except ImportError:
            pass
    elif kind and kind[0] == "all":
        menu.addAction("&Export all papers…", lambda: _export_all(window))
    menu.addSeparator()
    menu.addAction("Open &trash…", lambda: open_trash(window))
    return menu


def _export_tag(window, tag: str) -> None:
    from scimult_desktop.services.finding.filters import SearchFilters

    window.ops.run_query(lambda library, ctx: sorted(SearchFilters(tag=tag).allowed_ids(library.database) or []),
                         on_success=lambda ids: window.paper_actions.export(ids=ids) if ids else None, name="finding tagged papers")


def _export_all(window) -> None:
    window.ops.run_query(lambda library, ctx: library.papers.all_ids(),
                         on_success=lambda ids: window.paper_actions.export(ids=ids) if ids else None, name="listing papers")


def _install_sidebar(window) -> None:
    sidebar = window.sidebar
    sidebar.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
    try:  # one menu for the sidebar: it offers the tag entries of gui/organizing.py too
        sidebar.customContextMenuRequested.disconnect()
    except (RuntimeError, TypeError):
        pass
    sidebar.customContextMenuRequested.connect(lambda point: _sidebar_menu_at(window, point))
    window.trash_count = 0
    window.known_collections = []
    window.collection_counts = []
    if hasattr(sidebar, "rebuilt"):
        sidebar.rebuilt.connect(lambda: _add_trash_entry(window))
    # Click, or Enter on the entry reached with the arrow keys, opens the trash.
    sidebar.itemClicked.connect(lambda item, _column: open_trash(window) if _kind(item) == ("trash", None) else None)
    sidebar.itemActivated.connect(lambda item, _column: open_trash(window) if _kind(item) == ("trash", None) else None)
    session = window.ops.session
    session.library_did_change.connect(lambda changes: _refresh_counts(window) if changes & {"papers", "tags"} else None)
    session.library_did_open.connect(lambda _folder: _refresh_counts(window))
    _refresh_counts(window)


def _sidebar_menu_at(window, point: QPoint) -> None:
    item = window.sidebar.itemAt(point)
    _popup(window.sidebar, sidebar_menu(window, _kind(item)), point)


def _kind(item: QTreeWidgetItem | None):
    if item is None:
        return None
    kind = item.data(0, _KIND_ROLE)
    return tuple(kind) if kind else None


def _sidebar_collection(window) -> str | None:
    items = window.sidebar.selectedItems()
    kind = _kind(items[0]) if items else None
    return kind[1] if kind and kind[0] == "collection" else None


def _refresh_counts(window) -> None:
    from scimult_desktop.services.library import filing

    from scimult_desktop.services.library import browsing

    def work(library, ctx):
        return len(trash.list_trash(library)), filing.collection_names(library), browsing.facets(library).collections

    def done(result) -> None:
        window.trash_count, window.known_collections, window.collection_counts = result
        _add_trash_entry(window)

    window.ops.run_query(work, on_success=done, key="trash-count", name="counting the trash")


def _add_trash_entry(window) -> None:
    sidebar = window.sidebar
    for i in range(sidebar.topLevelItemCount()):
        if _kind(sidebar.topLevelItem(i)) == ("trash", None):
            item = sidebar.topLevelItem(i)
            break
    else:
        item = QTreeWidgetItem(sidebar, [""])
        item.setData(0, _KIND_ROLE, ("trash", None))
        # Selectable so the arrow keys reach it; selecting it filters nothing (Sidebar._on_selection).
        item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable)
        item.setToolTip(0, "Deleted papers: restore them or empty the trash")
    item.setText(0, f"Trash  ({window.trash_count})")


def open_trash(window) -> TrashView:
    """Show the trash (one window at a time)."""
    view = getattr(window, "trash_view", None)
    if view is None:
        view = TrashView(window.ops, window)
        view.finished.connect(lambda _result: setattr(window, "trash_view", None))
        view.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        window.trash_view = view
    else:
        view.refresh()
    view.show()
    view.raise_()
    return view


def _row(window, paper_id: int):
    model = window.library_panel.model
    row = model.row_of(paper_id)
    return model.row_record(row) if row is not None else None
