"""The detail pane's "How your papers cite it" section: citing sentences from the library's PDFs."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from scimult_desktop.gui.operations import Operations
from scimult_desktop.gui.widgets.html_delegate import HtmlDelegate

# Sentences shown at most; the CLI (`scimult contexts PAPER`) lists them all.
MAX_SHOWN = 50


def context_html(item: dict) -> str:
    """One citing sentence (its marker in bold) above the citing paper and page."""
    sentence = item["sentence"]
    start = item.get("marker_offset", -1)
    marker = item["marker"]
    if 0 <= start and sentence[start:start + len(marker)] == marker:
        text = (html.escape(sentence[:start]) + f"<b>{html.escape(marker)}</b>"
                + html.escape(sentence[start + len(marker):]))
    else:
        text = html.escape(sentence)
    citing = item["citing_paper"]
    year = f" ({citing['year']})" if citing.get("year") else ""
    return (f"“{text}”<br><span style='color:#666'>— {html.escape(citing['title'] or '')}{year}, "
            f"p. {item['page']}</span>")


def find_pending_citation_contexts(ops: Operations) -> None:
    """In the background, analyse papers whose text has no citation contexts yet (a library from before
    they existed, or an analysis cut short); resumable, with progress, and cancellable like any operation."""

    def start(pending: int) -> None:
        if pending:
            ops.run_mutation(lambda library, ctx: library.analyse_citation_contexts(progress=ctx.progress, cancel=ctx.cancel),
                             changes={"citation_contexts"}, name=f"finding citation contexts in {pending} papers")

    ops.run_query(lambda library, ctx: library.citation_context_backlog(), on_success=start, key="citation-context-backlog",
                  name="checking citation contexts")


class CitingContextsSection(QWidget):
    """Qt view of how library papers cite one paper; activating a sentence selects the citing paper."""

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.session = ops.session
        self.paper_id: int | None = None
        self.heading = QLabel()
        self.heading.setWordWrap(True)  # a long count must not widen the detail dock
        self.note = QLabel()
        self.note.setWordWrap(True)
        self.list = QListWidget()
        self.list.setItemDelegate(HtmlDelegate(self.list))
        self.list.setWordWrap(True)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setMinimumHeight(120)
        self.list.setMaximumHeight(260)
        self.list.setToolTip("Enter or double-click: open the citing paper")
        self.list.itemActivated.connect(self._open_citing)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.note)
        layout.addWidget(self.list)
        self.show_contexts([])
        self.session.library_did_change.connect(self._on_library_changed)

    def _on_library_changed(self, changes: set[str]) -> None:
        if self.paper_id is not None and "citation_contexts" in changes:
            self.load(self.paper_id)

    def load(self, paper_id: int) -> None:
        """Read the citing sentences of `paper_id` off the UI thread."""
        self.paper_id = paper_id
        self.ops.run_query(lambda library, ctx: library.citation_contexts(paper_id, limit=MAX_SHOWN + 1),
                           on_success=lambda items, pid=paper_id: self._loaded(pid, items),
                           on_failure=self._failed, key="citing-contexts", name="reading citing sentences")

    def _failed(self, message: str) -> None:
        self.note.setText(message)
        self.note.setVisible(True)

    def _loaded(self, paper_id: int, items: list[dict]) -> None:
        if paper_id == self.paper_id:  # a newer selection replaced it meanwhile
            self.show_contexts(items)

    def show_contexts(self, items: list[dict]) -> None:
        self.list.clear()
        shown = items[:MAX_SHOWN]
        papers = len({item["citing_paper"]["id"] for item in items})
        more = "+" if len(items) > MAX_SHOWN else ""
        self.heading.setText(f"<b>How your papers cite it</b> ({len(shown)}{more} sentence{'s' if len(shown) != 1 else ''}"
                             f" in {papers} paper{'s' if papers != 1 else ''})" if items else
                             "<b>How your papers cite it</b>")
        self.note.setText("" if items else "<i>No paper in your library cites it in a PDF's text.</i>")
        self.note.setVisible(not items)
        for item in shown:
            entry = QListWidgetItem(context_html(item))
            entry.setData(Qt.ItemDataRole.UserRole, item["citing_paper"]["id"])
            entry.setToolTip(item["citing_paper"]["title"] or "")
            self.list.addItem(entry)
        self.list.setVisible(bool(shown))

    def _open_citing(self, item: QListWidgetItem) -> None:
        paper_id = item.data(Qt.ItemDataRole.UserRole)
        if paper_id is not None:
            self.session.select_paper(int(paper_id))
