"""Cards of citation suggestions: one card per sentence, one row per suggested paper.

Plain widgets in a vertical layout (inside a scroll area), not tree item widgets: layouts give
word-wrapped titles their real height for the width they get, and buttons keep their size hint,
so a narrow window wraps titles instead of eliding titles or citation keys.
"""

from __future__ import annotations

import html

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QSizePolicy, QVBoxLayout, QWidget

ROW_INDENT = 14


def _unsqueezable(button: QPushButton) -> QPushButton:
    """A button a layout never makes narrower than its text (Qt would clip it)."""
    button.setMinimumWidth(button.sizeHint().width())
    button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
    return button


def library_context_html(context: dict | None) -> str:
    """"Your library cites it: “sentence” — citing paper, page" (the evidence of a suggestion), or ""."""
    if not context:
        return ""
    citing = context["citing_paper"]
    return (f"<span style='color:#555'><i>Your library cites it: “{html.escape(context['sentence'])}”</i> — "
            f"{html.escape(citing.get('title') or '')}, p. {context['page']}</span>")


class SuggestionRow(QFrame):
    """One suggested paper: its title, a Copy button naming the citation, Good / Wrong (or the verdict and Undo).

    Signals:
        copy_requested(): Copy was pressed.
        verdict_given(bool): Good (True) or Wrong (False) was pressed.
        verdict_withdrawn(): Undo was pressed on a given verdict.
    """

    copy_requested = Signal()
    verdict_given = Signal(bool)
    verdict_withdrawn = Signal()

    def __init__(self, sentence: str, suggestion: dict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sentence, self.suggestion = sentence, suggestion
        self.title = QLabel(suggestion["title"] or "(untitled)")
        self.title.setTextFormat(Qt.TextFormat.PlainText)
        self.title.setWordWrap(True)
        self.title.setToolTip(f"{suggestion['title']}\nkey {suggestion.get('citekey')}, score {suggestion['score']:.3f}")
        self.copy_button = QPushButton()
        self.copy_button.clicked.connect(self.copy_requested)
        self.good_button = _unsqueezable(QPushButton("Good"))
        self.good_button.setToolTip("Good suggestion (kept as feedback for fine-tuning; Ctrl+Z or Undo takes it back)")
        self.good_button.clicked.connect(lambda: self.verdict_given.emit(True))
        self.wrong_button = _unsqueezable(QPushButton("Wrong"))
        self.wrong_button.setToolTip("Wrong suggestion (kept as feedback for fine-tuning; Ctrl+Z or Undo takes it back)")
        self.wrong_button.clicked.connect(lambda: self.verdict_given.emit(False))
        self.verdict_label = QLabel()
        self.undo_button = _unsqueezable(QPushButton("Undo"))
        self.undo_button.setToolTip("Take this verdict back (it is removed from the library)")
        self.undo_button.clicked.connect(self.verdict_withdrawn)

        buttons = QHBoxLayout()
        buttons.setContentsMargins(0, 0, 0, 0)
        buttons.addWidget(self.copy_button)
        buttons.addStretch()
        for widget in (self.good_button, self.wrong_button, self.verdict_label, self.undo_button):
            buttons.addWidget(widget)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(ROW_INDENT, 2, 2, 6)
        layout.setSpacing(3)
        layout.addWidget(self.title)
        self.library_context = QLabel(library_context_html(suggestion.get("library_context")))
        self.library_context.setWordWrap(True)
        self.library_context.setTextFormat(Qt.TextFormat.RichText)
        self.library_context.setVisible(bool(suggestion.get("library_context")))
        layout.addWidget(self.library_context)
        layout.addLayout(buttons)
        self.show_verdict(None)

    def buttons(self) -> list[QPushButton]:
        """In reading order (hidden ones are skipped by Tab)."""
        return [self.copy_button, self.good_button, self.wrong_button, self.undo_button]

    def set_citation(self, citation: str) -> None:
        self.copy_button.setText(f"Copy {citation}")
        self.copy_button.setToolTip(f"Put {citation} on the clipboard")
        _unsqueezable(self.copy_button)

    def show_verdict(self, good: bool | None) -> None:
        """Good / Wrong while unjudged (None); the verdict and Undo once judged."""
        judged = good is not None
        self.good_button.setVisible(not judged)
        self.wrong_button.setVisible(not judged)
        self.verdict_label.setVisible(judged)
        self.undo_button.setVisible(judged)
        if judged:
            self.verdict_label.setText("✓ Marked good" if good else "✗ Marked wrong")
            self.verdict_label.setStyleSheet("color: #1e7b34" if good else "color: #c0392b")


class SentenceCard(QFrame):
    """One sentence that needs attention: 'Line N: sentence', its flags, then its suggestion rows.

    Attributes:
        rows: the `SuggestionRow`s, best first.
        flag_labels: one label per flag (a cited key missing or looking unrelated).
    """

    def __init__(self, item: dict, *, asked: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.item = item
        self.setFrameShape(QFrame.Shape.StyledPanel)
        lines = f"Line {item['line']}" if item["end_line"] == item["line"] else f"Lines {item['line']}–{item['end_line']}"
        lead = f"You asked about {lines.lower()}" if asked else lines
        self.heading = QLabel(f"<b>{lead}</b>: {html.escape(item['sentence'])}")
        self.heading.setWordWrap(True)
        self.heading.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 4)
        layout.setSpacing(2)
        layout.addWidget(self.heading)
        self.flag_labels: list[QLabel] = []
        for flag in item["flags"]:
            label = QLabel(f"⚠ {html.escape(flag)}")
            label.setWordWrap(True)
            label.setStyleSheet("color: #c0392b")
            label.setContentsMargins(ROW_INDENT, 0, 0, 0)
            layout.addWidget(label)
            self.flag_labels.append(label)
        self.rows: list[SuggestionRow] = []
        for suggestion in item["suggestions"]:
            row = SuggestionRow(item["sentence"], suggestion)
            layout.addWidget(row)
            self.rows.append(row)
        if asked and not item["suggestions"]:
            none = QLabel("No paper in the library to suggest for it.")
            none.setContentsMargins(ROW_INDENT, 0, 0, 0)
            layout.addWidget(none)
