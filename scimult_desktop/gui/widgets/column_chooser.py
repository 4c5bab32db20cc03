"""The library table's column chooser: right-click the header to show or hide columns; kept across restarts.

Until the user picks, the table shows its usual columns and hides those no paper has a
value for (and the optional ones: date added, item type, citation key, DOI). Once the
user shows or hides a column, that choice wins over emptiness and is saved in QSettings.
"""

from __future__ import annotations

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QTableView

from scimult_desktop.gui.item_models import COLUMN_TITLES, OPTIONAL_COLUMNS

SETTINGS_KEY = "library/columns"  # {"shown": [titles], "hidden": [titles]}
# Widths a column gets when shown: narrow enough that the Title column keeps room.
SHOWN_WIDTHS = {"Authors": 180, "Year": 56, "Venue": 150, "PDF": 44, "Fields": 140, "Date added": 88, "Item type": 120,
                "Citation key": 140, "DOI": 170}


class ColumnChooser:
    """Qt view of which library-table columns are shown (the Title column always is).

    Attributes:
        shown / hidden: titles the user chose to show or hide; other columns follow the default rule.
    """

    def __init__(self, table: QTableView, settings: QSettings) -> None:
        self.table = table
        self.settings = settings
        self.shown: set[str] = set()
        self.hidden: set[str] = set()
        self._empty: set[int] = set()
        self._load()
        header = table.horizontalHeader()
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self.show_menu)

    # ---- the rule the library panel asks for each column ----
    def is_hidden(self, column: int, empty: bool) -> bool:
        """Whether `column` is hidden, given whether no shown paper has a value in it."""
        (self._empty.add if empty else self._empty.discard)(column)  # the menu says which would be blank
        title = COLUMN_TITLES[column]
        if column == 0 or title in self.shown:
            return False
        if title in self.hidden:
            return True
        return empty or column in OPTIONAL_COLUMNS

    # ---- the menu ----
    def menu(self) -> QMenu:
        """The header menu: one checkable action per column (Title cannot be hidden), then a reset."""
        menu = QMenu(self.table)
        menu.setObjectName("column-chooser")
        for column, title in enumerate(COLUMN_TITLES):
            action = QAction(title + ("  (no values yet)" if column in self._empty and column else ""), menu)
            action.setCheckable(True)
            action.setChecked(not self.table.isColumnHidden(column))
            action.setEnabled(column != 0)
            action.setData(column)
            action.toggled.connect(lambda checked, c=column: self.set_visible(c, checked))
            menu.addAction(action)
        menu.addSeparator()
        menu.addAction("Default columns", self.reset)
        return menu

    def show_menu(self, point: QPoint) -> None:
        self.menu().popup(self.table.horizontalHeader().mapToGlobal(point))

    def set_visible(self, column: int, visible: bool) -> None:
        """Show or hide a column now and remember the choice."""
        if column == 0:
            return
        title = COLUMN_TITLES[column]
        (self.shown.add if visible else self.shown.discard)(title)
        (self.hidden.discard if visible else self.hidden.add)(title)
        self.table.setColumnHidden(column, not visible)
        if visible:
            self.table.setColumnWidth(column, SHOWN_WIDTHS.get(title, 110))
        self._save()

    def reset(self) -> None:
        self.shown.clear()
        self.hidden.clear()
        for column in range(1, len(COLUMN_TITLES)):
            self.table.setColumnHidden(column, self.is_hidden(column, column in self._empty))
        self._save()

    # ---- persistence ----
    def _load(self) -> None:
        value = self.settings.value(SETTINGS_KEY)
        if isinstance(value, dict):
            known = set(COLUMN_TITLES)
            self.shown = {t for t in _as_list(value.get("shown")) if t in known}
            self.hidden = {t for t in _as_list(value.get("hidden")) if t in known} - self.shown

    def _save(self) -> None:
        self.settings.setValue(SETTINGS_KEY, {"shown": sorted(self.shown), "hidden": sorted(self.hidden)})
        self.settings.sync()


def install(panel, settings: QSettings) -> ColumnChooser:
    """Give a `LibraryPanel` its column chooser (the rule applies now and at every refresh)."""
    chooser = ColumnChooser(panel.table, settings)
    panel.column_rule = chooser.is_hidden
    panel.column_chooser = chooser
    if panel.model.rowCount():
        panel.refresh()
    else:
        for column in range(1, len(COLUMN_TITLES)):
            panel.table.setColumnHidden(column, chooser.is_hidden(column, False))
    return chooser


def _as_list(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]
