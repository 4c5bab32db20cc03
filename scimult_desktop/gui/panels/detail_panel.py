"""The detail pane: metadata (editable, with undo), abstract, attachments, cites / cited by."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from scimult_desktop.gui.item_models import authors_text
from scimult_desktop.gui.operations import Operations
from scimult_desktop.gui.panels.citing_contexts import CitingContextsSection
from scimult_desktop.gui.widgets.system_viewer import open_in_system_viewer
from scimult_desktop.gui.widgets.undo_passthrough import pass_undo_to_window
from scimult_desktop.services.library import browsing, editing
from scimult_desktop.services.library.browsing import PaperDetails, PaperRow

EDITABLE = ("title", "authors", "year", "venue", "doi")


def parse_field(name: str, text: str) -> object:
    """The stored value of an edited field (authors are separated by ';', an empty year is None)."""
    text = text.strip()
    if name == "authors":
        return [a.strip() for a in text.split(";") if a.strip()]
    if name == "year":
        return int(text) if text else None
    return text or None


def field_text(details: PaperDetails, name: str) -> str:
    value = getattr(details.paper, name)
    if name == "authors":
        return "; ".join(value)
    return "" if value is None else str(value)


class EditPaperCommand(QUndoCommand):
    """A metadata edit on the undo stack: redo stores the new values, undo reverts that edit's
    undo entry (old values and the old "edited by you" marks, `services/library/editing.py`)."""

    def __init__(self, ops: Operations, paper_id: int, before: dict, after: dict, title: str) -> None:
        super().__init__(f"edit {', '.join(after)} of “{title[:40]}”")
        self.ops, self.paper_id, self.before, self.after = ops, paper_id, before, after
        # Set by the worker that stored the edit; mutations run one at a time, in order, so
        # an undo queued right after the save still finds it.
        self.entry_id: int | None = None

    def redo(self) -> None:
        def store(library, ctx) -> None:
            self.entry_id = editing.edit_paper(library, self.paper_id, self.after)

        self.ops.run_mutation(store, changes={"edits"}, name="saving the edit")

    def undo(self) -> None:
        def revert(library, ctx) -> None:
            if self.entry_id is not None:  # None: saving failed, so there is nothing to revert
                editing.undo_edit(library, self.entry_id)
                self.entry_id = None

        self.ops.run_mutation(revert, changes={"edits"}, name="undoing the edit")


class DetailPanel(QWidget):
    """Qt view of the selected paper.

    Signals:
        details_shown(int): the pane now shows this paper.
    """

    details_shown = Signal(int)

    def __init__(self, ops: Operations, undo_stack: QUndoStack, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ops = ops
        self.session = ops.session
        self.undo_stack = undo_stack
        self.details: PaperDetails | None = None

        self.placeholder = QLabel("Select a paper to see its details.", alignment=Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        self.fields: dict[str, QLineEdit] = {}
        for name in EDITABLE:
            edit = QLineEdit()
            edit.textEdited.connect(self._on_edited)
            self.fields[name] = edit
            label = {"doi": "DOI", "authors": "Authors  (a; b)"}.get(name, name.capitalize())
            form.addRow(label, edit)
        pass_undo_to_window(*self.fields.values())
        self.citekey_label = QLabel()
        self.citekey_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        form.addRow("Key", self.citekey_label)
        self.tags_label = QLabel()
        self.tags_label.setWordWrap(True)
        form.addRow("Tags", self.tags_label)
        self.save_button = QPushButton("Save changes")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save_edits)
        self.revert_button = QPushButton("Revert")
        self.revert_button.setEnabled(False)
        self.revert_button.clicked.connect(lambda: self._show(self.details) if self.details else None)
        self.edited_note = QLabel()
        self.edited_note.setWordWrap(True)
        edit_row = QHBoxLayout()
        edit_row.addWidget(self.save_button)
        edit_row.addWidget(self.revert_button)
        edit_row.addStretch()

        self.abstract = QTextBrowser()
        self.abstract.setMinimumHeight(90)
        self.attachments = QListWidget()
        self.attachments.setMaximumHeight(70)
        self.attachments.itemActivated.connect(self._open_attachment)
        self.open_button = QPushButton("Open in system viewer")
        self.open_button.clicked.connect(lambda: self._open_attachment(self.attachments.currentItem()))
        self.cites = QListWidget()
        self.cited_by = QListWidget()
        for links in (self.cites, self.cited_by):
            links.setMaximumHeight(90)
            links.itemActivated.connect(self._follow_link)

        body = QWidget()
        layout = QVBoxLayout(body)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addLayout(edit_row)
        layout.addWidget(self.edited_note)
        layout.addWidget(QLabel("<b>Abstract</b>"))
        layout.addWidget(self.abstract, 1)
        from scimult_desktop.gui.widgets.notes_editor import NotesEditor

        self.notes_editor = NotesEditor(ops, undo_stack)  # the paper's notes, saved as the user types
        layout.addWidget(self.notes_editor, 1)
        layout.addWidget(QLabel("<b>Attachments</b>"))
        layout.addWidget(self.attachments)
        layout.addWidget(self.open_button)
        self.cites_label = QLabel("<b>Cites</b>")
        layout.addWidget(self.cites_label)
        layout.addWidget(self.cites)
        self.cited_by_label = QLabel("<b>Cited by</b>")
        layout.addWidget(self.cited_by_label)
        layout.addWidget(self.cited_by)
        self.citing_contexts = CitingContextsSection(ops)
        layout.addWidget(self.citing_contexts)
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(body)
        self.scroll.hide()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.placeholder)
        outer.addWidget(self.scroll)

        self.session.paper_selected.connect(self.load)
        self.session.library_did_change.connect(self._on_library_changed)
        self.session.library_did_open.connect(lambda _f: self._clear())

    def load(self, paper_id: int) -> None:
        self.ops.run_query(lambda library, ctx: browsing.paper_details(library, paper_id), on_success=self._show,
                           on_failure=self.placeholder.setText, key="details", name="loading the paper")

    def _on_library_changed(self, changes: set[str]) -> None:
        if self.details is not None and changes & {"edits", "tags", "papers"}:
            self.load(int(self.details.paper.id))

    def _clear(self) -> None:
        self.details = None
        self.scroll.hide()
        self.placeholder.show()

    def _show(self, details: PaperDetails) -> None:
        self.details = details
        paper = details.paper
        self.heading.setText(f"<h3>{_escape(paper.title)}</h3>{_escape(authors_text(paper.authors, 8))}"
                             f"{' · ' + str(paper.year) if paper.year else ''}")
        for name, edit in self.fields.items():
            edit.setText(field_text(details, name))
            edit.setCursorPosition(0)  # show the start of long titles
        self.citekey_label.setText(paper.citekey or "")
        tags = details.tags + [f"[{c}]" for c in details.collections]
        self.tags_label.setText(", ".join(tags) or "none")
        self.edited_note.setText(
            f"<i>Edited by you (kept on re-import): {', '.join(details.user_edited)}</i>" if details.user_edited else ""
        )
        self.abstract.setPlainText(paper.abstract or "No abstract.")
        self.attachments.clear()
        for attachment in paper.files:
            item = QListWidgetItem(f"{Path(attachment.path).name}  ({attachment.kind}, {attachment.status})")
            item.setData(Qt.ItemDataRole.UserRole, attachment.path)
            item.setToolTip(attachment.path)
            self.attachments.addItem(item)
        if not paper.files:
            self.attachments.addItem("No attached files.")
        self.attachments.setCurrentRow(0)
        self.open_button.setEnabled(bool(paper.files))
        self._fill_links(self.cites, self.cites_label, "Cites", details.cites)
        self._fill_links(self.cited_by, self.cited_by_label, "Cited by", details.cited_by)
        self.citing_contexts.load(int(paper.id))
        self._set_dirty(False)
        self.placeholder.hide()
        self.scroll.show()
        self.notes_editor.show_paper(int(paper.id), keep_note=True)
        self.details_shown.emit(int(paper.id))

    @staticmethod
    def _fill_links(widget: QListWidget, label: QLabel, title: str, rows: list[PaperRow]) -> None:
        widget.clear()
        label.setText(f"<b>{title}</b> ({len(rows)} in your library)")
        for row in rows:
            item = QListWidgetItem(f"{row.title} ({row.year or 'n.d.'})")
            item.setData(Qt.ItemDataRole.UserRole, row.id)
            widget.addItem(item)
        widget.setVisible(bool(rows))

    def _follow_link(self, item: QListWidgetItem) -> None:
        paper_id = item.data(Qt.ItemDataRole.UserRole)
        if paper_id is not None:
            self.session.select_paper(int(paper_id))

    def _open_attachment(self, item: QListWidgetItem | None) -> None:
        path = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if path:
            open_in_system_viewer(self, path)

    # ---- editing ----
    def _on_edited(self, _text: str) -> None:
        self._set_dirty(bool(self.pending_changes()))

    def _set_dirty(self, dirty: bool) -> None:
        self.save_button.setEnabled(dirty)
        self.revert_button.setEnabled(dirty)

    def pending_changes(self) -> dict[str, tuple[object, object]]:
        """Edited fields: name -> (stored value, new value)."""
        if self.details is None:
            return {}
        changes = {}
        for name, edit in self.fields.items():
            before = getattr(self.details.paper, name)
            try:
                after = parse_field(name, edit.text())
            except ValueError:
                continue  # a year that is not a number yet: not saved
            if after != before:
                changes[name] = (before, after)
        return changes

    def save_edits(self) -> None:
        changes = self.pending_changes()
        if not changes or self.details is None:
            return
        before = {name: old for name, (old, _new) in changes.items()}
        after = {name: new for name, (_old, new) in changes.items()}
        self.undo_stack.push(EditPaperCommand(self.ops, int(self.details.paper.id), before, after, self.details.paper.title))
        for name in after:
            self.fields[name].setText(self.fields[name].text())  # clears the typing history: Ctrl+Z now undoes the save
        self._set_dirty(False)


def _escape(text: str) -> str:
    import html

    return html.escape(text or "")
