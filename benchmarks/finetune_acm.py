"""Fine-tuning on a real library built from ACM-CR (../shared/data/acm_cr): before/after table and run time.

The library: the BibTeX records of CHIIR, ICTIR, WSDM, IIiX, ADCS, DLRS (all years), SIGIR
2016-2020 and the records cited from other venues (about 4,000 papers), imported with
`scimult import`. Collections are the venues (the folder each .bib file comes from; the
"cited from other venues" file stays unfiled). The BibTeX records carry no reference lists,
so importing them yields no citation edges; the edges come from ACM-CR's curated reference
lists of its citing papers (`topics+qrels/papers/*/*.dois`), added where both DOIs are in
the library (source "acm-cr-dois").

    python benchmarks/finetune_acm.py --library /tmp/acm-lib [--tasks link,classify,search] [--steps N]

Uses the active model (build it first: `scimult model build-default`). Prints the plan,
then the JSON of `scimult finetune --json` and the seconds per stage.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ACM = ROOT.parent / "shared" / "data" / "acm_cr"
VENUES = ("chiir", "ictir", "wsdm", "iiix", "adcs", "dlrs")
SIGIR_YEARS = range(2016, 2021)


def bib_files() -> dict[Path, str | None]:
    """.bib file -> venue collection (None: unfiled)."""
    files: dict[Path, str | None] = {}
    for venue in VENUES:
        for path in sorted((ACM / "collection_bib" / venue).glob("*.bib")):
            files[path] = venue.upper()
    for year in SIGIR_YEARS:
        files[ACM / "collection_bib" / "sigir" / f"sigir-{year}.bib"] = "SIGIR"
    files[ACM / "collection_bib" / "cited_from_other_venues.bib"] = None
    return files


def reference_dois(listing: Path) -> list[tuple[int | None, str]]:
    """(reference number or None, DOI) of each line of an ACM-CR `.dois` listing ("[n]<TAB>DOI")."""
    found = []
    for line in listing.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) > 1:
            number = re.search(r"\[(\d+)\]", parts[0])
            found.append((int(number.group(1)) if number else None, parts[1].strip()))
    return found


def acm_missing() -> bool:
    """True, saying so, when ACM-CR is not beside the project (the benchmark then skips)."""
    if ACM.is_dir():
        return False
    print(f"skipped: {ACM} not found (real data lives beside the project)", file=sys.stderr)
    return True


def ensure_library(folder: Path) -> None:
    """Build the library into `folder` unless it holds one already, printing what the build did."""
    if not (folder / "library.sqlite3").exists():
        print(json.dumps({"library": build_library(folder)}), flush=True)


def build_library(folder: Path) -> dict:
    from scimult_desktop.services.library.facade import Library

    files = bib_files()
    with Library.open(folder) as library:
        started = time.monotonic()
        report = library.import_paths(list(files))
        imported_s = time.monotonic() - started
        edges_from_import = library.status()["citations"]
        conn = library.database.conn
        doi_re = re.compile(r"^\s*doi\s*=\s*[{\"]([^}\"]+)", re.I | re.M)
        with library.database.transaction():
            for path, venue in files.items():
                if venue is None:
                    continue
                conn.execute("INSERT OR IGNORE INTO collections (name, source, source_key) VALUES (?, 'acm-cr-venue', ?)", (venue, venue))
                dois = [d.strip().lower() for d in doi_re.findall(path.read_text(encoding="utf-8", errors="replace"))]
                for start in range(0, len(dois), 500):
                    chunk = dois[start : start + 500]
                    conn.execute(
                        f"""INSERT OR IGNORE INTO paper_collections (paper_id, collection_id)
                            SELECT p.id, c.id FROM papers p, collections c
                            WHERE c.source = 'acm-cr-venue' AND c.source_key = ? AND p.doi IN ({','.join('?' * len(chunk))})""",
                        (venue, *chunk),
                    )
            by_doi = {doi: pid for pid, doi in conn.execute("SELECT id, doi FROM papers WHERE doi IS NOT NULL")}
            added = 0
            for listing in sorted((ACM / "topics+qrels" / "papers").glob("*/*.dois")):
                citing = by_doi.get("10.1145/" + listing.stem)
                if citing is None:
                    continue
                for _, doi in reference_dois(listing):
                    cited = by_doi.get(doi.lower())
                    if cited is not None and cited != citing:
                        added += conn.execute(
                            "INSERT OR IGNORE INTO citations (citing_paper_id, cited_paper_id, source) VALUES (?, ?, 'acm-cr-dois')",
                            (citing, cited),
                        ).rowcount
        return {
            "papers": library.count_papers(),
            "import": {"added": report.added, "failed": len(report.failed), "seconds": round(imported_s, 1)},
            "citation_edges_from_import": edges_from_import,
            "citation_edges_from_acm_cr_dois": added,
            "filed_in_venue_collections": conn.execute("SELECT count(*) FROM paper_collections").fetchone()[0],
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, required=True, help="library folder (built when absent)")
    parser.add_argument("--tasks", default="link,classify,search")
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--epochs", type=int, default=None)
    parser.add_argument("--trainable", default=None, help="all | experts | experts+top:N (default: by device)")
    parser.add_argument("--index-only", action="store_true", help="build and index the library, train nothing")
    args = parser.parse_args(argv)
    if acm_missing():
        return 0
    from scimult_desktop.cli.progress import StderrProgress
    from scimult_desktop.services.finetuning import pipeline as finetuning
    from scimult_desktop.services.library.facade import Library

    ensure_library(args.library)
    progress = StderrProgress(log_interval=20.0)
    with Library.open(args.library) as library:
        started = time.monotonic()
        index = library.index(progress=progress)
        print(json.dumps({"index_seconds": round(time.monotonic() - started, 1), "embedded": index["embedded"]}), flush=True)
        if args.index_only:
            return 0
        plan = finetuning.plan(library, args.tasks, epochs=args.epochs, max_steps=args.steps)
        print(json.dumps({"plan": plan.to_json()}), flush=True)
        started = time.monotonic()
        result = finetuning.finetune(
            library, args.tasks, epochs=args.epochs, max_steps=args.steps, trainable=args.trainable, progress=progress
        )
        print(json.dumps(result.to_json()), flush=True)
        print(json.dumps({"seconds": dict(result.seconds, total=round(time.monotonic() - started, 1)), "run": str(result.run_folder)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
