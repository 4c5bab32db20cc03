"""The Notes section of the detail pane: a paper's notes, edited in place and saved as you type.

Typing saves a second after the last keystroke (and at once when the paper changes, the
editor loses focus or the window closes), so at most the last second of typing can be
lost to a crash. A note is created by the first save of text typed into an empty editor.
Deleting a note goes on the window's undo stack.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtGui import QUndoStack
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QStackedWidget,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.gui.operations import Operations
from scimult_desktop.gui.organizing_commands import ServiceCommand
from scimult_desktop.services.library import notes
from scimult_desktop.services.library.notes import Note

SAVE_DELAY_MS = 1000


class NotesEditor(QWidget):
    """Qt view of one paper's notes.

    Signals:
        notes_loaded(int): the notes of the shown paper are listed (how many).
        note_saved(int): a note was stored (its id).
    """

    notes_loaded = Signal(int)
    note_saved = Signal(int)

    def __init__(self, ops: Operations, undo_stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops, self.undo_stack = ops, undo_stack
        self.paper_id: int | None = None
        self.notes: list[Note] = []
        self.note_id: int | None = None  # the note in the editor; None: typing creates one
        self._saved_text = ""
        self._creating = False
        self._loading = False
        self._watched_window: QWidget | None = None

        self.title = QLabel("<b>Notes</b>")
        self.picker = QComboBox()
        self.picker.setToolTip("This paper's notes")
        self.picker.currentIndexChanged.connect(self._on_picked)
        self.new_button = QToolButton(text="New")  # tool buttons: as wide as their text, for a narrow pane
        self.new_button.setToolTip("Start another note on this paper")
        self.new_button.clicked.connect(self.new_note)
        self.delete_button = QToolButton(text="Delete")
        self.delete_button.clicked.connect(self.delete_note)
        self.preview_box = QCheckBox("Preview")
        self.preview_box.setToolTip("Show the note as formatted Markdown")
        self.preview_box.toggled.connect(self._toggle_preview)
        self.state = QLabel()
        self.state.setStyleSheet("color: palette(mid);")
        # Two short rows rather than one long one: the detail pane is often narrow.
        self.picker.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(8)
        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title)
        top.addWidget(self.picker, 1)
        bottom = QHBoxLayout()
        bottom.setContentsMargins(0, 0, 0, 0)
        bottom.addWidget(self.state, 1)
        bottom.addWidget(self.preview_box)
        bottom.addWidget(self.new_button)
        bottom.addWidget(self.delete_button)

        self.editor = QPlainTextEdit()
        self.editor.setPlaceholderText("Write a note on this paper (Markdown). It is saved as you type.")
        self.editor.setMinimumHeight(90)
        self.editor.setTabChangesFocus(True)  # Tab moves on through the panes, as everywhere in the window
        self.editor.textChanged.connect(self._on_text_changed)
        self.editor.installEventFilter(self)
        self.preview = QTextBrowser()
        self.preview.setOpenExternalLinks(True)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.editor)
        self.pages.addWidget(self.preview)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.pages, 1)
        layout.addLayout(bottom)

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SAVE_DELAY_MS)
        self.timer.timeout.connect(self.save_now)
        ops.session.library_did_change.connect(self._on_library_changed)
        ops.session.library_did_open.connect(self._on_library_opened)
        self._set_enabled(False)

    # ---- which paper ----
    def show_paper(self, paper_id: int, *, keep_note: bool = False) -> None:
        """List `paper_id`'s notes (saving what was typed for the previous paper first)."""
        if paper_id != self.paper_id:
            self.save_now()
        wanted = self.note_id if keep_note and paper_id == self.paper_id else None
        self.paper_id = paper_id
        self.ops.run_query(lambda library, ctx: notes.list_notes(library, paper_id),
                           on_success=lambda listed: self._set_notes(paper_id, listed, wanted), key="notes", name="loading notes")

    def _set_notes(self, paper_id: int, listed: list[Note], wanted: int | None) -> None:
        if paper_id != self.paper_id:
            return
        if self._creating or self._dirty():
            return  # typing in progress: the list is refreshed after the save
        self.notes = listed
        self._loading = True
        self.picker.clear()
        for note in listed:
            self.picker.addItem(note.title, note.id)
        ids = [n.id for n in listed]
        index = ids.index(wanted) if wanted in ids else 0
        self.picker.setVisible(bool(listed))
        self._loading = False
        self._set_enabled(True)
        if listed:
            self.picker.setCurrentIndex(index)
            self._edit(listed[index])
        else:
            self._edit(None)
        self.title.setText(f"<b>Notes</b> ({len(listed)})" if listed else "<b>Notes</b>")
        self.notes_loaded.emit(len(listed))

    def _on_picked(self, index: int) -> None:
        if self._loading or not 0 <= index < len(self.notes):
            return
        self.save_now()
        self._edit(self.notes[index])

    def _edit(self, note: Note | None) -> None:
        self.note_id = note.id if note else None
        self._saved_text = note.body if note else ""
        self._loading = True
        self.editor.setPlainText(self._saved_text)
        self._loading = False
        self.delete_button.setEnabled(note is not None)
        self.state.setText(f"Saved {_clock(note.updated_at)}" if note else "")
        self._render_preview()

    def _on_library_opened(self, _folder: str) -> None:
        # Another library is shown now: a save would land there. Typing was saved when the
        # editor lost focus (the switch is made elsewhere in the window), so nothing is pending.
        self.timer.stop()
        self.paper_id, self.note_id, self.notes = None, None, []
        self._loading = True
        self.picker.clear()
        self.editor.clear()
        self._loading = False
        self._saved_text = ""
        self._set_enabled(False)

    def _on_library_changed(self, changes: set[str]) -> None:
        if self.paper_id is not None and "papers" in changes:
            self.show_paper(self.paper_id, keep_note=True)  # a merge may have brought notes here

    # ---- editing and saving ----
    def _dirty(self) -> bool:
        return self.editor.toPlainText() != self._saved_text

    def _on_text_changed(self) -> None:
        if self._loading or self.paper_id is None:
            return
        self.state.setText("Editing…")
        self.timer.start()

    def save_now(self) -> None:
        """Store the editor's text now if it changed since the last save."""
        self.timer.stop()
        if self.paper_id is None or not self._dirty() or self._creating:
            return
        text, paper_id, note_id = self.editor.toPlainText(), self.paper_id, self.note_id
        if note_id is None and not text.strip():
            return  # nothing typed yet: no empty note
        self._saved_text = text
        self.state.setText("Saving…")
        if note_id is None:
            self._creating = True
            self.ops.run_mutation(lambda library, ctx: notes.add_note(library, paper_id, text), changes={"notes"},
                                  on_success=self._on_saved, on_failure=self._on_save_failed, name="saving the note")
        else:
            self.ops.run_mutation(lambda library, ctx: notes.update_note(library, note_id, text), changes={"notes"},
                                  on_success=self._on_saved, on_failure=self._on_save_failed, name="saving the note")

    def _on_saved(self, note: Note) -> None:
        created = self._creating
        self._creating = False
        if note.paper_id != self.paper_id:
            return
        self.note_id = note.id
        self.state.setText(f"Saved {_clock(note.updated_at)}")
        self.delete_button.setEnabled(True)
        known = {n.id: i for i, n in enumerate(self.notes)}
        if note.id in known:
            self.notes[known[note.id]] = note
            self.picker.setItemText(known[note.id], note.title)
        else:
            self.notes.append(note)
            self._loading = True
            self.picker.addItem(note.title, note.id)
            self.picker.setCurrentIndex(self.picker.count() - 1)
            self.picker.setVisible(True)
            self._loading = False
            self.title.setText(f"<b>Notes</b> ({len(self.notes)})")
        self.note_saved.emit(note.id)
        if created and self._dirty():
            self.timer.start()  # typed on while the note was being created

    def _on_save_failed(self, message: str) -> None:
        self._creating = False
        self._saved_text = ""  # keep the text in the editor and try again on the next pause
        self.state.setText(f"Not saved: {message}")

    def new_note(self) -> None:
        self.save_now()
        self._loading = True
        self.picker.setCurrentIndex(-1)
        self._loading = False
        self._edit(None)
        self.editor.setFocus()

    def delete_note(self) -> None:
        """Delete the note in the editor (Ctrl+Z brings it back)."""
        self.save_now()
        note_id, paper_id = self.note_id, self.paper_id
        if note_id is None or paper_id is None:
            return
        title = next((n.title for n in self.notes if n.id == note_id), "note")
        self.undo_stack.push(ServiceCommand(
            self.ops, f"delete note “{title[:30]}”", lambda library: notes.delete_note(library, note_id),
            changes={"notes"}, on_done=lambda _r: self.show_paper(paper_id) if self.paper_id == paper_id else None,
        ))
        self.note_id = None

    # ---- preview ----
    def _toggle_preview(self, on: bool) -> None:
        if on:
            self.save_now()
            self._render_preview()
        self.pages.setCurrentIndex(1 if on else 0)

    def _render_preview(self) -> None:
        if self.preview_box.isChecked():
            self.preview.setMarkdown(self.editor.toPlainText())

    def _set_enabled(self, enabled: bool) -> None:
        for widget in (self.editor, self.new_button, self.preview_box):
            widget.setEnabled(enabled)
        self.delete_button.setEnabled(enabled and self.note_id is not None)

    # ---- saving on focus loss and window close ----
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.editor and event.type() == QEvent.Type.FocusOut) or (
            watched is self._watched_window and event.type() == QEvent.Type.Close
        ):
            self.save_now()
        return super().eventFilter(watched, event)

    def showEvent(self, event) -> None:
        window = self.window()
        if window is not self and window is not self._watched_window:
            window.installEventFilter(self)  # save before the window waits for its background work and closes
            self._watched_window = window
        super().showEvent(event)


def _clock(stamp: str) -> str:
    """The time of day of a stored UTC timestamp, in local time."""
    from datetime import datetime

    try:
        return datetime.fromisoformat(stamp).astimezone().strftime("%H:%M:%S")
    except ValueError:
        return stamp
