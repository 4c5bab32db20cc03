"""Related papers for the selected paper, each with its reason (similar / cites / co-cited)."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from scimult_desktop.domain.records import SearchHit
from scimult_desktop.gui.item_models import ID_ROLE, HtmlItem, HtmlListModel
from scimult_desktop.gui.operations import Operations
from scimult_desktop.gui.widgets.html_delegate import html_list_view

RELATED = 10


class RelatedPanel(QWidget):
    """Qt view of the papers related to the selected one. Double-click (or Enter) opens one.

    Signals:
        related_shown(int, int): results for this paper id are on screen (paper id, count).
    """

    related_shown = Signal(int, int)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.session = ops.session
        self.status = QLabel("Select a paper to see related papers and why they are related.")
        self.status.setWordWrap(True)
        self.results = HtmlListModel(self)
        self.view = html_list_view(self.results)
        self.view.activated.connect(self._open)
        self.view.doubleClicked.connect(self._open)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)
        layout.addStretch()
        self.view.hide()  # until there is something to list
        self.session.paper_selected.connect(self.load)

    def load(self, paper_id: int) -> None:
        self.status.setText("Finding related papers…")
        self.ops.run_query(
            lambda library, ctx: library.related(paper_id, k=RELATED),
            on_success=lambda hits: self._show(paper_id, hits), on_failure=self.status.setText,
            on_progress=lambda e: self.status.setText(f"Embedding the library first: {e.done}/{e.total or '?'}…"),
            key="related", name="related papers",
        )

    def _show(self, paper_id: int, hits: list[SearchHit]) -> None:
        self.results.set_items([
            HtmlItem(f"<b>{html.escape(hit.paper.title)}</b>{f' ({hit.paper.year})' if hit.paper.year else ''}"
                     f"<br><span style='color:gray'>{html.escape(hit.why or '')}</span>", hit.paper.id, hit)
            for hit in hits
        ])
        self.status.setText(f"{len(hits)} related paper(s); double-click one to open it." if hits
                            else "No related papers found in this library.")
        self.view.setVisible(bool(hits))
        self.related_shown.emit(paper_id, len(hits))

    def _open(self, index) -> None:
        paper_id = index.data(ID_ROLE)
        if paper_id is not None:
            self.session.select_paper(int(paper_id))
