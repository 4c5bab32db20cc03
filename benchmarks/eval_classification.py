"""Classification quality on two label sets, each against plain all-MiniLM-L6-v2 in the same run,
and what a few tagged papers per class add. Called by eval_quality.py (`--only classify`).

Label sets (both built from ../shared/data; neither is the one label texts were chosen on, see
scimult_desktop/services/finding/label_texts.py):

- MAG fields of study: the S2ORC sample's papers with an abstract and exactly one field (405),
  the built-in `mag` set (19 fields, name + description + synonyms). Top-1 accuracy, macro-F1.
- ACM author keywords: the ACM-CR records that training holds out (`acm_cr_evaluation_dois`:
  cited and citing papers of the ACM-CR topics) with an abstract and at least one keyword of
  the vocabulary; vocabulary = author keywords on >= 25 records of the whole collection (184,
  plain words, no descriptions). A paper counts as right when its top label is one of its own
  keywords (multi-label).

Baseline, per set: plain all-MiniLM-L6-v2 (the untrained upcycled default: its experts are
copies of MiniLM's attention, so the classify expert *is* mean-pooled MiniLM) over the same
papers' `title [SEP] abstract`, each label embedded from the label file's own text
(`label_sets.label_text`: "name [SEP] description", the title for a coded name), no prompts.
"classify (default)" is `Library.classify` with the model under test (zero-shot: nothing tagged).
Changes carry the paired standard error over papers.

Few-shot (MAG): for k = 1, 2, 4, 8, three fixed draws (seeds 0-2) tag k papers per field
(at most the field's count minus one, so every field keeps a paper to evaluate) as the user
would, and `Library.classify` runs again; accuracy on the papers left untagged, against
zero-shot on the same papers (paired SE of the draw-averaged per-paper difference).
"""

from __future__ import annotations

import json
import random
import re
import statistics
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np

from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.services.finding import label_sets

KEYWORD_MIN_RECORDS = 25
FEW_SHOT_K = (1, 2, 4, 8)
FEW_SHOT_DRAWS = 3
BASELINE = "plain MiniLM on label texts (baseline)"
DEFAULT = "classify (default)"


def eval_classify(args, bench) -> dict:
    """Both label sets; MAG's numbers also at the top level under the keys `--compare` reads."""
    encoder = _baseline_encoder(args, bench)
    mag = _mag(args, bench, encoder)
    keywords = _acm_keywords(args, bench, encoder)
    return {**mag, "acm_keywords": keywords}


# ---- data ------------------------------------------------------------------------------------
def _mag(args, bench, encoder) -> dict:
    rows = [json.loads(line) for line in (bench.DATA / "s2orc_sample" / "metadata_sample.jsonl").open(encoding="utf-8")]
    rows = [r for r in rows if r.get("abstract") and r.get("mag_field_of_study") and len(r["mag_field_of_study"]) == 1]
    items = [{"id": f"s2{r['paper_id']}", "title": r["title"], "abstract": r["abstract"], "type": "article-journal"} for r in rows]
    gold = {f"s2{r['paper_id']}": {r["mag_field_of_study"][0].lower()} for r in rows}
    library = bench.build_library(Path(args.workdir) / "s2orc", items, [Task.CLASSIFY], args)
    full = label_sets.load_label_set("mag")
    out = _evaluate(bench, library, "mag", full, gold, encoder, Path(args.workdir) / "s2orc")
    # The earlier baseline (bare field names, the model under test): kept for --compare tables.
    out["field name, cosine (baseline)"] = _bare_names(bench, library, full, gold)
    out["few-shot"] = _few_shot_curve(library, "mag", full, gold, out[DEFAULT])
    library.close()
    return out


def _acm_keywords(args, bench, encoder) -> dict:
    from scimult_train.data.default_data import acm_cr_evaluation_dois

    root = bench.DATA / "acm_cr"
    records = _acm_records(root / "collection_bib")
    frequency = Counter(k for r in records.values() for k in r["keywords"])
    vocabulary = sorted(k for k, n in frequency.items() if n >= KEYWORD_MIN_RECORDS)
    known = set(vocabulary)
    held = acm_cr_evaluation_dois(root / "topics+qrels")
    chosen = sorted(d for d in held if d in records and records[d]["abstract"] and known & set(records[d]["keywords"]))
    items = [{"id": f"acm{i}", "title": records[d]["title"], "abstract": records[d]["abstract"], "DOI": d, "type": "paper-conference"}
             for i, d in enumerate(chosen)]
    gold = {f"acm{i}": known & set(records[d]["keywords"]) for i, d in enumerate(chosen)}
    folder = Path(args.workdir) / "acm-keywords"
    folder.mkdir(parents=True, exist_ok=True)
    label_file = folder / "acm_keywords.json"
    label_file.write_text(json.dumps({"name": "acm-keywords", "labels": [{"name": k} for k in vocabulary]}), encoding="utf-8")
    library = bench.build_library(folder, items, [Task.CLASSIFY], args)
    out = _evaluate(bench, library, str(label_file), label_sets.load_label_set(label_file), gold, encoder, folder)
    out["labels"] = len(vocabulary)
    library.close()
    return out


