"""`scimult finetune` and `scimult model rollback` from the command line.

The full run (real training, real bundles) is in tests/training/test_finetune_run.py; here:
counts first (--dry-run), refusal, subcommand wiring and rollback, without torch.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scimult_desktop.cli.main import cli
from scimult_desktop.services.finetuning import pipeline as finetuning
from scimult_desktop.services.library.facade import Library
from tests.unit.test_finetune_signals import make_library
from tests.unit.test_finetuning import pretend_installed


@pytest.fixture
def library_dir(tmp_path, monkeypatch):
    monkeypatch.setattr(finetuning, "detect_device", lambda: "cpu")
    folder = tmp_path / "lib"
    with Library.open(folder) as library:
        make_library(library)
    return folder


def invoke(*args):
    return CliRunner().invoke(cli, list(args))


def test_dry_run_shows_counts_per_task_and_needs_no_model(library_dir):
    result = invoke("--library", str(library_dir), "finetune", "--dry-run", "--json")
    assert result.exit_code == 0, result.stderr
    plan = json.loads(result.stdout)
    assert set(plan["tasks"]) == {"link", "classify", "search"}
    assert plan["tasks"]["search"] == {"train": plan["tasks"]["search"]["train"], "held_out": plan["tasks"]["search"]["held_out"]}
    assert sum(plan["tasks"]["search"].values()) == 40 and plan["min_examples"] == 30
    assert plan["ready"] is False and "no model installed" in plan["problem"]  # nothing installed in this test
    text = invoke("--library", str(library_dir), "finetune", "--dry-run", "--tasks", "link")
    assert text.exit_code == 0 and "link" in text.stdout and "held out" in text.stdout and "search" not in text.stdout


def test_too_few_examples_is_one_line_with_the_minimum(tmp_path, monkeypatch):
    monkeypatch.setattr(finetuning, "detect_device", lambda: "cpu")
    folder = tmp_path / "small"
    with Library.open(folder) as library:
        make_library(library, papers=10)
    base = tmp_path / "base"
    (base / "torch").mkdir(parents=True)
    (base / "torch" / "model.safetensors").write_bytes(b"")
    monkeypatch.setattr(finetuning.models, "active_model_name", lambda: "base")
    monkeypatch.setattr(finetuning.models, "model_path", lambda name=None: base)
    monkeypatch.setattr(finetuning.models, "training_available", lambda: True)
    result = invoke("--library", str(folder), "finetune", "--tasks", "link,search")
    assert result.exit_code == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: link: only") and "at least 30 per task" in line
    assert not (folder / "finetune").exists()


def test_unknown_task_is_a_clear_error(library_dir):
    result = invoke("--library", str(library_dir), "finetune", "--tasks", "link,colour", "--dry-run")
    assert result.exit_code == 1 and "unknown fine-tuning task(s) colour" in result.stderr


def test_model_use_remembers_and_rollback_switches_back(monkeypatch):
    pretend_installed(monkeypatch, ["base", "base-ft-1"])
    assert invoke("model", "use", "base").exit_code == 0
    assert invoke("model", "use", "base-ft-1").exit_code == 0
    result = invoke("model", "rollback", "--json")
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"active": "base", "replaced": "base-ft-1"}
    again = invoke("model", "rollback")
    assert again.exit_code == 1 and again.stderr.startswith("error: no earlier model to roll back to")


def test_runs_lists_nothing_on_a_fresh_library(library_dir):
    result = invoke("--library", str(library_dir), "finetune", "runs", "--json")
    assert result.exit_code == 0 and json.loads(result.stdout) == []


@pytest.mark.train
def test_a_real_run_prints_exactly_the_json_contract(library_dir, tmp_path, monkeypatch):
    pytest.importorskip("torch")
    testing = pytest.importorskip("scimult_train.testing")
    from scimult_desktop.services.finetuning import signals as finetune_signals
    from scimult_desktop.services.models import bundles as models

    bundle = testing.build_tiny_bundle(tmp_path / "tiny", name="tiny")
    models.install(bundle, name="tiny")
    monkeypatch.setattr(finetune_signals, "MIN_EXAMPLES", 5)
    result = invoke("--library", str(library_dir), "finetune", "--tasks", "link,search", "--steps", "4", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    # The first five fields are the original contract; query_adapter was added after them.
    assert list(report) == ["model", "base_model", "tasks", "recommended", "active", "query_adapter"]
    assert set(report["query_adapter"]) == {"fitted", "l2", "cv_recall@10_change", "cv_paired_se", "settings", "reason"}
    assert report["model"] == "tiny-ft-1" and report["base_model"] == "tiny"
    assert list(report["tasks"]) == ["link", "search"]
    for row in report["tasks"].values():
        assert list(row) == ["train", "held_out", "metric", "before", "after"]
        assert isinstance(row["before"], float) and isinstance(row["after"], float)
    assert report["active"] is False and models.active_model_name() == "tiny"
    assert "training:" in result.stderr  # progress on stderr, JSON alone on stdout


def test_dry_run_of_the_adapter_alone_says_so_and_needs_the_link_task(library_dir):
    shown = invoke("--library", str(library_dir), "finetune", "--dry-run", "--adapter-only", "--json")
    assert shown.exit_code == 0, shown.stderr
    assert json.loads(shown.stdout)["settings"]["trainable"] == finetuning.ADAPTER_ONLY
    text = invoke("--library", str(library_dir), "finetune", "--dry-run", "--adapter-only", "--tasks", "search")
    assert text.exit_code == 0 and "include the link task" in text.stdout and "no training" in text.stdout
