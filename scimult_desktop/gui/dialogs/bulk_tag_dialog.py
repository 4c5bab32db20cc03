"""Asks before tagging many papers with their top field: the count, each paper's field and
confidence, and a confidence threshold the user sees and changes (only papers at or above it start ticked)."""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.services.finding.top_fields import DEFAULT_MIN_CONFIDENCE, TopFieldProposal, pre_ticked

THRESHOLD_KEY = "fields/min_confidence_percent"


class BulkTagDialog(QDialog):
    """The proposals with a tick each; `chosen()` are the ticked ones after the user accepts."""

    def __init__(self, proposals: list[TopFieldProposal], settings: QSettings | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Tag papers with their top field")
        self.resize(640, 480)
        self.proposals = proposals
        self.settings = settings
        saved = settings.value(THRESHOLD_KEY) if settings is not None else None
        self.threshold = QSpinBox()
        self.threshold.setRange(0, 100)
        self.threshold.setSuffix(" %")
        self.threshold.setValue(int(saved) if saved is not None else round(DEFAULT_MIN_CONFIDENCE * 100))
        self.threshold.setToolTip("Papers whose top field has at least this confidence start ticked; tick or untick any paper yourself")
        self.threshold.valueChanged.connect(self._tick_by_threshold)

        intro = QLabel(f"<b>{len(proposals):,}</b> papers have a suggested top field. Each ticked paper gets its "
                       "field as a tag; Edit → Undo removes exactly the tags added.")
        intro.setWordWrap(True)
        self.items = QListWidget()
        for proposal in proposals:
            item = QListWidgetItem(f"{proposal.confidence:4.0%}   {proposal.field}  —  {proposal.title}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setToolTip(proposal.title)
            self.items.addItem(item)
        self.items.itemChanged.connect(lambda _item: self._update_count())
        self.count = QLabel()
        threshold_row = QHBoxLayout()
        threshold_row.addWidget(QLabel("Tick papers whose top field has a confidence of at least"))
        threshold_row.addWidget(self.threshold)
        threshold_row.addStretch()
        none_button = QPushButton("Untick all")
        none_button.clicked.connect(lambda: self._set_all(False))
        threshold_row.addWidget(none_button)

        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.apply_button = self.buttons.addButton("Tag", QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(threshold_row)
        layout.addWidget(self.items, 1)
        layout.addWidget(self.count)
        layout.addWidget(self.buttons)
        self._tick_by_threshold()

    def _tick_by_threshold(self) -> None:
        ticks = pre_ticked(self.proposals, self.threshold.value() / 100)
        self.items.blockSignals(True)
        for row, ticked in enumerate(ticks):
            self.items.item(row).setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        self.items.blockSignals(False)
        self._update_count()

    def _set_all(self, ticked: bool) -> None:
        self.items.blockSignals(True)
        for row in range(self.items.count()):
            self.items.item(row).setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
        self.items.blockSignals(False)
        self._update_count()

    def _update_count(self) -> None:
        ticked = len(self.chosen())
        below = sum(1 for p in self.proposals if p.confidence < self.threshold.value() / 100)
        self.count.setText(f"{ticked:,} of {len(self.proposals):,} papers will be tagged "
                           f"({below:,} below {self.threshold.value()} % confidence start unticked).")
        self.apply_button.setText(f"Tag {ticked:,} paper{'s' if ticked != 1 else ''}")
        self.apply_button.setEnabled(ticked > 0)

    def chosen(self) -> list[TopFieldProposal]:
        return [p for row, p in enumerate(self.proposals) if self.items.item(row).checkState() == Qt.CheckState.Checked]

    def accept(self) -> None:
        if self.settings is not None:
            self.settings.setValue(THRESHOLD_KEY, self.threshold.value())  # the next bulk tagging starts from it
        super().accept()
