"""What can be done to chosen papers from the window: open, copy citation / bibliography, show related,
tag, file in collections, export, delete to the trash. Menus, shortcuts and context menus all call these.

Each change goes on the window's undo stack (Ctrl+Z) and runs as a background mutation;
citations and exports run as background queries. The logic itself lives in the services
(`trash`, `filing`, `exporting`, `csl_citations`).
"""

from __future__ import annotations

from pathlib import Path

from typing import Any, Callable

from PySide6.QtCore import QMimeData, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication, QUndoCommand
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from scimult_desktop.gui.operations import Operations
from scimult_desktop.services.library import exporting, filing, trash
from scimult_desktop.services.writing import csl_citations

EXPORT_FILTERS = {"BibTeX (*.bib)": "bibtex", "CSL-JSON (*.json)": "csl-json"}


class PaperCommand(QUndoCommand):
    """A change to papers on the undo stack: `do(library)` returns a receipt, `undo(library, receipt)` reverts it.

    Mutations run one at a time in order, so an undo submitted right after the change runs
    after it and finds the receipt the worker stored.
    """

    def __init__(self, ops: Operations, text: str, do: Callable[[Any], Any], undo: Callable[[Any, Any], Any], *,
                 changes: set[str], on_failure: Callable[[str], None] | None = None) -> None:
        super().__init__(text)
        self.ops, self.changes, self.on_failure = ops, changes, on_failure
        self._do, self._undo = do, undo
        self.receipt: list[Any] = [None]

    def redo(self) -> None:
        do, receipt = self._do, self.receipt

        def work(library, ctx):
            receipt[0] = do(library)
            return receipt[0]

        self.ops.run_mutation(work, changes=self.changes, on_failure=self.on_failure, name=self.text())

    def undo(self) -> None:
        undo, receipt = self._undo, self.receipt

        def work(library, ctx):
            return None if receipt[0] is None else undo(library, receipt[0])

        self.ops.run_mutation(work, changes=self.changes, on_failure=self.on_failure, name=f"undoing {self.text()}")


