"""The highlighted library row and the Details pane show the same paper after sorting, filtering,
reloading, resizing and a restart: selection follows the paper, not the row number."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.gui.conftest import make_window, row_of_title

pytestmark = pytest.mark.gui


def highlighted_ids(window) -> list[int]:
    from scimult_desktop.gui.item_models import ID_ROLE

    return [int(i.data(ID_ROLE)) for i in window.library_panel.table.selectionModel().selectedRows()]


def current_id(window):
    from scimult_desktop.gui.item_models import ID_ROLE

    index = window.library_panel.table.currentIndex()
    return int(index.data(ID_ROLE)) if index.isValid() else None


def assert_in_step(window, paper_id: int) -> None:
    assert window.session.selected_paper == paper_id
    assert window.detail_panel.details is not None and window.detail_panel.details.paper.id == paper_id
    assert highlighted_ids(window) == [paper_id]
    assert current_id(window) == paper_id


def select_row_of(window, qtbot, paper_id: int) -> None:
    panel = window.library_panel
    row = next(r for r in range(panel.proxy.rowCount()) if panel.proxy.index(r, 0).data(Qt.ItemDataRole.UserRole + 2) == paper_id)
    with qtbot.waitSignal(window.detail_panel.details_shown, timeout=10000):
        panel.table.selectRow(row)


def test_sorting_filtering_reloading_and_resizing_keep_the_selected_paper(window, qtbot):
    panel = window.library_panel
    paper_id = row_of_title(window, "Statins and the risk")
    select_row_of(window, qtbot, paper_id)
    assert_in_step(window, paper_id)

    for column, order in ((2, Qt.SortOrder.AscendingOrder), (2, Qt.SortOrder.DescendingOrder), (0, Qt.SortOrder.DescendingOrder)):
        panel.table.sortByColumn(column, order)
        assert_in_step(window, paper_id)

    qtbot.keyClicks(panel.filter_edit, "fracture")  # keeps the paper
    assert panel.proxy.rowCount() == 2
    assert_in_step(window, paper_id)

    panel.filter_edit.clear()
    qtbot.keyClicks(panel.filter_edit, "galaxy")  # hides it: no other paper may be highlighted or shown
    assert panel.proxy.rowCount() == 1
    assert window.session.selected_paper == paper_id
    assert highlighted_ids(window) == [] and current_id(window) is None
    assert window.detail_panel.details.paper.id == paper_id
    panel.filter_edit.clear()  # back again: highlighted again
    assert_in_step(window, paper_id)

    with qtbot.waitSignal(panel.rows_loaded, timeout=10000):
        panel.refresh()  # a reload resets the model
    assert_in_step(window, paper_id)

    window.resize(700, 500)
    qtbot.wait(50)
    window.resize(1200, 800)
    qtbot.wait(50)
    assert_in_step(window, paper_id)


def test_the_selected_paper_comes_back_after_a_restart(qtbot, library_copy, tmp_path):
    first = make_window(qtbot, library_copy, tmp_path)
    paper_id = row_of_title(first, "Malaria transmission")
    first.library_panel.table.sortByColumn(2, Qt.SortOrder.DescendingOrder)
    select_row_of(first, qtbot, paper_id)
    first.close()
    assert first.ops.wait(30000)

    second = make_window(qtbot, library_copy, tmp_path, start=False)
    with qtbot.waitSignal(second.detail_panel.details_shown, timeout=30000):
        second.start()
    qtbot.waitUntil(lambda: current_id(second) == paper_id, timeout=10000)
    assert_in_step(second, paper_id)
    second.close()
    assert second.ops.wait(30000)
