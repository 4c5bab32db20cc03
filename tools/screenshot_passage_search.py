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
from screenshot_support import close_window, open_window, save, search_and_show_first_hit, wait_until  # noqa: E402

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

    from scimult_desktop.gui.app import create_application
    from scimult_desktop.services.library.facade import Library

    app = create_application([])
    work = Path(tempfile.mkdtemp(prefix="scimult-passage-shot-"))
    try:
        with Library.open(work / "library") as library:
            library.import_paths([Path(args.pdfs) / name for name in PDFS])
            report = library.index()
            print(f"indexed: {report['passages']}")
        window = open_window(app, work / "library", work, size=(1280, 800))
        wait_until(app, lambda: not window.ops.busy(), what="the start-up warm-up")
        search_and_show_first_hit(app, window, args.query)
        first = window.search_panel.results.items()[0].payload
        print(f"first hit: {first.paper.title} | passage page: {first.passage.page if first.passage else None}")
        save(window, out, "search-passages")
        close_window(window)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
