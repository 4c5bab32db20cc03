"""Search: the year filter can be cleared; an engine that cannot run here is flagged in Settings,
and hybrid search then falls back to keyword results with a notice instead of an error over old results."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox


pytestmark = pytest.mark.gui


@pytest.fixture
def no_cuda(monkeypatch):
    from scimult_desktop.embedding import engines

    monkeypatch.setattr(engines, "cuda_available", lambda: False)


def test_the_year_filter_can_be_cleared(window, qtbot):
    panel = window.search_panel
    window.show_tab(panel)
    panel.mode.setCurrentIndex(panel.mode.findData("keyword"))
    panel.year_from.setValue(2015)
    assert panel.filters().year_from == 2015 and panel.any_year.isVisibleTo(panel)
    panel.any_year.click()
    assert panel.filters().year_from is None and panel.filters().year_to is None
    assert not panel.any_year.isVisibleTo(panel)

    panel.year_to.setValue(2001)  # deleting the year in the box clears it too
    panel.year_to.lineEdit().selectAll()
    qtbot.keyClick(panel.year_to.lineEdit(), Qt.Key.Key_Delete)
    panel.year_to.interpretText()
    assert panel.year_to.text() in ("", "any") and panel.filters().year_to is None
    panel.year_from.stepBy(1)  # from "any" the arrows start at this year, not at year 1
    assert panel.year_from.value() > 2000


def test_hybrid_search_falls_back_to_keywords_when_the_engine_cannot_run(window, qtbot, no_cuda):
    panel = window.search_panel
    window.show_tab(panel)
    with qtbot.waitSignal(panel.results_shown, timeout=20000):
        qtbot.keyClicks(panel.query_edit, "galaxy")
    window.session.engine = "onnxruntime-cuda"  # as if chosen in Settings on a machine without CUDA
    panel.query_edit.clear()
    with qtbot.waitSignal(panel.results_shown, timeout=20000) as shown:
        qtbot.keyClicks(panel.query_edit, "fracture")
    assert shown.args == ["fracture", 2]
    titles = {item.payload.paper.title for item in panel.results.items()}
    assert titles == {"Vitamin D supplementation and fracture risk in older adults", "Statins and the risk of hip fracture"}
    assert "showing keyword results" in panel.status.text() and "onnxruntime-cuda" in panel.status.text()
    assert "(keyword, " in panel.status.text()  # the mode that answered, not the one asked for


def test_a_failed_search_clears_the_previous_results(window, qtbot, monkeypatch):
    from scimult_desktop.errors import ScimultError
    from scimult_desktop.services.finding import search_fallback

    panel = window.search_panel
    window.show_tab(panel)
    with qtbot.waitSignal(panel.results_shown, timeout=20000):
        qtbot.keyClicks(panel.query_edit, "galaxy")
    assert panel.results.rowCount() > 0

    def broken(*_args, **_kwargs):
        raise ScimultError("the library is locked")

    monkeypatch.setattr(search_fallback, "search_with_fallback", broken)
    monkeypatch.setattr("scimult_desktop.gui.panels.search_panel.search_with_fallback", broken)
    qtbot.keyClicks(panel.query_edit, " dark")
    qtbot.waitUntil(lambda: "locked" in panel.status.text(), timeout=10000)
    assert panel.results.rowCount() == 0


def test_settings_warns_about_an_engine_this_machine_cannot_run(window, qtbot, no_cuda, monkeypatch):
    from scimult_desktop.gui.dialogs.settings_dialog import SettingsDialog
    from scimult_desktop.services.library import preferences

    dialog = SettingsDialog(window.ops, window)
    qtbot.addWidget(dialog)
    assert not dialog.engine_warning.isVisibleTo(dialog)
    dialog.engine.setCurrentIndex(dialog.engine.findData("onnxruntime-cuda"))
    qtbot.waitUntil(lambda: dialog.engine_warning.isVisibleTo(dialog), timeout=10000)
    assert "onnxruntime-gpu" in dialog.engine_warning.text()

    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.No)
    dialog.save()
    assert asked and "cannot run here" in asked[0]
    assert dialog.saved is None and preferences.load_preferences().engine != "onnxruntime-cuda"  # not saved

    dialog.engine.setCurrentIndex(dialog.engine.findData("onnxruntime-cpu"))
    qtbot.waitUntil(lambda: not dialog.engine_warning.isVisibleTo(dialog), timeout=10000)