_FIELD = re.compile(r"^(\w+) = \{(.*)\},?$", flags=re.M)


def _acm_records(folder: Path) -> dict[str, dict]:
    """DOI -> title, abstract, author keywords (lower-cased) of the ACM-CR BibTeX exports (one field a line)."""
    records = {}
    for path in sorted(folder.rglob("*.bib")):
        for entry in path.read_text(encoding="utf-8").split("\n@")[1:]:
            fields = dict(_FIELD.findall(entry))
            doi = fields.get("doi", "").strip().lower()
            if not doi:
                continue
            keywords = sorted({k.strip().lower() for k in fields.get("keywords", "").split(",") if k.strip()})
            records[doi] = {"title": _plain(fields.get("title", "")), "abstract": _plain(fields.get("abstract", "")), "keywords": keywords}
    return records


def _plain(text: str) -> str:
    return " ".join(text.replace("{", "").replace("}", "").split())


# ---- scoring -----------------------------------------------------------------------------------
def _evaluate(bench, library, label_set_arg: str, full, gold: dict[str, set[str]], encoder, folder: Path) -> dict:
    ids = library.papers.all_ids()
    papers = library.papers.get_many(ids)
    keys = [p.citekey for p in papers]
    labels = list(full.canonical())
    names = [label.name.lower() for label in labels]
    out: dict = {"papers": len(gold), "majority_class": 100 * _majority(gold)}

    started = time.monotonic()
    vectors = _cached_baseline_vectors(encoder, [p.embedding_text() for p in papers], folder / "plain-minilm-vectors.npz")
    label_vectors = encoder.encode([label_sets.label_text(label) for label in labels], Task.CLASSIFY, Role.DOCUMENT)
    best = (vectors @ label_vectors.T).argmax(axis=1)
    baseline = {key: names[best[j]] for j, key in enumerate(keys)}
    print(f"  baseline: {time.monotonic() - started:.1f}s", file=sys.stderr)

    results = library.classify(None, label_set=label_set_arg, k=1)
    default = {r["citekey"]: r["labels"][0]["label"].lower() for r in results}
    out["method"] = results[0]["method_note"] if results else ""
    for name, predicted in ((BASELINE, baseline), (DEFAULT, default)):
        out[name] = _scores(bench, gold, predicted)
    out["default minus baseline"] = {
        "accuracy": out[DEFAULT]["accuracy"] - out[BASELINE]["accuracy"],
        "paired_se": bench.paired_standard_error(out[BASELINE]["per_query"], out[DEFAULT]["per_query"]),
    }
    return out


def _bare_names(bench, library, full, gold) -> dict:
    finder = library._finder(Task.CLASSIFY)
    ids = library.papers.all_ids()
    keys = {p.id: p.citekey for p in library.papers.get_many(ids)}
    vectors = finder.paper_vectors(Task.CLASSIFY, ids)
    labels = list(full.canonical())
    label_vectors = finder.backend.encode([label.name for label in labels], Task.CLASSIFY, Role.DOCUMENT)
    best = (np.stack([vectors[i] for i in ids]) @ label_vectors.T).argmax(axis=1)
    return _scores(bench, gold, {keys[pid]: labels[best[j]].name.lower() for j, pid in enumerate(ids)})


def _scores(bench, gold: dict[str, set[str]], predicted: dict[str, str]) -> dict:
    correct = [float(predicted.get(k) in g) for k, g in sorted(gold.items())]
    out = {"accuracy": 100 * sum(correct) / len(correct), "per_query": correct}
    if all(len(g) == 1 for g in gold.values()):
        out["macro_f1"] = 100 * bench.macro_f1({k: next(iter(g)) for k, g in gold.items()}, predicted)
    return out


