"""The Fields panel says whether its fields are zero-shot or few-shot from the user's tagged papers."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.gui


def test_fields_status_counts_tagged_papers_of_the_label_set(window, qtbot):
    panel = window.fields_panel
    with qtbot.waitSignal(panel.map_shown, timeout=60000):
        window.show_tab(panel)  # classifies on first show, with MAG fields
    # The seed library's imported keywords "biology" (2 papers) and "medicine" (3) are MAG fields.
    status = panel.status.text()
    assert "few-shot from 5 tagged papers" in status or "5 tagged papers did not help" in status
    panel.label_set.setCurrentIndex(panel.label_set.findData("arxiv"))  # no tag names an arXiv category
    with qtbot.waitSignal(panel.map_shown, timeout=60000):
        panel.classify()
    assert "zero-shot" in panel.status.text() and "tagged" not in panel.status.text()
