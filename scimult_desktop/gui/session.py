"""`Session`: the library the window shows, and the notifications panels listen to."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from scimult_desktop.services.library.facade import Library


class Session(QObject):
    """The open library (its folder and model/engine choice) plus app-wide change notifications.

    It never holds a `Library`: SQLite connections belong to one thread, so every
    background operation opens its own with `open_library()` (see `operations.py`).

    Signals:
        library_did_change(set[str]): a mutation finished; the set names what changed
            ("papers", "tags", "edits", "index", "models", "watch").
        library_did_open(str): another library folder is now shown.
        paper_selected(int): the user picked a paper (from any panel).
    """

    library_did_change = Signal(object)
    library_did_open = Signal(str)
    paper_selected = Signal(int)

    def __init__(self, folder: str, *, model: str | None = None, engine: str | None = None, parent: QObject | None = None):
        super().__init__(parent)
        self.folder = folder
        self.model = model
        self.engine = engine
        self.selected_paper: int | None = None

    def open_library(self) -> Library:
        """A new `Library` for the calling thread; the caller closes it."""
        return Library.open(self.folder, model=self.model, engine=self.engine)

    def switch_folder(self, folder: str) -> None:
        self.folder = folder
        self.selected_paper = None
        self.library_did_open.emit(folder)

    def select_paper(self, paper_id: int) -> None:
        self.selected_paper = paper_id
        self.paper_selected.emit(paper_id)
