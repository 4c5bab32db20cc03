"""Keyboard between a search box and its result list: Down or Enter in the box moves to the
results, Up on the first result goes back to the box."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractItemView, QLineEdit


class ResultsKeys(QObject):
    """Event filter on a query box and its results view.

    `focus_results()` is called by the panel when results for an Enter arrive (`wants_results`).
    """

    def __init__(self, query: QLineEdit, view: QAbstractItemView) -> None:
        super().__init__(query)
        self.query, self.view = query, view
        self.wants_results = False
        query.installEventFilter(self)
        view.installEventFilter(self)

    def focus_results(self) -> bool:
        """Move the focus to the results (first one current if none is); False when there are none."""
        model = self.view.model()
        if model is None or model.rowCount() == 0:
            return False
        if not self.view.currentIndex().isValid():
            self.view.setCurrentIndex(model.index(0, 0))
        self.view.setFocus(Qt.FocusReason.TabFocusReason)
        return True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            return False
        key = event.key()
        if watched is self.query:
            if key == Qt.Key.Key_Down:
                return self.focus_results()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                self.wants_results = True  # the search Enter starts lands in the results
        elif watched is self.view and key == Qt.Key.Key_Up and self.view.currentIndex().row() <= 0:
            self.query.setFocus(Qt.FocusReason.BacktabFocusReason)
            return True
        return False
