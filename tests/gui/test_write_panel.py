"""Write & cite: readable at 1024x700 and 1280x800 with the docks open, state kept across restarts,
undoable feedback, and suggestions for the sentence at the cursor or the selection."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from tests.gui.conftest import make_window

pytestmark = pytest.mark.gui

DRAFT = ("Dense retrieval with dual encoders has been shown to outperform term weighting for question answering. "
         "In this paper we look at galaxies.\n"
         "Vitamin D supplementation reduces the risk of hip fractures in older adults \\cite{nosuchkey}.\n")
MIN_TITLE_WIDTH = 250  # px: a title this wide wraps into readable lines instead of a few letters each


def show_suggestions(panel, qtbot, text: str = DRAFT) -> None:
    with qtbot.waitSignal(panel.suggestions_shown, timeout=30000):
        panel.editor.setPlainText(text)
    assert panel.suggestion_rows(), "the claim without a citation gets suggestions"


def feedback_rows(folder) -> list[tuple]:
    from scimult_desktop.services.library.facade import Library

    with Library.open(folder) as library:
        return [tuple(r) for r in library.database.conn.execute("SELECT kind, value, paper_id, query FROM feedback")]


@pytest.mark.parametrize("size", [(1024, 700), (1280, 800)])
def test_copy_buttons_and_titles_are_readable_with_the_docks_open(window, qtbot, size):
    panel = window.write_panel
    window.show_tab(panel)
    panel.format.setCurrentIndex(panel.format.findData("natbib-citep"))  # the longest citation syntax
    show_suggestions(panel, qtbot)
    window.resize(*size)
    window._default_dock_sizes()
    qtbot.wait(100)
    assert all(dock.isVisible() and not dock.isFloating() for dock in (window.sidebar_dock, window.detail_dock, window.related_dock))
    assert window.sidebar_dock.width() >= 140 and window.detail_dock.width() >= 300, "the panel must not crowd the docks out"
    for row in panel.suggestion_rows():
        button = row.copy_button
        assert button.text() == "Copy \\citep{%s}" % row.suggestion["citekey"]
        assert button.width() >= button.sizeHint().width(), f"{button.text()!r} is squeezed to {button.width()} px"
        visible = button.visibleRegion().boundingRect()
        assert visible.width() == button.width() or not visible.width(), f"{button.text()!r} is cut off at the side"
        [title] = [label for label in row.findChildren(QLabel) if label.text() == row.suggestion["title"]]
        assert title.width() >= MIN_TITLE_WIDTH, f"the title gets only {title.width()} px"
        assert title.height() >= title.heightForWidth(title.width()) - 1, "the wrapped title is cut off below"
    assert panel.scroll.horizontalScrollBar().maximum() == 0, "nothing hides beyond the right edge"
    assert panel.editor.width() >= 300


def test_text_kind_cite_as_and_splitter_survive_a_restart(qtbot, library_copy, tmp_path):
    first = make_window(qtbot, library_copy, tmp_path)
    panel = first.write_panel
    first.show_tab(panel)  # the page (and its splitter) gets a size once shown; the window reopens on it
    panel.editor.setPlainText("My pasted paragraph about vitamin D.")
    panel.kind.setCurrentIndex(panel.kind.findData("markdown"))
    panel.format.setCurrentIndex(panel.format.findData("pandoc"))
    qtbot.waitUntil(lambda: sum(panel.splitter.sizes()) > 0)
    panel.splitter.moveSplitter(sum(panel.splitter.sizes()) // 4, 1)  # what dragging the handle does
    sizes = panel.splitter.sizes()
    assert abs(sizes[0] - sum(sizes) / 3) > 20, f"{sizes}: the drag must move it away from the default third"
    first.close()
    assert first.ops.wait(30000)

    second = make_window(qtbot, library_copy, tmp_path)
    try:
        panel = second.write_panel
        assert panel.editor.toPlainText() == "My pasted paragraph about vitamin D."
        assert panel.kind.currentData() == "markdown"
        assert panel.citation_format() == "pandoc"
        assert panel.splitter.orientation() == first.write_panel.splitter.orientation()
        assert all(abs(a - b) <= 2 for a, b in zip(panel.splitter.sizes(), sizes)), (panel.splitter.sizes(), sizes)
    finally:
        second.close()
        second.ops.wait(30000)


def test_a_watched_draft_is_watched_again_after_a_restart(qtbot, library_copy, tmp_path):
    draft = tmp_path / "draft.tex"
    draft.write_text("Galaxy rotation curves show that spiral galaxies contain large amounts of dark matter.\n", encoding="utf-8")
    first = make_window(qtbot, library_copy, tmp_path)
    with qtbot.waitSignal(first.write_panel.suggestions_shown, timeout=30000):
        first.write_panel.open_draft(str(draft))
    first.close()
    assert first.ops.wait(30000)

    second = make_window(qtbot, library_copy, tmp_path, start=False)
    try:
        panel = second.write_panel
        assert panel.draft_path == str(draft.resolve()) and panel.editor.isReadOnly()
        assert "Galaxy rotation curves" in panel.editor.toPlainText()
        assert panel.kind.currentData() == "latex"
    finally:
        second.close()
        second.ops.wait(30000)


def test_good_and_wrong_are_undone_with_ctrl_z_and_undo_removing_the_stored_row(window, qtbot):
    panel = window.write_panel
    window.show_tab(panel)
    show_suggestions(panel, qtbot)
    first, second = panel.suggestion_rows()[:2]
    with qtbot.waitSignal(panel.feedback_recorded, timeout=10000):
        qtbot.mouseClick(first.good_button, Qt.MouseButton.LeftButton)
    assert [(r[0], r[1], r[2]) for r in feedback_rows(window.session.folder)] == [("suggestion", 1.0, first.suggestion["id"])]
    assert first.undo_button.isVisible() and not first.good_button.isVisible()

    first.undo_button.setFocus()  # Ctrl+Z from anywhere but the text box undoes the last change
    with qtbot.waitSignal(panel.feedback_withdrawn, timeout=10000) as withdrawn:
        qtbot.keyClick(first.undo_button, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert withdrawn.args == [True]
    assert feedback_rows(window.session.folder) == []
    assert first.good_button.isVisible() and first.wrong_button.isVisible()

    with qtbot.waitSignal(panel.feedback_recorded, timeout=10000):  # Redo stores it again
        window.undo_stack.redo()
    assert len(feedback_rows(window.session.folder)) == 1

    with qtbot.waitSignal(panel.feedback_recorded, timeout=10000):
        qtbot.mouseClick(second.wrong_button, Qt.MouseButton.LeftButton)
    with qtbot.waitSignal(panel.feedback_withdrawn, timeout=10000):
        qtbot.mouseClick(first.undo_button, Qt.MouseButton.LeftButton)  # not the latest verdict: only this one goes
    assert [(r[0], r[1], r[2]) for r in feedback_rows(window.session.folder)] == [("suggestion", -1.0, second.suggestion["id"])]


def test_undo_right_after_a_click_still_removes_the_row(window, qtbot):
    panel = window.write_panel
    show_suggestions(panel, qtbot)
    row = panel.suggestion_rows()[0]
    row.wrong_button.click()
    with qtbot.waitSignal(panel.feedback_withdrawn, timeout=10000) as withdrawn:
        window.undo_action.trigger()  # before the verdict's worker has reported back
    assert withdrawn.args == [True] and feedback_rows(window.session.folder) == []


def test_ctrl_return_suggests_for_the_sentence_at_the_cursor(window, qtbot):
    from scimult_desktop.services.library.facade import Library

    panel = window.write_panel
    window.show_tab(panel)
    show_suggestions(panel, qtbot)
    assert not any("galaxies" in card.item["sentence"] for card in panel.cards), "no claim: no automatic suggestion"
    cursor = panel.editor.textCursor()
    position = DRAFT.index("look at galaxies")
    cursor.setPosition(position)
    panel.editor.setTextCursor(cursor)
    panel.editor.setFocus()
    with qtbot.waitSignal(panel.sentence_suggested, timeout=30000) as asked:
        qtbot.keyClick(panel.editor, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    item = asked.args[0]
    assert item["sentence"] == "In this paper we look at galaxies."
    with Library.open(window.session.folder) as library:
        expected = library.suggest_at(DRAFT, "latex", position, k=len(item["suggestions"]))
    assert [hit["id"] for hit in item["suggestions"]] == [hit["id"] for hit in expected["suggestions"]]
    card = panel.cards[0]
    assert "You asked" in card.heading.text() and "look at galaxies" in card.heading.text()
    assert [row.suggestion["id"] for row in card.rows] == [hit["id"] for hit in item["suggestions"]]
    assert panel.editor.toPlainText() == DRAFT, "the shortcut does not type into the text"


def test_the_button_suggests_for_the_selection(window, qtbot):
    panel = window.write_panel
    show_suggestions(panel, qtbot)
    cursor = panel.editor.textCursor()
    cursor.setPosition(DRAFT.index("In this paper"))
    cursor.setPosition(DRAFT.index("\\cite"), cursor.MoveMode.KeepAnchor)
    panel.editor.setTextCursor(cursor)
    with qtbot.waitSignal(panel.sentence_suggested, timeout=30000) as asked:
        qtbot.mouseClick(panel.ask_button, Qt.MouseButton.LeftButton)
    item = asked.args[0]
    assert item["sentence"].startswith("In this paper we look at galaxies. Vitamin D supplementation")
    assert (item["line"], item["end_line"]) == (1, 2) and item["suggestions"]


def test_qt_offsets_beyond_the_bmp_map_to_python_indexes():
    from scimult_desktop.gui.panels.write_panel import python_index

    text = "𝑥 is large. Next"
    assert python_index(text, 0) == 0 and python_index(text, 2) == 1 and python_index(text, 13) == text.index("Next")
    assert python_index("plain", 3) == 3
