"""What hiding the trash costs keyword search.

Usage:
    python benchmarks/bench_trash_filter.py [--papers 20000] [--trashed 200] [--queries 200]

Builds a synthetic library (titles and abstracts drawn from a fixed vocabulary, seeded) in a
temporary folder, then times, in the same process and alternating the order per query, BM25
keyword search as the app runs it (papers in the trash left out) against the same query
without any trash handling (the code before the trash existed), with no paper and with
`--trashed` random papers in the trash. Prints medians and the mean per-query time ratio with
its paired standard error.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

WORDS = ("retrieval dense sparse passage ranking neural citation graph embedding transformer language model "
         "protein folding vitamin fracture trial cohort climate ensemble galaxy rotation matter gene expression "
         "single cell sequencing contrastive learning pretraining scientific document classification field "
         "question answering benchmark evaluation dataset corpus annotation claim verification evidence").split()


def build(folder: Path, n: int, seed: int = 0):
    from scimult_desktop.domain.records import Paper
    from scimult_desktop.services.library.facade import Library

    rng = random.Random(seed)
    library = Library.open(folder)
    with library.database.transaction():
        for i in range(n):
            title = " ".join(rng.choice(WORDS) for _ in range(8))
            abstract = " ".join(rng.choice(WORDS) for _ in range(60))
            library.papers.insert(Paper(title=f"{title} {i}", abstract=abstract, year=2000 + i % 24, citekey=f"p{i}",
                                        authors=[f"Author{i % 500}, Ann"]))
    return library, rng


def baseline_keyword(store, query: str, k: int):
    """keyword_search's BM25 query as it was before the trash (no deleted_at condition)."""
    from scimult_desktop.store.papers import BM25_WEIGHTS, query_words

    words = query_words(query)
    match = " OR ".join(f'"{w}"' for w in words)
    weights = ", ".join(str(w) for w in BM25_WEIGHTS)
    rows = store.conn.execute(
        f"SELECT rowid, bm25(papers_fts, {weights}) AS rank FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rank LIMIT ?",
        (match, k)).fetchall()
    return store.get_many([int(r[0]) for r in rows])


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def paired(base: list[float], new: list[float]) -> str:
    ratios = [b and n / b for b, n in zip(base, new)]
    mean = statistics.fmean(ratios)
    se = statistics.stdev(ratios) / len(ratios) ** 0.5 if len(ratios) > 1 else 0.0
    return f"{statistics.median(new) * 1000:.2f} ms vs {statistics.median(base) * 1000:.2f} ms, ratio {mean:.3f} ± {se:.3f} (SE)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=20000)
    parser.add_argument("--trashed", type=int, default=200)
    parser.add_argument("--queries", type=int, default=200)
    args = parser.parse_args(argv)

    from scimult_desktop.services.library import trash

    with tempfile.TemporaryDirectory() as tmp:
        library, rng = build(Path(tmp) / "lib", args.papers)
        queries = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(2, 6))) for _ in range(args.queries)]
        store = library.papers
        for label in ("no paper in the trash", f"{args.trashed} papers in the trash"):
            if label.startswith(str(args.trashed)):
                trash.trash_papers(library, rng.sample(store.all_ids(), args.trashed))
            for q in queries[:10]:  # warm the page cache
                store.keyword_search(q, 100, snippets=10), baseline_keyword(store, q, 100)
            base, new = [], []
            for q in queries:
                if rng.random() < 0.5:  # alternate the order so neither side always runs warm
                    base.append(timed(lambda: baseline_keyword(store, q, 100)))
                    new.append(timed(lambda: store.keyword_search(q, 100, snippets=0)))
                else:
                    new.append(timed(lambda: store.keyword_search(q, 100, snippets=0)))
                    base.append(timed(lambda: baseline_keyword(store, q, 100)))
            print(f"keyword search, {args.papers} papers, {label}: {paired(base, new)}")
        library.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
