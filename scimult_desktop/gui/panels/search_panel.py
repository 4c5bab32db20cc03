"""Search as you type: hybrid / semantic / keyword, filters, evidence with matched terms and page."""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.domain.records import SearchHit
from scimult_desktop.gui.item_models import ID_ROLE, HtmlItem, HtmlListModel, authors_text
from scimult_desktop.gui.operations import Operations
from scimult_desktop.gui.widgets.html_delegate import html_list_view, snippet_html
from scimult_desktop.gui.widgets.results_keys import ResultsKeys
from scimult_desktop.gui.widgets.year_box import YearBox
from scimult_desktop.services.finding.search_fallback import search_with_fallback
from scimult_desktop.services.library import browsing
from scimult_desktop.services.finding.filters import SearchFilters
from scimult_desktop.services.library.facade import SEARCH_MODES

DEBOUNCE_MS = 250
RESULTS = 25


def hit_html(hit: SearchHit, rank: int) -> str:
    """One result: rank, title, authors/year/venue, and the evidence snippet (with its page)."""
    paper = hit.paper
    meta = " · ".join(x for x in (authors_text(paper.authors), str(paper.year or ""), paper.venue or "") if x)
    where = f" <span style='color:gray'>(page {hit.page})</span>" if hit.page else ""
    evidence = f"<br>{snippet_html(hit.why)}{where}" if hit.why else ""
    if hit.passage is not None and hit.why:
        # A passage of the PDF text matched: say so, with its page, before the quoted text.
        evidence = (f"<br><span style='color:#2a6f2a'>Passage, page {hit.passage.page}:</span> "
                    f"<i>{snippet_html(hit.why)}</i>")
    meta_line = f"<br><span style='color:gray'>{html.escape(meta)}</span>" if meta else ""
    return f"<b>{rank}. {html.escape(paper.title)}</b>{meta_line}{evidence}"


