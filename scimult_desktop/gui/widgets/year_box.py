"""A year filter box that can be emptied: "any" (no limit) is its lowest value, and an empty field means it too."""

from __future__ import annotations

import datetime

from PySide6.QtGui import QValidator
from PySide6.QtWidgets import QSpinBox

ANY = 0  # the value shown as "any"


class YearBox(QSpinBox):
    """A year, or "any". Deleting the text clears it (a plain spin box put the old year back),
    and the arrows step from "any" to this year rather than from year 1."""

    def __init__(self, which: str, parent=None) -> None:
        super().__init__(parent)
        self.setRange(ANY, 2100)
        self.setSpecialValueText("any")
        self.setToolTip(f"Year {which} (any = no limit; delete the year to clear it)")
        self.setValue(ANY)

    def validate(self, text: str, pos: int):
        if not text.strip():
            return QValidator.State.Acceptable, text, pos
        return super().validate(text, pos)

    def valueFromText(self, text: str) -> int:
        return ANY if not text.strip() else super().valueFromText(text)

    def stepBy(self, steps: int) -> None:
        if self.value() == ANY and steps:
            self.setValue(datetime.date.today().year)
            return
        super().stepBy(steps)

    def year(self) -> int | None:
        return self.value() or None
