"""Local fine-tuning on the user's own library: signals -> training run -> honest evaluation -> accept.

The flow (`finetune`), every step resumable:

1. signals are read from the library and split into training and held-out parts before
   anything trains (`finetune_signals`); a task with too few examples is refused;
2. a run folder `<library>/finetune/run-NNN/` gets the training JSONL (training part only),
   the held-out units (`held_out.json`) and the training config; `python -m scimult_train
   --config train_config.json` runs in a separate, lower-priority process starting from
   the active model's bundle (its `torch/` weights): all weights on a GPU, on a CPU only
   the task experts and the top layer with short inputs and a few hundred steps;
   progress and the loss come from its `metrics.jsonl`; cancelling sends SIGINT (the
   trainer saves a checkpoint and exits) and the next call resumes with `--resume`;
   with `adapter_only` nothing trains here and the base model's files are the bundle;
3. the link task's query adapter is fitted into the bundle when cross-validation on the
   training signals says it helps (`adapter_fitting`, `query_adapter`);
4. the bundle is installed as `<base>-ft-<n>` (not active), its manifest naming
   the base model; the old and the new model are scored on the held-out signals
   (`finetune_eval`), which also stores the new model's library vectors;
5. `accept` embeds whatever the new model still lacks while the old vectors keep serving,
   then switches (remembering the old model: `model_history.rollback` undoes it);
   `keep_current` drops the new model's vectors from the library and leaves it installed.

Example:
    >>> plan = finetuning.plan(library, ["link", "search"])
    >>> result = finetuning.finetune(library, ["link", "search"], progress=print)
    >>> result.to_json()["recommended"], finetuning.accept(library, result.model)
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from scimult_desktop import config
from scimult_desktop.domain.progress import CancelToken, ProgressCallback, ProgressEvent
from scimult_desktop.domain.tasks import Task
from scimult_desktop.embedding.bundle import FINGERPRINT_NAME, read_manifest, write_manifest
from scimult_desktop.errors import Cancelled, ModelError, ScimultError
from scimult_desktop.services.finetuning import adapter_fitting
from scimult_desktop.services.finetuning import evaluation as finetune_eval
from scimult_desktop.services.finetuning import signals as finetune_signals
from scimult_desktop.services.models import history as model_history
from scimult_desktop.services.models import bundles as models
from scimult_desktop.services.models import tools
from scimult_desktop.services.finetuning.signals import SignalSet
from scimult_desktop.store.passages import PassageStore
from scimult_desktop.store.vectors import VectorStore

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

RUNS_FOLDER = "finetune"
TORCH_WEIGHTS = Path("torch") / "model.safetensors"
CPU_STEP_BUDGET = 300  # ~minutes on 2 cores with experts+top:1 at 128 tokens
GPU_STEP_BUDGET = 3000
RESUMABLE = ("prepared", "training", "cancelled", "failed", "trained", "adapted", "installed")
ADAPTER_ONLY = "adapter"  # `trainable` value: no transformer training, only the link query adapter
ADAPTER_NEEDS_LINK = "the query adapter learns from link signals: include the link task (--tasks link)"
CANCEL_GRACE_S = 180  # the trainer saves a checkpoint on SIGINT; give it time
MetricsCallback = Callable[[dict], None]


@dataclass
class TrainingSettings:
    """The training-config choices that depend on the hardware (see `training_settings`)."""

    device: str  # "cuda" | "cpu"
    trainable: str
    max_length: int
    batch_size: int
    lr: float
    max_steps: int
    epochs: int
    sampling: str = "balanced"  # every task gets about the same number of batches (see `task_rates`)

    def to_json(self) -> dict:
        return dict(self.__dict__)


@dataclass
class FinetunePlan:
    """What a run would train on, before starting: counts per task and the settings."""

    base_model: str | None
    tasks: list[str]
    counts: dict[str, dict[str, int]]
    settings: TrainingSettings
    problem: str | None  # why it cannot start (too few examples), else None
    ignored: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return {
            "base_model": self.base_model,
            "tasks": self.counts,
            "min_examples": finetune_signals.MIN_EXAMPLES,
            "settings": self.settings.to_json(),
            "ready": self.problem is None,
            "problem": self.problem,
            "ignored": self.ignored,
        }


@dataclass
class FinetuneResult:
    """A finished run: the new model and the before/after figures on the held-out signals.

    `model` is `base_model` when nothing new was made (an adapter-only run whose adapter
    was not kept): nothing is installed then, and `query_adapter["reason"]` says why.
    """

    model: str
    base_model: str
    tasks: dict[str, dict]
    recommended: bool
    active: bool
    run_folder: Path
    seconds: dict[str, float] = field(default_factory=dict)
    query_adapter: dict | None = None  # `AdapterFit.to_json()`: fitted or not, and the cross-validation behind it

    def to_json(self) -> dict:
        """The `scimult finetune --json` contract."""
        return {
            "model": self.model,
            "base_model": self.base_model,
            "tasks": self.tasks,
            "recommended": self.recommended,
            "active": self.active,
            "query_adapter": self.query_adapter,
        }

    @property
    def made_nothing(self) -> bool:
        """True for an adapter-only run whose adapter was not kept: nothing to install or accept."""
        return self.model == self.base_model

    def adapter_decision(self) -> str | None:
        """One sentence on the link query adapter, for the CLI and the dialog alike; None when none was tried."""
        adapter = self.query_adapter
        if self.made_nothing:
            why = adapter["reason"] if adapter else "not fitted"
            return f"Nothing new to install; {self.base_model} stays as it is. No query adapter: {why}."
        if not adapter:
            return None
        if adapter["fitted"]:
            return (f"Citation queries are adapted (cross-validated Recall@10 {adapter['cv_recall@10_change']:+.3f}"
                    f" ± {adapter['cv_paired_se']:.3f} on the training signals).")
        return f"No query adapter: {adapter['reason']}."


# ---- planning ------------------------------------------------------------------------------
def plan(
    library: "Library",
    tasks: str | Sequence[str] | None = None,
    *,
    epochs: int | None = None,
    max_steps: int | None = None,
    min_examples: int | None = None,
    signals: SignalSet | None = None,
    adapter_only: bool = False,
) -> FinetunePlan:
    """Counts per task and the training settings this machine would use; starts nothing."""
    names = finetune_signals.parse_tasks(tasks)
    base = models.active_model_name()
    signals = signals or finetune_signals.collect(library.database, names)
    problem = None
    try:
        if adapter_only and "link" not in names:
            raise ScimultError(ADAPTER_NEEDS_LINK)
        signals.check_enough(min_examples)
        if base is None:
            _base_model()
    except ScimultError as exc:
        problem = str(exc)
    settings = training_settings(sum(c["train"] for c in signals.counts().values()), epochs)
    if max_steps:
        settings.max_steps = max_steps
    if adapter_only:
        settings.trainable = ADAPTER_ONLY
    return FinetunePlan(base, names, signals.counts(), settings, problem, dict(signals.ignored))


def training_settings(train_examples: int, epochs: int | None = None, *, device: str | None = None) -> TrainingSettings:
    """Full fine-tuning on a GPU; on a CPU, experts + top layer, 128 tokens, a few hundred steps.

    With `epochs` the run makes that many passes over the training examples; without, one
    pass capped at the device's step budget.
    """
    device = device or detect_device()
    gpu = device == "cuda"
    batch = 32 if gpu else 16
    per_epoch = max(1, math.ceil(train_examples / batch))
    steps = per_epoch * epochs if epochs else min(per_epoch, GPU_STEP_BUDGET if gpu else CPU_STEP_BUDGET)
    return TrainingSettings(
        device=device,
        trainable="all" if gpu else "experts+top:1",
        max_length=256 if gpu else 128,
        batch_size=batch,
        lr=2e-5 if gpu else 5e-5,
        max_steps=max(1, steps),
        epochs=epochs or 1,
    )


def task_rates(train_counts: dict[str, int], batch_size: int, max_steps: int) -> dict[str, float]:
    """Trainer sampling rates giving every task about `max_steps / tasks` batches per epoch.

    The trainer's rate multiplies a task's own batch count (rate 1 = each example about once
    per epoch), so proportional sampling would starve small tasks: a library has thousands
    of titles but often only a few hundred citation edges. Small tasks repeat their
    examples instead.
    """
    usable = {task: n // batch_size for task, n in train_counts.items() if n // batch_size > 0}
    per_task = math.ceil(max_steps / max(1, len(usable)))
    return {task: round(per_task / batches, 4) for task, batches in usable.items()}


_device_cache: dict[str, str] = {}


def detect_device() -> str:
    """"cuda" when the training Python sees a GPU, else "cpu" (asked in a subprocess: no torch here)."""
    if "device" not in _device_cache:
        device = "cpu"
        if models.training_available():
            probe = "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 3)"
            try:
                result = tools.run(tools.python_command("-c", probe), env=models.training_tool_env(), capture_output=True, timeout=120)
                device = "cuda" if result.returncode == 0 else "cpu"
            except (OSError, subprocess.TimeoutExpired, ModelError):
                device = "cpu"
        _device_cache["device"] = device
    return _device_cache["device"]


# ---- the run ---------------------------------------------------------------------------------
def finetune(
    library: "Library",
    tasks: str | Sequence[str] | None = None,
    *,
    epochs: int | None = None,
    max_steps: int | None = None,
    trainable: str | None = None,
    adapter_only: bool = False,
    accept_if_recommended: bool = False,
    min_examples: int | None = None,
    progress: ProgressCallback | None = None,
    on_metrics: MetricsCallback | None = None,
    cancel: CancelToken | None = None,
) -> FinetuneResult:
    """Fine-tune the active model on this library's signals, evaluate it, optionally accept it.

    An unfinished run on the same signals and base model (cancelled, crashed) is resumed.

    Args:
        tasks: which tasks to train ("link,classify,search" or a list; default all).
        epochs: passes over the training examples (default: one, capped on CPU).
        max_steps: an explicit step count (overrides epochs).
        trainable: which weights train ("all", "experts", "experts+top:N"; default by device).
        adapter_only: train no transformer weights, only fit the link task's query adapter
            (`query_adapter`): minutes on a CPU, and no training package needed.
        accept_if_recommended: switch to the new model when it is recommended.
        progress: `ProgressEvent`s for the stages (preparing, training with ETA, installing,
            evaluating, embedding).
        on_metrics: called with each `metrics.jsonl` record of the trainer (live loss).
        cancel: stops training (checkpoint kept: the next call resumes) or evaluation.

    Raises:
        NotEnoughSignals: a task has fewer than `min_examples` examples.
        ModelError: the base model has no torch weights, the training package is missing,
            or training failed (the last line of its log says why).
        Cancelled: `cancel` was set.
    """
    names = finetune_signals.parse_tasks(tasks)
    base = _base_model()
    base_folder = models.model_path(base)
    if adapter_only:
        if "link" not in names:
            raise ScimultError(ADAPTER_NEEDS_LINK)
        trainable = ADAPTER_ONLY
    elif not (base_folder / TORCH_WEIGHTS).is_file():
        raise ModelError(
            f"model {base!r} has no torch weights ({base_folder / TORCH_WEIGHTS}), so training cannot start from it; "
            "rebuild it with `scimult model build-default --force` or install a bundle exported by scimult-train"
        )
    if not adapter_only and not models.training_available():
        raise ModelError(f"fine-tuning needs the training package: {models.TRAIN_INSTALL_HINT}")
    signals = finetune_signals.collect(library.database, names)
    signals.check_enough(min_examples)
    _emit(progress, "preparing")
    run = _open_run(library, base, names, signals, epochs, max_steps, trainable)
    timings: dict[str, float] = dict(run.state.get("seconds", {}))
    if run.state["status"] in ("prepared", "training", "cancelled", "failed"):
        started = time.monotonic()
        try:
            if not run.adapter_only:
                _train(run, progress, on_metrics, cancel)
        finally:  # a cancelled or failed part counts too: the figure is the run's total
            timings["training"] = round(timings.get("training", 0.0) + time.monotonic() - started, 1)
            run.update(seconds=timings)
        run.update(status="trained")
    if run.state["status"] == "trained":
        started = time.monotonic()
        _reset_bundle_adapter(run, base)
        fitted = adapter_fitting.fit_into_bundle(
            library.database, run.out_dir / "bundle", signals, _document_key(run, base), progress=progress, cancel=cancel
        )
        timings["query_adapter"] = round(time.monotonic() - started, 1)
        run.update(status="adapted", query_adapter=fitted.to_json(), seconds=timings)
    # An adapter-only run whose adapter was not kept would install an exact copy of the base.
    unchanged = run.adapter_only and not (run.state.get("query_adapter") or {}).get("fitted")
    if run.state["status"] == "adapted" and not unchanged:
        _emit(progress, "installing the new model")
        _install(run, base)
        _move_document_vectors(library, run, base)
        run.update(status="installed")
    tuned = base if unchanged else run.model
    started = time.monotonic()
    before = finetune_eval.evaluate(library.database, models.load_encoder(base), models.model_key(base), signals, progress=progress, cancel=cancel)
    after = before if unchanged else finetune_eval.evaluate(
        library.database, models.load_encoder(tuned), models.model_key(tuned), signals, progress=progress, cancel=cancel
    )
    timings["evaluation"] = round(time.monotonic() - started, 1)
    table = {
        task: {
            "train": counts["train"],
            "held_out": counts["held_out"],
            "metric": finetune_eval.METRICS[task],
            "before": round(before[task].value, 4) if task in before else None,
            "after": round(after[task].value, 4) if task in after else None,
        }
        for task, counts in signals.counts().items()
    }
    for task, row in table.items():
        if task in before and task in after and len({s.source for s in signals.held_out[task]}) > 1:
            row["by_source"] = finetune_eval.by_source(signals.held_out[task], before[task], after[task])
    recommended = finetune_eval.recommend(before, after)
    run.update(status="evaluated", tasks=table, recommended=recommended, seconds=timings)
    result = FinetuneResult(tuned, base, table, recommended, False, run.folder, timings, run.state.get("query_adapter"))
    if accept_if_recommended and recommended:
        started = time.monotonic()
        accept(library, tuned, progress=progress, cancel=cancel)
        result.active = True
        timings["accept"] = round(time.monotonic() - started, 1)
    return result


def accept(library: "Library", name: str, *, progress: ProgressCallback | None = None, cancel: CancelToken | None = None) -> models.ModelInfo:
    """Embed the library with `name` (old vectors keep serving meanwhile), then make it active.

    The previous model stays installed and is remembered: `scimult model rollback` returns to it.
    """
    library.index(model=name, progress=progress, cancel=cancel)
    info = model_history.activate(name)
    _mark_runs(library, name, "accepted")
    return info


def keep_current(library: "Library", name: str) -> None:
    """Decline a fine-tuned model: drop its vectors from this library (the bundle stays installed)."""
    key = models.model_key(name)
    with library.database.transaction():
        VectorStore(library.database).delete_model(key)
    _mark_runs(library, name, "kept")


def runs(library: "Library") -> list[dict]:
    """Every run of this library (its run.json), oldest first."""
    return [dict(run.state, folder=str(run.folder)) for run in _Run.all(_runs_root(library))]


# ---- internals --------------------------------------------------------------------------------
class _Run:
    """One run folder and its `run.json` state (rewritten atomically on every change)."""

    def __init__(self, folder: Path, state: dict) -> None:
        self.folder = folder
        self.state = state

    @property
    def model(self) -> str:
        return self.state["model"]

    @property
    def out_dir(self) -> Path:
        return self.folder / "out"

    @property
    def adapter_only(self) -> bool:
        """Nothing trains in this run: the base model's files plus the link query adapter."""
        return self.state["settings"]["trainable"] == ADAPTER_ONLY

    def update(self, **changes: object) -> None:
        self.state.update(changes)
        tmp = self.folder / "run.json.tmp"
        tmp.write_text(json.dumps(self.state, indent=2), encoding="utf-8")
        os.replace(tmp, self.folder / "run.json")

    @classmethod
    def all(cls, root: Path) -> list["_Run"]:
        found = []
        for folder in sorted(root.glob("run-*")) if root.is_dir() else []:
            try:
                found.append(cls(folder, json.loads((folder / "run.json").read_text(encoding="utf-8"))))
            except (OSError, json.JSONDecodeError):
                continue
        return found


