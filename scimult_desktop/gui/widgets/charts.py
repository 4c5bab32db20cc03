"""Charts drawn with QPainter: field counts as bars, the library as a 2-D scatter map.

No chart library: PySide6-Essentials has no QtCharts, and both charts are simple.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
from PySide6.QtWidgets import QToolTip, QWidget

# Tableau-like categorical colours, readable on light and dark backgrounds.
PALETTE = [
    "#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7",
    "#9c755f", "#bab0ac", "#1f77b4", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#17becf",
]


def colour_for(index: int) -> QColor:
    return QColor(PALETTE[index % len(PALETTE)])


class BarChart(QWidget):
    """Horizontal bars, one per (label, count), longest first; bar colours match the map's."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._items: list[tuple[str, int]] = []
        self._colours: dict[str, QColor] = {}
        self.setMinimumHeight(120)

    def set_counts(self, items: list[tuple[str, int]], colours: dict[str, QColor]) -> None:
        self._items = list(items)
        self._colours = dict(colours)
        self.setMinimumHeight(max(120, 22 * len(self._items) + 12))
        self.updateGeometry()
        self.update()

    def counts(self) -> list[tuple[str, int]]:
        return list(self._items)

    def sizeHint(self) -> QSize:
        return QSize(360, max(120, 22 * len(self._items) + 12))

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        text_colour = self.palette().text().color()
        if not self._items:
            painter.setPen(text_colour)
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No fields yet: classify the library.")
            return
        metrics = QFontMetrics(self.font())
        label_width = min(max(metrics.horizontalAdvance(label) for label, _ in self._items) + 12, self.width() // 2)
        count_width = metrics.horizontalAdvance(str(self._items[0][1])) + 12
        top = 6
        bar_area = max(self.width() - label_width - count_width - 12, 10)
        biggest = max(count for _, count in self._items) or 1
        for label, count in self._items:
            painter.setPen(text_colour)
            elided = metrics.elidedText(label, Qt.TextElideMode.ElideRight, label_width - 8)
            painter.drawText(QRectF(4, top, label_width - 8, 18), Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight, elided)
            width = bar_area * count / biggest
            painter.fillRect(QRectF(label_width, top + 2, width, 14), self._colours.get(label, colour_for(0)))
            painter.drawText(QRectF(label_width + width + 6, top, count_width, 18), Qt.AlignmentFlag.AlignVCenter, str(count))
            top += 22


class ScatterMap(QWidget):
    """Points in 2-D coloured by category; hovering shows a title, clicking emits `point_clicked(id)`."""

    point_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMouseTracking(True)
        self.setMinimumSize(240, 200)
        self._ids: list[int] = []
        self._titles: list[str] = []
        self._xy = np.zeros((0, 2), np.float32)
        self._categories: list[str] = []
        self._colours: dict[str, QColor] = {}
        self._screen = np.zeros((0, 2), np.float32)
        self._selected: int | None = None

    def set_points(self, ids: list[int], titles: list[str], xy: np.ndarray, categories: list[str], colours: dict[str, QColor]) -> None:
        self._ids, self._titles, self._xy = list(ids), list(titles), np.asarray(xy, np.float32)
        self._categories, self._colours = list(categories), dict(colours)
        self._layout()
        self.update()

    def set_selected(self, paper_id: int | None) -> None:
        self._selected = paper_id
        self.update()

    def point_position(self, paper_id: int) -> QPointF:
        """Where a paper is drawn (tests click there)."""
        i = self._ids.index(paper_id)
        return QPointF(float(self._screen[i, 0]), float(self._screen[i, 1]))

    def resizeEvent(self, event) -> None:
        self._layout()
        super().resizeEvent(event)

    def _layout(self) -> None:
        if len(self._xy) == 0:
            self._screen = np.zeros((0, 2), np.float32)
            return
        margin = 14.0
        low, high = self._xy.min(axis=0), self._xy.max(axis=0)
        span = np.where(high - low > 1e-9, high - low, 1.0)
        unit = (self._xy - low) / span
        width, height = max(self.width() - 2 * margin, 1), max(self.height() - 2 * margin, 1)
        self._screen = np.stack([margin + unit[:, 0] * width, margin + (1 - unit[:, 1]) * height], axis=1)

    def _nearest(self, x: float, y: float, radius: float = 8.0) -> int | None:
        if len(self._screen) == 0:
            return None
        distances = np.hypot(self._screen[:, 0] - x, self._screen[:, 1] - y)
        i = int(np.argmin(distances))
        return i if distances[i] <= radius else None

    def mouseMoveEvent(self, event) -> None:
        i = self._nearest(event.position().x(), event.position().y())
        if i is None:
            QToolTip.hideText()
        else:
            QToolTip.showText(event.globalPosition().toPoint(), f"{self._titles[i]}\n{self._categories[i]}", self)

    def mousePressEvent(self, event) -> None:
        i = self._nearest(event.position().x(), event.position().y())
        if i is not None and event.button() == Qt.MouseButton.LeftButton:
            self.set_selected(self._ids[i])
            self.point_clicked.emit(self._ids[i])

    def paintEvent(self, event) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.fillRect(self.rect(), self.palette().base())
        if len(self._screen) == 0:
            painter.setPen(self.palette().text().color())
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "The map appears after classifying the library.")
            return
        painter.setPen(Qt.PenStyle.NoPen)
        selected_at = None
        for i, (x, y) in enumerate(self._screen):
            colour = QColor(self._colours.get(self._categories[i], colour_for(0)))
            colour.setAlpha(200)
            painter.setBrush(colour)
            painter.drawEllipse(QPointF(float(x), float(y)), 3.5, 3.5)
            if self._ids[i] == self._selected:
                selected_at = QPointF(float(x), float(y))
        if selected_at is not None:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(self.palette().text().color(), 2))
            painter.drawEllipse(selected_at, 7, 7)
