"""Quality of search, citation suggestion and classification, against baselines in the same run.

    python benchmarks/eval_quality.py [--only scifact,acm,drafts,classify] [--model NAME] [--engine E]
                                      [--workdir .bench-out] [--limit-queries N]
    python benchmarks/eval_quality.py --compare BEFORE,AFTER     # e.g. minilm-scimult-moe-untrained,minilm-scimult-moe

- SciFact test (../shared/data/scifact): nDCG@10 of `search` in keyword (BM25, the baseline),
  semantic and hybrid (default) modes.
- ACM-CR (../shared/data/acm_cr: collection_bib imported, paragraph citation contexts as queries):
  Recall@10 and nDCG@10 of `suggest --text` (hybrid), against BM25 alone and the link expert alone.
- ACM-CR drafts (sentence topics, citation markers removed): each citing paper's sentences as one
  Markdown paragraph (one sentence a line) in their original order, run through the draft path
  (`suggest --file`, `Library.suggest_for_draft`), scored per sentence (Recall@10, nDCG@10; a
  sentence the draft path does not report scores 0) against the same sentences asked one by one
  (`suggest --text`), with the paired standard error of the difference and the share reported;
  the difference is split into what unreported sentences lose and what reported ones gain or lose.
- S2ORC MAG sample (single-field papers with abstracts): zero-shot top-1 accuracy and macro-F1 of
  `classify` (label name + description, classification expert) against labels given by name only.

With the default model (all-MiniLM-L6-v2 upcycled; experts are copies of its attention weights),
"semantic" *is* plain all-MiniLM-L6-v2, so that column is the MiniLM baseline.
Libraries are built in --workdir and reused: re-runs skip import and embedding.

--compare BEFORE,AFTER runs every benchmark for two installed models in one run (same data,
same libraries, vectors kept apart by model key) and ends with the before/after table of the
six numbers the shipped default must improve: SciFact nDCG@10 (search expert) and ACM-CR
Recall@10 (link expert), each semantic and hybrid, and MAG top-1 accuracy (classification
expert) against bare field names and with the app's label prompts. In this mode ACM-CR indexes
only the link expert (what `suggest` uses) and skips the latency probe.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import re
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

from scimult_desktop.domain.tasks import Task
from scimult_desktop.services.models import indexing
from scimult_desktop.services.models import bundles as models
from scimult_desktop.services.library.facade import Library

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
PER_QUERY = "per_query"  # each query's (or paper's) value, for paired standard errors; never printed


def ndcg_at(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    dcg = sum(1 / math.log2(i + 2) for i, doc in enumerate(ranked[:k]) if doc in relevant)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
    return dcg / ideal if ideal else 0.0


def recall_at(ranked: list[str], relevant: set[str], k: int = 10) -> float:
    return len(set(ranked[:k]) & relevant) / len(relevant) if relevant else 0.0


def build_library(folder: Path, csl_items: list[dict], tasks: list[Task], args) -> Library:
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "source.json"
    if not source.exists():
        source.write_text(json.dumps(csl_items), encoding="utf-8")
    library = Library.open(folder / "lib", model=args.model, engine=args.engine)
    started = time.monotonic()
    report = library.import_paths([source])
    print(f"  import: +{report.added} (skipped {report.skipped}) in {time.monotonic() - started:.1f}s", file=sys.stderr)
    started = time.monotonic()
    name = args.model or models.ensure_model()
    result = indexing.index_library(
        library.database, library.encoder(name, args.engine), models.model_key(name), tasks=tasks,
        progress=_progress,
    )
    print(f"\n  index: {result['embedded']} new vectors in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return library


def _progress(event) -> None:
    if event.total:
        print(f"\r  {event.stage}: {event.done}/{event.total}", end="", file=sys.stderr)


def eval_scifact(args) -> dict:
    root = DATA / "scifact"
    corpus = [json.loads(line) for line in (root / "corpus.jsonl").open(encoding="utf-8")]
    items = [{"id": f"sf{d['_id']}", "title": d["title"], "abstract": d["text"], "type": "article-journal"} for d in corpus]
    queries = {q["_id"]: q["text"] for q in map(json.loads, (root / "queries.jsonl").open(encoding="utf-8"))}
    qrels: dict[str, set[str]] = defaultdict(set)
    with (root / "qrels" / "test.tsv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            if int(row["score"]) > 0:
                qrels[row["query-id"]].add(f"sf{row['corpus-id']}")
    qids = sorted(qrels, key=int)[: args.limit_queries]
    library = build_library(Path(args.workdir) / "scifact", items, [Task.SEARCH], args)
    texts = [queries[q] for q in qids]
    scores = {}
    for mode in ("keyword", "semantic", "hybrid"):
        started = time.monotonic()
        results = library.search_many(texts, k=10, mode=mode)
        elapsed = (time.monotonic() - started) / len(texts) * 1000
        values = [ndcg_at([h.paper.citekey for h in hits], qrels[q]) for q, hits in zip(qids, results)]
        scores[mode] = {"ndcg@10": 100 * sum(values) / len(values), "ms_per_query": elapsed, PER_QUERY: values}
    library.close()
    return {"queries": len(qids), "papers": len(items), **scores}


def _acm_topics(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    topics = {}
    for block in re.findall(r"<top>(.*?)</top>", text, flags=re.S):
        num = re.search(r"<num>\s*Number:\s*(\S+)", block).group(1)
        desc = re.search(r"<desc>\s*Description:\s*(.*?)\s*<narr>", block, flags=re.S).group(1)
        topics[num] = " ".join(desc.split())
    return topics


def acm_library(args, tasks: list[Task]) -> Library:
    """The ACM-CR collection imported into --workdir/acm and embedded for `tasks` (reused across runs)."""
    root = DATA / "acm_cr"
    folder = Path(args.workdir) / "acm"
    folder.mkdir(parents=True, exist_ok=True)
    library = Library.open(folder / "lib", model=args.model, engine=args.engine)
    started = time.monotonic()
    report = library.import_paths([root / "collection_bib"])
    print(f"  import: +{report.added} (skipped {report.skipped}, failed {len(report.failed)}) in {time.monotonic() - started:.1f}s", file=sys.stderr)
    name = args.model or models.ensure_model()
    started = time.monotonic()
    result = indexing.index_library(library.database, library.encoder(name, args.engine), models.model_key(name), tasks=tasks, progress=_progress)
    print(f"\n  index: {result['embedded']} new vectors in {time.monotonic() - started:.1f}s", file=sys.stderr)
    return library


def eval_acm(args) -> dict:
    root = DATA / "acm_cr"
    library = acm_library(args, [Task.LINK] if args.compare else [Task.LINK, Task.SEARCH])

    topics = _acm_topics(root / "topics+qrels" / "contexts.topics")
    blacklist = {line.strip().lower() for line in (root / "topics+qrels" / "blacklist.txt").open() if line.strip()}
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in (root / "topics+qrels" / "contexts.qrels").open():
        topic, _, doi, rel = line.split()
        if int(rel) > 0:
            qrels[topic].add(doi.lower())
    qids = [q for q in topics if qrels.get(q)][: args.limit_queries]
    texts = [topics[q] for q in qids]
    out = {"queries": len(qids), "papers": library.count_papers()}
    finder_modes = {"bm25": "keyword", "link expert": "semantic", "hybrid (default)": "hybrid"}
    for label, mode in finder_modes.items():
        started = time.monotonic()
        if mode == "hybrid":
            results = library.suggest_many(texts, k=50)
        elif mode == "keyword":
            # Plain BM25 over the whole context (no pruning of common words): the baseline.
            results = [library.papers.keyword_search(t, 50, snippets=0, max_terms=None) for t in texts]
        else:
            finder = library._finder(Task.LINK)
            rankings = finder._dense_rankings(texts, Task.LINK, 50, None)
            results = [finder._hits(r, 50, t, {}) for r, t in zip(rankings, texts)]
        elapsed = (time.monotonic() - started) / len(texts) * 1000
        recalls, ndcgs = [], []
        for q, hits in zip(qids, results):
            ranked = [h.paper.doi for h in hits if h.paper.doi and h.paper.doi not in blacklist][:10]
            recalls.append(recall_at(ranked, qrels[q]))
            ndcgs.append(ndcg_at(ranked, qrels[q]))
        out[label] = {"recall@10": 100 * sum(recalls) / len(recalls), "ndcg@10": 100 * sum(ndcgs) / len(ndcgs),
                      "ms_per_query": elapsed, PER_QUERY: recalls}
    if not args.compare:
        out["latency_ms"] = single_query_latency(library, texts[:40])
    library.close()
    return out


# Numeric citation markers of the ACM-CR sentences: [3], [46, 47], [12-15], [3; 5].
_MARKER = re.compile(r"\s*\[\s*\d+(?:\s*[,;\u2013-]\s*\d+)*\s*\]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>#@$~|])")


def _acm_sentence_topics(root: Path) -> list[tuple[str, str, str]]:
    """(topic, citing paper title, sentence without citation markers) in file order."""
    text = (root / "topics+qrels" / "sentences.topics").read_text(encoding="utf-8")
    found = []
    for block in re.findall(r"<top>(.*?)</top>", text, flags=re.S):
        num = re.search(r"<num>\s*Number:\s*(\S+)", block).group(1)
        title = re.search(r"<title>\s*(.*?)\s*\n", block).group(1)
        desc = re.search(r"<desc>\s*Description:\s*(.*?)\s*<narr>", block, flags=re.S).group(1)
        found.append((num, title, " ".join(_MARKER.sub("", desc).split())))
    return found


def eval_drafts(args) -> dict:
    """The draft path (`suggest --file`) against the same sentences asked alone (`suggest --text`)."""
    root = DATA / "acm_cr"
    library = acm_library(args, [Task.LINK])
    blacklist = {line.strip().lower() for line in (root / "topics+qrels" / "blacklist.txt").open() if line.strip()}
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in (root / "topics+qrels" / "sentences.qrels").open():
        topic, _, doi, rel = line.split()
        if int(rel) > 0:
            qrels[topic].add(doi.lower())
    topics = [t for t in _acm_sentence_topics(root) if qrels.get(t[0]) and t[2]][: args.limit_queries]
    # One Markdown paragraph per citing paper, one sentence a line (markup characters escaped).
    papers: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for num, title, sentence in topics:
        papers[title].append((num, sentence))
    lines, line_of = [], {}
    for title, sentences in papers.items():
        for num, sentence in sentences:
            lines.append(_MARKDOWN_SPECIAL.sub(r"\\\1", sentence))
            line_of[num] = len(lines)
        lines.append("")
    draft = Path(args.workdir) / "acm-draft.md"
    draft.write_text("\n".join(lines), encoding="utf-8")

    def top_dois(hits) -> list[str]:
        dois = [h["doi"] if isinstance(h, dict) else h.paper.doi for h in hits]
        return [d.lower() for d in dois if d and d.lower() not in blacklist][:10]

    started = time.monotonic()
    report = library.suggest_for_draft(draft, k=50)
    draft_seconds = time.monotonic() - started
    by_line: dict[int, list[dict]] = defaultdict(list)
    for item in report:
        if item["suggestions"]:
            for line in range(item["line"], item["end_line"] + 1):
                by_line[line].append(item)
    dois = {p.id: p.doi for p in library.papers.get_many([s["id"] for i in report for s in i["suggestions"]])}
    started = time.monotonic()
    alone = library.suggest_many([sentence for _, _, sentence in topics], k=50)
    alone_seconds = time.monotonic() - started
    out: dict = {"sentences": len(topics), "citing_papers": len(papers), "papers": library.count_papers()}
    draft_values: dict[str, list[float]] = {"recall@10": [], "ndcg@10": []}
    alone_values: dict[str, list[float]] = {"recall@10": [], "ndcg@10": []}
    reported, was_reported = 0, []
    for (num, _, _), hits in zip(topics, alone):
        items = by_line.get(line_of[num], [])
        # A sentence split in two by the draft reader: the longer part speaks for it.
        item = max(items, key=lambda i: len(i["sentence"]), default=None)
        reported += item is not None
        was_reported.append(item is not None)
        ranked = top_dois([{"doi": dois.get(s["id"])} for s in item["suggestions"]]) if item else []
        for values, found in ((draft_values, ranked), (alone_values, top_dois(hits))):
            values["recall@10"].append(recall_at(found, qrels[num]))
            values["ndcg@10"].append(ndcg_at(found, qrels[num]))
    for label, values, seconds in (("asked alone (suggest --text)", alone_values, alone_seconds),
                                   ("draft path (suggest --file)", draft_values, draft_seconds)):
        out[label] = {metric: 100 * sum(v) / len(v) for metric, v in values.items()}
        out[label]["ms_per_sentence"] = 1000 * seconds / len(topics)
        out[label][PER_QUERY] = values["recall@10"]
    out["draft path (suggest --file)"]["reported_percent"] = 100 * reported / len(topics)
    out["draft minus alone"] = {
        metric: {"difference": out["draft path (suggest --file)"][metric] - out["asked alone (suggest --text)"][metric],
                 "paired_se": paired_standard_error(alone_values[metric], draft_values[metric])}
        for metric in ("recall@10", "ndcg@10")
    }
    # The difference in two parts that add up to it: sentences not reported (each loses its
    # alone score) and reported sentences ranked in their paragraph rather than alone.
    for metric, parts in out["draft minus alone"].items():
        pairs = list(zip(was_reported, alone_values[metric], draft_values[metric]))
        parts["from_unreported"] = -100 * sum(a for r, a, _ in pairs if not r) / len(pairs)
        parts["from_reported"] = 100 * sum(d - a for r, a, d in pairs if r) / len(pairs)
    library.close()
    return out


def single_query_latency(library: Library, texts: list[str]) -> dict:
    """Median and 90th-percentile wall time of one interactive query at a time (warm process)."""
    library.search(texts[0], k=10)
    library.suggest(texts[0], k=10)
    timings: dict[str, list[float]] = {"search hybrid": [], "suggest": []}
    for text in texts:
        for name, call in (("search hybrid", library.search), ("suggest", library.suggest)):
            started = time.perf_counter()
            call(text, k=10)
            timings[name].append((time.perf_counter() - started) * 1000)
    summary = {}
    for name, values in timings.items():
        values.sort()
        summary[name] = {"median": round(values[len(values) // 2], 1), "p90": round(values[int(len(values) * 0.9)], 1)}
    return summary


def eval_classify(args) -> dict:
    """Two label sets (MAG fields, ACM author keywords) vs plain MiniLM, and the few-shot curve: benchmarks/eval_classification.py."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from eval_classification import eval_classify as run

    return run(args, sys.modules[__name__])


