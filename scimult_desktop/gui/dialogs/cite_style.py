"""The citation-style picker of Settings ("Copy citation" / "Copy bibliography" use the chosen style)."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QWidget

from scimult_desktop.errors import ScimultError
from scimult_desktop.services.writing import csl_citations


class CiteStyleBox(QComboBox):
    """Common CSL styles by title; any other style id or a .csl file path can be typed in."""

    def __init__(self, current: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMinimumContentsLength(28)
        self.setToolTip("A common style, or type any CSL style id (e.g. elsevier-vancouver) or the path of a .csl file")
        try:
            styles = csl_citations.list_styles()
        except ScimultError as exc:  # the styles package is not installed
            styles = []
            self.setToolTip(str(exc))
        for info in styles:
            self.addItem(f"{info.title}  [{info.name}]", info.name)
        found = self.findData(current)
        if found >= 0:
            self.setCurrentIndex(found)
        else:
            self.setEditText(current)

    def style(self) -> str:
        """The chosen style as `cite_papers` takes it: a short name, a style id or a .csl path."""
        index = self.currentIndex()
        if index >= 0 and self.currentText() == self.itemText(index):
            return str(self.itemData(index))
        return self.currentText().strip()