def _runs_root(library: "Library") -> Path:
    if library.folder is None:
        raise ScimultError("fine-tuning needs a library folder (this library is in memory)")
    return (library.folder / RUNS_FOLDER).absolute()  # the trainer runs in the run folder: no relative paths


def _open_run(library, base: str, tasks: list[str], signals: SignalSet, epochs, max_steps, trainable=None) -> _Run:
    root = _runs_root(library)
    root.mkdir(parents=True, exist_ok=True)
    fingerprint = _signals_fingerprint(signals)
    train_count = sum(len(items) for items in signals.train.values())
    settings = training_settings(train_count, epochs)
    if max_steps:
        settings.max_steps = max_steps
    if trainable:
        settings.trainable = trainable
    # The trainer draws single-task batches: each task needs at least one full batch.
    smallest = min((len(items) for items in signals.train.values() if items), default=settings.batch_size)
    settings.batch_size = max(2, min(settings.batch_size, smallest))
    for run in reversed(_Run.all(root)):
        same = (
            run.state.get("base_model") == base
            and run.state.get("tasks") == tasks
            and run.state.get("signals") == fingerprint
            and run.state.get("settings") == settings.to_json()
        )
        if same and run.state.get("status") in RESUMABLE and (run.state.get("status") != "installed" or _installed(run.model)):
            return run
    number = 1 + max((int(p.name[4:]) for p in root.glob("run-*") if p.name[4:].isdigit()), default=0)
    folder = root / f"run-{number:03d}"
    folder.mkdir()
    finetune_signals.write_training_jsonl(folder / "train.jsonl", signals)
    held_out = {task: sorted({s.unit for s in items}) for task, items in signals.held_out.items()}
    (folder / "held_out.json").write_text(json.dumps(held_out, indent=1), encoding="utf-8")
    run = _Run(folder, {})
    run.update(
        status="prepared",
        model=_next_model_name(base, {r.state.get("model") for r in _Run.all(root)}),
        base_model=base,
        tasks=tasks,
        signals=fingerprint,
        counts=signals.counts(),
        settings=settings.to_json(),
        created=time.strftime("%Y-%m-%dT%H:%M:%S"),
    )
    config = {
        "init": str(models.model_path(base)),
        "data": [str(folder / "train.jsonl")],
        "task_sampling": task_rates({task: len(signals.train.get(task, [])) for task in tasks}, settings.batch_size, settings.max_steps),
        "trainable": settings.trainable,
        "batch_size": settings.batch_size,
        "grad_accum": 1,
        "max_steps": settings.max_steps,
        "epochs": settings.epochs,
        "lr": settings.lr,
        "warmup_steps": max(1, settings.max_steps // 10),
        "max_length": settings.max_length,
        "num_hard_negatives": 1 if any(s.negatives for items in signals.train.values() for s in items) else 0,
        # The init model's similarity decides the scale: cosine scores need a low temperature.
        "temperature": 0.05 if read_manifest(models.model_path(base)).similarity == "cosine" else 1.0,
        "seed": finetune_signals.SPLIT_SEED,
        "log_every": 5,  # enough points for a live loss plot
        "save_every": 50,  # a crash loses at most 50 steps; --resume continues from the last checkpoint
        "num_threads": _cpu_threads(),
        "out_dir": str(run.out_dir),
        "export_bundle": True,
        "bundle_name": run.model,
    }
    (folder / "train_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return run


def _train(run: _Run, progress: ProgressCallback | None, on_metrics: MetricsCallback | None, cancel: CancelToken | None) -> None:
    resume = (run.out_dir / "checkpoints").is_dir() and any((run.out_dir / "checkpoints").iterdir())
    command = trainer_command(run.folder / "train_config.json", resume)
    run.update(status="training")
    total = int(run.state["settings"]["max_steps"])
    env = models.training_tool_env(PYTHONUNBUFFERED="1")
    log_path = run.folder / "train.log"
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"\n$ {' '.join(command)}\n")
        log.flush()
        process = tools.popen(
            command, cwd=run.folder, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            preexec_fn=_child_setup if os.name == "posix" else None,
        )
        tail = _MetricsTail(run.out_dir / "metrics.jsonl")
        try:
            while process.poll() is None:
                if cancel is not None and cancel.cancelled:
                    _stop(process)
                    break
                _report(tail.read_new(), total, progress, on_metrics)
                time.sleep(0.5)
        except KeyboardInterrupt:
            _stop(process)
            run.update(status="cancelled")
            raise Cancelled() from None
        _report(tail.read_new(), total, progress, on_metrics)
    code = process.returncode
    if code == 0 and (run.out_dir / "bundle").is_dir():
        return
    if code == 130 or (cancel is not None and cancel.cancelled):
        run.update(status="cancelled")
        raise Cancelled()
    run.update(status="failed")
    raise ModelError(f"fine-tuning failed: {_last_line(log_path) or f'exit code {code}'} (log: {log_path})")


def trainer_command(config_path: Path, resume: bool) -> list[str]:
    """The training process: `python -P -m scimult_train --config CFG [--resume]` (the training-run contract)."""
    return tools.module_command("scimult_train", "--config", str(Path(config_path).absolute()), *(["--resume"] if resume else []))


def _report(records: list[dict], total: int, progress: ProgressCallback | None, on_metrics: MetricsCallback | None) -> None:
    for record in records:
        if on_metrics is not None:
            on_metrics(record)
        if progress is not None and "step" in record:
            loss = record.get("loss")
            current = f"{record.get('task', '')} loss {loss:.4f}".strip() if isinstance(loss, (int, float)) else None
            progress(ProgressEvent("training", int(record["step"]), total, current, record.get("eta_s")))


class _MetricsTail:
    """Reads the lines appended to `metrics.jsonl` since the last call (complete lines only)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0

    def read_new(self) -> list[dict]:
        try:
            with self.path.open("rb") as handle:
                handle.seek(self.offset)
                data = handle.read()
        except OSError:
            return []
        end = data.rfind(b"\n") + 1
        self.offset += end
        records = []
        for line in data[:end].splitlines():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                continue
        return records


def _stop(process: subprocess.Popen) -> None:
    """Ask the trainer to save and exit (SIGINT); kill it only if it does not within the grace time."""
    try:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=CANCEL_GRACE_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    except OSError:
        pass


def _install(run: _Run, base: str) -> None:
    bundle = run.out_dir / "bundle"
    manifest = read_manifest(bundle)
    manifest.source = dict(
        manifest.source,
        base_model=base,
        base_model_key=models.model_key(base),
        finetuned_on={"tasks": run.state["tasks"], "counts": run.state["counts"], "run": run.folder.name},
    )
    write_manifest(bundle, manifest)
    card = bundle / "MODEL_CARD.md"
    examples = ", ".join(f"{task}: {count['train']} examples" for task, count in run.state["counts"].items())
    note = (
        f"\n\n## Fine-tuned locally\n\nBase model: `{base}`. Fine-tuned on this user's library ({examples}); "
        "figures on the held-out signals are in the run's run.json.\n"
    )
    with card.open("a", encoding="utf-8") as handle:
        handle.write(note)
    if _installed(run.model):
        return  # a crash after installing: the bundle is already there
    if config.Settings.load().active_model is None:
        models.use(base)  # pinned, so installing the new model does not make it active
    models.install(bundle, name=run.model)


def _reset_bundle_adapter(run: _Run, base: str) -> None:
    """The bundle as the adapter stage must find it, also after a crash inside that stage.

    Adapter-only: a fresh copy of the base model's files. Trained: the trainer's export,
    which has no adapter of its own (a half-finished earlier attempt's one is removed).
    """
    target = run.out_dir / "bundle"
    if run.adapter_only:
        if target.exists():
            shutil.rmtree(target)
        run.out_dir.mkdir(parents=True, exist_ok=True)
        shutil.copytree(models.model_path(base), target, ignore=shutil.ignore_patterns(FINGERPRINT_NAME))
        return
    manifest = read_manifest(target)
    link = manifest.tasks.get(Task.LINK.value)
    if link is not None and link.query_adapter:
        (target / link.query_adapter).unlink(missing_ok=True)
        manifest.export.get("checksums", {}).pop(link.query_adapter, None)
        link.query_adapter = None
        write_manifest(target, manifest)


def _document_key(run: _Run, base: str) -> str:
    """Where the adapter stage stores the run bundle's link vectors before it is installed.

    An adapter-only bundle embeds documents exactly as its base: the base's own vectors.
    """
    if run.adapter_only:
        return models.model_key(base)
    return f"{run.model}@{run.folder.name}"


def _move_document_vectors(library: "Library", run: _Run, base: str) -> None:
    """Give the installed model the document vectors already computed for its bundle.

    The adapter only changes queries, so an adapter-only model's documents and passages are
    its base's (every task), and a trained model's link vectors are the ones the adapter
    stage made.
    """
    store = VectorStore(library.database)
    source = _document_key(run, base)
    with library.database.transaction():
        if run.adapter_only:
            store.copy_model(source, models.model_key(run.model))
            PassageStore(library.database).copy_vectors(source, models.model_key(run.model))
        else:
            store.copy_model(source, models.model_key(run.model), tasks=[Task.LINK.value])
            store.delete_model(source)


def _next_model_name(base: str, reserved: set | frozenset = frozenset()) -> str:
    """`<root>-ft-<n>` with n above every installed model's and every run's (`reserved`) of that root."""
    root = re.sub(r"-ft-\d+$", "", base)
    taken = {info.name for info in models.list_models()} | {n for n in reserved if n}
    numbers = [int(m.group(1)) for n in taken if (m := re.fullmatch(re.escape(root) + r"-ft-(\d+)", n))]
    return f"{root}-ft-{max(numbers, default=0) + 1}"


def _installed(name: str) -> bool:
    return any(info.name == name for info in models.list_models())


def _base_model() -> str:
    name = models.active_model_name()
    if not name:
        raise ModelError("no model installed to fine-tune: run `scimult model build-default` first")
    return name


def _signals_fingerprint(signals: SignalSet) -> str:
    digest = hashlib.sha256()
    for task in sorted(signals.train):
        for part in (signals.train[task], signals.held_out[task]):
            for s in part:
                digest.update(s.to_jsonl().encode())
            digest.update(b"|")
    return digest.hexdigest()[:16]


def _mark_runs(library: "Library", name: str, status: str) -> None:
    for run in _Run.all(_runs_root(library)):
        if run.state.get("model") == name:
            run.update(status=status)


def _last_line(path: Path) -> str | None:
    try:
        lines = [line.strip() for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    except OSError:
        return None
    return lines[-1].removeprefix("error: ") if lines else None


def _cpu_threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _child_setup() -> None:
    """In the trainer process before it starts (POSIX): lower priority, and stop with the app.

    Training in the background must not make the desktop sluggish; and if the app dies, the
    trainer gets SIGINT (Linux), saves a checkpoint and exits, so the run resumes cleanly
    instead of an orphan writing to the run folder.
    """
    try:
        os.nice(10)
    except OSError:
        pass
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGINT)  # PR_SET_PDEATHSIG
        except (OSError, AttributeError):
            pass


def _emit(progress: ProgressCallback | None, stage: str) -> None:
    if progress is not None:
        progress(ProgressEvent(stage, 0, None))
