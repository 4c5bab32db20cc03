"""Ctrl+Z in a Details field right after saving undoes the save, including "Edited by you"."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import row_of_title

pytestmark = pytest.mark.gui


def _stored(window, paper_id):
    from scimult_desktop.services.library.facade import Library

    with Library.open(window.session.folder) as library:
        marks = library.database.conn.execute("SELECT user_edited FROM papers WHERE id = ?", (paper_id,)).fetchone()[0]
        return library.get_paper(paper_id).title, json.loads(marks)


def _show_galaxy_paper(window, qtbot):
    """Select the galaxy paper, wait for its details, and give the window focus (key presses go to it)."""
    paper_id = row_of_title(window, "Galaxy rotation")
    detail = window.detail_panel
    with qtbot.waitSignal(detail.details_shown, timeout=10000):
        window.session.select_paper(paper_id)
    window.activateWindow()
    return paper_id, detail


def test_ctrl_z_in_the_field_after_saving_undoes_the_save_and_the_edited_mark(window, qtbot):
    paper_id, detail = _show_galaxy_paper(window, qtbot)
    title = detail.fields["title"]
    title.setFocus()
    title.selectAll()
    qtbot.keyClicks(title, "Galaxy rotation curves, revisited")
    with qtbot.waitSignal(detail.details_shown, timeout=10000):
        qtbot.keyClick(title, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)  # File → Save paper edits
    assert _stored(window, paper_id) == ("Galaxy rotation curves, revisited", ["title"])
    assert "Edited by you" in detail.edited_note.text()

    title.setFocus()
    with qtbot.waitSignal(detail.details_shown, timeout=10000):
        qtbot.keyClick(title, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert _stored(window, paper_id) == ("Galaxy rotation curves and dark matter", [])
    assert title.text() == "Galaxy rotation curves and dark matter"
    assert detail.edited_note.text() == ""

    with qtbot.waitSignal(detail.details_shown, timeout=10000):  # and Ctrl+Shift+Z puts it back
        qtbot.keyClick(title, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    assert _stored(window, paper_id) == ("Galaxy rotation curves, revisited", ["title"])


def test_ctrl_z_while_typing_still_undoes_the_typing(window, qtbot):
    paper_id, detail = _show_galaxy_paper(window, qtbot)
    venue = detail.fields["venue"]
    venue.setFocus()
    venue.end(False)
    qtbot.keyClicks(venue, " X")
    qtbot.keyClick(venue, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert venue.text() == "Journal of Astro"  # the field's own undo, the stack untouched
    assert not window.undo_stack.canUndo()
