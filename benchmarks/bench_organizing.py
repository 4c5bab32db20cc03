"""Costs of the library-organising features on a large synthetic library.

1. Keyword search with notes as evidence vs. the same search without the notes lookup
   (baseline, same process, same queries, interleaved): the extra time per query, with
   a library holding --notes notes.
2. Merging two records with typical links (files, tags, collections, references,
   citations, vectors, notes) and undoing it: time and the undo entry's size.
3. Renaming a tag carried by many papers and undoing it.

Papers are inserted directly (no PDF parsing, no model): the figures are the costs of the
organising code and SQLite, not of import or inference. Prints figures; never asserts.

    python benchmarks/bench_organizing.py                     # 10000 papers, 500 notes
    python benchmarks/bench_organizing.py --papers 2000 --queries 50
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

WORDS = ("retrieval dense sparse passage ranking citation graph embedding protein folding climate ensemble galaxy "
         "rotation vitamin fracture statin malaria transformer attention contrastive supervision benchmark").split()


def build(folder: Path, papers: int, notes_count: int, seed: int = 0):
    from scimult_desktop.domain.records import Attachment, Paper
    from scimult_desktop.services.library import notes
    from scimult_desktop.services.library.facade import Library
    from scimult_desktop.store.clock import utc_now

    rng = random.Random(seed)
    library = Library.open(folder)
    store, conn = library.papers, library.database.conn
    now = utc_now()
    with library.database.transaction():
        for i in range(papers):
            words = rng.sample(WORDS, 6)
            pid = store.insert(Paper(f"Study {i} of {' '.join(words[:3])}", [f"Author{i}, Ann", "Roe, Richard"], 1990 + i % 35,
                                     "Journal", f"We study {' '.join(words)} in setting {i}.", citekey=f"key{i}"))
            store.add_tag(pid, words[0], "user")
            store.add_attachment(pid, Attachment(f"/papers/{i}.pdf", "pdf", "ok"))
            conn.execute("INSERT INTO embeddings VALUES (?, 'm@1', 'search', 'h', 96, ?, ?)", (pid, bytes(384), now))
            for position in range(5):
                conn.execute("INSERT INTO paper_references (citing_paper_id, position, raw, cited_paper_id) VALUES (?, ?, 'ref', ?)",
                             (pid, position, rng.randint(1, max(1, i)) if i else None))
            if i:
                conn.execute("INSERT OR IGNORE INTO citations VALUES (?, ?, 'references')", (pid, rng.randint(1, i)))
    for i in range(notes_count):
        notes.add_note(library, rng.randint(1, papers), f"Note {i}: compare {' '.join(rng.sample(WORDS, 4))} with the baseline.")
    return library


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, default=10000)
    parser.add_argument("--notes", type=int, default=500)
    parser.add_argument("--queries", type=int, default=100)
    args = parser.parse_args(argv)

    from scimult_desktop.services.library import merging, notes as notes_module, tagging
    from scimult_desktop.services.library.undo_entries import undo_entry

    folder = Path(tempfile.mkdtemp(prefix="scimult-bench-organizing-"))
    start = time.perf_counter()
    library = build(folder / "lib", args.papers, args.notes)
    print(f"library: {args.papers} papers, {args.notes} notes, built in {time.perf_counter() - start:.1f} s")

    # 1. keyword search with and without the notes lookup, interleaved so load drifts hit both alike.
    rng = random.Random(1)
    queries = [" ".join(rng.sample(WORDS, 3)) for _ in range(args.queries)]
    real = notes_module.papers_with_matching_notes
    with_notes, without = [], []
    for query in queries:
        notes_module.papers_with_matching_notes = real
        with_notes.append(timed(lambda: library.search(query, k=10, mode="keyword")))
        notes_module.papers_with_matching_notes = lambda *a, **k: []
        without.append(timed(lambda: library.search(query, k=10, mode="keyword")))
    notes_module.papers_with_matching_notes = real
    differences = [a - b for a, b in zip(with_notes, without)]
    mean_diff = statistics.mean(differences)
    se = statistics.stdev(differences) / len(differences) ** 0.5
    print(f"keyword search, median: {statistics.median(with_notes) * 1000:.2f} ms with notes vs "
          f"{statistics.median(without) * 1000:.2f} ms without (baseline); ratio {statistics.median(with_notes) / statistics.median(without):.3f}; "
          f"paired mean difference {mean_diff * 1000:+.2f} ms ± {se * 1000:.2f} (SE), n={len(differences)}")

    # 2. merge + undo of well-linked papers.
    merge_times, undo_times, sizes = [], [], []
    for keep, drop in ((11, 12), (21, 22), (31, 32), (41, 42), (51, 52)):
        for pid in (keep, drop):
            notes_module.add_note(library, pid, "a note to move")
        result = None

        def merge() -> None:
            nonlocal result
            result = merging.merge_papers(library, keep, drop)

        merge_times.append(timed(merge))
        size = library.database.conn.execute("SELECT length(payload) FROM undo_log WHERE id = ?", (result.undo_id,)).fetchone()[0]
        sizes.append(size)
        undo_times.append(timed(lambda: undo_entry(library, result.undo_id)))
    print(f"merge two records: median {statistics.median(merge_times) * 1000:.1f} ms; undo {statistics.median(undo_times) * 1000:.1f} ms; "
          f"undo entry {statistics.median(sizes) / 1024:.1f} KiB (each record: 1 file, 1 tag, 5 references, citations, a 96-d vector, notes)")

    # 3. rename the most used tag and undo it.
    top = tagging.list_tags(library)[0]
    change = None

    def rename() -> None:
        nonlocal change
        change = tagging.rename_tag(library, top.name, top.name + " (renamed)")

    rename_s = timed(rename)
    undo_s = timed(lambda: undo_entry(library, change.undo_id))
    size = library.database.conn.execute("SELECT length(payload) FROM undo_log WHERE id = ?", (change.undo_id,)).fetchone()[0]
    print(f"rename tag carried by {top.papers} papers: {rename_s * 1000:.1f} ms, undo {undo_s * 1000:.1f} ms, undo entry {size / 1024:.1f} KiB")
    library.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
