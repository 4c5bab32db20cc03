"""Good / Wrong verdicts on citation suggestions: stored in the library by a worker, taken back
through the window's undo stack (Ctrl+Z, or a row's Undo), which removes the stored row."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoCommand, QUndoStack

from scimult_desktop.gui.operations import Operations
from scimult_desktop.services.writing import citing


@dataclass
class StoredVerdict:
    """A verdict on one suggestion; `row_id` is filled in by the worker that stores it.

    Mutations run one at a time in order, so the worker that removes the row always runs after
    the one that stored it and sees its id, however quickly the user undoes.
    """

    good: bool
    row_id: int | None = None


class VerdictCommand(QUndoCommand):
    """Giving a verdict (`give`), or withdrawing one; undo does the opposite, in the library too."""

    def __init__(self, verdicts: "SuggestionVerdicts", sentence: str, paper_id: int, good: bool, *, give: bool) -> None:
        verdict = "good" if good else "wrong"
        super().__init__(f"mark a suggestion {verdict}" if give else f"withdraw a '{verdict}' verdict")
        self.verdicts, self.sentence, self.paper_id, self.good, self.give = verdicts, sentence, paper_id, good, give

    def redo(self) -> None:
        self._apply(self.give)

    def undo(self) -> None:
        self._apply(not self.give)

    def _apply(self, give: bool) -> None:
        if give:
            self.verdicts.store(self.sentence, self.paper_id, self.good)
        else:
            self.verdicts.remove(self.sentence, self.paper_id)


class SuggestionVerdicts(QObject):
    """The verdicts given in this window, by (sentence, paper id).

    Signals:
        changed(): a verdict was given or taken back (rows show it at once, before the worker ends).
        recorded(bool): a good (True) or wrong (False) verdict was stored in the library.
        withdrawn(bool): a verdict was taken back; True when its stored row was removed.
        failed(str): storing or removing failed (one line).
    """

    changed = Signal()
    recorded = Signal(bool)
    withdrawn = Signal(bool)
    failed = Signal(str)

    def __init__(self, ops: Operations, undo_stack: QUndoStack, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ops, self.undo_stack = ops, undo_stack
        self._given: dict[tuple[str, int], StoredVerdict] = {}

    def verdict(self, sentence: str, paper_id: int) -> bool | None:
        """True (good), False (wrong) or None (not judged)."""
        given = self._given.get((sentence, paper_id))
        return given.good if given else None

    def judge(self, sentence: str, paper_id: int, good: bool) -> None:
        """The user pressed Good / Wrong: an undoable step."""
        self.undo_stack.push(VerdictCommand(self, sentence, paper_id, good, give=True))

    def take_back(self, sentence: str, paper_id: int) -> None:
        """The user pressed a row's Undo: withdrawing is itself a step Ctrl+Z can undo."""
        given = self._given.get((sentence, paper_id))
        if given is not None:
            self.undo_stack.push(VerdictCommand(self, sentence, paper_id, given.good, give=False))

    def store(self, sentence: str, paper_id: int, good: bool) -> None:
        given = StoredVerdict(good)
        self._given[(sentence, paper_id)] = given
        self.changed.emit()

        def work(library, ctx) -> bool:
            given.row_id = citing.record_suggestion_feedback(library, sentence, paper_id, good)
            return good

        def failed(message: str) -> None:
            if self._given.get((sentence, paper_id)) is given:
                del self._given[(sentence, paper_id)]
                self.changed.emit()
            self.failed.emit(message)

        self.ops.run_mutation(work, changes={"feedback"}, on_success=self.recorded.emit, on_failure=failed,
                              name="saving feedback")

    def remove(self, sentence: str, paper_id: int) -> None:
        given = self._given.pop((sentence, paper_id), None)
        self.changed.emit()
        if given is None:
            return

        def work(library, ctx) -> bool:
            return given.row_id is not None and citing.withdraw_suggestion_feedback(library, given.row_id)

        self.ops.run_mutation(work, changes={"feedback"}, on_success=self.withdrawn.emit, on_failure=self.failed.emit,
                              name="removing feedback")