def _majority(gold: dict[str, set[str]]) -> float:
    counts = Counter(label for labels in gold.values() for label in labels)
    top = counts.most_common(1)[0][0]
    return sum(top in g for g in gold.values()) / len(gold)


# ---- few-shot ------------------------------------------------------------------------------------
def _few_shot_curve(library, label_set_arg: str, full, gold: dict[str, set[str]], zero_shot: dict) -> dict:
    """Tag k papers per class (the user's tags), classify again, score the untagged papers."""
    zero = dict(zip(sorted(gold), zero_shot["per_query"]))
    by_class: dict[str, list[str]] = defaultdict(list)
    for key in sorted(gold):
        for label in gold[key]:
            by_class[label].append(key)
    ids = library.papers.ids_by_citekey(sorted(gold))
    titles = {label.name.lower(): label.name for label in full}
    curve = {}
    for k in FEW_SHOT_K:
        per_paper: dict[str, list[float]] = defaultdict(list)
        accuracies, zero_accuracies, notes = [], [], []
        for draw in range(FEW_SHOT_DRAWS):
            rng = random.Random(1000 * k + draw)
            tagged: set[str] = set()
            for label, keys in sorted(by_class.items()):
                pool = [key for key in keys if key not in tagged]
                tagged.update(rng.sample(pool, max(0, min(k, len(keys) - 1, len(pool)))))
            with library.database.transaction():
                for key in tagged:
                    for label in gold[key]:
                        library.papers.add_tag(ids[key], titles.get(label, label), "user")
            try:
                results = library.classify(None, label_set=label_set_arg, k=1)
            finally:
                with library.database.transaction():
                    library.database.conn.execute("DELETE FROM paper_tags WHERE source = 'user'")
            predicted = {r["citekey"]: r["labels"][0]["label"].lower() for r in results}
            notes.append(results[0]["few_shot"])
            evaluated = [key for key in sorted(gold) if key not in tagged]
            right = [float(predicted.get(key) in gold[key]) for key in evaluated]
            accuracies.append(100 * statistics.fmean(right))
            zero_accuracies.append(100 * statistics.fmean(zero[key] for key in evaluated))
            for key, value in zip(evaluated, right):
                per_paper[key].append(100 * (value - zero[key]))
        diffs = [statistics.fmean(v) for v in per_paper.values()]
        curve[f"k={k}"] = {
            "tagged_per_draw": round(statistics.fmean(n["tagged_papers"] for n in notes), 1),
            "few-shot accuracy": statistics.fmean(accuracies),
            "zero-shot accuracy (same papers)": statistics.fmean(zero_accuracies),
            "change": statistics.fmean(diffs),
            "paired_se": statistics.stdev(diffs) / len(diffs) ** 0.5,
            "knn_weight": [n["knn_weight"] for n in notes],
        }
        print(f"  few-shot k={k}: {curve[f'k={k}']['few-shot accuracy']:.1f} vs {curve[f'k={k}']['zero-shot accuracy (same papers)']:.1f}",
              file=sys.stderr)
    return curve


# ---- the baseline encoder -----------------------------------------------------------------------
def _baseline_encoder(args, bench):
    """Plain all-MiniLM-L6-v2: `--baseline-bundle`, else the untrained default built once into the workdir."""
    from scimult_desktop.embedding.onnx_encoder import OnnxEncoder

    folder = Path(getattr(args, "baseline_bundle", None) or Path(args.workdir) / "plain-minilm")
    if not (folder / "bundle.json").is_file():
        print(f"  building plain MiniLM into {folder}", file=sys.stderr)
        build_plain_minilm(folder)
    return OnnxEncoder(folder)


def build_plain_minilm(folder: Path) -> Path:
    """Build plain all-MiniLM-L6-v2 (the untrained upcycled default: every expert is MiniLM) into `folder`."""
    subprocess.run([sys.executable, "-m", "scimult_train.build_default", "--untrained", "--out", str(folder), "--name", "plain-minilm"],
                   check=True)
    return folder


def _cached_baseline_vectors(encoder, texts: list[str], path: Path) -> np.ndarray:
    import hashlib

    digest = hashlib.sha1(("\n".join(texts) + encoder.name).encode("utf-8")).hexdigest()
    if path.is_file():
        cached = np.load(path)
        if str(cached["digest"]) == digest:
            return cached["vectors"]
    vectors = encoder.encode(texts, Task.CLASSIFY, Role.DOCUMENT)
    np.savez(path, vectors=vectors, digest=np.array(digest))
    return vectors
