"""Managing tags: rename, merge, colour, delete (each undoable), plus the sidebar's tag menu."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QIcon, QKeySequence, QPixmap, QShortcut, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QColorDialog,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.gui.operations import Operations
from scimult_desktop.gui.organizing_commands import ServiceCommand
from scimult_desktop.services.library import tagging
from scimult_desktop.services.library.tagging import TagInfo


def colour_icon(colour: str | None, size: int = 12) -> QIcon:
    """A round swatch of `colour` (transparent when None), for tag lists."""
    from PySide6.QtGui import QPainter

    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    if colour:
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(QColor(colour))
        painter.setPen(QColor(colour).darker(130))
        painter.drawEllipse(1, 1, size - 2, size - 2)
        painter.end()
    return QIcon(pixmap)


class TagEditor:
    """The tag changes themselves, as undoable steps on the window's stack (used by the dialog and menus)."""

    def __init__(self, ops: Operations, undo_stack: QUndoStack, on_failure=None) -> None:
        self.ops, self.undo_stack, self.on_failure = ops, undo_stack, on_failure

    def _push(self, text: str, do) -> None:
        self.undo_stack.push(ServiceCommand(self.ops, text, do, changes={"tags"}, on_failure=self.on_failure))

    def rename(self, old: str, new: str) -> None:
        self._push(f"rename tag “{old}” to “{new}”", lambda library: tagging.rename_tag(library, old, new))

    def merge(self, names: list[str], into: str) -> None:
        self._push(f"merge {len(names)} tags into “{into}”", lambda library: tagging.merge_tags(library, names, into))

    def set_colour(self, name: str, colour: str | None) -> None:
        self._push(f"colour tag “{name}”" if colour else f"clear the colour of “{name}”",
                   lambda library: tagging.set_tag_colour(library, name, colour))

    def delete(self, name: str) -> None:
        self._push(f"delete tag “{name}”", lambda library: tagging.delete_tag(library, name))

    # ---- asking the user, then changing ----
    def ask_rename(self, parent: QWidget, name: str) -> None:
        new, ok = QInputDialog.getText(parent, "Rename tag", f"New name for “{name}” (an existing tag's name merges the two):",
                                       text=name)
        if ok and new.strip() and new.strip() != name:
            self.rename(name, new.strip())

    def ask_colour(self, parent: QWidget, name: str, current: str | None) -> None:
        colour = QColorDialog.getColor(QColor(current or "#3b82f6"), parent, f"Colour of “{name}”")
        if colour.isValid():
            self.set_colour(name, colour.name())

    def ask_delete(self, parent: QWidget, name: str, papers: int) -> None:
        answer = QMessageBox.question(parent, "Delete tag",
                                      f"Remove the tag “{name}” from {papers} paper(s)?\nEdit → Undo brings it back.")
        if answer == QMessageBox.StandardButton.Yes:
            self.delete(name)

    def ask_merge(self, parent: QWidget, names: list[str]) -> None:
        into, ok = QInputDialog.getItem(parent, "Merge tags", f"Merge {len(names)} tags into:", names, 0, True)
        if ok and into.strip():
            self.merge(names, into.strip())


def add_tag_actions(menu: QMenu, editor: TagEditor, parent: QWidget, tag: TagInfo | str, *, manage=None) -> None:
    """Add Rename / Colour / Clear colour / Delete (and Manage tags…) for one tag to a context menu.

    The sidebar's context menu calls this for a tag entry; `manage` opens the tag manager.
    """
    info = tag if isinstance(tag, TagInfo) else TagInfo(tag, 0, None)
    menu.addAction("Rename tag…", lambda: editor.ask_rename(parent, info.name))
    menu.addAction("Colour…", lambda: editor.ask_colour(parent, info.name, info.colour))
    clear = menu.addAction("Clear colour", lambda: editor.set_colour(info.name, None))
    clear.setEnabled(info.colour is not None)
    menu.addAction("Delete tag…", lambda: editor.ask_delete(parent, info.name, info.papers))
    if manage is not None:
        menu.addSeparator()
        menu.addAction("Manage tags…", manage)


