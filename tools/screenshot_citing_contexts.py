"""Screenshot of the detail pane's "How your papers cite it" section (docs/screenshots/citing-contexts.png).

Usage (under Xvfb at the default window size):
    xvfb-run -s "-screen 0 1280x800x24" python tools/screenshot_citing_contexts.py --library LIB [--paper ID]

LIB: a library with citation contexts, e.g. the one `benchmarks/finetune_contexts_acm.py` builds
(ACM-CR records plus its citing papers' text). Its database is copied first (SQLite backup), so the
screenshot never changes it. Without --paper, the paper cited in the most library sentences is shown.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

from screenshot_support import close_window, open_window, wait_until

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def most_cited(database: Path) -> int:
    with sqlite3.connect(f"file:{database}?mode=ro", uri=True) as conn:
        row = conn.execute(
            """SELECT r.cited_paper_id FROM citation_contexts c JOIN paper_references r ON r.id = c.reference_id
               WHERE r.cited_paper_id IS NOT NULL GROUP BY 1 ORDER BY count(DISTINCT c.sentence) DESC LIMIT 1"""
        ).fetchone()
    if row is None:
        raise SystemExit(f"{database}: no citation contexts linked to library papers")
    return int(row[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, required=True)
    parser.add_argument("--paper", type=int, default=None)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots" / "citing-contexts.png")
    args = parser.parse_args(argv)

    from scimult_desktop.gui.app import create_application

    work = Path(tempfile.mkdtemp(prefix="scimult-contexts-shot-"))
    library = work / "library"
    library.mkdir()
    with sqlite3.connect(args.library / "library.sqlite3") as source, sqlite3.connect(library / "library.sqlite3") as copy:
        source.backup(copy)
    paper = args.paper or most_cited(library / "library.sqlite3")
    app = create_application([])
    window = open_window(app, library, work, size=(1280, 800))
    shown = []
    window.detail_panel.details_shown.connect(shown.append)
    window.session.select_paper(paper)
    section = window.detail_panel.citing_contexts
    wait_until(app, lambda: shown and section.list.count() > 0, what="citing sentences")
    # Scroll the detail pane to the section, as a reader would.
    window.detail_panel.scroll.ensureWidgetVisible(section, 0, 0)
    wait_until(app, lambda: True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    window.grab().save(str(args.out))
    print(f"saved {args.out} (paper {paper}, {section.list.count()} sentences)")
    close_window(window)
    return 0


if __name__ == "__main__":
    sys.exit(main())
