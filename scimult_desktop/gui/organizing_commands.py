"""Undo-stack commands for organising the library (merge, keep both, tag edits, note deletion).

Each command runs its service call as a background mutation and undoes it with another.
The receipt of the change (its undo entry) is kept in a plain Python object filled by the
worker: mutations run one at a time in order, so an undo submitted right after the change
runs after it and sees the receipt, however quickly the user presses Ctrl+Z.
"""

from __future__ import annotations

from typing import Any, Callable

from PySide6.QtGui import QUndoCommand

from scimult_desktop.gui.operations import Operations
from scimult_desktop.services.library.facade import Library
from scimult_desktop.services.library.undo_entries import undo_entry


class _Receipt:
    """What the last run of the change returned (set on the worker thread)."""

    def __init__(self) -> None:
        self.value: Any = None


class ServiceCommand(QUndoCommand):
    """A library change on the undo stack.

    Args:
        do: `do(library)` makes the change and returns its receipt (for snapshot changes,
            an object with `undo_id`, or the undo id itself).
        undo: `undo(library, receipt)`; default: revert the receipt's undo entry.
        changes: what `session.library_did_change` announces after each run.
        on_done: called on the UI thread with the result of each run (the receipt, or the undo's text).
    """

    def __init__(
        self,
        ops: Operations,
        text: str,
        do: Callable[[Library], Any],
        *,
        undo: Callable[[Library, Any], Any] | None = None,
        changes: set[str] = frozenset({"papers"}),  # type: ignore[assignment]
        on_done: Callable[[Any], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
    ) -> None:
        super().__init__(text)
        self.ops, self.changes = ops, set(changes)
        self._do, self._undo = do, undo or _undo_snapshot
        self._on_done, self._on_failure = on_done, on_failure
        self.receipt = _Receipt()

    def redo(self) -> None:
        do, receipt = self._do, self.receipt

        def work(library: Library, _ctx) -> Any:
            receipt.value = do(library)
            return receipt.value

        self._run(work, f"{self.text()}")

    def undo(self) -> None:
        undo, receipt = self._undo, self.receipt

        def work(library: Library, _ctx) -> Any:
            if receipt.value is None:
                return None  # the change itself failed: nothing to revert
            return undo(library, receipt.value)

        self._run(work, f"undoing {self.text()}")

    def _run(self, work, name: str) -> None:
        self.ops.run_mutation(work, changes=self.changes, name=name, on_success=self._on_done,
                              on_failure=self._on_failure)


def _undo_snapshot(library: Library, receipt: Any) -> str:
    undo_id = receipt if isinstance(receipt, int) else receipt.undo_id
    return undo_entry(library, int(undo_id))
