"""Calibrate the "looks unrelated" flag of draft suggestions (drafting.UNRELATED_RANK_SHARE).

    python tools/calibrate_citation_flags.py [--workdir .bench-out] [--false-flags 0.05]

ACM-CR sentence contexts (citation markers removed) and the papers they really cite, against
the same sentences paired with random papers of the collection. For each pair: how far down the
collection the paper ranks for the sentence with the link expert, as a share of the collection
(what `drafting.citation_flags` checks). The citing papers are split in two by a hash of their
title: on the first half the share is chosen so that `--false-flags` of the real pairs would be
flagged; on the second half it reports the false-flag rate (real cited pairs flagged) and the
hit rate (random pairs flagged). Uses the ACM library of benchmarks/eval_quality.py (--workdir).
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from eval_quality import DATA, _acm_sentence_topics, acm_library  # noqa: E402

from scimult_desktop.domain.tasks import Role, Task  # noqa: E402


OLD_SHARE = 0.05  # the share used before calibration (top 5% of the library, at least 25 papers)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default=str(ROOT / ".bench-out"))
    parser.add_argument("--model", default=None)
    parser.add_argument("--engine", default=None)
    parser.add_argument("--false-flags", type=float, default=0.05)
    args = parser.parse_args()
    root = DATA / "acm_cr"
    library = acm_library(argparse.Namespace(**vars(args)), [Task.LINK])
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in (root / "topics+qrels" / "sentences.qrels").open():
        topic, _, doi, rel = line.split()
        if int(rel) > 0:
            qrels[topic].add(doi.lower())
    topics = [t for t in _acm_sentence_topics(root) if qrels.get(t[0]) and t[2]]
    finder = library._finder(Task.LINK)
    ids = library.papers.all_ids()
    by_doi = {p.doi.lower(): p.id for p in library.papers.get_many(ids) if p.doi}
    vectors = finder.paper_vectors(Task.LINK, ids)
    matrix = np.stack([vectors[i] for i in ids])
    column = {pid: j for j, pid in enumerate(ids)}
    queries = finder.backend.encode([t[2] for t in topics], Task.LINK, Role.QUERY)
    scores = queries @ matrix.T
    rng = random.Random(0)
    pairs: dict[str, dict[str, list[float]]] = {"calibration": defaultdict(list), "report": defaultdict(list)}
    for row, (num, title, _) in zip(scores, topics):
        half = "calibration" if zlib.crc32(title.encode()) % 2 == 0 else "report"
        cited = [by_doi[d] for d in qrels[num] if d in by_doi]
        for pid in cited:
            for kind, paper in (("real", pid), ("random", rng.choice(ids))):
                pairs[half][kind].append(float((row > row[column[paper]]).sum()) / len(ids))
    real = sorted(pairs["calibration"]["real"])
    share = math.ceil(100 * real[min(len(real) - 1, int((1 - args.false_flags) * len(real)))]) / 100
    print(f"papers {len(ids)}; pairs: calibration {len(real)} real, report {len(pairs['report']['real'])} real (+ as many random)")
    print(f"UNRELATED_RANK_SHARE = {share:.2f} (flags {args.false_flags:.0%} of the calibration half's real pairs)")
    for half, chosen in (("calibration", share), ("report", share), ("report", OLD_SHARE)):
        found = pairs[half]
        false_flags = sum(s > chosen for s in found["real"]) / len(found["real"])
        hits = sum(s > chosen for s in found["random"]) / len(found["random"])
        print(f"{half} half at {chosen:.2f}: false-flag rate {false_flags:.3f} (real cited pairs flagged), "
              f"hit rate {hits:.3f} (random pairs flagged)")
    library.close()


if __name__ == "__main__":
    main()