def macro_f1(gold: dict[str, str], predicted: dict[str, str]) -> float:
    classes = set(gold.values())
    f1s = []
    for c in classes:
        tp = sum(1 for k in gold if gold[k] == c and predicted.get(k) == c)
        fp = sum(1 for k in gold if gold[k] != c and predicted.get(k) == c)
        fn = sum(1 for k in gold if gold[k] == c and predicted.get(k) != c)
        f1s.append(2 * tp / (2 * tp + fp + fn) if tp else 0.0)
    return sum(f1s) / len(f1s)


# The six numbers of the before/after comparison: (label, benchmark, path into its result).
COMPARED = (
    ("SciFact nDCG@10, semantic (search expert)", "scifact", ("semantic", "ndcg@10")),
    ("SciFact nDCG@10, hybrid", "scifact", ("hybrid", "ndcg@10")),
    ("ACM-CR Recall@10, semantic (link expert)", "acm", ("link expert", "recall@10")),
    ("ACM-CR Recall@10, hybrid (suggest)", "acm", ("hybrid (default)", "recall@10")),
    ("MAG accuracy, field names (classify expert)", "classify", ("field name, cosine (baseline)", "accuracy")),
    ("MAG accuracy, label prompts (classify)", "classify", ("classify (default)", "accuracy")),
    ("ACM keywords accuracy, label texts (classify)", "classify", ("acm_keywords", "classify (default)", "accuracy")),
)


