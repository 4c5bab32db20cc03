"""Qt item models over lists of service records (never cursors)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Sequence

from PySide6.QtCore import QAbstractListModel, QAbstractTableModel, QModelIndex, QPersistentModelIndex, QSortFilterProxyModel, Qt

from scimult_desktop.services.library.browsing import PaperRow

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the record behind a row
ID_ROLE = Qt.ItemDataRole.UserRole + 2  # its paper id

_Index = QModelIndex | QPersistentModelIndex


def authors_text(authors: Sequence[str], limit: int = 3) -> str:
    """"A, B, C et al." for a table cell."""
    shown = ", ".join(authors[:limit])
    return shown + (" et al." if len(authors) > limit else "")


@dataclass(frozen=True)
class _Column:
    title: str
    text: Callable[[PaperRow], str]
    sort_key: Callable[[PaperRow], Any]


_COLUMNS = (
    _Column("Title", lambda r: r.title, lambda r: r.title.casefold()),
    _Column("Authors", lambda r: authors_text(r.authors), lambda r: (r.authors[0].casefold() if r.authors else "~")),
    _Column("Year", lambda r: str(r.year or ""), lambda r: r.year or 0),
    _Column("Venue", lambda r: r.venue or "", lambda r: (r.venue or "~").casefold()),
    _Column("PDF", lambda r: "PDF" if r.has_pdf else "", lambda r: not r.has_pdf),
    _Column("Fields", lambda r: ", ".join(r.fields), lambda r: ", ".join(r.fields).casefold() or "~"),
    # Shown on request (header menu, gui/widgets/column_chooser.py); appended so saved sort columns keep their meaning.
    _Column("Date added", lambda r: (r.created_at or "")[:10], lambda r: r.created_at or ""),
    _Column("Item type", lambda r: item_type_text(r.entry_type), lambda r: item_type_text(r.entry_type).casefold() or "~"),
    _Column("Citation key", lambda r: r.citekey or "", lambda r: (r.citekey or "~").casefold()),
    _Column("DOI", lambda r: r.doi or "", lambda r: r.doi or "~"),
)
COLUMN_TITLES = tuple(column.title for column in _COLUMNS)
OPTIONAL_COLUMNS = frozenset(range(6, len(_COLUMNS)))  # hidden until the user shows them

_ITEM_TYPES = {
    "article": "Journal article", "article-journal": "Journal article", "journalarticle": "Journal article",
    "inproceedings": "Conference paper", "paper-conference": "Conference paper", "conferencepaper": "Conference paper",
    "conference": "Conference paper", "book": "Book", "incollection": "Book section", "inbook": "Book section",
    "chapter": "Book section", "booksection": "Book section", "phdthesis": "Thesis", "mastersthesis": "Thesis",
    "thesis": "Thesis", "techreport": "Report", "report": "Report", "misc": "Document", "online": "Web page",
    "webpage": "Web page", "preprint": "Preprint", "manuscript": "Manuscript", "unpublished": "Manuscript",
    "software": "Software", "dataset": "Dataset", "patent": "Patent",
}


def item_type_text(entry_type: str | None) -> str:
    """"Journal article", "Conference paper"... for a stored BibTeX/CSL/Zotero type (unknown ones as stored)."""
    if not entry_type:
        return ""
    return _ITEM_TYPES.get(entry_type.strip().lower().replace("_", ""), entry_type.strip())


@dataclass
class PreparedRows:
    """Rows made ready for the table off the UI thread: sorted, with their filter text and empty columns."""

    rows: list[PaperRow]
    haystacks: list[str]
    empty_columns: set[int]


class PaperTableModel(QAbstractTableModel):
    """The library table: one `PaperRow` per row. Sorting reorders the Python list (fast at 100k rows).

    `prepare()` is pure Python and runs in the worker that loaded the rows, so that filling
    a 10k-row table costs the UI thread only the model reset.
    """

    @staticmethod
    def prepare(rows: list[PaperRow], sort_column: int = -1, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> PreparedRows:
        if 0 <= sort_column < len(_COLUMNS):
            rows = sorted(rows, key=_COLUMNS[sort_column].sort_key, reverse=order == Qt.SortOrder.DescendingOrder)
        empty = {c for c in range(1, len(_COLUMNS)) if not any(_COLUMNS[c].text(r) for r in rows)}
        return PreparedRows(list(rows), [PaperTableModel._haystack(r) for r in rows], empty)

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._rows: list[PaperRow] = []
        self._haystacks: list[str] = []
        self._row_by_id: dict[int, int] | None = None  # built on first lookup after each reorder

    # ---- contents ----
    def set_rows(self, rows: list[PaperRow] | PreparedRows) -> None:
        prepared = rows if isinstance(rows, PreparedRows) else self.prepare(rows)
        self.beginResetModel()
        self._rows, self._haystacks = prepared.rows, prepared.haystacks
        self._row_by_id = None
        self.endResetModel()

    def rows(self) -> list[PaperRow]:
        return list(self._rows)

    def row_record(self, row: int) -> PaperRow:
        return self._rows[row]

    def haystack(self, row: int) -> str:
        return self._haystacks[row]

    def row_of(self, paper_id: int) -> int | None:
        """The row showing `paper_id` (the table looks it up on every filter keystroke: a dict, not a scan)."""
        if self._row_by_id is None:
            self._row_by_id = {record.id: row for row, record in enumerate(self._rows)}
        return self._row_by_id.get(paper_id)

    @staticmethod
    def _haystack(r: PaperRow) -> str:
        return " ".join([r.title, " ".join(r.authors), str(r.year or ""), r.venue or "", r.citekey or "", *r.tags, *r.collections]).casefold()

    # ---- Qt model API ----
    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(_COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole):
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return _COLUMNS[section].title
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        record = self._rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return _COLUMNS[index.column()].text(record)
        if role == Qt.ItemDataRole.ToolTipRole:
            return record.title if index.column() == 0 else _COLUMNS[index.column()].text(record) or None
        if role == ROW_ROLE:
            return record
        if role == ID_ROLE:
            return record.id
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.layoutAboutToBeChanged.emit()
        # Selection and the current index are persistent indexes: moved with their paper, else
        # the highlighted row would keep its number and show another paper.
        persistent = self.persistentIndexList()
        held = [(self._rows[i.row()].id, i.column()) for i in persistent]
        pairs = sorted(zip(self._rows, self._haystacks), key=lambda p: _COLUMNS[column].sort_key(p[0]),
                       reverse=order == Qt.SortOrder.DescendingOrder)
        self._rows = [p[0] for p in pairs]
        self._haystacks = [p[1] for p in pairs]
        self._row_by_id = row_of = {record.id: row for row, record in enumerate(self._rows)}
        self.changePersistentIndexList(persistent, [self.index(row_of[paper_id], col) for paper_id, col in held])
        self.layoutChanged.emit()


class PaperFilterProxy(QSortFilterProxyModel):
    """Filters the table by typed words and by a set of allowed ids (a collection or tag).

    Sorting is delegated to the source model, which sorts its list in Python: Qt's
    own proxy sort would call back into Python for every comparison.
    """

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._words: list[str] = []
        self._allowed: set[int] | None = None

    def set_text(self, text: str) -> None:
        self.beginFilterChange()
        self._words = text.casefold().split()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_allowed_ids(self, ids: set[int] | None) -> None:
        self.beginFilterChange()
        self._allowed = ids
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: _Index) -> bool:
        model: PaperTableModel = self.sourceModel()  # type: ignore[assignment]
        if self._allowed is not None and model.row_record(source_row).id not in self._allowed:
            return False
        if self._words:
            haystack = model.haystack(source_row)
            return all(word in haystack for word in self._words)
        return True

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sourceModel().sort(column, order)


@dataclass
class HtmlItem:
    """A result line: rich text for the delegate, the paper it is about, and anything else the panel needs."""

    html: str
    paper_id: int | None
    payload: Any = None
    tooltip: str | None = None


class HtmlListModel(QAbstractListModel):
    """Search results, related papers: a list of `HtmlItem`s drawn by `HtmlDelegate`."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self._items: list[HtmlItem] = []

    def set_items(self, items: list[HtmlItem]) -> None:
        self.beginResetModel()
        self._items = list(items)
        self.endResetModel()

    def items(self) -> list[HtmlItem]:
        return list(self._items)

    def rowCount(self, parent: _Index = QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self._items)

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        item = self._items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return item.html
        if role == Qt.ItemDataRole.ToolTipRole:
            return item.tooltip
        if role == ROW_ROLE:
            return item
        if role == ID_ROLE:
            return item.paper_id
        return None
