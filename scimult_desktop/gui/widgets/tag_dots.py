"""Coloured tag dots at the end of the library table's title cells (as Zotero shows coloured tags)."""

from __future__ import annotations

from typing import Callable

from PySide6.QtCore import QModelIndex, QRect
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QStyledItemDelegate, QStyleOptionViewItem

DOT = 9  # pixels
MAX_DOTS = 6


def row_tags(index: QModelIndex) -> list[str]:
    """The tags of the paper shown at `index`, through any proxy models."""
    model, source = index.model(), index
    while hasattr(model, "mapToSource"):
        source = model.mapToSource(source)
        model = source.model()
    record = getattr(model, "row_record", None)
    return list(record(source.row()).tags) if record is not None and source.isValid() else []


class TagDotsDelegate(QStyledItemDelegate):
    """Draws the cell as usual, leaving room at its end for one dot per coloured tag of the paper.

    Args:
        colours: returns tag name -> "#rrggbb" for the tags that have a colour (read at paint time).
    """

    def __init__(self, colours: Callable[[], dict[str, str]], parent=None) -> None:
        super().__init__(parent)
        self.colours = colours

    def dots(self, index: QModelIndex) -> list[str]:
        colours = self.colours()
        if not colours:
            return []
        return [colours[name] for name in row_tags(index) if name in colours][:MAX_DOTS]

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        dots = self.dots(index)
        if not dots:
            super().paint(painter, option, index)
            return
        width = len(dots) * (DOT + 3) + 4
        text_option = QStyleOptionViewItem(option)
        text_option.rect = QRect(option.rect.x(), option.rect.y(), max(0, option.rect.width() - width), option.rect.height())
        # The selection background spans the whole cell, the text stops before the dots.
        background = QStyleOptionViewItem(option)
        background.text = ""
        style = option.widget.style() if option.widget else None
        if style is not None:
            self.initStyleOption(background, index)
            background.text = ""
            style.drawControl(style.ControlElement.CE_ItemViewItem, background, painter, option.widget)
        super().paint(painter, text_option, index)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        x = option.rect.right() - width + 4
        y = option.rect.center().y() - DOT // 2
        for colour in dots:
            painter.setBrush(QColor(colour))
            painter.setPen(QColor(colour).darker(130))
            painter.drawEllipse(x, y, DOT, DOT)
            x += DOT + 3
        painter.restore()