def paired_standard_error(before: list[float], after: list[float]) -> float:
    """Standard error (in points) of the mean per-query difference: how much of a change is noise."""
    differences = [100 * (b - a) for a, b in zip(before, after)]
    if len(differences) < 2:
        return float("nan")
    return statistics.stdev(differences) / math.sqrt(len(differences))


def comparison_table(before: str, after: str, results: dict[str, dict]) -> tuple[str, bool]:
    """Markdown table of the compared numbers and whether `after` beats `before` on every one evaluated.

    The last column is the paired standard error of the change over the same queries/papers;
    the verdict is on the numbers themselves, not on significance.
    """
    lines = [f"| benchmark | {before} | {after} | change | paired SE |", "|---|---:|---:|---:|---:|"]
    wins = []
    for label, bench, (*path, metric) in COMPARED:
        if bench not in results[before]:
            continue
        old_result, new_result = results[before][bench], results[after][bench]
        for key in path:  # (mode, metric) or (label set, mode, metric)
            old_result, new_result = old_result.get(key, {}), new_result.get(key, {})
        if metric not in old_result or metric not in new_result:
            continue
        old, new = old_result[metric], new_result[metric]
        wins.append(new > old)
        se = paired_standard_error(old_result.get(PER_QUERY, []), new_result.get(PER_QUERY, []))
        lines.append(f"| {label} | {old:.1f} | {new:.1f} | {new - old:+.1f} | {se:.1f} |")
    return "\n".join(lines), bool(wins) and all(wins)