class SearchPanel(QWidget):
    """Qt view of a search over the library.

    Signals:
        results_shown(str, int): results for this query are on screen (query, count).
    """

    results_shown = Signal(str, int)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.session = ops.session
        self.query_edit = QLineEdit(placeholderText="Search your library: words, a question or a claim (Ctrl+F)")
        self.query_edit.setClearButtonEnabled(True)
        self.mode = QComboBox()
        for mode in SEARCH_MODES:
            self.mode.addItem(mode.capitalize(), mode)
        self.mode.setToolTip("Hybrid: keywords and meaning; Semantic: meaning only (search expert); Keyword: BM25")
        self.year_from = YearBox("from")
        self.year_to = YearBox("to")
        # Shown only while a year is set: the filter row sets the Search page's minimum width.
        self.any_year = QToolButton(text="×")
        self.any_year.setAutoRaise(True)
        self.any_year.setToolTip("Any year: clear the year limits")
        self.any_year.setAccessibleName("Any year")
        self.any_year.clicked.connect(lambda: (self.year_from.setValue(0), self.year_to.setValue(0)))
        self.any_year.hide()
        self.collection = QComboBox()
        self.tag = QComboBox()
        for combo, everything in ((self.collection, "any collection"), (self.tag, "any tag")):
            combo.addItem(everything, None)
            combo.setMinimumContentsLength(12)
        self.has_pdf = QCheckBox("has PDF")

        self.results = HtmlListModel(self)
        self.view = html_list_view(self.results)
        self.view.setAlternatingRowColors(True)
        self.view.selectionModel().currentChanged.connect(self._on_current)
        self.keys = ResultsKeys(self.query_edit, self.view)  # Down/Enter in the box reach the results
        self.status = QLabel("Type to search. Results appear as you type.")
        self.status.setWordWrap(True)

        top = QHBoxLayout()
        top.addWidget(self.query_edit, 1)
        top.addWidget(self.mode)
        filters = QHBoxLayout()
        filters.addWidget(QLabel("Year"))
        filters.addWidget(self.year_from)
        filters.addWidget(QLabel("–"))
        filters.addWidget(self.year_to)
        filters.addWidget(self.any_year)
        filters.addWidget(self.collection)
        filters.addWidget(self.tag)
        filters.addWidget(self.has_pdf)
        filters.addStretch()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.status)
        layout.addWidget(self.view, 1)

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self.search_now)
        self.query_edit.textChanged.connect(lambda _t: self.debounce.start())
        self.query_edit.returnPressed.connect(self.search_now)
        for signal in (self.mode.currentIndexChanged, self.year_from.valueChanged, self.year_to.valueChanged,
                       self.collection.currentIndexChanged, self.tag.currentIndexChanged, self.has_pdf.toggled):
            signal.connect(lambda *_: self.debounce.start())
        for box in (self.year_from, self.year_to):
            box.valueChanged.connect(lambda *_: self.any_year.setVisible(bool(self.year_from.value() or self.year_to.value())))
        self.session.library_did_change.connect(lambda changes: self.refresh_facets() if changes & {"papers", "tags"} else None)
        self.session.library_did_open.connect(lambda _f: self.refresh_facets())

    def refresh_facets(self) -> None:
        self.ops.run_query(lambda library, ctx: browsing.facets(library), on_success=self._fill_facets, key="search-facets")

    def _fill_facets(self, facets: browsing.Facets) -> None:
        for combo, names in ((self.collection, facets.collections), (self.tag, facets.tags)):
            chosen = combo.currentData()
            combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for name, count in names:
                combo.addItem(f"{name} ({count})", name)
            combo.setCurrentIndex(max(combo.findData(chosen), 0))
            combo.blockSignals(False)

    def filters(self) -> SearchFilters:
        return SearchFilters(
            year_from=self.year_from.year(),
            year_to=self.year_to.year(),
            collection=self.collection.currentData(),
            tag=self.tag.currentData(),
            has_pdf=True if self.has_pdf.isChecked() else None,
        )

    def search_now(self) -> None:
        self.debounce.stop()
        query = self.query_edit.text().strip()
        if not query:
            self.keys.wants_results = False
            self.results.set_items([])
            self.status.setText("Type to search. Results appear as you type.")
            return
        mode, filters = self.mode.currentData(), self.filters()
        started = time.monotonic()
        self.status.setText(f"Searching for “{query}”…")
        self.ops.run_query(
            lambda library, ctx: search_with_fallback(library, query, k=RESULTS, mode=mode, filters=filters),
            on_success=lambda outcome: self._show(query, outcome.hits, time.monotonic() - started, outcome.notice, outcome.mode),
            on_failure=self._show_failure,
            on_progress=lambda event: self.status.setText(
                f"Embedding the library for semantic search first: {event.done}/{event.total or '?'}…"),
            key="search", name="search",
        )

    def _show_failure(self, message: str) -> None:
        self.results.set_items([])  # results of an earlier query under this error would read as its answer
        self.status.setText(f"Search failed: {html.escape(message)}")

    def _show(self, query: str, hits: list[SearchHit], seconds: float, notice: str | None = None, used_mode: str | None = None) -> None:
        self.results.set_items([
            HtmlItem(hit_html(hit, rank), hit.paper.id, hit, tooltip=f"score {hit.score:.3f}")
            for rank, hit in enumerate(hits, 1)
        ])
        mode = used_mode or self.mode.currentData()
        self.status.setText(
            f"{len(hits)} result(s) for “{html.escape(query)}” ({mode}, {seconds * 1000:.0f} ms)" if hits
            else f"No paper matches “{html.escape(query)}”. Try other words, the Semantic mode, or fewer filters."
        )
        if notice:
            self.status.setText(f"<b>{html.escape(notice)}</b><br>{self.status.text()}")
        if self.keys.wants_results:
            self.keys.wants_results = False
            self.keys.focus_results()
        self.results_shown.emit(query, len(hits))

    def _on_current(self, current, _previous) -> None:
        paper_id = current.data(ID_ROLE) if current.isValid() else None
        if paper_id is not None:
            self.session.select_paper(int(paper_id))
