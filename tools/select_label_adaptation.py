"""Choose how zero-shot label vectors are fitted to a library, on data the benchmark does NOT score.

    python tools/select_label_adaptation.py [--bundle DIR]

Selection sets (plain all-MiniLM-L6-v2 classification vectors, labels written by
`label_texts`), top-1 accuracy "a correct label first":
- ACM author keywords (the 184 used on >= 25 records) on ACM records of the TRAINING split
  (never `acm_cr_evaluation_dois`, which the benchmark scores): libraries of 100, 400 and 1,500
  papers, and two with one keyword made to dominate (500 papers, 60% carrying it; 1,000, 50%);
- the 49 unarXive-2022 papers with their arXiv categories (fewer papers than labels);
- single-field libraries: 400 and 1,500 ACM computer-science papers classified with the broad
  MAG and arXiv label sets (right: "Computer Science", a cs.* or stat.ML category).
Prints each candidate's change against the labels as written, per set and on average; the
winner is what `services/finding/label_adaptation.py` does.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.embedding.onnx_encoder import OnnxEncoder
from scimult_desktop.services.finding import label_adaptation as fit
from scimult_desktop.services.finding.label_sets import Label, load_label_set
from scimult_desktop.services.finding.paper_classification import COSINE_TEMPERATURE, label_vectors, softmax_rows

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT / "benchmarks"))


def acm_sets(encoder) -> dict:
    from eval_classification import KEYWORD_MIN_RECORDS, _acm_records
    from scimult_train.data.default_data import acm_cr_evaluation_dois

    records = _acm_records(DATA / "acm_cr" / "collection_bib")
    frequency = Counter(k for r in records.values() for k in r["keywords"])
    vocabulary = sorted(k for k, n in frequency.items() if n >= KEYWORD_MIN_RECORDS)
    column = {k: j for j, k in enumerate(vocabulary)}
    held = acm_cr_evaluation_dois(DATA / "acm_cr" / "topics+qrels")
    pool = sorted(d for d in records if d not in held and records[d]["abstract"] and column.keys() & set(records[d]["keywords"]))
    random.Random(0).shuffle(pool)
    pool = pool[:3000]
    papers = encoder.encode([f"{records[d]['title']} [SEP] {records[d]['abstract']}" for d in pool], Task.CLASSIFY, Role.DOCUMENT)
    gold = [{column[k] for k in records[d]["keywords"] if k in column} for d in pool]
    labels = label_vectors(encoder, [Label(name=k) for k in vocabulary])
    top = Counter(j for g in gold for j in g).most_common(1)[0][0]
    out = {}
    for name, size in (("ACM train, 100", 100), ("ACM train, 400", 400), ("ACM train, 1500", 1500)):
        rows = random.Random(size).sample(range(len(pool)), size)
        out[name] = (papers[rows], [gold[i] for i in rows], labels)
    for name, size, share in (("ACM train, 500, one keyword 60%", 500, 0.6), ("ACM train, 1000, one keyword 50%", 1000, 0.5)):
        rng = random.Random(size)
        has = [i for i, g in enumerate(gold) if top in g]
        rest = [i for i, g in enumerate(gold) if top not in g]
        k = min(int(size * share), len(has))
        rows = rng.sample(has, k) + rng.sample(rest, size - k)
        out[name] = (papers[rows], [gold[i] for i in rows], labels)
    return out


def arxiv_set(encoder) -> tuple:
    full = load_label_set("arxiv")
    labels = list(full.canonical())
    column = {label.name: j for j, label in enumerate(labels)}
    path = DATA / "unarxive_samples" / "2022_open_subset_sample" / "arXiv_src_2212_086.jsonl"
    rows = [json.loads(line)["metadata"] for line in path.open(encoding="utf-8")]
    gold = [{column[full.get(c).alias_of or c] for c in r["categories"].split() if c in full} for r in rows]
    papers = encoder.encode([" ".join(f"{r['title']} [SEP] {r['abstract']}".split()) for r in rows], Task.CLASSIFY, Role.DOCUMENT)
    return papers, gold, label_vectors(encoder, labels)


# The rejected pull step: only with at least 2 library papers per label, a label's centroid over
# at most 50 papers.
MIN_PAPERS_PER_LABEL = 2
NEAREST_MAX = 50


def pull_labels_to_nearest_papers(labels: np.ndarray, papers: np.ndarray, weight: float) -> np.ndarray:
    """Each label moved towards the centroid of its m nearest papers, m = papers per label (1 to `NEAREST_MAX`)."""
    nearest = int(min(NEAREST_MAX, max(1, round(papers.shape[0] / labels.shape[0]))))
    sims = papers @ labels.T  # (N, L)
    top = np.argpartition(-sims, kth=min(nearest, papers.shape[0]) - 1, axis=0)[:nearest]  # (m, L)
    centroids = fit.unit_rows(papers[top].mean(axis=0))  # (L, dim)
    return fit.unit_rows(labels + weight * centroids)


def _gated_pull(labels, papers, weight):
    if papers.shape[0] < MIN_PAPERS_PER_LABEL * labels.shape[0]:
        return labels
    return pull_labels_to_nearest_papers(labels, papers, weight)


def _weighted(vectors, papers, strength):
    probabilities = softmax_rows(papers @ vectors.T, COSINE_TEMPERATURE)
    return fit.reweight(probabilities, fit.prior_weights(probabilities, strength))


# Each candidate: (label vectors, papers) -> scores (papers x labels); the highest is the top label.
CANDIDATES = {
    "shift": lambda L, X: X @ fit.shift_labels_to_papers(L, X).T,
    "pull 0.25": lambda L, X: X @ _gated_pull(L, X, 0.25).T,
    "shift + pull 0.25": lambda L, X: X @ _gated_pull(fit.shift_labels_to_papers(L, X), X, 0.25).T,
    "weights 0.5 alone": lambda L, X: _weighted(L, X, 0.5),
    "shift + weights 0.25": lambda L, X: _weighted(fit.shift_labels_to_papers(L, X), X, 0.25),
    "shift + weights 0.5 (the app)": lambda L, X: _weighted(fit.shift_labels_to_papers(L, X), X, 0.5),
    "shift + weights 1.0": lambda L, X: _weighted(fit.shift_labels_to_papers(L, X), X, 1.0),
}


def single_field_libraries(encoder) -> dict:
    """ACM training-split papers (all computer science) with the broad MAG and arXiv label sets."""
    from eval_classification import _acm_records
    from scimult_train.data.default_data import acm_cr_evaluation_dois

    records = _acm_records(DATA / "acm_cr" / "collection_bib")
    held = acm_cr_evaluation_dois(DATA / "acm_cr" / "topics+qrels")
    pool = sorted(d for d in records if d not in held and records[d]["abstract"])
    random.Random(7).shuffle(pool)
    papers = encoder.encode([f"{records[d]['title']} [SEP] {records[d]['abstract']}" for d in pool[:1500]], Task.CLASSIFY, Role.DOCUMENT)
    out = {}
    for set_name, right in (("mag", lambda label: label.name.lower() == "computer science"),
                            ("arxiv", lambda label: label.name.startswith(("cs.", "stat.ML")))):
        labels = list(load_label_set(set_name).canonical())
        gold = {j for j, label in enumerate(labels) if right(label)}
        for size in (400, 1500):
            out[f"single field, {size} ACM papers, {set_name} labels"] = (papers[:size], [gold] * size, label_vectors(encoder, labels))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", default=None, help="a plain MiniLM bundle folder (default: build one in a temp folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as work:
        from eval_classification import build_plain_minilm

        encoder = OnnxEncoder(args.bundle or build_plain_minilm(Path(work) / "plain-minilm"))
        sets = {**acm_sets(encoder), "arXiv 49 (unarXive 2022)": arxiv_set(encoder), **single_field_libraries(encoder)}

    def accuracy(scores, gold):
        best = scores.argmax(axis=1)
        return 100 * float(np.mean([best[i] in g for i, g in enumerate(gold)]))

    changes: dict[str, list[float]] = {name: [] for name in CANDIDATES}
    for set_name, (papers, gold, labels) in sets.items():
        written = accuracy(papers @ labels.T, gold)
        row = []
        for name, candidate in CANDIDATES.items():
            change = accuracy(candidate(labels, papers), gold) - written
            changes[name].append(change)
            row.append(f"{name} {change:+.1f}")
        print(f"{set_name}: {len(gold)} papers, {labels.shape[0]} labels, as written {written:.1f}; " + ", ".join(row))
    first = len(sets) - 4  # the single-field libraries are the last four
    for name, values in changes.items():
        print(f"{name:>20}: mean change {np.mean(values[:first]):+.2f} points over the {first} label-set libraries, "
              f"{np.mean(values[first:]):+.2f} over the 4 single-field ones")


if __name__ == "__main__":
    main()
