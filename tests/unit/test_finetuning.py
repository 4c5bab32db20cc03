"""Fine-tuning orchestration without torch: run folders, the training process, cancel and resume.

A small fake trainer script stands in for `python -m scimult_train` (same command-line and
output contract: metrics.jsonl lines, a checkpoint on SIGINT and exit code 130, --resume,
out_dir/bundle at the end); the real trainer is exercised in tests/training/test_finetune_run.py.
"""

from __future__ import annotations

import json
import sys
import threading
import time

import pytest

from scimult_desktop import config
from scimult_desktop.domain.progress import CancelToken
from scimult_desktop.errors import Cancelled, ModelError
from scimult_desktop.services.finetuning import signals as finetune_signals
from scimult_desktop.services.finetuning import pipeline as finetuning
from scimult_desktop.services.models import history as model_history
from scimult_desktop.services.models import bundles as models
from tests.unit.test_finetune_signals import make_library

FAKE_TRAINER = r'''
import json, signal, sys, time
from pathlib import Path
args = sys.argv[1:]
cfg = json.loads(Path(args[args.index("--config") + 1]).read_text())
out = Path(cfg["out_dir"]); ckpt = out / "checkpoints"; ckpt.mkdir(parents=True, exist_ok=True)
start = 0
if "--resume" in args:
    start = json.loads((ckpt / "state.json").read_text())["step"]
if cfg.get("fail"):
    print("error: CUDA out of memory", file=sys.stderr); sys.exit(1)
step = start
def save_and_exit(*_):
    (ckpt / "state.json").write_text(json.dumps({"step": step})); sys.exit(130)
signal.signal(signal.SIGINT, save_and_exit)
with (out / "metrics.jsonl").open("a") as m:
    for step in range(start + 1, cfg["max_steps"] + 1):
        m.write(json.dumps({"step": step, "task": "link", "loss": 1.0 / step, "eta_s": cfg["max_steps"] - step}) + "\n"); m.flush()
        time.sleep(cfg.get("step_s", 0.01))
(out / "bundle").mkdir()
'''


@pytest.fixture
def run_setup(fresh_library, tmp_path, monkeypatch):
    make_library(fresh_library)
    trainer = tmp_path / "fake_trainer.py"
    trainer.write_text(FAKE_TRAINER, encoding="utf-8")
    monkeypatch.setattr(finetuning, "trainer_command", lambda cfg, resume: [sys.executable, str(trainer), "--config", str(cfg)] + (["--resume"] if resume else []))
    monkeypatch.setattr(finetuning.models, "model_path", lambda name=None: tmp_path / "base-bundle")
    monkeypatch.setattr(finetuning, "read_manifest", lambda folder: type("M", (), {"similarity": "cosine"})())
    monkeypatch.setattr(finetuning, "detect_device", lambda: "cpu")
    signals = finetune_signals.collect(fresh_library.database)
    return fresh_library, signals


def _open(library, signals, steps=40, **extra):
    run = finetuning._open_run(library, "base", ["link", "classify", "search"], signals, None, steps)
    if extra:
        cfg_path = run.folder / "train_config.json"
        cfg_path.write_text(json.dumps(dict(json.loads(cfg_path.read_text()), **extra)))
    return run