class PaperActions:
    """The paper operations of one `MainWindow` (see module docstring)."""

    def __init__(self, window) -> None:
        self.window = window
        self.ops = window.ops
        self.session = window.ops.session
        self.last_copied: tuple[str, str] | None = None  # (plain text, html) last put on the clipboard

    # ---- which papers ----
    def chosen_ids(self) -> list[int]:
        """The library table's selected papers when it is showing, else the paper selected anywhere."""
        panel = self.window.library_panel
        if self.window.tabs.currentWidget() is panel:
            ids = panel.selected_ids()
            if ids:
                return ids
        return [self.session.selected_paper] if self.session.selected_paper is not None else []

    def _say(self, message: str, ms: int = 6000) -> None:
        self.window.statusBar().showMessage(message, ms)

    # ---- reading ----
    def copy_citation(self, ids: list[int] | None = None, *, bibliography: bool = False) -> None:
        """Put the papers' citation (or bibliography) in the chosen style on the clipboard, as text and HTML."""
        ids = list(ids if ids is not None else self.chosen_ids())
        if not ids:
            self._say("Select one or more papers first.")
            return

        def work(library, ctx):
            return (csl_citations.cite_papers(library, ids, fmt="text"), csl_citations.cite_papers(library, ids, fmt="html"))

        what = "bibliography" if bibliography else "citation"
        self.ops.run_query(work, on_success=lambda pair: self._copied(pair, bibliography),
                           on_failure=lambda message: self._say(f"Could not copy the {what}: {message}", 10000),
                           key="copy-citation", name=f"formatting the {what}")

    def _copied(self, pair, bibliography: bool) -> None:
        text, html = pair
        plain = text.bibliography_text().rstrip("\n") if bibliography else text.citation
        rich = html.bibliography_text() if bibliography else html.citation
        mime = QMimeData()
        mime.setText(plain)
        mime.setHtml(rich)
        QGuiApplication.clipboard().setMimeData(mime)
        self.last_copied = (plain, rich)
        what = "Bibliography" if bibliography else "Citation"
        self._say(f"{what} copied ({text.style.title}): {plain.splitlines()[0] if plain else ''}")

    def show_related(self, paper_id: int) -> None:
        self.session.select_paper(int(paper_id))
        self.window.related_dock.show()
        self.window.related_dock.raise_()

    def show_in_library(self, paper_id: int) -> None:
        self.window.show_tab(self.window.library_panel)
        self.session.select_paper(int(paper_id))

    def open_paper(self, paper_id: int) -> None:
        """Open the paper's first attached file that is on disk in the system viewer."""
        def work(library, ctx):
            paper = library.get_paper(paper_id)
            usable = [f for f in paper.files if f.status != "missing" and Path(f.path).exists()]
            usable.sort(key=lambda f: f.kind != "pdf")
            return usable[0].path if usable else None

        self.ops.run_query(work, on_success=lambda path: self.open_path(path) if path else self._say("This paper has no attached file on disk."),
                           on_failure=self._say, key="open-paper", name="finding the file")

    def open_path(self, path: str) -> bool:
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
            QMessageBox.warning(self.window, "Open file",
                                f"No application is registered to open\n{path}\n\nOpen it from your file manager instead.")
            return False
        return True

    def show_in_folder(self, path: str) -> bool:
        folder = str(Path(path).parent)
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(folder)):
            QMessageBox.warning(self.window, "Show in folder", f"No file manager could be started for\n{folder}")
            return False
        return True

    # ---- changes (undoable) ----
    def delete(self, ids: list[int] | None = None) -> None:
        """Move papers to the trash; Ctrl+Z brings them back."""
        ids = list(ids if ids is not None else self.chosen_ids())
        if not ids:
            return
        text = f"move {len(ids)} paper{'s' if len(ids) != 1 else ''} to the trash"
        self.window.undo_stack.push(PaperCommand(
            self.ops, text, lambda library: trash.trash_papers(library, ids),
            lambda library, receipt: trash.undo_deletion(library, receipt.trashed),
            changes={"papers"}, on_failure=self._say))
        self._say(f"Moved {len(ids)} paper(s) to the trash. Ctrl+Z undoes; Edit → Trash… restores later.", 8000)

    def _filing(self, text: str, do) -> None:
        self.window.undo_stack.push(PaperCommand(
            self.ops, text, do, lambda library, change: filing.undo_filing(library, change.undo_id),
            changes={"papers", "tags"}, on_failure=self._say))

    def add_tag(self, ids: list[int], name: str | None = None) -> None:
        if name is None:
            name, ok = QInputDialog.getText(self.window, "Add tag", f"Tag for {len(ids)} paper(s):")
            if not ok or not name.strip():
                return
        self._filing(f"tag {len(ids)} paper(s) “{name.strip()}”", lambda library: filing.add_tag(library, ids, name))

    def remove_tag(self, ids: list[int], name: str) -> None:
        self._filing(f"remove tag “{name}”", lambda library: filing.remove_tag(library, ids, name))

    def add_to_collection(self, ids: list[int], name: str | None = None) -> None:
        if name is None:
            name, ok = QInputDialog.getText(self.window, "New collection", f"Collection for {len(ids)} paper(s):")
            if not ok or not name.strip():
                return
        self._filing(f"add {len(ids)} paper(s) to “{name.strip()}”", lambda library: filing.add_to_collection(library, ids, name))

    def remove_from_collection(self, ids: list[int], name: str) -> None:
        self._filing(f"remove {len(ids)} paper(s) from “{name}”", lambda library: filing.remove_from_collection(library, ids, name))

    def move_to_collection(self, ids: list[int], source: str, target: str) -> None:
        self._filing(f"move {len(ids)} paper(s) to “{target}”",
                     lambda library: filing.move_to_collection(library, ids, source, target))

    def rename_collection(self, name: str, new: str | None = None) -> None:
        if new is None:
            new, ok = QInputDialog.getText(self.window, "Rename collection", f"New name for “{name}”:", text=name)
            if not ok or not new.strip() or new.strip() == name:
                return
        self._filing(f"rename collection “{name}”", lambda library: filing.rename_collection(library, name, new))

    def delete_collection(self, name: str, papers: int, *, confirm: bool = True) -> None:
        """Delete a collection (and its sub-collections) after asking; its papers stay; Ctrl+Z undoes."""
        if confirm and QMessageBox.question(
                self.window, "Delete collection",
                f"Delete the collection “{name}” and its sub-collections?\n\n"
                f"Its {papers} paper(s) stay in the library. Edit → Undo brings the collection back.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
                QMessageBox.StandardButton.Cancel) != QMessageBox.StandardButton.Yes:
            return
        self._filing(f"delete collection “{name}”", lambda library: filing.delete_collection(library, name))

    # ---- export ----
    def export(self, *, ids: list[int] | None = None, collection: str | None = None, path: str | None = None,
               fmt: str | None = None) -> None:
        """Export papers or a collection to a BibTeX / CSL-JSON file (asks where unless `path` is given)."""
        if path is None:
            path, fmt = self.choose_export_path(collection or f"{len(ids or [])} papers")
            if not path:
                return
        fmt = fmt or ("csl-json" if path.lower().endswith(".json") else "bibtex")
        refs = [str(pid) for pid in ids or []]
        self.ops.run_query(
            lambda library, ctx: exporting.export_to_file(library, path, refs, fmt=fmt, collection=collection),
            on_success=lambda _n: self._say(f"Exported to {path}"),
            on_failure=lambda message: QMessageBox.warning(self.window, "Export", message),
            name="exporting")

    def choose_export_path(self, what: str) -> tuple[str, str]:
        """Ask for the export file and format; ("", "") when cancelled. The folder is remembered."""
        settings = self.window.settings
        folder = str(settings.value("paths/export", str(Path.home())))
        safe = "".join(ch if ch.isalnum() or ch in " -_" else "_" for ch in what).strip() or "export"
        path, chosen = QFileDialog.getSaveFileName(self.window, f"Export {what}", str(Path(folder) / f"{safe}.bib"),
                                                   ";;".join(EXPORT_FILTERS))
        if not path:
            return "", ""
        settings.setValue("paths/export", str(Path(path).parent))
        fmt = EXPORT_FILTERS.get(chosen, "bibtex")
        if fmt == "csl-json" and not path.lower().endswith(".json"):
            path += ".json"
        elif fmt == "bibtex" and not path.lower().endswith(".bib"):
            path += ".bib"
        return path, fmt
