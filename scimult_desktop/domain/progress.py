"""Qt-free progress reporting and cancellation for long work.

Services take a `progress` callback and a `CancelToken`; the CLI draws a bar on
stderr from the same events a GUI turns into a progress panel.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Sequence, TypeVar

from scimult_desktop.errors import Cancelled


@dataclass
class ProgressEvent:
    """A snapshot of long work: `done` of `total` items, the current one, and an ETA."""

    stage: str
    done: int
    total: int | None
    current: str | None = None
    eta_seconds: float | None = None


ProgressCallback = Callable[[ProgressEvent], None]


class CancelToken:
    """Set from any thread; checked by the work between items."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        if self._event.is_set():
            raise Cancelled()


Item = TypeVar("Item")


def cancellable_batches(items: Sequence[Item], size: int, cancel: CancelToken | None) -> Iterator[Sequence[Item]]:
    """`items` in slices of `size`, checking `cancel` before each one: work committed per slice
    stops between slices, never half-way through one.

    Raises:
        Cancelled: `cancel` was set before a slice.
    """
    for start in range(0, len(items), size):
        if cancel is not None:
            cancel.raise_if_cancelled()
        yield items[start : start + size]


class ProgressTracker:
    """Turns item counts into `ProgressEvent`s with an ETA, rate-limited for cheap callbacks."""

    def __init__(self, stage: str, total: int | None, callback: ProgressCallback | None, min_interval: float = 0.1):
        self.stage = stage
        self.total = total
        self.done = 0
        self._callback = callback
        self._start = time.monotonic()
        self._last = 0.0
        self._min_interval = min_interval

    def advance(self, n: int = 1, current: str | None = None, force: bool = False) -> None:
        self.done += n
        if self._callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last < self._min_interval and self.done != self.total:
            return
        self._last = now
        eta = None
        elapsed = now - self._start
        if self.total and self.done:
            eta = elapsed / self.done * max(self.total - self.done, 0)
        self._callback(ProgressEvent(self.stage, self.done, self.total, current, eta))
