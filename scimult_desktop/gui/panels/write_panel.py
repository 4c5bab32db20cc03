"""Write & cite: suggestions per sentence of typed text or a watched .tex/.md draft, suggestions
for the sentence at the cursor (or the selection) on request, one-click citation copy, flags,
and good / wrong feedback that Ctrl+Z or Undo takes back.

The text, the draft being watched and the splitter are kept in the window's QSettings; the
"Cite as" choice is the user's citation format preference (the Settings dialog shows the same).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.errors import ScimultError
from scimult_desktop.gui.operations import Operations
from scimult_desktop.gui.suggestion_verdicts import SuggestionVerdicts
from scimult_desktop.gui.widgets.suggestion_cards import SentenceCard, SuggestionRow
from scimult_desktop.services.library import preferences
from scimult_desktop.services.writing import citing

DEBOUNCE_MS = 700
SUGGESTIONS = 5
# Narrower than this, the suggestions go below the text: side by side, both would be too narrow
# for a title and its Copy / Good / Wrong buttons (1280x800 with the docks open leaves ~790 px).
WIDE_LAYOUT_MIN_WIDTH = 960
SECTION_MIN_WIDTH = 340
MAX_SAVED_TEXT = 1_000_000  # characters; a longer paste is not worth a settings file of that size
ASK_SHORTCUTS = ("Ctrl+Return", "Ctrl+Enter")
_KINDS = {"auto": "Automatic", "plain": "Plain text", "latex": "LaTeX", "markdown": "Markdown"}
_DEFAULT_SIZES = {Qt.Orientation.Vertical: [1, 2], Qt.Orientation.Horizontal: [4, 5]}
_ORIENTATION_NAMES = {Qt.Orientation.Vertical: "vertical", Qt.Orientation.Horizontal: "horizontal"}


def python_index(text: str, qt_offset: int) -> int:
    """Index into `text` of a Qt cursor offset (Qt counts UTF-16 units: a character beyond the BMP is two)."""
    if text.isascii():
        return min(qt_offset, len(text))
    units = 0
    for index, char in enumerate(text):
        if units >= qt_offset:
            return index
        units += 2 if ord(char) > 0xFFFF else 1
    return len(text)


class WritePanel(QWidget):
    """Qt view of citation suggestions for a draft.

    Signals:
        suggestions_shown(int): this many sentences need attention (suggestions or flags).
        sentence_suggested(dict): the item for the sentence (or selection) the user asked about.
        feedback_recorded(bool): a good (True) or wrong (False) verdict was stored.
        feedback_withdrawn(bool): a verdict was taken back; True when its stored row was removed.
    """

    suggestions_shown = Signal(int)
    sentence_suggested = Signal(dict)
    feedback_recorded = Signal(bool)
    feedback_withdrawn = Signal(bool)

    def __init__(self, ops: Operations, undo_stack: QUndoStack | None = None, settings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.settings = settings
        self.draft_path: str | None = None
        self.typed_text = ""  # what the user typed or pasted (a watched draft's text is not theirs to keep)
        self.report: list[dict] = []
        self.asked: dict | None = None
        self.verdicts = SuggestionVerdicts(ops, undo_stack or QUndoStack(self), self)
        self.verdicts.changed.connect(self._show_verdicts)
        self.verdicts.recorded.connect(self._feedback_saved)
        self.verdicts.withdrawn.connect(self._feedback_removed)
        self.verdicts.failed.connect(lambda message: self.status.setText(message))
        self.cards: list[SentenceCard] = []
        self._ratios = {orientation: list(sizes) for orientation, sizes in _DEFAULT_SIZES.items()}

        self.editor = QPlainTextEdit()
        self.editor.setTabChangesFocus(True)  # Tab reaches the buttons; prose rarely needs a tab character
        self.editor.setPlaceholderText(
            "Type or paste a paragraph of your draft here, or open a .tex / .md file (it is watched for changes).\n\n"
            "Sentences that make a claim without a citation get suggestions from your library; "
            "cited keys that are missing or look unrelated are flagged. "
            f"For any other sentence: put the cursor in it (or select text) and press {self._ask_keys()}."
        )
        self.kind = QComboBox()
        for value, label in _KINDS.items():
            self.kind.addItem(label, value)
        self.format = QComboBox()
        for style in citing.CITATION_STYLES:
            self.format.addItem(style, style)
        self.format.setCurrentIndex(max(self.format.findData(preferences.load_preferences().citation_format), 0))
        self.format.currentIndexChanged.connect(self._on_format_changed)
        self.open_button = QPushButton("&Open draft…")
        self.open_button.setToolTip("Show a .tex / .md / .txt draft here and check it again on every save")
        self.open_button.clicked.connect(self.choose_draft)
        self.close_button = QPushButton("Stop &watching")
        self.close_button.clicked.connect(self.close_draft)
        self.close_button.hide()
        self.ask_action = QAction("&Suggest for this sentence", self)
        self.ask_action.setShortcuts([QKeySequence(keys) for keys in ASK_SHORTCUTS])
        self.ask_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.ask_action.triggered.connect(self.suggest_for_sentence)
        self.addAction(self.ask_action)
        self.ask_button = QPushButton(self.ask_action.text())
        self.ask_button.setToolTip(f"Suggestions for the sentence at the cursor, or for the selected text ({self._ask_keys()})")
        self.ask_button.clicked.connect(self.ask_action.trigger)
        self.check_button = QPushButton("&Check whole text")
        self.check_button.setToolTip("Look for every sentence that needs a citation now (it also happens as you type)")
        self.check_button.clicked.connect(self.analyse_now)
        self.draft_label = QLabel()
        self.draft_label.setWordWrap(True)
        self.draft_label.hide()
        self.status = QLabel("Suggestions appear here as you write.")
        self.status.setWordWrap(True)
        self.cards_box = QWidget()
        self.cards_layout = QVBoxLayout(self.cards_box)
        self.cards_layout.setContentsMargins(0, 0, 0, 0)
        self.cards_layout.addStretch()
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes straight to the buttons inside
        self.scroll.setWidget(self.cards_box)

        text_section = QWidget()
        text_section.setMinimumWidth(SECTION_MIN_WIDTH)
        text_layout = QVBoxLayout(text_section)
        text_layout.setContentsMargins(0, 0, 0, 0)
        text_layout.addLayout(self._row(self.open_button, self.close_button, None, self._buddy("&Text is", self.kind), self.kind))
        text_layout.addWidget(self.draft_label)
        text_layout.addWidget(self.editor, 1)
        text_layout.addLayout(self._row(self.ask_button, self.check_button, None))
        results_section = QWidget()
        results_section.setMinimumWidth(SECTION_MIN_WIDTH)
        results_layout = QVBoxLayout(results_section)
        results_layout.setContentsMargins(0, 0, 0, 0)
        results_layout.addLayout(self._row(self._buddy("C&ite as", self.format), self.format, None))
        results_layout.addWidget(self.status)
        results_layout.addWidget(self.scroll, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.splitterMoved.connect(self._on_splitter_moved)
        self.splitter.addWidget(text_section)
        self.splitter.addWidget(results_section)
        layout = QVBoxLayout(self)
        layout.addWidget(self.splitter, 1)
        # Reading order (the widgets were made in another); the suggestions' buttons follow (see _render).
        chain = [self.open_button, self.close_button, self.kind, self.editor, self.ask_button, self.check_button, self.format]
        for before, after in zip(chain, chain[1:]):
            QWidget.setTabOrder(before, after)

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self.analyse_now)
        self.editor.textChanged.connect(self._on_text_changed)
        self.kind.currentIndexChanged.connect(lambda _i: self.debounce.start())
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._on_file_changed)
        QApplication.instance().focusChanged.connect(self._on_focus_changed)
        self.restore_state()

    @staticmethod
    def _ask_keys() -> str:
        return QKeySequence(ASK_SHORTCUTS[0]).toString(QKeySequence.SequenceFormat.NativeText)

    @staticmethod
    def _buddy(text: str, widget: QWidget) -> QLabel:
        label = QLabel(text)
        label.setBuddy(widget)  # Alt+letter focuses the widget
        return label

    @staticmethod
    def _row(*widgets: QWidget | None) -> QHBoxLayout:
        """A row of widgets; None is a stretch."""
        row = QHBoxLayout()
        for widget in widgets:
            if widget is None:
                row.addStretch()
            else:
                row.addWidget(widget)
        return row

    def citation_format(self) -> str:
        return self.format.currentData()

    # ---- layout and kept state ----
    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        wide = event.size().width() >= WIDE_LAYOUT_MIN_WIDTH
        self.splitter.setOrientation(Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical)
        self._share_splitter(self._ratios[self.splitter.orientation()])

    def _on_focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        # Tab into the suggestions from outside the scroll area does not scroll by itself.
        if new is not None and self.cards_box.isAncestorOf(new):
            self.scroll.ensureWidgetVisible(new)

    def _on_splitter_moved(self, _position: int, _index: int) -> None:
        self._ratios[self.splitter.orientation()] = self.splitter.sizes()

    def _share_splitter(self, ratio: list[int]) -> None:
        """Split the splitter's length in `ratio`: the user's split, kept at every window size."""
        horizontal = self.splitter.orientation() == Qt.Orientation.Horizontal
        length = (self.splitter.width() if horizontal else self.splitter.height()) - self.splitter.handleWidth()
        first = round(length * ratio[0] / sum(ratio))
        self.splitter.setSizes([first, length - first])

    def save_state(self) -> None:
        """Keep the typed text, its kind, the watched draft and the splitter in the window's settings."""
        if self.settings is None:
            return
        self.settings.setValue("write/text", self.typed_text if len(self.typed_text) <= MAX_SAVED_TEXT else "")
        self.settings.setValue("write/kind", self.kind.currentData())
        self.settings.setValue("write/draft", self.draft_path or "")
        for orientation, sizes in self._ratios.items():
            self.settings.setValue(f"write/sizes-{_ORIENTATION_NAMES[orientation]}", ",".join(map(str, sizes)))

    def restore_state(self) -> None:
        if self.settings is None:
            return
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(max(self.kind.findData(self.settings.value("write/kind", "auto")), 0))
        self.kind.blockSignals(False)
        for orientation, name in _ORIENTATION_NAMES.items():
            saved = str(self.settings.value(f"write/sizes-{name}", ""))
            sizes = [int(part) for part in saved.split(",") if part.strip().isdigit()]
            if len(sizes) == 2 and min(sizes) > 0:
                self._ratios[orientation] = sizes
        self.editor.setPlainText(str(self.settings.value("write/text", "")))  # analysed after the usual pause
        draft = str(self.settings.value("write/draft", ""))
        if draft and Path(draft).is_file():
            self.open_draft(draft)
        elif draft:
            self.status.setText(f"{draft}: the draft watched last time is gone; showing the text you typed.")

    # ---- text and drafts ----
    def _on_text_changed(self) -> None:
        if self.draft_path is None:
            self.typed_text = self.editor.toPlainText()
            self.debounce.start()

    def choose_draft(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a draft", "", "Drafts (*.tex *.md *.markdown *.txt);;All files (*)")
        if path:
            self.open_draft(path)

    def open_draft(self, path: str) -> None:
        """Show a draft read-only and analyse it now and whenever the file changes on disk."""
        self._unwatch()
        self.draft_path = str(Path(path).resolve())
        self.watcher.addPath(self.draft_path)
        self.kind.blockSignals(True)
        self.kind.setCurrentIndex(max(self.kind.findData(citing.draft_kind(self.draft_path)), 0))
        self.kind.blockSignals(False)
        self.close_button.show()
        self.asked = None
        self._load_draft_text()
        self.analyse_now()

    def close_draft(self) -> None:
        """Stop watching: the draft's text stays, now editable, as the user's own text."""
        self._unwatch()
        self._on_text_changed()

    def _unwatch(self) -> None:
        if self.draft_path:
            self.watcher.removePath(self.draft_path)
        self.draft_path = None
        self.editor.setReadOnly(False)
        self.draft_label.setText("")
        self.draft_label.hide()
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
        # Read-only text still takes a keyboard cursor, so the sentence to ask about can be chosen without a mouse.
        self.editor.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse
                                            | Qt.TextInteractionFlag.TextSelectableByKeyboard)
        self.draft_label.setText(f"Watching <b>{Path(self.draft_path).name}</b>: edit it in your editor; "
                                 "suggestions follow every save.")
        self.draft_label.show()

    def _on_file_changed(self, path: str) -> None:
        if path != self.draft_path:
            return
        # Editors often save by replacing the file, which drops it from the watcher: add it back.
        if Path(path).exists() and path not in self.watcher.files():
            self.watcher.addPath(path)
        self._load_draft_text()
        self.debounce.start()

    def _text_and_kind(self) -> tuple[str, str]:
        text, kind = self.editor.toPlainText(), self.kind.currentData()
        return text, citing.guess_text_kind(text) if kind == "auto" else kind

    # ---- analysis ----
    def analyse_now(self) -> None:
        self.debounce.stop()
        self.save_state()  # the typed text survives a crash, not only a clean quit
        (text, kind), path = self._text_and_kind(), self.draft_path
        if not text.strip():
            self.report, self.asked = [], None
            self._render()
            self.status.setText("Suggestions appear here as you write.")
            return
        self.status.setText("Finding citations…")
        if path:
            work = lambda library, ctx: library.suggest_for_draft(path, k=SUGGESTIONS)  # noqa: E731
        else:
            work = lambda library, ctx: library.suggest_for_text(text, kind=kind, k=SUGGESTIONS)  # noqa: E731
        self.ops.run_query(work, on_success=self._show, on_failure=self.status.setText, key="suggest", name="suggestions",
                           on_progress=self._show_progress)

    def suggest_for_sentence(self) -> None:
        """Suggestions for the selected text, or else for the sentence at the cursor, claim or not."""
        text, kind = self._text_and_kind()
        if not text.strip():
            self.status.setText("Type or paste some text first, then put the cursor in a sentence.")
            return
        cursor = self.editor.textCursor()
        if cursor.hasSelection():
            start, end = python_index(text, cursor.selectionStart()), python_index(text, cursor.selectionEnd())
            work = lambda library, ctx: citing.suggest_for_selection(library, text, kind, start, end, k=SUGGESTIONS)  # noqa: E731
        else:
            position = python_index(text, cursor.position())
            work = lambda library, ctx: library.suggest_at(text, kind, position, k=SUGGESTIONS)  # noqa: E731
        self.status.setText("Finding citations for this sentence…")
        self.ops.run_query(work, on_success=self._show_asked, on_failure=self.status.setText, key="suggest-at",
                           name="suggestions for a sentence", on_progress=self._show_progress)

    def _show_progress(self, event) -> None:
        self.status.setText(f"Embedding the library first: {event.done}/{event.total or '?'}…")

    def _show(self, report: list[dict]) -> None:
        self.report = report
        self._render()
        needing = sum(1 for item in report if item["suggestions"])
        flagged = sum(1 for item in report if item["flags"])
        self.status.setText(
            f"{needing} sentence(s) could use a citation, {flagged} citation(s) flagged. Copy puts a citation on the clipboard."
            if report else f"No sentence needs a citation: every claim cites something that fits. "
                           f"For suggestions on any sentence, put the cursor in it and press {self._ask_keys()}."
        )
        self.suggestions_shown.emit(len(report))

    def _show_asked(self, item: dict) -> None:
        self.asked = item
        self._render()
        self.scroll.verticalScrollBar().setValue(0)
        self.status.setText(f"{len(item['suggestions'])} suggestion(s) for the sentence you asked about (first below).")
        self.sentence_suggested.emit(item)

    def _render(self) -> None:
        """Cards for the asked sentence (first), then for every sentence of the last check."""
        for card in self.cards:
            card.deleteLater()
        self.cards = []
        items = [(self.asked, True)] if self.asked else []
        items += [(item, False) for item in self.report if not self.asked or item["sentence"] != self.asked["sentence"]]
        for item, asked in items:
            card = SentenceCard(item, asked=asked)
            for row in card.rows:
                self._wire(row)
            self.cards_layout.insertWidget(self.cards_layout.count() - 1, card)  # before the closing stretch
            self.cards.append(card)
        # Tab from "Cite as" walks the suggestions top to bottom (new widgets would join the window's chain at its end).
        chain = [self.format] + [button for row in self.suggestion_rows() for button in row.buttons()]
        for before, after in zip(chain, chain[1:]):
            QWidget.setTabOrder(before, after)

    def _wire(self, row: SuggestionRow) -> None:
        row.set_citation(self._citation(row))
        row.show_verdict(self.verdicts.verdict(row.sentence, row.suggestion["id"]))
        row.copy_requested.connect(lambda: self.copy_citation(row))
        row.verdict_given.connect(lambda good: self.verdicts.judge(row.sentence, row.suggestion["id"], good))
        row.verdict_withdrawn.connect(lambda: self.verdicts.take_back(row.sentence, row.suggestion["id"]))

    def suggestion_rows(self) -> list[SuggestionRow]:
        return [row for card in self.cards for row in card.rows]

    def flag_texts(self) -> list[str]:
        return [label.text() for card in self.cards for label in card.flag_labels]

    # ---- citations ----
    def _citation(self, row: SuggestionRow) -> str:
        try:
            return citing.citation_text([row.suggestion["citekey"] or ""], self.citation_format())
        except ScimultError:  # a key the chosen syntax cannot carry: give the bare key
            return row.suggestion["citekey"] or f"paper {row.suggestion['id']}"

    def copy_citation(self, row: SuggestionRow) -> None:
        citation = self._citation(row)
        QGuiApplication.clipboard().setText(citation)
        self.status.setText(f"Copied {citation} to the clipboard.")

    def _on_format_changed(self, _index: int) -> None:
        for row in self.suggestion_rows():
            row.set_citation(self._citation(row))
        chosen = preferences.load_preferences()
        if chosen.citation_format != self.citation_format():
            chosen.citation_format = self.citation_format()
            try:
                preferences.save_preferences(chosen)  # one small settings file: kept for the next start
            except (ScimultError, OSError) as exc:
                self.status.setText(f"The citation format is used now but could not be saved: {exc}")

    # ---- feedback ----
    def _show_verdicts(self) -> None:
        for row in self.suggestion_rows():
            row.show_verdict(self.verdicts.verdict(row.sentence, row.suggestion["id"]))

    def _feedback_saved(self, good: bool) -> None:
        kept = "kept as a good suggestion" if good else "kept as a wrong suggestion; it helps fine-tuning"
        self.status.setText(f"Thanks: {kept}. Ctrl+Z or Undo takes it back.")
        self.feedback_recorded.emit(good)

    def _feedback_removed(self, removed: bool) -> None:
        self.status.setText("Verdict taken back: removed from the library." if removed else "That verdict was already gone.")
        self.feedback_withdrawn.emit(bool(removed))
