"""Screenshots of Model ▸ Fine-tune… with the quick query adapter: before and after a run.

Usage (under Xvfb):
    xvfb-run -s "-screen 0 1280x800x24" python tools/screenshot_quick_adapter.py --library LIB [--size 1024x700]

LIB: a library with link signals, e.g. the one `benchmarks/finetune_contexts_acm.py` builds (ACM-CR
records plus its citing papers' text). Its database is copied first (SQLite backup) and models go to
a private copy of the models folder, so neither the library nor the installed models change.
Writes docs/screenshots/quick-adapter-<size>-{ready,done}.png: the window at <size> with the dialog over it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

from screenshot_support import close_window, open_window, settle, wait_until

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def shoot(app, width: int, height: int, path: Path) -> None:
    """The screen's top-left `width` x `height`: the main window at that size with the dialog over it.

    (The dialog alone looks the same at every window size.)
    """
    settle(app)
    app.primaryScreen().grabWindow(0, 0, 0, width, height).save(str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, required=True)
    parser.add_argument("--size", default="1024x700")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.split("x"))

    from scimult_desktop import config

    work = Path(tempfile.mkdtemp(prefix="scimult-adapter-shot-"))
    shutil.copytree(config.models_dir(), work / "models", ignore=shutil.ignore_patterns("*-ft-*"))
    os.environ["SCIMULT_MODELS_DIR"] = str(work / "models")
    library = work / "library"
    library.mkdir()
    with sqlite3.connect(args.library / "library.sqlite3") as source, sqlite3.connect(library / "library.sqlite3") as copy:
        source.backup(copy)

    from scimult_desktop.gui.app import create_application
    from scimult_desktop.gui.finetune_dialog import FinetuneDialog

    app = create_application([])
    window = open_window(app, library, work, size=(width, height))
    dialog = FinetuneDialog(window.ops, window)
    dialog.move(window.x() + 40, window.y() + 40)
    dialog.resize(min(680, width - 80), min(560, height - 80))
    dialog.show()
    shown = []
    dialog.plan_shown.connect(lambda: shown.append(1))
    wait_until(app, lambda: shown, what="example counts")
    for task, box in dialog.task_boxes.items():
        box.setChecked(task == "link")
    dialog.adapter_only_box.setChecked(True)
    wait_until(app, lambda: dialog.start_button.isEnabled(), what="the plan for the quick adapter")
    args.out.mkdir(parents=True, exist_ok=True)
    ready = args.out / f"quick-adapter-{args.size}-ready.png"
    shoot(app, width, height, ready)
    finished = []
    dialog.run_finished.connect(finished.append)
    dialog.start()
    wait_until(app, lambda: finished, timeout=3600, what="the adapter run")
    settle(app)
    done = args.out / f"quick-adapter-{args.size}-done.png"
    shoot(app, width, height, done)
    print(f"saved {ready} and {done}: {dialog.verdict.text()}")
    dialog.close()
    close_window(window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