def test_run_folder_holds_the_training_part_and_the_contract_config(run_setup):
    library, signals = run_setup
    run = _open(library, signals)
    cfg = json.loads((run.folder / "train_config.json").read_text())
    assert cfg["init"].endswith("base-bundle") and cfg["trainable"] == "experts+top:1" and cfg["max_length"] == 128
    assert cfg["export_bundle"] is True and cfg["bundle_name"] == run.model == "base-ft-1"
    assert cfg["data"] == [str(run.folder / "train.jsonl")] and cfg["max_steps"] == 40
    assert cfg["temperature"] == 0.05 and cfg["save_every"] > 0  # cosine base model; crash-resumable
    lines = (run.folder / "train.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == sum(c["train"] for c in signals.counts().values())
    held = json.loads((run.folder / "held_out.json").read_text())
    assert set(held) == {"link", "classify", "search"} and all(held.values())


def test_progress_with_eta_and_live_metrics(run_setup):
    library, signals = run_setup
    run = _open(library, signals, steps=15)
    events, records = [], []
    finetuning._train(run, events.append, records.append, None)
    assert [r["step"] for r in records] == list(range(1, 16))
    last = events[-1]
    assert last.stage == "training" and last.done == 15 and last.total == 15 and last.eta_seconds == 0
    assert "loss" in last.current


def test_cancel_saves_and_the_next_call_resumes_the_same_run(run_setup):
    library, signals = run_setup
    run = _open(library, signals, steps=200, step_s=0.02)
    cancel = CancelToken()
    records = []

    def on_metrics(record):
        records.append(record)
        if record["step"] == 5:
            cancel.cancel()

    with pytest.raises(Cancelled):
        finetuning._train(run, None, on_metrics, cancel)
    assert run.state["status"] == "cancelled"
    saved = json.loads((run.out_dir / "checkpoints" / "state.json").read_text())["step"]
    assert 5 <= saved < 200

    again = _open(library, signals, steps=200)  # same signals, same base: the same run folder
    assert again.folder == run.folder
    resumed = []
    finetuning._train(again, None, resumed.append, None)
    # The whole run's metrics are replayed (the loss plot shows it all), then training goes on
    # from the checkpoint, not from step 1.
    steps = [r["step"] for r in resumed]
    assert steps[: len(records)] == [r["step"] for r in records][: len(steps)]
    assert steps[-(200 - saved):] == list(range(saved + 1, 201))
    assert "--resume" in (again.folder / "train.log").read_text()


def test_a_failing_trainer_reports_its_last_line(run_setup):
    library, signals = run_setup
    run = _open(library, signals, fail=True)
    with pytest.raises(ModelError, match="fine-tuning failed: CUDA out of memory"):
        finetuning._train(run, None, None, None)
    assert run.state["status"] == "failed"


def test_settings_cpu_parameter_efficient_gpu_full():
    cpu = finetuning.training_settings(10_000, device="cpu")
    assert cpu.trainable == "experts+top:1" and cpu.max_steps == finetuning.CPU_STEP_BUDGET and cpu.max_length == 128
    assert finetuning.training_settings(10_000, epochs=2, device="cpu").max_steps == 2 * 625
    gpu = finetuning.training_settings(10_000, device="cuda")
    assert gpu.trainable == "all" and gpu.max_steps == 313


def test_next_model_name_counts_up_from_the_root(monkeypatch):
    installed = ["minilm", "minilm-ft-1", "minilm-ft-3", "other-ft-9"]
    monkeypatch.setattr(finetuning.models, "list_models", lambda: [type("I", (), {"name": n})() for n in installed])
    assert finetuning._next_model_name("minilm") == "minilm-ft-4"
    assert finetuning._next_model_name("minilm-ft-3") == "minilm-ft-4"
    assert finetuning._next_model_name("fresh") == "fresh-ft-1"


def test_metrics_tail_reads_only_complete_new_lines(tmp_path):
    path = tmp_path / "metrics.jsonl"
    tail = finetuning._MetricsTail(path)
    assert tail.read_new() == []
    path.write_text('{"step": 1}\n{"step": 2', encoding="utf-8")
    assert tail.read_new() == [{"step": 1}]
    with path.open("a", encoding="utf-8") as handle:
        handle.write('}\n')
    assert tail.read_new() == [{"step": 2}]


def pretend_installed(monkeypatch, names: list[str]) -> None:
    """Model names that `services.models` sees as installed bundles (no files: switching only)."""
    monkeypatch.setattr(models, "_installed", lambda: [(config.models_dir() / n, None) for n in names])
    monkeypatch.setattr(models, "_bundle", lambda name: (config.models_dir() / name, None))
    monkeypatch.setattr(models, "_info", lambda folder, manifest, active: models.ModelInfo(folder.name, active, 1, "mean", "cosine", [], str(folder)))


def test_history_and_rollback(monkeypatch):
    names = ["a", "b", "c"]
    pretend_installed(monkeypatch, names)
    models.use("a")
    model_history.activate("b")
    model_history.activate("c")
    assert model_history.history() == ["a", "b"]
    replaced, info = model_history.rollback()
    assert (replaced, info.name, models.active_model_name()) == ("c", "b", "b")
    names.remove("a")  # uninstalled meanwhile: skipped
    with pytest.raises(ModelError, match="no earlier model to roll back to"):
        model_history.rollback()
    assert models.active_model_name() == "b"


def test_switching_the_model_in_settings_is_remembered_for_rollback(monkeypatch):
    from scimult_desktop.services.library import preferences

    pretend_installed(monkeypatch, ["a", "b"])
    models.use("a")
    preferences.save_preferences(preferences.Preferences(active_model="b"))
    assert (models.active_model_name(), model_history.history()) == ("b", ["a"])

    def only_a_and_b(name):
        if name not in {"a", "b"}:
            raise ModelError(f"no model named {name!r} is installed")
        return config.models_dir() / name, None

    monkeypatch.setattr(models, "_bundle", only_a_and_b)
    with pytest.raises(ModelError, match="no model named 'z'"):
        preferences.save_preferences(preferences.Preferences(active_model="z"))
    assert models.active_model_name() == "b"


def test_finetune_refuses_a_base_model_without_torch_weights(run_setup, tmp_path, monkeypatch):
    library, _ = run_setup
    monkeypatch.setattr(finetuning.models, "active_model_name", lambda: "base")
    with pytest.raises(ModelError, match="has no torch weights"):
        finetuning.finetune(library)


def test_plan_reports_counts_and_the_problem_without_starting(run_setup, monkeypatch):
    library, _ = run_setup
    monkeypatch.setattr(finetuning.models, "active_model_name", lambda: "base")
    ready = finetuning.plan(library, "link,search")
    assert ready.problem is None and set(ready.counts) == {"link", "search"}
    assert json.loads(json.dumps(ready.to_json()))["ready"] is True
    strict = finetuning.plan(library, "link", min_examples=10_000)
    assert strict.problem.startswith("link: only") and "10000" in strict.problem
    assert not (library.folder / finetuning.RUNS_FOLDER).exists()


def test_tasks_are_sampled_about_equally_however_many_examples_each_has():
    rates = finetuning.task_rates({"link": 158, "classify": 7309, "search": 2957}, 16, 120)
    batches = {task: rates[task] * (n // 16) for task, n in {"link": 158, "classify": 7309, "search": 2957}.items()}
    assert all(abs(b - 40) < 1 for b in batches.values()), batches
    assert rates["link"] > 1 > rates["classify"]  # the small task repeats, the large one is subsampled
    assert finetuning.task_rates({"link": 10, "search": 64}, 16, 10) == {"search": 2.5}  # no full batch: left out


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="parent-death signal is Linux only")
def test_when_the_app_dies_the_trainer_saves_a_checkpoint_and_stops(run_setup, tmp_path):
    import os
    import signal
    import subprocess

    library, signals = run_setup
    run = _open(library, signals, steps=100000, step_s=0.02)
    trainer = tmp_path / "fake_trainer.py"
    app = tmp_path / "app.py"
    app.write_text(
        "import json, sys\nfrom pathlib import Path\n"
        f"sys.path.insert(0, {str(finetuning.Path(__file__).resolve().parents[2])!r})\n"
        "from scimult_desktop.services.finetuning import pipeline as finetuning\n"
        f"folder = Path({str(run.folder)!r})\n"
        "run = finetuning._Run(folder, json.loads((folder / 'run.json').read_text()))\n"
        f"finetuning.trainer_command = lambda cfg, resume: [sys.executable, {str(trainer)!r}, '--config', str(cfg)]\n"
        "finetuning._train(run, None, None, None)\n",
        encoding="utf-8",
    )
    process = subprocess.Popen([sys.executable, str(app)], env=dict(os.environ))
    metrics = run.out_dir / "metrics.jsonl"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not (metrics.exists() and metrics.stat().st_size > 0):
        time.sleep(0.1)
    os.kill(process.pid, signal.SIGKILL)  # a crash: no cleanup code runs in the app
    process.wait()
    state = run.out_dir / "checkpoints" / "state.json"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not state.exists():
        time.sleep(0.1)
    assert state.exists(), "the orphaned trainer did not save a checkpoint"
    size = metrics.stat().st_size
    time.sleep(0.5)
    assert metrics.stat().st_size == size  # and it stopped
