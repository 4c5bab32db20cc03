"""Streaming multi-task batches: byte-offset index, per-epoch task schedule, rank slices.

Design choices:
- Corpora larger than memory: the JSONL files are scanned once and only the byte offset
  of each example is kept (two int64 per example, grouped by task). An example is read
  from disk (seek + readline) when its batch comes up.
- Every global batch comes from one task (SciMult, spec §3.4). The schedule of an epoch
  is DPR's `MultiSetDataIterator`: task d contributes floor(rate_d x floor(n_d / B))
  batches of B examples (rate 1 = "proportional": each example about once per epoch),
  and the order of those batches is shuffled with seed (seed, epoch). Examples of a task
  are drawn from a fresh permutation per epoch (and per pass, when rate > 1).
- The schedule is a pure function of (seed, position): every rank computes the same
  one, so all ranks draw the same task at every step (DDP needs that: with task experts
  the unused experts must be the same everywhere), rank r takes slice r of the global
  batch, and resuming needs nothing but the position.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from array import array
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scimult_desktop.domain.tasks import Task
from scimult_train.data.examples import Example, parse_example

TASK_IDS = {task.value: i for i, task in enumerate(Task)}


class ExampleIndex:
    """Where each example of a set of JSONL files starts, grouped by task; reads on demand.

    With `cache_dir`, the offsets are stored there (keyed by the files' paths, sizes and
    modification times), so a resumed run or the other ranks do not scan the files again.
    """

    def __init__(self, paths: list[str | Path], cache_dir: str | Path | None = None) -> None:
        self.paths = [Path(p) for p in paths]
        if not self.paths:
            raise ValueError("no training data: set `data` to one or more JSONL files")
        for path in self.paths:
            if not path.is_file():
                raise ValueError(f"{path}: training data file not found")
        cache = Path(cache_dir) / f"index-{self._fingerprint()}.npz" if cache_dir else None
        if cache is not None and cache.is_file():
            with np.load(cache) as stored:
                self.locations = {task: stored[task] for task in sorted(stored.files, key=TASK_IDS.get)}
        else:
            self.locations = self._scan()
            if cache is not None:
                cache.parent.mkdir(parents=True, exist_ok=True)
                tmp = cache.with_name(cache.stem + f".{os.getpid()}.tmp.npz")
                np.savez(tmp, **self.locations)
                os.replace(tmp, cache)
        self._handles: dict[int, object] = {}

    def _fingerprint(self) -> str:
        digest = hashlib.sha256()
        for path in self.paths:
            stat = path.stat()
            digest.update(f"{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
        return digest.hexdigest()[:16]

    def _scan(self) -> dict[str, np.ndarray]:
        per_task: dict[str, tuple[array, array]] = {}
        for file_id, path in enumerate(self.paths):
            with path.open("rb") as handle:
                offset = 0
                for number, line in enumerate(handle, start=1):
                    if line.strip():
                        try:
                            task = parse_example(json.loads(line)).task
                        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
                            raise ValueError(f"{path}:{number}: {exc}") from None
                        files, offsets = per_task.setdefault(task, (array("q"), array("q")))
                        files.append(file_id)
                        offsets.append(offset)
                    offset += len(line)
        # (n, 2) int64 per task: file id, byte offset. Tasks in the Task enum's order.
        return {
            task: np.stack([np.frombuffer(f, dtype=np.int64), np.frombuffer(o, dtype=np.int64)], axis=1)
            for task, (f, o) in sorted(per_task.items(), key=lambda kv: TASK_IDS[kv[0]])
        }

    @property
    def counts(self) -> dict[str, int]:
        return {task: len(loc) for task, loc in self.locations.items()}

    def read(self, task: str, index: int) -> Example:
        file_id, offset = (int(v) for v in self.locations[task][index])
        handle = self._handles.get(file_id)
        if handle is None:
            handle = self._handles[file_id] = self.paths[file_id].open("rb")
        handle.seek(offset)
        return parse_example(json.loads(handle.readline()))

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()


@dataclass(frozen=True)
class Batch:
    """One rank's share of one global micro-batch (all examples share `task`)."""

    position: int  # global micro-batch number since the start of training
    epoch: int
    task: str
    examples: list[Example]


