"""Keyboard-only use: Tab leaves the library table for the other panes; Down/Enter in the search box reach the results."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests.gui.conftest import row_of_title

pytestmark = pytest.mark.gui


def _focused_in(widget) -> bool:
    focus = QApplication.focusWidget()
    return focus is not None and (focus is widget or widget.isAncestorOf(focus))


def test_tab_leaves_the_library_table_and_reaches_every_pane(window, qtbot):
    paper_id = row_of_title(window, "Dense passage")
    with qtbot.waitSignal(window.detail_panel.details_shown, timeout=10000), \
         qtbot.waitSignal(window.related_panel.related_shown, timeout=20000):
        window.session.select_paper(paper_id)
    window.activateWindow()
    table = window.library_panel.table
    table.setFocus()
    assert table.hasFocus()
    before = table.currentIndex()
    visited = set()
    for _ in range(60):
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
        for name, pane in (("table", table), ("filter", window.library_panel.filter_edit), ("sidebar", window.sidebar),
                           ("details", window.detail_panel), ("related", window.related_panel)):
            if _focused_in(pane):
                visited.add(name)
        if "table" in visited and len(visited) == 5:
            break
    assert visited == {"table", "filter", "sidebar", "details", "related"}
    assert table.currentIndex().row() == before.row()  # Tab moved the focus, not the cell


def test_down_and_enter_in_the_search_box_reach_the_results(window, qtbot):
    panel = window.search_panel
    window.show_tab(panel)
    window.activateWindow()
    panel.query_edit.setFocus()
    with qtbot.waitSignal(panel.results_shown, timeout=20000):
        qtbot.keyClicks(panel.query_edit, "fracture")
    assert panel.query_edit.hasFocus()  # typing alone never steals the focus
    with qtbot.waitSignal(window.detail_panel.details_shown, timeout=10000):
        qtbot.keyClick(panel.query_edit, Qt.Key.Key_Down)
    assert panel.view.hasFocus() and panel.view.currentIndex().row() == 0
    assert window.session.selected_paper == panel.results.items()[0].paper_id
    qtbot.keyClick(panel.view, Qt.Key.Key_Up)  # Up on the first result: back to the box
    assert panel.query_edit.hasFocus()

    panel.query_edit.selectAll()
    qtbot.keyClicks(panel.query_edit, "galaxy rotation")
    with qtbot.waitSignal(panel.results_shown, timeout=20000):
        qtbot.keyClick(panel.query_edit, Qt.Key.Key_Return)
    qtbot.waitUntil(panel.view.hasFocus, timeout=5000)
    assert panel.view.currentIndex().isValid()
