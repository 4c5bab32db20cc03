"""GUI responsiveness: the longest UI-thread stall during import + indexing, and time to an interactive window.

1. Import + index of 1,000 papers (a generated BibTeX file with abstracts) through the
   window's Import page, which indexes by itself afterwards. A QTimer heartbeat every 10 ms
   on the UI thread records the gaps between its ticks; the longest gap is the longest
   stall a user could feel (goal < 100 ms). Baseline: the same work done on the UI thread
   would freeze the window for its whole duration, so the ratio is duration / longest stall.
   The heartbeat also counts time the UI thread waits for a CPU core, so on a loaded
   machine it over-states what the app does; the longest single event the UI thread
   handled (timed in QApplication.notify) is reported beside it, with the load average.
   The import starts once the window is idle (after its start-up warm-up of the model).
2. Time to an interactive window on a 10,000-paper library, in a fresh process: from process
   start to the window shown, to the table holding all rows, and to the first heartbeat tick
   after that (the event loop answering). Goal < 2 s. The CPU seconds the process used by
   then (all threads) are printed too: on a loaded machine, wall time also counts waiting for a core.

Uses the active model of $SCIMULT_MODELS_DIR (the default model is built when none is installed).
Runs offscreen by default. Usage: python benchmarks/bench_gui.py [--papers 1000] [--big 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

TOPICS = ["retrieval", "citation networks", "protein folding", "climate models", "galaxy surveys", "gene expression",
          "vitamin D trials", "graph neural networks", "language models", "malaria control"]


def synthetic_bib(n: int) -> str:
    """`n` distinct BibTeX entries with titles, authors, years, venues and two-sentence abstracts."""
    parts = []
    for i in range(n):
        topic = TOPICS[i % len(TOPICS)]
        parts.append(
            f"@article{{bench{i},\n  title = {{Study {i} of {topic} with method {i % 97}}},\n"
            f"  author = {{Author{i}, Ann and Coauthor{i % 50}, Bob}},\n  year = {{{1990 + i % 35}}},\n"
            f"  journal = {{Journal of {topic.title()}}},\n  doi = {{10.5555/bench.{i}}},\n"
            f"  abstract = {{We study {topic} in setting {i}. Our results on {topic} improve on prior work by {i % 13} points.}}\n}}\n"
        )
    return "".join(parts)


class Heartbeat:
    """Ticks every `interval_ms` on the UI thread and records the gaps between ticks."""

    def __init__(self, interval_ms: int = 10) -> None:
        from PySide6.QtCore import QTimer

        self.gaps: list[float] = []
        self._last = time.perf_counter()
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    def _tick(self) -> None:
        now = time.perf_counter()
        self.gaps.append(now - self._last)
        self._last = now


def timed_application():
    """A QApplication that records how long the UI thread spends handling each event."""
    from PySide6.QtWidgets import QApplication

    class TimedApplication(QApplication):
        def __init__(self, argv):
            super().__init__(argv)
            self.longest_event_ms = 0.0
            self.slow_events = 0

        def notify(self, receiver, event):
            started = time.perf_counter()
            try:
                return super().notify(receiver, event)
            finally:
                elapsed = (time.perf_counter() - started) * 1000
                if elapsed > self.longest_event_ms:
                    self.longest_event_ms = elapsed
                if elapsed > 50:
                    self.slow_events += 1

        def reset(self) -> None:
            self.longest_event_ms, self.slow_events = 0.0, 0

    return TimedApplication.instance() or TimedApplication([])


def wait_for(app, predicate, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step timed out")
        app.processEvents()
        time.sleep(0.002)


def bench_import_and_index(papers: int, work: Path) -> dict:
    from PySide6.QtCore import QSettings

    from scimult_desktop.gui.app import create_application, create_window

    timed = timed_application()
    app = create_application([])
    bib = work / "papers.bib"
    bib.write_text(synthetic_bib(papers), encoding="utf-8")
    window = create_window(str(work / "library"), settings=QSettings(str(work / "layout.ini"), QSettings.Format.IniFormat))
    window.show()
    loaded, imported, indexed, failures = [], [], [], []
    window.library_panel.rows_loaded.connect(loaded.append)
    window.start()
    wait_for(app, lambda: loaded, 60)
    wait_for(app, lambda: not window.ops.busy(), 300)  # start-up warm-up (model, index) finished
    panel = window.import_panel
    panel.import_finished.connect(imported.append)
    panel.index_finished.connect(indexed.append)
    heartbeat = Heartbeat()
    heartbeat.start()
    timed.reset()
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    op = panel.import_paths([str(bib)])
    op.failed.connect(failures.append)
    wait_for(app, lambda: (imported and indexed) or failures, 3600)
    import_done = time.perf_counter()
    loaded_before = len(loaded)
    wait_for(app, lambda: len(loaded) > loaded_before or window.library_panel.model.rowCount() == papers, 120)
    total = time.perf_counter() - started
    heartbeat.stop()
    window.close()
    if failures:
        raise RuntimeError(failures[0])
    gaps_ms = sorted(g * 1000 for g in heartbeat.gaps)
    return {
        "papers": papers,
        "import": imported[0].to_json() | {"failed": len(imported[0].failed)},
        "index_seconds": indexed[0]["seconds"],
        "engine": indexed[0]["engine"],
        "model": indexed[0]["model"],
        "work_seconds": round(import_done - started, 2),
        "total_seconds": round(total, 2),
        "heartbeat_ticks": len(gaps_ms),
        "longest_stall_ms": round(gaps_ms[-1], 1),
        "p99_gap_ms": round(gaps_ms[int(0.99 * (len(gaps_ms) - 1))], 1),
        "median_gap_ms": round(statistics.median(gaps_ms), 1),
        "longest_ui_event_ms": round(timed.longest_event_ms, 1),
        "ui_events_over_50ms": timed.slow_events,
        "load_average": round((load_before + os.getloadavg()[0]) / 2, 1),
        "cpus": os.cpu_count(),
    }


_CHILD = r"""
import json, sys, time
t0 = float(sys.argv[1])
from PySide6.QtCore import QSettings, QTimer
from scimult_desktop.gui.app import create_application, create_window
app = create_application([])
window = create_window(sys.argv[2], settings=QSettings(sys.argv[3], QSettings.Format.IniFormat))
window.show()
app.processEvents()
shown = time.time()
marks = {}
def on_rows(n):
    marks["rows"] = (time.time(), n)
    QTimer.singleShot(0, lambda: (marks.__setitem__("tick", time.time()), marks.__setitem__("cpu", time.process_time()), app.quit()))
