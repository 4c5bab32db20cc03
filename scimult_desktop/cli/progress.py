"""Progress of long work on stderr: a redrawn line on a terminal, sparse lines in logs."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager
from typing import Iterator

from scimult_desktop.domain.progress import ProgressEvent


class StderrProgress:
    """A `ProgressCallback` that draws `stage done/total current ETA` on stderr."""

    def __init__(self, enabled: bool = True, log_interval: float = 5.0) -> None:
        self.enabled = enabled
        self.tty = sys.stderr.isatty()
        self.log_interval = log_interval
        self._last_log = 0.0
        self._drawn = False

    def __call__(self, event: ProgressEvent) -> None:
        if not self.enabled:
            return
        total = f"/{event.total}" if event.total is not None else ""
        eta = f" ETA {_duration(event.eta_seconds)}" if event.eta_seconds is not None and event.done else ""
        current = f" {_shorten(event.current, 50)}" if event.current else ""
        line = f"{event.stage}: {event.done}{total}{eta}{current}"
        if self.tty:
            sys.stderr.write("\r\x1b[2K" + line)
            sys.stderr.flush()
            self._drawn = True
        else:
            now = time.monotonic()
            if now - self._last_log >= self.log_interval or event.done == event.total:
                self._last_log = now
                sys.stderr.write(line + "\n")

    def close(self) -> None:
        if self._drawn:
            sys.stderr.write("\n")
            self._drawn = False


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else "…" + text[-(width - 1) :]


@contextmanager
def progress_on_stderr() -> Iterator[StderrProgress]:
    """A progress line for the duration of a block, closed cleanly even on errors."""
    progress = StderrProgress()
    try:
        yield progress
    finally:
        progress.close()
