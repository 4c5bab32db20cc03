"""Screenshot of search results that quote a matching PDF passage with its page (docs/screenshots/search-passages.png).

Usage (a real X server at the default window size):
    xvfb-run -s "-screen 0 1280x800x24" python tools/screenshot_passage_search.py [--pdfs DIR] [--out docs/screenshots]

Imports a few real PDFs (default: the ACL/ML papers of ../shared/data/pdf_corpus/science-parse)
into a temporary library, indexes it with the active model (passages included), and searches
for something said in the body of one paper, not in any title or abstract.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from take_screenshots import save, wait_until  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PDFS = ("fader11.pdf", "mooney05.pdf", "proto06.pdf", "bunescu-acl07.pdf", "P07-1088.pdf", "dyer12.pdf",
        "pedersen04.pdf", "map-reduce.pdf")
QUERY = "how long did each extractor take to process 100,000 sentences"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pdfs", default=str(ROOT.parent / "shared" / "data" / "pdf_corpus" / "science-parse"))
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"))
    parser.add_argument("--query", default=QUERY)
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtCore import QSettings

    from scimult_desktop.gui.app import create_application, create_window
    from scimult_desktop.services.library.facade import Library

    app = create_application([])
    work = Path(tempfile.mkdtemp(prefix="scimult-passage-shot-"))
    try:
        with Library.open(work / "library") as library:
            library.import_paths([Path(args.pdfs) / name for name in PDFS])
            report = library.index()
            print(f"indexed: {report['passages']}")
        settings = QSettings(str(work / "layout.ini"), QSettings.Format.IniFormat)
        window = create_window(str(work / "library"), settings=settings)
        window.resize(1280, 800)
        window.show()
        loaded = []
        window.library_panel.rows_loaded.connect(loaded.append)
        window.start()
        wait_until(app, lambda: loaded, what="library rows")
        wait_until(app, lambda: not window.ops.busy(), what="the start-up warm-up")
        results, shown = [], []
        window.detail_panel.details_shown.connect(shown.append)
        window.search_panel.results_shown.connect(lambda q, n: results.append(n))
        window.show_tab(window.search_panel)
        window.search_panel.query_edit.setText(args.query)
        wait_until(app, lambda: results, what="search results")
        window.search_panel.view.setCurrentIndex(window.search_panel.results.index(0))
        wait_until(app, lambda: shown, what="details of the first hit")
        first = window.search_panel.results.items()[0].payload
        print(f"first hit: {first.paper.title} | passage page: {first.passage.page if first.passage else None}")
        save(window, out, "search-passages")
        window.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