window.library_panel.rows_loaded.connect(on_rows)
window.start()
QTimer.singleShot(60000, app.quit)
app.exec()
window.close()
print(json.dumps({"shown_s": shown - t0, "rows_s": marks["rows"][0] - t0, "rows": marks["rows"][1],
                  "interactive_s": marks["tick"] - t0, "cpu_s": marks["cpu"]}))
"""


def bench_time_to_interactive(papers: int, work: Path) -> dict:
    from scimult_desktop.services.library.facade import Library

    bib = work / "big.bib"
    bib.write_text(synthetic_bib(papers), encoding="utf-8")
    folder = work / "big-library"
    with Library.open(folder) as library:
        report = library.import_paths([bib])
    runs = []
    for _ in range(3):
        started = time.time()
        out = subprocess.run([sys.executable, "-c", _CHILD, str(started), str(folder), str(work / "layout-big.ini")],
                             capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    best = min(runs, key=lambda r: r["interactive_s"])
    return {"papers": report.added, "runs": len(runs), "median_interactive_s": round(statistics.median(r["interactive_s"] for r in runs), 2)}\
        | {k: round(v, 2) if isinstance(v, float) else v for k, v in best.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=1000, help="papers imported and indexed while measuring stalls")
    parser.add_argument("--big", type=int, default=10000, help="library size for time to interactive")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="scimult-bench-gui-") as tmp:
        work = Path(tmp)
        stall = bench_import_and_index(args.papers, work)
        print(f"import + index of {stall['papers']} papers ({stall['model']} on {stall['engine']}): "
              f"{stall['work_seconds']} s of background work")
        print(f"  longest UI-thread stall {stall['longest_stall_ms']} ms (goal < 100 ms), p99 gap {stall['p99_gap_ms']} ms, "
              f"median gap {stall['median_gap_ms']} ms over {stall['heartbeat_ticks']} heartbeats of 10 ms")
        print(f"  longest single event handled on the UI thread {stall['longest_ui_event_ms']} ms "
              f"({stall['ui_events_over_50ms']} over 50 ms); load average {stall['load_average']} on {stall['cpus']} CPUs")
        print(f"  on the UI thread the same work would freeze the window for {stall['work_seconds']} s: "
              f"{stall['work_seconds'] * 1000 / max(stall['longest_stall_ms'], 1):.0f}x the longest stall")
        ready = bench_time_to_interactive(args.big, work)
        print(f"time to interactive window on {ready['papers']:,} papers (fresh process, best of {ready['runs']}): "
              f"window shown {ready['shown_s']} s, table filled {ready['rows_s']} s, event loop answering "
              f"{ready['interactive_s']} s (median {ready['median_interactive_s']} s; goal < 2 s), "
              f"{ready['cpu_s']} s of CPU; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        print(json.dumps({"stall": stall, "time_to_interactive": ready}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
