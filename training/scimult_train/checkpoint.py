"""Checkpoints that resume exactly and survive a kill in the middle of a save.

Layout under `out_dir/checkpoints/`:

    step_000200/state.pt         model, optimizer and scheduler state, step, data position
    step_000200/rng_rank<r>.pt   each rank's RNG states (python, numpy, torch CPU and CUDA)
    step_000200/meta.json        written last: step, position, config; its presence marks a complete save
    latest                       the name of the newest complete checkpoint (replaced atomically)

A save goes to `.tmp-step_000200/`; every file is fsynced, then the folder is renamed
and the parent folder fsynced, and only then `latest` moves. A kill at any moment
leaves either the new checkpoint or the previous one complete; leftover `.tmp-*`
folders are removed by the next save. The newest `keep` checkpoints are kept.
With several ranks, the folder must be on a file system every rank sees.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from pathlib import Path

import numpy as np
import torch

from scimult_train.distributed import barrier

LATEST = "latest"
META = "meta.json"


def fsync_file(path: Path) -> None:
    """Flush a written file to disk (before a rename makes it visible)."""
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # some platforms (Windows) cannot open folders; the rename is still atomic there
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def rng_state() -> dict:
    state = {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def save_checkpoint(
    root: Path,
    step: int,
    training_state: dict | None,
    meta: dict,
    *,
    rank: int = 0,
    keep: int = 2,
) -> Path:
    """Save one checkpoint (call on every rank; rank 0 writes the shared state).

    Args:
        root: the `checkpoints/` folder.
        step: optimiser steps done.
        training_state: model/optimizer/scheduler state (rank 0; ignored elsewhere).
        meta: small JSON-able facts (step, position, config), written last.
        rank: this process's rank.
        keep: newest complete checkpoints to keep.

    Returns:
        The checkpoint folder.
    """
    root = Path(root)
    name = f"step_{step:06d}"
    tmp, final = root / f".tmp-{name}", root / name
    if rank == 0:
        root.mkdir(parents=True, exist_ok=True)
        for stale in root.glob(".tmp-*"):
            shutil.rmtree(stale, ignore_errors=True)
        tmp.mkdir()
    barrier()
    torch.save(rng_state(), tmp / f"rng_rank{rank}.pt")
    fsync_file(tmp / f"rng_rank{rank}.pt")
    barrier()
    if rank == 0:
        torch.save(training_state, tmp / "state.pt")
        fsync_file(tmp / "state.pt")
        (tmp / META).write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
        fsync_file(tmp / META)
        _fsync_dir(tmp)
        if final.exists():  # the same step saved again (e.g. interrupt right after a periodic save)
            shutil.rmtree(final)
        os.replace(tmp, final)
        _fsync_dir(root)
        pointer = root / (LATEST + ".tmp")
        pointer.write_text(name, encoding="utf-8")
        fsync_file(pointer)
        os.replace(pointer, root / LATEST)
        _fsync_dir(root)
        complete = sorted(p for p in root.glob("step_*") if (p / META).is_file())
        for old in complete[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    barrier()
    return final


def latest_checkpoint(root: Path) -> Path | None:
    """The newest complete checkpoint folder, or None."""
    root = Path(root)
    pointer = root / LATEST
    if pointer.is_file():
        candidate = root / pointer.read_text(encoding="utf-8").strip()
        if (candidate / META).is_file() and (candidate / "state.pt").is_file():
            return candidate
    complete = sorted(p for p in root.glob("step_*") if (p / META).is_file() and (p / "state.pt").is_file())
    return complete[-1] if complete else None


def load_checkpoint(folder: Path, rank: int = 0) -> tuple[dict, dict, dict | None]:
    """(training state, meta, this rank's RNG state or None) of a checkpoint folder."""
    folder = Path(folder)
    meta = json.loads((folder / META).read_text(encoding="utf-8"))
    # weights_only=False: the file is our own (optimizer state holds plain Python numbers/tuples).
    state = torch.load(folder / "state.pt", map_location="cpu", weights_only=False)
    rng_path = folder / f"rng_rank{rank}.pt"
    rng = torch.load(rng_path, map_location="cpu", weights_only=False) if rng_path.is_file() else None
    return state, meta, rng