class TaskSchedule:
    """The shuffled single-task batch order of every epoch (a pure function of the seed)."""

    def __init__(self, counts: dict[str, int], global_batch: int, sampling: str | dict, seed: int) -> None:
        self.global_batch = global_batch
        self.seed = seed
        self.counts = dict(counts)
        rates = {task: 1.0 for task in counts} if sampling == "proportional" else {
            Task.parse(t).value: float(r) for t, r in sampling.items()
        }
        self.batches_per_epoch = {
            task: int(math.floor(rates.get(task, 0.0) * (n // global_batch))) for task, n in counts.items()
        }
        self.batches_per_epoch = {t: b for t, b in self.batches_per_epoch.items() if b > 0}
        if not self.batches_per_epoch:
            sizes = ", ".join(f"{t}: {n}" for t, n in counts.items()) or "none"
            raise ValueError(
                f"no task has a full global batch of {global_batch} examples with rate > 0 (examples per task: {sizes})"
            )
        self.steps_per_epoch = sum(self.batches_per_epoch.values())
        self._plans: dict[int, tuple[list[str], list[int]]] = {}
        self._perms: dict[tuple[str, int, int], np.ndarray] = {}

    def _plan(self, epoch: int) -> tuple[list[str], list[int]]:
        """(task of each batch, its ordinal among that task's batches) for one epoch."""
        if epoch not in self._plans:
            order = [task for task, n in self.batches_per_epoch.items() for _ in range(n)]
            rng = np.random.default_rng([self.seed, epoch])
            order = [order[i] for i in rng.permutation(len(order))]
            seen: dict[str, int] = {}
            ordinals = []
            for task in order:
                ordinals.append(seen.get(task, 0))
                seen[task] = ordinals[-1] + 1
            self._plans = {epoch: (order, ordinals)}  # one epoch cached is enough: positions only grow
        return self._plans[epoch]

    def locate(self, position: int) -> tuple[int, str, np.ndarray]:
        """(epoch, task, example indices of the global batch) of micro-batch `position`."""
        epoch, within = divmod(position, self.steps_per_epoch)
        order, ordinals = self._plan(epoch)
        task = order[within]
        n = self.counts[task]
        start = ordinals[within] * self.global_batch
        indices = np.empty(self.global_batch, dtype=np.int64)
        for k in range(self.global_batch):
            cycle, offset = divmod(start + k, n)
            indices[k] = self._permutation(task, epoch, cycle)[offset]
        return epoch, task, indices

    def _permutation(self, task: str, epoch: int, cycle: int) -> np.ndarray:
        key = (task, epoch, cycle)
        if key not in self._perms:
            if len(self._perms) >= 8:  # a handful covers every task of the current epoch
                self._perms.clear()
            rng = np.random.default_rng([self.seed, epoch, TASK_IDS[task], cycle, 7])
            self._perms[key] = rng.permutation(self.counts[task])
        return self._perms[key]


class BatchStream:
    """Rank `rank`'s examples for any global micro-batch position."""

    def __init__(self, index: ExampleIndex, schedule: TaskSchedule, rank: int, world_size: int) -> None:
        if schedule.global_batch % world_size:
            raise ValueError("the global batch must split evenly across ranks")
        self.index = index
        self.schedule = schedule
        self.rank = rank
        self.per_rank = schedule.global_batch // world_size

    def batch(self, position: int) -> Batch:
        epoch, task, indices = self.schedule.locate(position)
        mine = indices[self.rank * self.per_rank : (self.rank + 1) * self.per_rank]
        return Batch(position, epoch, task, [self.index.read(task, int(i)) for i in mine])


def choose_negatives(example: Example, count: int, seed: int, position: int, slot: int) -> list[str]:
    """Up to `count` of the example's hard negatives, shuffled deterministically (DPR takes the first k after a shuffle)."""
    if count == 0 or not example.negatives:
        return []
    negatives = list(example.negatives)
    if len(negatives) > count:
        rng = np.random.default_rng([seed, position, slot, 11])
        negatives = [negatives[i] for i in rng.permutation(len(negatives))[:count]]
    return negatives