class TagsDialog(QDialog):
    """Qt view of the library's tags: colour, name, papers; edits go on the window's undo stack.

    Signals:
        tags_loaded(int): the table now lists this many tags.
    """

    tags_loaded = Signal(int)

    def __init__(self, ops: Operations, undo_stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Manage tags")
        self.ops, self.undo_stack = ops, undo_stack
        self.editor = TagEditor(ops, undo_stack, on_failure=self._show_error)
        self.tags: list[TagInfo] = []

        self.table = QTableWidget(0, 2)
        self.table.setHorizontalHeaderLabels(["Tag", "Papers"])
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item: self._rename())
        self.message = QLabel()
        self.message.setWordWrap(True)

        self.rename_button = QPushButton("&Rename…")
        self.rename_button.clicked.connect(self._rename)
        self.merge_button = QPushButton("&Merge…")
        self.merge_button.setToolTip("Select two or more tags (Ctrl+click)")
        self.merge_button.clicked.connect(lambda: self.editor.ask_merge(self, [t.name for t in self.selected()]))
        self.colour_button = QPushButton("&Colour…")
        self.colour_button.clicked.connect(self._colour)
        self.clear_button = QPushButton("C&lear colour")
        self.clear_button.clicked.connect(lambda: [self.editor.set_colour(t.name, None) for t in self.selected() if t.colour])
        self.delete_button = QPushButton("&Delete…")
        self.delete_button.clicked.connect(self._delete)
        self.undo_button = QPushButton("&Undo")
        self.undo_button.clicked.connect(undo_stack.undo)
        undo_stack.canUndoChanged.connect(self.undo_button.setEnabled)
        self.undo_button.setEnabled(undo_stack.canUndo())
        QShortcut(QKeySequence.StandardKey.Undo, self, activated=undo_stack.undo)
        QShortcut(QKeySequence(Qt.Key.Key_F2), self, activated=self._rename)
        QShortcut(QKeySequence.StandardKey.Delete, self, activated=self._delete)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        side = QVBoxLayout()
        for button in (self.rename_button, self.merge_button, self.colour_button, self.clear_button, self.delete_button):
            side.addWidget(button)
        side.addStretch()
        side.addWidget(self.undo_button)
        side.addWidget(close)
        body = QHBoxLayout()
        body.addWidget(self.table, 1)
        body.addLayout(side)
        layout = QVBoxLayout(self)
        layout.addLayout(body, 1)
        layout.addWidget(self.message)
        self.resize(520, 460)
        self._update_buttons()
        ops.session.library_did_change.connect(self._on_library_changed)
        self.refresh()

    def refresh(self) -> None:
        self.ops.run_query(lambda library, ctx: tagging.list_tags(library), on_success=self._set_tags, key="tag-manager",
                           name="loading tags")

    def _on_library_changed(self, changes: set[str]) -> None:
        if self.isVisible() and changes & {"tags", "papers"}:
            self.refresh()

    def _set_tags(self, tags: list[TagInfo]) -> None:
        chosen = {t.name for t in self.selected()}
        self.tags = tags
        self.table.setRowCount(len(tags))
        for row, tag in enumerate(tags):
            name = QTableWidgetItem(colour_icon(tag.colour), tag.name)
            if tag.colour:
                name.setToolTip(tag.colour)
            count = QTableWidgetItem(f"{tag.papers:,}")
            count.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(row, 0, name)
            self.table.setItem(row, 1, count)
            if tag.name in chosen:
                self.table.selectRow(row)
        if not tags:
            self.message.setText("No tags yet: tags come from imports (keywords, Zotero tags) or from accepted fields.")
        self._update_buttons()
        self.tags_loaded.emit(len(tags))

    def selected(self) -> list[TagInfo]:
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        return [self.tags[r] for r in rows if r < len(self.tags)]

    def select(self, *names: str) -> None:
        self.table.clearSelection()
        mode = self.table.selectionMode()
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.MultiSelection)
        for row, tag in enumerate(self.tags):
            if tag.name in names:
                self.table.selectRow(row)
        self.table.setSelectionMode(mode)

    def _update_buttons(self) -> None:
        selected = self.selected()
        for button in (self.rename_button, self.colour_button):
            button.setEnabled(len(selected) == 1)
        self.merge_button.setEnabled(len(selected) >= 2)
        self.clear_button.setEnabled(any(t.colour for t in selected))
        self.delete_button.setEnabled(len(selected) == 1)

    def _rename(self) -> None:
        selected = self.selected()
        if len(selected) == 1:
            self.editor.ask_rename(self, selected[0].name)

    def _colour(self) -> None:
        selected = self.selected()
        if len(selected) == 1:
            self.editor.ask_colour(self, selected[0].name, selected[0].colour)

    def _delete(self) -> None:
        selected = self.selected()
        if len(selected) == 1:
            self.editor.ask_delete(self, selected[0].name, selected[0].papers)

    def _show_error(self, message: str) -> None:
        self.message.setText(f"<span style='color:#b00020'>{message}</span>")
