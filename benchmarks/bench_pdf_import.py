"""Benchmark PDF import against the shared PDF corpus's ground truth.

Prints title / DOI / arXiv-id / year accuracy of `scimult_desktop.ingest.pdf`
beside a baseline measured in the same run (PyMuPDF's embedded metadata: the
/Title field, a DOI regex over the metadata fields), every file that failed
with its message, crashes, and throughput.

Title criterion: the titles match when `normalize_title` keys are equal, or
when their similarity (difflib ratio over the keys) is >= 0.9, which forgives
TeX accent debris ("Gr´egory") and a lost hyphen but not a wrong or truncated
title. Both figures are printed.

Usage: python benchmarks/bench_pdf_import.py [--corpus PATH] [--verbose]
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

from scimult_desktop.domain.ids import normalize_arxiv_id, normalize_doi, normalize_title
from scimult_desktop.errors import ImportFailed
from scimult_desktop.ingest.pdf import read_pdf
from scimult_desktop.ingest.pdf_header import titles_agree

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "pdf_corpus"


def baseline(path: Path) -> tuple[str | None, str | None]:
    """PyMuPDF metadata only: (embedded /Title, a DOI found in any metadata field)."""
    import pymupdf

    try:
        with pymupdf.open(path) as document:
            if document.needs_pass:
                document.authenticate("")
            metadata = document.metadata or {}
    except Exception:
        return None, None
    doi = None
    for value in metadata.values():
        doi = doi or normalize_doi(str(value or ""))
    return (metadata.get("title") or None), doi


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder with metadata.csv and the PDFs")
    parser.add_argument("--verbose", action="store_true", help="print every title miss")
    args = parser.parse_args()
    rows = list(csv.DictReader((args.corpus / "metadata.csv").open(encoding="utf-8")))
    counts = {k: 0 for k in ("title_n", "title_exact", "title_fuzzy", "base_exact", "base_fuzzy", "doi_n", "doi_ok",
                             "base_doi_ok", "doi_wrong", "arxiv_n", "arxiv_ok", "year_n", "year_ok", "refs_papers",
                             "refs_total", "no_text", "ok", "crashes", "pages")}
    failures: list[tuple[str, str]] = []
    misses: list[str] = []
    started = time.perf_counter()
    elapsed_import = 0.0
    for row in rows:
        path = args.corpus / row["file"]
        if not path.exists():
            continue
        t0 = time.perf_counter()
        try:
            record = read_pdf(path, ocr=False)
        except ImportFailed as exc:
            elapsed_import += time.perf_counter() - t0
            failures.append((row["file"], str(exc)))
            continue
        except Exception as exc:  # a crash is what this benchmark counts
            elapsed_import += time.perf_counter() - t0
            counts["crashes"] += 1
            failures.append((row["file"], f"CRASH {type(exc).__name__}: {exc}"))
            continue
        elapsed_import += time.perf_counter() - t0
        counts["pages"] += len(record.pages)
        counts["ok" if record.status == "ok" else "no_text"] += 1
        base_title, base_doi = baseline(path)
        truth_title = row["title"].strip()
        if record.status == "ok" and truth_title and not truth_title.startswith("("):
            counts["title_n"] += 1
            exact = normalize_title(record.paper.title) == normalize_title(truth_title)
            counts["title_exact"] += exact
            fuzzy = titles_agree(record.paper.title, truth_title)
            counts["title_fuzzy"] += fuzzy
            counts["base_exact"] += normalize_title(base_title) == normalize_title(truth_title)
            counts["base_fuzzy"] += titles_agree(base_title, truth_title)
            if not fuzzy:
                misses.append(f"{row['file']}: got {record.paper.title!r} [{record.extra.get('title_source')}]"
                              f" want {truth_title!r}")
        if row["doi"] and record.status == "ok":
            counts["doi_n"] += 1
            counts["doi_ok"] += record.paper.doi == normalize_doi(row["doi"])
            counts["base_doi_ok"] += base_doi == normalize_doi(row["doi"])
        elif record.paper.doi and record.status == "ok":
            counts["doi_wrong"] += 1
            misses.append(f"{row['file']}: DOI {record.paper.doi} where none is known")
        if row["arxiv_id"] and record.status == "ok":
            counts["arxiv_n"] += 1
            counts["arxiv_ok"] += record.paper.arxiv_id == normalize_arxiv_id(row["arxiv_id"])
        if row["year"] and record.status == "ok":
            counts["year_n"] += 1
            counts["year_ok"] += record.paper.year == int(row["year"])
            if record.paper.year != int(row["year"]):
                misses.append(f"{row['file']}: year {record.paper.year} want {row['year']}")
        if record.references:
            counts["refs_papers"] += 1
            counts["refs_total"] += len(record.references)
    total = time.perf_counter() - started

    def pct(num: int, den: int) -> str:
        return f"{num}/{den} = {num / den:.1%}" if den else "n/a"

    files = len(rows)
    print(f"PDF import benchmark over {args.corpus} ({files} files)")
    print(f"{'metric':44} {'scimult':>22} {'baseline (metadata)':>22}")
    print(f"{'title, normalised exact (text layer)':44} {pct(counts['title_exact'], counts['title_n']):>22}"
          f" {pct(counts['base_exact'], counts['title_n']):>22}")
    print(f"{'title, normalised fuzzy >= 0.9 (text layer)':44} {pct(counts['title_fuzzy'], counts['title_n']):>22}"
          f" {pct(counts['base_fuzzy'], counts['title_n']):>22}")
    print(f"{'DOI (text layer, DOI known)':44} {pct(counts['doi_ok'], counts['doi_n']):>22}"
          f" {pct(counts['base_doi_ok'], counts['doi_n']):>22}")
    print(f"{'DOI where truth has none (unscored)':44} {counts['doi_wrong']:>22}")
    print(f"{'arXiv id (text layer, id known)':44} {pct(counts['arxiv_ok'], counts['arxiv_n']):>22}")
    print(f"{'year (text layer, year known)':44} {pct(counts['year_ok'], counts['year_n']):>22}")
    print(f"{'papers with references / entries':44} {counts['refs_papers']:>12} / {counts['refs_total']:<8}")
    print(f"{'imported ok / no_text_layer / failed':44} {counts['ok']} / {counts['no_text']} / {len(failures)}")
    print(f"{'crashes':44} {counts['crashes']:>22}")
    print(f"{'throughput (import only)':44} {files / elapsed_import:>10.1f} PDFs/s {counts['pages'] / elapsed_import:>8.1f} pages/s")
    print(f"{'wall time incl. baseline':44} {total:>20.1f} s")
    print("\nFiles that failed (clear per-file errors):")
    for name, message in failures:
        print(f"  {name}: {message}")
    if args.verbose and misses:
        print("\nMisses:")
        for line in misses:
            print(f"  {line}")
    return 1 if counts["crashes"] else 0


if __name__ == "__main__":
    sys.exit(main())
