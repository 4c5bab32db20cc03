"""BibTeX and Zotero import: robustness, fidelity and throughput on ../shared/data.

Prints:
- bibtex_fixtures: .bib files read without a crash (clear ImportFailed counts as handled);
- Better BibTeX import fixtures: expected items, titles and citation keys recovered;
- zotero_fixtures: items / attachments / collections vs. independent SQL on each database;
- throughput: ACM-CR collection_bib (15.4k records) read by the importer alone, and end to end
  into a fresh library (entries/s), in the same run.

Run: .venv/bin/python benchmarks/bench_bib_zotero_import.py [--limit-files N] [--skip-end-to-end]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from scimult_desktop.domain.ids import normalize_title
from scimult_desktop.domain.records import ImportedRecord, ImportProblem
from scimult_desktop.errors import ImportFailed
from scimult_desktop.ingest.bibtex import BibtexImporter
from scimult_desktop.ingest.zotero import ZoteroImporter
from scimult_desktop.services.library.facade import Library

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def bibtex_fixtures() -> None:
    files = sorted((DATA / "bibtex_fixtures").rglob("*.bib"))
    ok = clear_errors = crashes = records = problems = 0
    for path in files:
        try:
            items = list(BibtexImporter().read(path))
        except ImportFailed:
            clear_errors += 1
            continue
        except Exception as exc:  # a crash is what this benchmark looks for
            crashes += 1
            print(f"  CRASH {path.name}: {type(exc).__name__}: {exc}")
            continue
        ok += 1
        records += sum(isinstance(i, ImportedRecord) for i in items)
        problems += sum(isinstance(i, ImportProblem) for i in items)
    print(f"bibtex_fixtures: {len(files)} .bib files, {ok} read, {clear_errors} clear ImportFailed, {crashes} crashes; "
          f"{records} records, {problems} per-entry problems (with file:line)")


def better_bibtex_expected() -> None:
    root = DATA / "bibtex_fixtures" / "bbt" / "import"
    items_total = recovered = titles_ok = keys_total = keys_ok = 0
    for bib in sorted(root.glob("*.bib")):
        expected_file = bib.with_suffix(".json")
        if not expected_file.exists():
            continue
        expected = [i for i in json.loads(expected_file.read_text())["items"]
                    if i.get("itemType") not in ("note", "attachment")]
        try:
            records = [r for r in BibtexImporter().read(bib) if isinstance(r, ImportedRecord)]
        except ImportFailed:
            records = []
        titles = {normalize_title(r.paper.title) for r in records}
        keys = {r.paper.citekey for r in records}
        items_total += len(expected)
        recovered += min(len(records), len(expected))
        for item in expected:
            titles_ok += normalize_title(re.sub(r"<[^>]+>", "", item.get("title", ""))) in titles
            if item.get("citationKey"):
                keys_total += 1
                keys_ok += item["citationKey"] in keys
    print(f"BBT import fixtures: {items_total} expected items, {recovered} entries recovered "
          f"({recovered / items_total:.1%}), titles matched {titles_ok} ({titles_ok / items_total:.1%}), "
          f"citation keys {keys_ok}/{keys_total} ({keys_ok / max(keys_total, 1):.1%})")


def zotero_fixtures() -> None:
    for database in sorted((DATA / "zotero_fixtures").glob("*/zotero.sqlite")):
        conn = sqlite3.connect(f"file:{database}?mode=ro&immutable=1", uri=True)
        regular = """SELECT i.itemID FROM items i JOIN itemTypesCombined t USING (itemTypeID) JOIN libraries l USING (libraryID)
                     WHERE t.typeName NOT IN ('attachment', 'note', 'annotation') AND l.type IN ('user', 'group')
                       AND i.itemID NOT IN (SELECT itemID FROM deletedItems)"""
        items = conn.execute(f"SELECT count(*) FROM ({regular})").fetchone()[0]
        files = conn.execute(f"""SELECT count(*) FROM itemAttachments WHERE parentItemID IN ({regular})
                                 AND linkMode != 3 AND path IS NOT NULL""").fetchone()[0]
        memberships = conn.execute(f"SELECT count(*) FROM collectionItems WHERE itemID IN ({regular})").fetchone()[0]
        conn.close()
        start = time.perf_counter()
        records = list(ZoteroImporter().read(database.parent))
        seconds = time.perf_counter() - start
        got_files = sum(len(r.paper.files) for r in records)
        present = sum(Path(f.path).exists() for r in records for f in r.paper.files)
        got_memberships = sum(len(r.paper.collections) for r in records)
        print(f"zotero {database.parent.name}: items {len(records)}/{items}, attachments {got_files}/{files} "
              f"({present} on disk), collection memberships {got_memberships}/{memberships}, {seconds:.2f}s")


def throughput(limit_files: int | None, end_to_end: bool) -> None:
    files = sorted((DATA / "acm_cr" / "collection_bib").rglob("*.bib"))[:limit_files]
    start = time.perf_counter()
    entries = sum(isinstance(i, ImportedRecord) for path in files for i in BibtexImporter().read(path))
    read_s = time.perf_counter() - start
    print(f"acm_cr/collection_bib: {len(files)} files, {entries} entries; importer alone {entries / read_s:.0f} entries/s "
          f"({read_s:.1f}s)")
    if not end_to_end:
        return
    with tempfile.TemporaryDirectory() as folder:
        library = Library.open(Path(folder) / "lib")
        start = time.perf_counter()
        report = library.import_paths(files)
        total_s = time.perf_counter() - start
        library.close()
    stored = report.added + report.updated + report.skipped
    print(f"  end to end into a fresh library: {stored / total_s:.0f} entries/s ({total_s:.1f}s; added {report.added}, "
          f"updated {report.updated}, skipped {report.skipped}, failed {len(report.failed)}); "
          f"importer share {read_s / total_s:.0%}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit-files", type=int, default=None, help="Use only the first N ACM .bib files.")
    parser.add_argument("--skip-end-to-end", action="store_true", help="Skip the (1-2 min) library import.")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        sys.exit(f"no shared data at {DATA}")
    logging.disable(logging.WARNING)
    bibtex_fixtures()
    better_bibtex_expected()
    zotero_fixtures()
    throughput(args.limit_files, not args.skip_end_to_end)


if __name__ == "__main__":
    main()
