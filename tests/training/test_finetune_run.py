"""Fine-tuning for real: the app's JSONL matches scimult_train's format, and a full run with
a tiny bundle (train, install, evaluate, accept, rollback) through the training subprocess."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from scimult_desktop.services.finetuning import signals as finetune_signals
from scimult_desktop.services.finetuning import pipeline as finetuning
from scimult_desktop.services.models import history as model_history
from scimult_desktop.services.models import bundles as models
from scimult_train.data.examples import parse_example, read_examples
from tests.unit.test_finetune_signals import make_library


def test_the_app_writes_exactly_scimult_trains_jsonl(fresh_library, tmp_path):
    ids = make_library(fresh_library)
    fresh_library.record_feedback("suggest", 1.0, query="message passing on graphs", paper=ids[0])
    fresh_library.record_feedback("suggest", 0.0, query="message passing on graphs", paper=ids[1])
    signals = finetune_signals.collect(fresh_library.database)
    path = tmp_path / "train.jsonl"
    count = finetune_signals.write_training_jsonl(path, signals)
    lines = path.read_text(encoding="utf-8").splitlines()
    examples = list(read_examples(path))
    assert count == len(lines) == len(examples)
    for line, example in zip(lines, examples):
        assert example.to_json() == line  # same keys, same order, same encoding
        assert parse_example(json.loads(line)) == example
    assert any(e.negatives for e in examples) and all(e.positive_id for e in examples)
    assert {e.task for e in examples} == {"link", "classify", "search"}


def _loop_available() -> bool:
    return importlib.util.find_spec("scimult_train.__main__") is not None


@pytest.fixture
def tiny_base(tmp_path):
    testing = pytest.importorskip("scimult_train.testing")
    bundle = testing.build_tiny_bundle(tmp_path / "tiny-bundle", name="tiny")
    if not (bundle / finetuning.TORCH_WEIGHTS).is_file():
        pytest.skip("tiny bundles carry no torch/ weights yet (training-run contract, [train])")
    models.install(bundle, name="tiny")
    models.use("tiny")
    return bundle


@pytest.mark.skipif(not _loop_available(), reason="`python -m scimult_train` (the training loop) is not there yet")
def test_full_run_installs_a_versioned_model_scores_it_and_accept_then_rollback(fresh_library, tiny_base):
    make_library(fresh_library, papers=48)
    events, records = [], []
    result = finetuning.finetune(
        fresh_library, "link,classify,search", max_steps=6, min_examples=5, progress=events.append, on_metrics=records.append
    )
    report = result.to_json()
    assert set(report) == {"model", "base_model", "tasks", "recommended", "active", "query_adapter"}
    assert isinstance(report["query_adapter"]["fitted"], bool) and report["query_adapter"]["reason"]
    assert report["model"] == "tiny-ft-1" and report["base_model"] == "tiny" and report["active"] is False
    for task, row in report["tasks"].items():
        # The documented fields stay; by_source (per-signal-source scores) was added later.
        assert set(row) - {"by_source"} == {"train", "held_out", "metric", "before", "after"}
        for source in row.get("by_source", {}).values():
            assert 0.0 <= source["before"] <= 1.0 and 0.0 <= source["after"] <= 1.0
        assert row["train"] > 0 and row["held_out"] > 0 and 0.0 <= row["before"] <= 1.0 and 0.0 <= row["after"] <= 1.0
    assert any(e.stage == "training" for e in events) and any("loss" in r for r in records)

    # A normal, versioned bundle that names its base; installed but not active.
    info = {m.name: m for m in models.list_models()}["tiny-ft-1"]
    assert info.source["base_model"] == "tiny" and not info.active and models.active_model_name() == "tiny"
    assert (models.model_path("tiny-ft-1") / finetuning.TORCH_WEIGHTS).is_file()  # it can be fine-tuned again

    finetuning.accept(fresh_library, "tiny-ft-1")
    assert models.active_model_name() == "tiny-ft-1" and fresh_library.status()["indexed"]["search"] == 48
    replaced, now = model_history.rollback()
    assert (replaced, now.name, models.active_model_name()) == ("tiny-ft-1", "tiny", "tiny")
    assert finetuning.runs(fresh_library)[-1]["status"] == "accepted"


@pytest.mark.skipif(not _loop_available(), reason="`python -m scimult_train` (the training loop) is not there yet")
def test_cancelled_run_resumes_from_its_checkpoint(fresh_library, tiny_base):
    from scimult_desktop.domain.progress import CancelToken
    from scimult_desktop.errors import Cancelled

    make_library(fresh_library, papers=48)
    cancel = CancelToken()

    def stop_at_first_metrics(record):
        cancel.cancel()

    with pytest.raises(Cancelled):
        finetuning.finetune(fresh_library, "search", max_steps=40, min_examples=5, on_metrics=stop_at_first_metrics, cancel=cancel)
    [run] = finetuning.runs(fresh_library)
    assert run["status"] == "cancelled"
    records = []
    result = finetuning.finetune(fresh_library, "search", max_steps=40, min_examples=5, on_metrics=records.append)
    assert result.run_folder == Path(run["folder"]) and result.model == run["model"]
    log = (result.run_folder / "train.log").read_text(encoding="utf-8")
    commands = [line for line in log.splitlines() if line.startswith("$ ")]
    assert len(commands) == 2 and "--resume" not in commands[0] and commands[1].endswith("--resume")
    steps = [r["step"] for r in records if "step" in r]
    assert steps[-1] == 40
