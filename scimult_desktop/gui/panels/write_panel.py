"""Write & cite: suggestions per sentence of typed text or a watched .tex/.md draft,
one-click citation copy, flags, and good / wrong suggestion feedback."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.errors import ScimultError
from scimult_desktop.gui.operations import Operations
from scimult_desktop.services.writing import citing
from scimult_desktop.services.library import preferences

DEBOUNCE_MS = 700
SUGGESTIONS = 5
_KINDS = {"auto": "Automatic", "plain": "Plain text", "latex": "LaTeX", "markdown": "Markdown"}


class SuggestionRow(QWidget):
    """One suggested paper: title, a Copy button showing the citation, and good / wrong buttons."""

    def __init__(self, panel: "WritePanel", sentence: str, suggestion: dict) -> None:
        super().__init__()
        self.panel, self.sentence, self.suggestion = panel, sentence, suggestion
        title = QLabel(suggestion["title"])
        title.setWordWrap(True)
        title.setToolTip(f"{suggestion['title']}\nkey {suggestion.get('citekey')}, score {suggestion['score']:.3f}")
        self.copy_button = QToolButton()
        self.copy_button.setToolTip("Copy the citation to the clipboard")
        self.copy_button.clicked.connect(self.copy)
        self.good_button = QToolButton(text="Good")
        self.good_button.setToolTip("Good suggestion (kept as feedback for fine-tuning)")
        self.good_button.clicked.connect(lambda: panel.record_feedback(self, True))
        self.wrong_button = QToolButton(text="Wrong")
        self.wrong_button.setToolTip("Wrong suggestion (kept as feedback for fine-tuning)")
        self.wrong_button.clicked.connect(lambda: panel.record_feedback(self, False))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 4)
        layout.setSpacing(2)
        layout.addWidget(title)
        buttons = QHBoxLayout()
        buttons.addWidget(self.copy_button)
        buttons.addStretch()
        buttons.addWidget(self.good_button)
        buttons.addWidget(self.wrong_button)
        layout.addLayout(buttons)
        self.update_citation()

    def citation(self) -> str:
        try:
            return citing.citation_text([self.suggestion["citekey"] or ""], self.panel.citation_format())
        except ScimultError:  # a key the chosen syntax cannot carry: give the bare key
            return self.suggestion["citekey"] or f"paper {self.suggestion['id']}"

    def update_citation(self) -> None:
        self.copy_button.setText(f"Copy {self.citation()}")

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.citation())
        self.panel.status.setText(f"Copied {self.citation()} to the clipboard.")


class WritePanel(QWidget):
    """Qt view of citation suggestions for a draft.

    Signals:
        suggestions_shown(int): this many sentences need attention (suggestions or flags).
        feedback_recorded(bool): a good (True) or wrong (False) verdict was stored.
    """

    suggestions_shown = Signal(int)
    feedback_recorded = Signal(bool)

    def __init__(self, ops: Operations, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.draft_path: str | None = None
        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText(
            "Type or paste a paragraph of your draft here, or open a .tex / .md file (it is watched for changes).\n\n"
            "Sentences that make a claim without a citation get suggestions from your library; "
            "cited keys that are missing or look unrelated are flagged."
        )
        self.kind = QComboBox()
        for value, label in _KINDS.items():
            self.kind.addItem(label, value)
        self.format = QComboBox()
        for style in citing.CITATION_STYLES:
            self.format.addItem(style, style)
        self.format.setCurrentIndex(max(self.format.findData(preferences.load_preferences().citation_format), 0))
        self.format.currentIndexChanged.connect(self._on_format_changed)
        open_button = QPushButton("Open draft…")
        open_button.clicked.connect(self.choose_draft)
        self.close_button = QPushButton("Stop watching")
        self.close_button.clicked.connect(self.close_draft)
        self.close_button.hide()
        check = QPushButton("Check now")
        check.clicked.connect(self.analyse_now)
        self.draft_label = QLabel()
        self.tree = QTreeWidget()
        self.tree.setHeaderLabels(["Sentence / suggestion"])
        self.tree.setHeaderHidden(True)
        self.tree.setWordWrap(True)
        self.tree.setUniformRowHeights(False)
        self.status = QLabel("Suggestions appear here as you write.")
        self.status.setWordWrap(True)

        controls = QHBoxLayout()
        controls.addWidget(open_button)
        controls.addWidget(self.close_button)
        controls.addWidget(QLabel("Text is"))
        controls.addWidget(self.kind)
        controls.addWidget(QLabel("Cite as"))
        controls.addWidget(self.format)
        controls.addWidget(check)
        controls.addStretch()
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.draft_label)
        left_layout.addWidget(self.editor)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.status)
        right_layout.addWidget(self.tree, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([420, 520])
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(splitter, 1)

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self.analyse_now)
        self.editor.textChanged.connect(self._on_text_changed)
        self.kind.currentIndexChanged.connect(lambda _i: self.debounce.start())
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._on_file_changed)

    def citation_format(self) -> str:
        return self.format.currentData()

    # ---- text and drafts ----
    def _on_text_changed(self) -> None:
        if self.draft_path is None:
            self.debounce.start()

    def choose_draft(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a draft", "", "Drafts (*.tex *.md *.markdown *.txt);;All files (*)")
        if path:
            self.open_draft(path)

    def open_draft(self, path: str) -> None:
        """Show a draft read-only and analyse it now and whenever the file changes on disk."""
        self.close_draft()
        self.draft_path = str(Path(path).resolve())
        self.watcher.addPath(self.draft_path)
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(max(self.kind.findData(citing.draft_kind(self.draft_path)), 0))
        self.kind.blockSignals(False)
        self.close_button.show()
        self._load_draft_text()
        self.analyse_now()

    def close_draft(self) -> None:
        if self.draft_path:
            self.watcher.removePath(self.draft_path)
        self.draft_path = None
        self.editor.setReadOnly(False)
        self.draft_label.setText("")
        self.close_button.hide()

    def _load_draft_text(self) -> None:
        try:
            text = Path(self.draft_path).read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            text = ""
            self.status.setText(f"{self.draft_path}: cannot be read ({exc})")
        self.editor.blockSignals(True)
        self.editor.setPlainText(text)
        self.editor.blockSignals(False)
        self.editor.setReadOnly(True)
        self.draft_label.setText(f"Watching <b>{Path(self.draft_path).name}</b>: edit it in your editor; "
                                 "suggestions follow every save.")

    def _on_file_changed(self, path: str) -> None:
        if path != self.draft_path:
            return
        # Editors often save by replacing the file, which drops it from the watcher: add it back.
        if Path(path).exists() and path not in self.watcher.files():
            self.watcher.addPath(path)
        self._load_draft_text()
        self.debounce.start()

    # ---- analysis ----
    def analyse_now(self) -> None:
        self.debounce.stop()
        text, kind, path = self.editor.toPlainText(), self.kind.currentData(), self.draft_path
        if kind == "auto":
            kind = citing.guess_text_kind(text)
        if not text.strip():
            self.tree.clear()
            self.status.setText("Suggestions appear here as you write.")
            return
        self.status.setText("Finding citations…")
        if path:
            work = lambda library, ctx: library.suggest_for_draft(path, k=SUGGESTIONS)  # noqa: E731
        else:
            work = lambda library, ctx: library.suggest_for_text(text, kind=kind, k=SUGGESTIONS)  # noqa: E731
        self.ops.run_query(work, on_success=self._show, on_failure=self.status.setText, key="suggest", name="suggestions",
                           on_progress=lambda e: self.status.setText(f"Embedding the library first: {e.done}/{e.total or '?'}…"))

    def _show(self, report: list[dict]) -> None:
        self.tree.clear()
        for item in report:
            head = QTreeWidgetItem(self.tree)
            sentence = QLabel(f"<b>Line {item['line']}</b>: {html.escape(item['sentence'])}")
            sentence.setWordWrap(True)
            self.tree.setItemWidget(head, 0, sentence)
            for flag in item["flags"]:
                flag_label = QLabel(f"⚠ {html.escape(flag)}")
                flag_label.setWordWrap(True)
                flag_label.setStyleSheet("color: #c0392b")
                self.tree.setItemWidget(QTreeWidgetItem(head), 0, flag_label)
            for suggestion in item["suggestions"]:
                child = QTreeWidgetItem(head)
                self.tree.setItemWidget(child, 0, SuggestionRow(self, item["sentence"], suggestion))
            head.setExpanded(True)
        needing = sum(1 for item in report if item["suggestions"])
        flagged = sum(1 for item in report if item["flags"])
        self.status.setText(
            f"{needing} sentence(s) could use a citation, {flagged} citation(s) flagged. Click Copy to put a citation on the clipboard."
            if report else "No sentence needs a citation: every claim cites something that fits."
        )
        self.suggestions_shown.emit(len(report))

    def suggestion_rows(self) -> list[SuggestionRow]:
        rows = []
        for i in range(self.tree.topLevelItemCount()):
            head = self.tree.topLevelItem(i)
            for j in range(head.childCount()):
                widget = self.tree.itemWidget(head.child(j), 0)
                if isinstance(widget, SuggestionRow):
                    rows.append(widget)
        return rows

    def _on_format_changed(self, _index: int) -> None:
        for row in self.suggestion_rows():
            row.update_citation()

    def record_feedback(self, row: SuggestionRow, good: bool) -> None:
        sentence, paper_id = row.sentence, row.suggestion["id"]
        row.good_button.setEnabled(False)
        row.wrong_button.setEnabled(False)
        self.ops.run_mutation(
            lambda library, ctx: citing.record_suggestion_feedback(library, sentence, paper_id, good),
            changes={"feedback"}, on_success=lambda _r: self._feedback_saved(good), on_failure=self.status.setText,
            name="saving feedback",
        )

    def _feedback_saved(self, good: bool) -> None:
        self.status.setText("Thanks: kept as a good suggestion." if good else "Thanks: kept as a wrong suggestion; it helps fine-tuning.")
        self.feedback_recorded.emit(good)
