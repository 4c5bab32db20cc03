"""Write & cite (copy, flags, feedback, watched drafts), Fields (chart, map, tags + undo), dialogs, first launch, CLI."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from tests.gui.conftest import PAPERS, make_window, row_of_title

pytestmark = pytest.mark.gui

DRAFT = ("Dense retrieval with dual encoders has been shown to outperform term weighting for question answering. "
         "Vitamin D supplementation reduces the risk of hip fractures in older adults \\cite{nosuchkey}.\n")


def test_write_pane_suggests_copies_citations_flags_and_stores_feedback(window, qtbot):
    from scimult_desktop.services.library.facade import Library

    panel = window.write_panel
    window.show_tab(panel)
    panel.format.setCurrentIndex(panel.format.findData("latex"))
    assert panel.kind.currentData() == "auto"  # the \\cite in DRAFT makes it LaTeX
    with qtbot.waitSignal(panel.suggestions_shown, timeout=30000):
        panel.editor.setPlainText(DRAFT)
    rows = panel.suggestion_rows()
    assert rows, "the claim without a citation gets suggestions"
    first = rows[0]
    qtbot.mouseClick(first.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "\\cite{%s}" % first.suggestion["citekey"]
    panel.format.setCurrentIndex(panel.format.findData("pandoc"))
    assert first.copy_button.text() == "Copy [@%s]" % first.suggestion["citekey"]
    qtbot.mouseClick(first.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "[@%s]" % first.suggestion["citekey"]
    assert any("nosuchkey" in flag and "not in the library" in flag for flag in panel.flag_texts())
    with qtbot.waitSignal(panel.feedback_recorded, timeout=10000):
        qtbot.mouseClick(first.wrong_button, Qt.MouseButton.LeftButton)
    with Library.open(window.session.folder) as library:
        rows = library.database.conn.execute("SELECT kind, value, paper_id, query FROM feedback").fetchall()
    assert [(r[0], r[1], r[2]) for r in rows] == [("suggestion", -1.0, first.suggestion["id"])]
    assert "Dense retrieval" in rows[0][3]


def test_opened_draft_is_watched_and_reanalysed_on_save(window, qtbot, tmp_path):
    draft = tmp_path / "draft.md"
    draft.write_text("Galaxy rotation curves show that spiral galaxies contain large amounts of dark matter.\n", encoding="utf-8")
    panel = window.write_panel
    with qtbot.waitSignal(panel.suggestions_shown, timeout=30000):
        panel.open_draft(str(draft))
    assert panel.kind.currentData() == "markdown" and panel.editor.isReadOnly()
    with qtbot.waitSignal(panel.suggestions_shown, timeout=30000):
        draft.write_text("Climate model ensembles have been shown to project strong regional warming by 2050.\n", encoding="utf-8")
    assert "Climate model ensembles" in panel.editor.toPlainText()
    assert "Climate model ensembles" in panel.cards[0].heading.text()


def test_fields_chart_map_click_and_undoable_tags(window, qtbot):
    from scimult_desktop.services.library import browsing
    from scimult_desktop.services.library.facade import Library

    panel = window.fields_panel
    with qtbot.waitSignal(panel.map_shown, timeout=60000) as shown:
        window.show_tab(panel)  # classifies on first show
    assert shown.args[0] == len(PAPERS)
    assert sum(count for _, count in panel.chart.counts()) == len(PAPERS)
    paper_id = row_of_title(window, "Protein structure")
    with qtbot.waitSignal(window.session.paper_selected, timeout=5000) as selected:
        qtbot.mouseClick(panel.map, Qt.MouseButton.LeftButton, pos=panel.map.point_position(paper_id).toPoint())
    clicked = selected.args[0]
    qtbot.waitUntil(lambda: panel.suggestions.count() > 0, timeout=5000)
    label = panel.checked_labels()[0]
    with qtbot.waitSignal(panel.tags_changed, timeout=10000):
        panel.accept_button.click()
    with Library.open(window.session.folder) as library:
        assert label in browsing.paper_details(library, clicked).tags
    assert panel.undo_button.isEnabled()
    with qtbot.waitSignal(panel.tags_changed, timeout=10000):
        window.undo_action.trigger()
    with Library.open(window.session.folder) as library:
        assert label not in browsing.paper_details(library, clicked).tags


def test_model_dialog_and_settings_dialog(window, qtbot):
    from scimult_desktop.gui.dialogs.model_dialog import ModelDialog
    from scimult_desktop.gui.dialogs.settings_dialog import SettingsDialog
    from scimult_desktop.services.library import preferences

    dialog = ModelDialog(window.ops, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.summary is not None, timeout=20000)
    assert dialog.active_label.text() == "tiny-gui"
    assert dialog.engine_label.text() in {"onnxruntime-cpu", "openvino", "onnxruntime-cuda"}
    assert dialog.device_label.text() in {"CPU", "GPU (CUDA)"}
    assert dialog.models_list.count() == 1
    settings = SettingsDialog(window.ops, window)
    qtbot.addWidget(settings)
    qtbot.waitUntil(lambda: settings.model.count() == 2, timeout=10000)
    settings.citation.setCurrentIndex(settings.citation.findData("pandoc"))
    settings.engine.setCurrentIndex(settings.engine.findData("onnxruntime-cpu"))
    settings.save()
    saved = preferences.load_preferences()
    assert (saved.citation_format, saved.engine, saved.active_model) == ("pandoc", "onnxruntime-cpu", "tiny-gui")


def test_first_launch_shows_the_empty_state_and_opens_the_demo_library(qtbot, tmp_path, gui_env):
    window = make_window(qtbot, tmp_path / "empty", tmp_path)
    try:
        assert window.library_panel.stack.currentIndex() == 2
        assert "library is empty" in window.library_panel.empty_label.text()
        window.import_panel.auto_index = False  # indexing 300 abstracts is covered by the import test
        with qtbot.waitSignal(window.import_panel.import_finished, timeout=60000) as imported:
            qtbot.mouseClick(window.library_panel.demo_button, Qt.MouseButton.LeftButton)
        assert imported.args[0].added == 300
        qtbot.waitUntil(lambda: window.library_panel.model.rowCount() == 300, timeout=20000)
    finally:
        window.close()
        window.ops.wait(30000)


def test_scimult_gui_command_is_registered():
    from click.testing import CliRunner

    from scimult_desktop.cli.main import cli

    result = CliRunner().invoke(cli, ["gui", "--help"])
    assert result.exit_code == 0 and "--demo" in result.output


def test_self_test_imports_the_demo_indexes_searches_and_prints_json(qtbot, tmp_path, gui_env, capsys):
    import json

    from scimult_desktop.gui.app import create_application
    from scimult_desktop.gui.self_test import run_self_test

    assert run_self_test(create_application([]), str(tmp_path / "self-test-library"), timeout=300) == 0
    report = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert report["papers"] == 300 and report["results"] > 0 and report["model"] == "tiny-gui"