def without_per_query(result):
    """The result as printed: per-query values stay in memory for the paired errors only."""
    if isinstance(result, dict):
        return {k: without_per_query(v) for k, v in result.items() if k != PER_QUERY}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", default="scifact,acm,drafts,classify", help="comma-separated subset of scifact,acm,drafts,classify,passages")
    parser.add_argument("--model", default=None, help="installed model name (default: the active model)")
    parser.add_argument("--engine", default=None, help="inference engine (default: settings)")
    parser.add_argument("--workdir", default=str(ROOT / ".bench-out"), help="where evaluation libraries are kept")
    parser.add_argument("--limit-queries", type=int, default=None, help="evaluate on the first N queries only")
    parser.add_argument("--baseline-bundle", default=None, help="plain all-MiniLM-L6-v2 bundle for the classification baseline (default: built into --workdir)")
    parser.add_argument("--compare", default=None, metavar="BEFORE,AFTER", help="two installed models: before/after table")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"evaluation data not found at {DATA}")
    if not args.compare:
        print(json.dumps(without_per_query(run_benchmarks(args))))
        return
    names = [n.strip() for n in args.compare.split(",")]
    if len(names) != 2:
        sys.exit("--compare takes two installed model names: BEFORE,AFTER")
    results = {}
    for name in names:
        print(f"==== model {name}", file=sys.stderr)
        results[name] = run_benchmarks(argparse.Namespace(**{**vars(args), "model": name}))
    table, better = comparison_table(names[0], names[1], results)
    print(json.dumps(without_per_query(results)))
    print(table)
    print(f"{names[1]} beats {names[0]} on every compared number: {'yes' if better else 'no'}")
    from shipping_rule import shipping_verdict  # benchmarks/ is on sys.path when run as a script

    print(shipping_verdict(names[0], names[1], results, COMPARED, PER_QUERY, paired_standard_error))


def _eval_passages(args) -> dict:
    """Passage search vs abstract-only on body-text questions: benchmarks/eval_passages.py (run only with --only passages)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from eval_passages import eval_passages

    return eval_passages(args)


def run_benchmarks(args) -> dict:
    results = {}
    for name, fn in (("scifact", eval_scifact), ("acm", eval_acm), ("drafts", eval_drafts), ("classify", eval_classify),
                     ("passages", _eval_passages)):
        if name in args.only.split(","):
            print(f"== {name}", file=sys.stderr)
            results[name] = fn(args)
            print(json.dumps(without_per_query({name: results[name]}), indent=1))
    return results


if __name__ == "__main__":
    main()
