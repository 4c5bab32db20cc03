"""The Fine-tune dialog: counts, refusal, a real run (training subprocess) with live loss,
the before/after table, accept and roll back from the Model menu; cancel keeps a checkpoint."""

from __future__ import annotations

import pytest

from scimult_desktop.services.finetuning import signals as finetune_signals
from scimult_desktop.services.finetuning import pipeline as finetuning
from scimult_desktop.services.models import bundles as models

pytestmark = pytest.mark.gui


def _dialog(window, qtbot):
    from scimult_desktop.gui.finetune_dialog import FinetuneDialog

    dialog = FinetuneDialog(window.ops, window)
    qtbot.addWidget(dialog)
    return dialog


def _only(dialog, qtbot, task):
    for name, box in dialog.task_boxes.items():
        if name != task:
            with qtbot.waitSignal(dialog.plan_shown, timeout=30000):
                box.setChecked(False)


def test_model_menu_has_fine_tune_and_roll_back(window):
    texts = [action.text() for action in window.model_menu.actions()]
    assert "&Fine-tune on this library…" in texts and "&Roll back to the previous model" in texts


def test_counts_are_shown_and_a_small_library_is_refused(window, qtbot):
    dialog = _dialog(window, qtbot)
    qtbot.waitUntil(lambda: dialog.table.item(2, 1) is not None and dialog.table.item(2, 1).text() != "", timeout=30000)
    search_total = int(dialog.table.item(2, 1).text()) + int(dialog.table.item(2, 2).text())
    assert 0 < search_total <= 12
    assert dialog.plan_label.text().startswith("Cannot start: ") and "at least 30 per task" in dialog.plan_label.text()
    assert not dialog.start_button.isEnabled()


@pytest.fixture
def small_minimum(window, gui_models_dir, tmp_path, monkeypatch):
    """Fine-tuning allowed on the 12-paper library, 10 steps, into a private copy of the models folder."""
    pytest.importorskip("torch")
    import shutil

    private = tmp_path / "models"
    shutil.copytree(gui_models_dir, private)
    monkeypatch.setenv("SCIMULT_MODELS_DIR", str(private))  # after gui_env (via window): models resolve per call
    assert [m.name for m in models.list_models()] == ["tiny-gui"]
    monkeypatch.setattr(finetune_signals, "MIN_EXAMPLES", 3)
    real = finetuning.training_settings
    monkeypatch.setattr(finetuning, "training_settings", lambda n, epochs=None, device=None: _steps(real(n, epochs, device="cpu"), 10))


def _steps(settings, steps):
    settings.max_steps = steps
    return settings


@pytest.mark.train
def test_a_run_plots_the_loss_fills_the_table_and_accept_switches(window, small_minimum, qtbot):
    dialog = _dialog(window, qtbot)
    _only(dialog, qtbot, "search")
    assert dialog.start_button.isEnabled(), dialog.plan_label.text()
    with qtbot.waitSignal(dialog.run_finished, timeout=300000) as finished:
        dialog.start()
    result = finished.args[0]
    assert result is not None, dialog.progress.label.text()
    assert dialog.plot.points and all(loss > 0 for _, loss in dialog.plot.points)
    row = {dialog.table.item(2, c).text() for c in range(6)}
    assert "mrr@10" in row
    assert float(dialog.table.item(2, 4).text()) == pytest.approx(result.tasks["search"]["before"], abs=1e-3)
    assert float(dialog.table.item(2, 5).text()) == pytest.approx(result.tasks["search"]["after"], abs=1e-3)
    assert dialog.accept_button.isEnabled() and dialog.keep_button.isEnabled()
    assert models.active_model_name() == "tiny-gui"
    with qtbot.waitSignal(dialog.model_changed, timeout=120000):
        dialog.accept_model()
    assert models.active_model_name() == result.model == "tiny-gui-ft-1"
    rollback = next(a for a in window.model_menu.actions() if a.text().startswith("&Roll back"))
    rollback.trigger()
    assert models.active_model_name() == "tiny-gui"


@pytest.mark.train
def test_cancel_stops_training_and_keeps_a_resumable_run(window, small_minimum, qtbot, monkeypatch):
    monkeypatch.setattr(finetuning, "training_settings", lambda n, epochs=None, device=None: _steps(
        finetuning.TrainingSettings("cpu", "experts+top:1", 64, 4, 1e-4, 100000, 1), 100000))
    dialog = _dialog(window, qtbot)
    _only(dialog, qtbot, "search")
    dialog.start()
    qtbot.waitUntil(lambda: len(dialog.plot.points) > 0, timeout=120000)
    with qtbot.waitSignal(dialog.run_finished, timeout=300000) as finished:
        dialog.cancel()
    assert finished.args[0] is None
    assert "cancelled" in dialog.progress.label.text() and dialog.start_button.isEnabled()
    [run] = [r for r in finetuning.runs(_library(window)) if r["status"] == "cancelled"]
    assert run["model"] == "tiny-gui-ft-1"


def _library(window):
    from scimult_desktop.services.library.facade import Library

    return Library.open(window.session.folder)


@pytest.mark.train
def test_the_quick_adapter_runs_without_training_and_says_what_it_decided(window, small_minimum, qtbot, monkeypatch):
    from PySide6.QtCore import Qt

    with _library(window) as library, library.database.transaction():  # the demo library has no citations
        ids = [row[0] for row in library.database.conn.execute("SELECT id FROM papers ORDER BY id")]
        for i, pid in enumerate(ids):
            for j in (i + 1, i + 3):
                if j < len(ids):
                    library.database.conn.execute("INSERT OR IGNORE INTO citations VALUES (?, ?, 'test')", (pid, ids[j]))
    dialog = _dialog(window, qtbot)
    _only(dialog, qtbot, "search")
    qtbot.keyClick(dialog.adapter_only_box, Qt.Key.Key_Space)  # keyboard reaches it
    assert dialog.adapter_only_box.isChecked()
    assert not dialog.plot.isVisibleTo(dialog)  # nothing trains, so no loss plot
    assert "tick the link task" in dialog.plan_label.text() and not dialog.start_button.isEnabled()
    with qtbot.waitSignal(dialog.plan_shown, timeout=30000):
        dialog.task_boxes["link"].setChecked(True)
    assert "no training" in dialog.plan_label.text() and dialog.start_button.isEnabled()
    with qtbot.waitSignal(dialog.run_finished, timeout=300000) as finished:
        dialog.start()
    result = finished.args[0]
    assert result is not None, dialog.progress.label.text()
    assert not dialog.plot.points  # nothing trained, so no loss
    assert result.query_adapter is not None and ("adapted" in dialog.verdict.text() or "No query adapter" in dialog.verdict.text())
    assert [r["settings"]["trainable"] for r in finetuning.runs(_library(window))] == [finetuning.ADAPTER_ONLY]
