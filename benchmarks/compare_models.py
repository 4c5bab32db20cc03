"""Quality and speed of two model bundles in one run: the optional MPNet model against the MiniLM default.

    nice -n 5 python benchmarks/compare_models.py --baseline minilm-scimult-moe-untrained \
        --candidate mpnet-scimult-moe-untrained [--docs 1000] [--queries 0] [--seed 0] [--threads 2] [--json OUT]

Each model is an installed model name or a bundle folder. Both are run by the app's own
`OnnxEncoder` (ONNX Runtime, CPU, `--threads` intra-op threads), in the same process.

Fixed, documented subsamples of ../shared/data (so an MPNet run fits in minutes on a CPU):
- SciFact test: the 300 test queries with relevance judgements (or `--queries` of them drawn
  at random with `--seed`), against a corpus of `--docs` papers: every paper judged relevant
  to a chosen query plus papers drawn at random (seed `--seed`) from the rest. Search expert,
  dense (semantic) ranking, nDCG@10.
- ACM-CR sentence topics: the 445 sentence-level citation contexts (markers like [3] removed)
  with at least one cited paper in collection_bib (blacklisted DOIs dropped), or `--queries`
  of them, against `--docs` records: every record cited by a chosen context plus records drawn
  at random (seed `--seed`) from the others with an abstract. Link expert, dense ranking,
  Recall@10 and nDCG@10.
Papers are embedded as the app embeds them, "title [SEP] abstract". Scores on a subsample are
higher than on the full corpora and are not the MTEB numbers; only the difference between the
two models on the same subsample means something. Each change comes with its paired standard
error (per-query differences).

Speed: the same documents are encoded by both models in alternating chunks of 100 (so a
change in machine load hits both alike); docs/s per model and the ratio.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from scimult_desktop.embedding.onnx_encoder import OnnxEncoder
from scimult_desktop.domain.tasks import Role, Task

sys.path.insert(0, str(Path(__file__).resolve().parent))
from eval_quality import _MARKER, ndcg_at, recall_at  # noqa: E402  (the same metrics as the quality benchmark)

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CHUNK = 100


def resolve_bundle(name_or_dir: str) -> Path:
    folder = Path(name_or_dir).expanduser()
    if (folder / "bundle.json").is_file():
        return folder
    from scimult_desktop.services.models import bundles

    return bundles.model_path(name_or_dir)


def paper_text(title: str, abstract: str | None) -> str:
    return f"{title} [SEP] {abstract or ''}".strip()  # as Paper.embedding_text


def sample_queries(qids: list[str], queries: int, seed: int) -> list[str]:
    """`queries` of the judged queries drawn at random (all when 0 or more than there are), in file order."""
    if not queries or queries >= len(qids):
        return qids
    chosen = set(random.Random(seed).sample(qids, queries))
    return [q for q in qids if q in chosen]


def scifact_subsample(docs: int, seed: int, queries_wanted: int = 0) -> dict:
    root = DATA / "scifact"
    corpus = {str(d["_id"]): paper_text(d["title"], d["text"]) for d in map(json.loads, (root / "corpus.jsonl").open(encoding="utf-8"))}
    queries = {q["_id"]: q["text"] for q in map(json.loads, (root / "queries.jsonl").open(encoding="utf-8"))}
    qrels: dict[str, set[str]] = defaultdict(set)
    with (root / "qrels" / "test.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels[row["query-id"]].add(str(row["corpus-id"]))
    qids = sample_queries(sorted(qrels, key=int), queries_wanted, seed)
    relevant = sorted({d for q in qids for d in qrels[q]}, key=int)
    others = sorted(set(corpus) - set(relevant), key=int)
    ids = relevant + random.Random(seed).sample(others, max(0, docs - len(relevant)))
    return {"name": "SciFact test", "task": Task.SEARCH, "doc_ids": ids, "docs": [corpus[i] for i in ids],
            "query_ids": qids, "queries": [queries[q] for q in qids], "qrels": qrels, "relevant_docs": len(relevant)}


def acm_sentence_subsample(docs: int, seed: int, queries_wanted: int = 0) -> dict:
    from scimult_desktop.ingest.base import ImportedRecord
    from scimult_desktop.ingest.bibtex import BibtexImporter

    root = DATA / "acm_cr"
    records: dict[str, str] = {}
    with_abstract: set[str] = set()
    for path in sorted((root / "collection_bib").rglob("*.bib")):
        for item in BibtexImporter().read(path):
            paper = item.paper if isinstance(item, ImportedRecord) else None
            if paper is not None and paper.doi and paper.doi.lower() not in records:
                records[paper.doi.lower()] = paper.embedding_text()
                if paper.abstract:
                    with_abstract.add(paper.doi.lower())
    blacklist = {line.strip().lower() for line in (root / "topics+qrels" / "blacklist.txt").open() if line.strip()}
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in (root / "topics+qrels" / "sentences.qrels").open():
        topic, _, doi, rel = line.split()
        if int(rel) > 0 and doi.lower() in records and doi.lower() not in blacklist:
            qrels[topic].add(doi.lower())
    text = (root / "topics+qrels" / "sentences.topics").read_text(encoding="utf-8")
    queries = {}
    for block in re.findall(r"<top>(.*?)</top>", text, flags=re.S):
        num = re.search(r"<num>\s*Number:\s*(\S+)", block).group(1)
        desc = re.search(r"<desc>\s*Description:\s*(.*?)\s*<narr>", block, flags=re.S).group(1)
        queries[num] = " ".join(_MARKER.sub("", desc).split())
    qids = sample_queries([q for q in queries if qrels.get(q)], queries_wanted, seed)
    relevant = sorted({d for q in qids for d in qrels[q]})
    others = sorted(with_abstract - set(relevant) - blacklist)
    ids = relevant + random.Random(seed).sample(others, max(0, docs - len(relevant)))
    return {"name": "ACM-CR sentences", "task": Task.LINK, "doc_ids": ids, "docs": [records[i] for i in ids],
            "query_ids": qids, "queries": [queries[q] for q in qids], "qrels": qrels, "relevant_docs": len(relevant)}


def encode_alternating(encoders: dict[str, OnnxEncoder], texts: list[str], task: Task, seconds: dict[str, float]) -> dict:
    """Every model's document vectors; chunks alternate between models so load drift hits both."""
    parts: dict[str, list[np.ndarray]] = {name: [] for name in encoders}
    for start in range(0, len(texts), CHUNK):
        chunk = texts[start : start + CHUNK]
        for name, encoder in encoders.items():
            began = time.perf_counter()
            parts[name].append(encoder.encode(chunk, task, Role.DOCUMENT))
            seconds[name] += time.perf_counter() - began
        print(f"\r  {start + len(chunk)}/{len(texts)} docs", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return {name: np.concatenate(p) for name, p in parts.items()}


def per_query_scores(doc_vectors: np.ndarray, query_vectors: np.ndarray, data: dict) -> dict[str, list[float]]:
    scores = query_vectors @ doc_vectors.T  # (queries, docs); bundles are cosine, vectors unit length
    top = np.argsort(-scores, axis=1, kind="stable")[:, :10]
    out: dict[str, list[float]] = {"ndcg@10": [], "recall@10": []}
    for row, qid in zip(top, data["query_ids"]):
        ranked = [data["doc_ids"][i] for i in row]
        out["ndcg@10"].append(100 * ndcg_at(ranked, data["qrels"][qid]))
        out["recall@10"].append(100 * recall_at(ranked, data["qrels"][qid]))
    return out


def paired(before: list[float], after: list[float]) -> tuple[float, float, float, float]:
    """(mean before, mean after, mean change, paired standard error of the change)."""
    diffs = [b - a for a, b in zip(before, after)]
    se = statistics.stdev(diffs) / math.sqrt(len(diffs)) if len(diffs) > 1 else float("nan")
    return statistics.fmean(before), statistics.fmean(after), statistics.fmean(diffs), se


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default="minilm-scimult-moe-untrained", help="installed model name or bundle folder")
    parser.add_argument("--candidate", default="mpnet-scimult-moe-untrained", help="installed model name or bundle folder")
    parser.add_argument("--docs", type=int, default=1000, help="corpus papers per data set (relevant ones + random others)")
    parser.add_argument("--queries", type=int, default=0, help="judged queries per data set, drawn at random (default 0: all)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if not DATA.is_dir():
        print(f"error: {DATA} not found (the shared data sets)", file=sys.stderr)
        return 1
    folders = {"baseline": resolve_bundle(args.baseline), "candidate": resolve_bundle(args.candidate)}
    encoders = {role: OnnxEncoder(folder, engine="onnxruntime-cpu", threads=args.threads) for role, folder in folders.items()}
    names = {role: enc.name for role, enc in encoders.items()}
    print(f"baseline {names['baseline']} ({folders['baseline']}), candidate {names['candidate']} ({folders['candidate']})", file=sys.stderr)
    for encoder in encoders.values():
        encoder.warm_up()
        encoder.encode(["warm up [SEP] a first call allocates"], Task.SEARCH)
    seconds = {role: 0.0 for role in encoders}
    doc_count = 0
    token_count = 0
    results = {"models": names, "docs_per_set": args.docs, "queries_per_set": args.queries, "seed": args.seed, "threads": args.threads, "sets": {}}
    for load in (scifact_subsample, acm_sentence_subsample):
        began = time.monotonic()
        data = load(args.docs, args.seed, args.queries)
        print(f"{data['name']}: {len(data['query_ids'])} queries, {len(data['docs'])} docs "
              f"({data['relevant_docs']} relevant), loaded in {time.monotonic() - began:.0f}s", file=sys.stderr)
        vectors = encode_alternating(encoders, data["docs"], data["task"], seconds)
        doc_count += len(data["docs"])
        tokenizer = encoders["baseline"]._tokenizer
        token_count += sum(len(e.ids) for e in tokenizer.encode_batch(data["docs"]))
        scores = {}
        for role, encoder in encoders.items():
            queries = encoder.encode(data["queries"], data["task"], Role.QUERY)
            scores[role] = per_query_scores(vectors[role], queries, data)
        entry = {"queries": len(data["query_ids"]), "docs": len(data["docs"]), "relevant_docs": data["relevant_docs"], "metrics": {}}
        for metric in scores["baseline"]:
            before, after, change, se = paired(scores["baseline"][metric], scores["candidate"][metric])
            entry["metrics"][metric] = {"baseline": before, "candidate": after, "change": change, "paired_se": se}
        results["sets"][data["name"]] = entry
    results["speed"] = {
        "docs": doc_count,
        "mean_tokens_per_doc_baseline_tokenizer": token_count / doc_count,
        **{f"{role}_docs_per_s": doc_count / seconds[role] for role in encoders},
        "candidate_over_baseline_time": seconds["candidate"] / seconds["baseline"],
    }
    print(render(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


def render(results: dict) -> str:
    names = results["models"]
    lines = [
        f"| benchmark (subsample) | {names['baseline']} | {names['candidate']} | change ± paired SE |",
        "|---|---:|---:|---:|",
    ]
    for set_name, entry in results["sets"].items():
        for metric, m in entry["metrics"].items():
            label = f"{set_name} {metric} ({entry['queries']} q, {entry['docs']} docs)"
            lines.append(f"| {label} | {m['baseline']:.1f} | {m['candidate']:.1f} | {m['change']:+.1f} ± {m['paired_se']:.1f} |")
    speed = results["speed"]
    lines.append(
        f"| encoding speed, docs/s ({speed['docs']} docs, {results['threads']} threads) | "
        f"{speed['baseline_docs_per_s']:.1f} | {speed['candidate_docs_per_s']:.1f} | "
        f"{speed['candidate_over_baseline_time']:.1f}x the time |"
    )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
