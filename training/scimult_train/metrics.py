"""Run metrics: metrics.jsonl (one JSON object per logged step), the loss.png plot, progress on stderr."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path


def format_seconds(seconds: float) -> str:
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


class MetricsLog:
    """Appends metric lines to `out_dir/metrics.jsonl` (rank 0 only)."""

    def __init__(self, path: Path, resume_step: int | None = None) -> None:
        self.path = Path(path)
        if resume_step is None:
            self.path.write_text("", encoding="utf-8")
        elif self.path.is_file():
            # Lines past the checkpoint were logged by the interrupted run and are redone now.
            kept = [line for line in self.read() if line.get("step", 0) <= resume_step]
            self.path.write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")

    def write(self, record: dict) -> None:
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, sort_keys=True) + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def read(self) -> list[dict]:
        if not self.path.is_file():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


def progress_line(record: dict, total_steps: int) -> str:
    return (
        f"step {record['step']}/{total_steps} | {record['task']:<8} | loss {record['loss']:.4f} | "
        f"lr {record['lr']:.2e} | {record['samples_per_s']:.1f} samples/s | "
        f"elapsed {format_seconds(record['elapsed_s'])} | ETA {format_seconds(record['eta_s'])}"
    )


def eval_line(step: int, results: dict) -> str:
    parts = [f"{task}: acc@1 {m['acc@1']:.3f} MRR {m['mrr']:.3f} (n={m['n']})" for task, m in results.items()]
    return f"eval at step {step} | " + " | ".join(parts)


def plot_metrics(records: list[dict], path: Path) -> Path | None:
    """loss (raw and smoothed) per step, per task, and eval MRR per step; None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("note: matplotlib is not installed, so no loss.png (pip install matplotlib)", file=sys.stderr)
        return None
    train = [r for r in records if "loss" in r and "eval" not in r]
    evals = [r for r in records if "eval" in r]
    fig, axes = plt.subplots(1, 2 if evals else 1, figsize=(11 if evals else 6.5, 4), squeeze=False)
    ax = axes[0][0]
    for task in sorted({r["task"] for r in train}):
        points = [(r["step"], r["loss"]) for r in train if r["task"] == task]
        ax.plot(*zip(*points), ".", alpha=0.35, label=f"{task}")
    if train:
        steps = [r["step"] for r in train]
        smooth, value = [], None
        for r in train:
            value = r["loss"] if value is None else 0.9 * value + 0.1 * r["loss"]
            smooth.append(value)
        ax.plot(steps, smooth, "-", color="black", label="all tasks (EMA 0.9)")
    ax.set_xlabel("step")
    ax.set_ylabel("InfoNCE loss")
    ax.set_title("training loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if evals:
        ax = axes[0][1]
        for task in sorted({t for r in evals for t in r["eval"]}):
            points = [(r["step"], r["eval"][task]["mrr"]) for r in evals if task in r["eval"]]
            ax.plot(*zip(*points), "o-", label=f"{task} MRR")
        ax.set_xlabel("step")
        ax.set_ylabel("MRR (eval query vs. its task's eval positives)")
        ax.set_title("evaluation")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    tmp = Path(path).with_suffix(".tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return Path(path)
