"""Choose how labels are written for cosine models, on a label set the benchmark does NOT evaluate.

    python tools/select_label_template.py [--bundle DIR]

Selection data: the 49 unarXive-2022 papers in ../shared/data with their arXiv categories
(`resources/labels/arxiv_categories.json`, aliases folded). benchmarks/eval_quality.py evaluates
MAG fields of study and ACM author keywords, never arXiv categories, so the choice is not tuned
on what is reported. The encoder is plain all-MiniLM-L6-v2 (the untrained upcycled default,
built with `python -m scimult_train.build_default --untrained --out DIR` when --bundle is not given).
Prints, per candidate, top-1 "a correct category first" and the MRR of the first correct category;
the winner by MRR is `label_texts.COSINE_TEMPLATE`.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.embedding.onnx_encoder import OnnxEncoder
from scimult_desktop.services.finding.label_sets import label_text, load_label_set

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))  # eval_classification builds the plain MiniLM bundle
SAMPLE = ROOT.parent / "shared" / "data" / "unarxive_samples" / "2022_open_subset_sample" / "arXiv_src_2212_086.jsonl"


def meaning(label) -> str:
    return label.title or label.name


CANDIDATES = {
    "meaning [SEP] description (SciMult format)": lambda l: [label_text(l)],
    "meaning: description": lambda l: [f"{meaning(l)}: {l.description}"],
    "A research paper in {meaning}. + SciMult format": lambda l: [f"A research paper in {meaning(l)}.", label_text(l)],
    "earlier ensemble, with the title": lambda l: [f"A research paper in {meaning(l)}.", f"{meaning(l)}: {l.description}"],
    "earlier ensemble, with the code (the old app)": lambda l: [f"A research paper in {l.name}.", f"{l.name}: {l.description}"],
    "meaning + SciMult format": lambda l: [meaning(l), label_text(l)],
    "description alone": lambda l: [l.description],
    "meaning alone": lambda l: [meaning(l)],
    "group: meaning: description": lambda l: [f"{l.group}: {meaning(l)}: {l.description}"],
}
# For labels that have no description (user tags, keyword lists): the same papers, descriptions ignored.
CANDIDATES_WITHOUT_DESCRIPTION = {
    "no description: meaning": lambda l: [meaning(l)],
    "no description: A research paper in {meaning}.": lambda l: [f"A research paper in {meaning(l)}."],
    "no description: both, averaged": lambda l: [meaning(l), f"A research paper in {meaning(l)}."],
    "no description: A paper about {meaning}.": lambda l: [f"A paper about {meaning(l)}."],
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bundle", default=None, help="a plain MiniLM bundle folder (default: build one in a temp folder)")
    args = parser.parse_args()
    if not SAMPLE.is_file():
        sys.exit(f"selection data not found: {SAMPLE}")
    with tempfile.TemporaryDirectory() as work:
        from eval_classification import build_plain_minilm

        encoder = OnnxEncoder(args.bundle or build_plain_minilm(Path(work) / "plain-minilm"))
        full = load_label_set("arxiv")
        labels = list(full.canonical())
        names = [label.name for label in labels]

        def canonical(code: str) -> str:
            label = full.get(code)
            return label.alias_of or label.name

        rows = [json.loads(line)["metadata"] for line in SAMPLE.open(encoding="utf-8")]
        gold = [{canonical(c) for c in r["categories"].split() if c in full} for r in rows]
        papers = encoder.encode([" ".join(f"{r['title']} [SEP] {r['abstract']}".split()) for r in rows], Task.CLASSIFY, Role.DOCUMENT)
        print(f"{len(rows)} papers, {len(labels)} labels")
        for name, texts_of in {**CANDIDATES, **CANDIDATES_WITHOUT_DESCRIPTION}.items():
            groups = [texts_of(label) for label in labels]
            encoded = encoder.encode([t for g in groups for t in g], Task.CLASSIFY, Role.DOCUMENT)
            vectors, start = [], 0
            for group in groups:
                mean = encoded[start : start + len(group)].mean(axis=0)
                start += len(group)
                vectors.append(mean / np.linalg.norm(mean))
            sims = papers @ np.stack(vectors).T
            top1, rr = [], []
            for row, wanted in zip(sims, gold):
                order = [names[j] for j in np.argsort(-row)]
                top1.append(order[0] in wanted)
                rr.append(1 / (1 + min(order.index(c) for c in wanted)))
            print(f"{name:50s} top-1 {100 * np.mean(top1):5.1f}  MRR {np.mean(rr):.3f}")


if __name__ == "__main__":
    main()
