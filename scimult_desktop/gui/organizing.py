"""Wires the library-organising views into the main window (one call from `MainWindow`).

Adds Edit → Review duplicates… and Manage tags…, the status bar's background-work
indicator, tag colours (in the sidebar, and as dots after titles in the table), and the
sidebar's tag menu (rename, colour, delete). A context menu built elsewhere can offer the
same tag entries through `add_tag_menu(window, menu, tag_name)`.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QMenu, QTreeWidget, QTreeWidgetItemIterator

from scimult_desktop.gui.dialogs.duplicates_dialog import DuplicatesDialog
from scimult_desktop.gui.dialogs.tags_dialog import TagEditor, TagsDialog, add_tag_actions, colour_icon
from scimult_desktop.gui.widgets.background_status import BackgroundStatus
from scimult_desktop.gui.widgets.tag_dots import TagDotsDelegate
from scimult_desktop.services.library import tagging
from scimult_desktop.services.library.tagging import TagInfo

_KIND_ROLE = Qt.ItemDataRole.UserRole + 10  # the sidebar's (kind, name) role (panels/library_panel.py)


def install(window) -> None:
    """Add the organising actions, status indicator and tag colours to a `MainWindow`."""
    window.tag_editor = TagEditor(window.ops, window.undo_stack,
                                  on_failure=lambda message: window.statusBar().showMessage(message, 8000))
    window.tag_infos = {}

    edit_menu = next(a.menu() for a in window.menuBar().actions() if a.menu() and a.text() == "&Edit")
    edit_menu.addSeparator()
    window.review_duplicates_action = edit_menu.addAction("Review &duplicates…", lambda: open_duplicates(window))
    window.review_duplicates_action.setShortcut("Ctrl+Shift+D")
    window.manage_tags_action = edit_menu.addAction("Manage &tags…", lambda: open_tags(window))

    window.background_status = BackgroundStatus(window.ops)
    window.statusBar().insertPermanentWidget(0, window.background_status)
    window.background_status.review_duplicates_requested.connect(lambda: open_duplicates(window))
    view_menu = next(a.menu() for a in window.menuBar().actions() if a.menu() and a.text() == "&View")
    # The indicator takes no Tab focus (Tab cycles through the panes); this opens its menu from the keyboard.
    window.background_work_action = view_menu.addAction("&Background work…", window.background_status.show_menu)
    window.background_work_action.setShortcut("Ctrl+Shift+B")
    window.library_panel.rows_loaded.connect(lambda _count: window.background_status.refresh_counts())

    table = window.library_panel.table
    window.tag_dots = TagDotsDelegate(lambda: {n: t.colour for n, t in window.tag_infos.items() if t.colour}, table)
    table.setItemDelegateForColumn(0, window.tag_dots)  # coloured tags as dots after the title

    sidebar = window.sidebar
    sidebar.rebuilt.connect(lambda: _colour_sidebar(sidebar, window.tag_infos))
    session = window.ops.session
    session.library_did_change.connect(lambda changes: _load_tags(window) if changes & {"tags", "papers"} else None)
    session.library_did_open.connect(lambda _folder: _load_tags(window))
    _load_tags(window)
    if sidebar.contextMenuPolicy() == Qt.ContextMenuPolicy.DefaultContextMenu and \
            type(sidebar).contextMenuEvent is QTreeWidget.contextMenuEvent:
        # No context menu of its own yet: offer the tag entries on tags.
        sidebar.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        sidebar.customContextMenuRequested.connect(lambda point: _sidebar_menu(window, point))


def open_duplicates(window) -> DuplicatesDialog:
    """Show the duplicates review (one per window, kept between openings: background results may still arrive)."""
    return _show_kept(window, "duplicates_dialog", DuplicatesDialog)


def open_tags(window) -> TagsDialog:
    """Show the tag manager (one per window, kept between openings)."""
    return _show_kept(window, "tags_dialog", TagsDialog)


def _show_kept(window, attribute: str, dialog_class):
    """Show the window's dialog kept as `window.<attribute>`: made on first use, refreshed on later ones."""
    dialog = getattr(window, attribute, None)
    if dialog is None:
        dialog = dialog_class(window.ops, window.undo_stack, window)
        setattr(window, attribute, dialog)
    else:
        dialog.refresh()
    dialog.show()
    dialog.raise_()
    return dialog


def add_tag_menu(window, menu: QMenu, tag_name: str) -> None:
    """Rename / Colour / Clear colour / Delete / Manage tags… for `tag_name`, added to `menu`."""
    info = window.tag_infos.get(tag_name) or TagInfo(tag_name, 0, None)
    add_tag_actions(menu, window.tag_editor, window, info, manage=lambda: open_tags(window))


def _sidebar_menu(window, point: QPoint) -> None:
    item = window.sidebar.itemAt(point)
    kind = item.data(0, _KIND_ROLE) if item is not None else None
    menu = QMenu(window.sidebar)
    if kind and kind[0] == "tag":
        add_tag_menu(window, menu, kind[1])
    else:
        menu.addAction("Manage tags…", lambda: open_tags(window))
    menu.exec(window.sidebar.viewport().mapToGlobal(point))


def _load_tags(window) -> None:
    def loaded(tags: list[TagInfo]) -> None:
        window.tag_infos = {t.name: t for t in tags}
        _colour_sidebar(window.sidebar, window.tag_infos)
        window.library_panel.table.viewport().update()

    window.ops.run_query(lambda library, ctx: tagging.list_tags(library), on_success=loaded, key="tag-colours",
                         name="loading tag colours")


def _colour_sidebar(sidebar: QTreeWidget, infos: dict[str, TagInfo]) -> None:
    iterator = QTreeWidgetItemIterator(sidebar)
    while iterator.value():
        item = iterator.value()
        kind = item.data(0, _KIND_ROLE)
        if kind and kind[0] == "tag":
            info = infos.get(kind[1])
            colour = info.colour if info else None
            item.setIcon(0, colour_icon(colour))
            item.setToolTip(0, f"Colour {colour}" if colour else "")
        iterator += 1
