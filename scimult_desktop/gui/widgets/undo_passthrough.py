"""Ctrl+Z / Ctrl+Shift+Z in a text field reach the window's undo stack when the field has nothing to undo.

A QLineEdit claims the Undo and Redo shortcuts for its own typing history even when that
history is empty (it is cleared each time the field is filled), so right after saving an
edit, Ctrl+Z in the field did nothing instead of undoing the save.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QLineEdit


class UndoPassThrough(QObject):
    """Event filter for line edits: leaves Undo/Redo to the window when the field cannot do them itself."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(watched, QLineEdit):
            if event.matches(QKeySequence.StandardKey.Undo) and not watched.isUndoAvailable():
                event.ignore()
                return True  # not claimed by the field: the shortcut goes to the window's Undo action
            if event.matches(QKeySequence.StandardKey.Redo) and not watched.isRedoAvailable():
                event.ignore()
                return True
        return False


def pass_undo_to_window(*edits: QLineEdit) -> UndoPassThrough:
    """Install one `UndoPassThrough` on `edits` (parented to the first, so it lives as long as they do)."""
    passthrough = UndoPassThrough(edits[0])
    for edit in edits:
        edit.installEventFilter(passthrough)
    return passthrough
