"""Tagging papers with their top field asks first: the count, each confidence, a threshold the user sees;
only papers at or above it start ticked; the change is undoable."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from tests.gui.conftest import row_of_title

pytestmark = pytest.mark.gui

SCORES = {"Dense passage": ("Computer science", 0.91), "Statins and": ("Medicine", 0.62),
          "Galaxy rotation": ("Physics", 0.15), "Malaria transmission": ("Medicine", 0.38)}


def _field_map(window):
    from scimult_desktop.services.library.browsing import FieldMap

    ids = [row_of_title(window, fragment) for fragment in SCORES]
    titles = [window.library_panel.model.row_record(window.library_panel.model.row_of(i)).title for i in ids]
    suggestions = [[{"label": field, "score": score}, {"label": "Biology", "score": 0.05}] for field, score in SCORES.values()]
    return FieldMap(ids, titles, np.zeros((len(ids), 2), np.float32), [f for f, _ in SCORES.values()], suggestions,
                    [("Medicine", 2), ("Computer science", 1), ("Physics", 1)], "mag")


def _tags(window, paper_id):
    from scimult_desktop.services.library import browsing
    from scimult_desktop.services.library.facade import Library

    with Library.open(window.session.folder) as library:
        return set(browsing.paper_details(library, paper_id).tags)


def _open_dialog(window, monkeypatch, answer):
    from scimult_desktop.gui.dialogs import bulk_tag_dialog

    seen = []

    def exec_(dialog):
        seen.append(dialog)
        return answer(dialog)

    monkeypatch.setattr(bulk_tag_dialog.BulkTagDialog, "exec", exec_)
    panel = window.fields_panel
    panel.field_map = _field_map(window)
    panel.accept_top_for_all()
    return seen[0]


def test_bulk_tagging_asks_with_the_count_and_ticks_only_confident_fields(window, qtbot, monkeypatch):
    dense, galaxy = row_of_title(window, "Dense passage"), row_of_title(window, "Galaxy rotation")
    dialog = _open_dialog(window, monkeypatch, lambda d: QDialog.DialogCode.Rejected)
    assert dialog.threshold.value() == 50
    assert [(p.field, p.confidence) for p in dialog.chosen()] == [("Computer science", 0.91), ("Medicine", 0.62)]
    assert "2 of 4 papers will be tagged" in dialog.count.text()
    assert dialog.apply_button.text() == "Tag 2 papers"
    assert "91%" in dialog.items.item(0).text() and "15%" in dialog.items.item(3).text()
    assert window.fields_panel.undo_stack.count() == 0 and "Computer science" not in _tags(window, dense)  # cancelled: nothing

    def lower_threshold_and_accept(d):
        d.threshold.setValue(30)  # the user lowers it: Malaria (38%) is ticked, Galaxy (15%) still is not
        assert len(d.chosen()) == 3
        d.items.item(1).setCheckState(Qt.CheckState.Unchecked)  # and unticks one by hand
        assert d.apply_button.text() == "Tag 2 papers"
        d.apply_button.click()
        return d.result()

    with qtbot.waitSignal(window.fields_panel.tags_changed, timeout=10000):
        _open_dialog(window, monkeypatch, lower_threshold_and_accept)
    statins, malaria = row_of_title(window, "Statins and"), row_of_title(window, "Malaria transmission")
    assert "Computer science" in _tags(window, dense) and "Medicine" in _tags(window, malaria)
    assert "Medicine" not in _tags(window, statins) and "Physics" not in _tags(window, galaxy)
    assert window.settings.value("fields/min_confidence_percent") in (30, "30")  # kept for next time

    with qtbot.waitSignal(window.fields_panel.tags_changed, timeout=10000):
        window.undo_action.trigger()
    assert "Computer science" not in _tags(window, dense) and "Medicine" not in _tags(window, malaria)
