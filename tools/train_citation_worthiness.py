"""Rebuild resources/writing/citation_worthiness.json: which sentences would a published paper cite in?

    python tools/train_citation_worthiness.py [--data ../shared/data] [--target-recall 0.9]

Sentences WITH vs WITHOUT citation markers from the unarXive samples (2022 JSONL full texts
and the 2019 paper-centred texts), markers removed and each formula one word, split with the
app's own sentence splitter (a removed marker may open a sentence), kept in their paragraphs.
Papers (never sentences) are split 70/15/15 into train / threshold / test by a hash of their
id. A logistic regression over hashed unigrams and bigrams is trained on the first part; the
threshold is the highest one that keeps `--target-recall` on the second part. The paragraph
weights (`writing/paragraph_worthiness.py`: a sentence's score with its paragraph neighbours')
are fitted on the second part too, whose sentences the classifier never saw, with their own
threshold for the same recall. Precision and recall are measured on the third part and stored
in the artefact. ACM-CR (the benchmark's data) is never read.
"""

from __future__ import annotations

import argparse
import json
import re
import zlib
from pathlib import Path

import numpy as np

from scimult_desktop.writing.claims import assess_claim, assess_claims, assess_cues
from scimult_desktop.writing.paragraph_worthiness import ParagraphWeights, neighbour_scores
from scimult_desktop.writing.sentences import normalise_sentence, sentence_spans
from scimult_desktop.writing.worthiness import MODEL_FILE, WorthinessModel, features

ROOT = Path(__file__).resolve().parents[1]
BUCKETS = 1 << 14
CITE = "\ue000"  # stands for a citation marker while splitting
# A formula stands as one word, as the draft readers keep inline math as words (writing/projection.py):
# removed outright it would leave the holes ("sampled from, and") that a removed citation leaves.
FORMULA = "x"
MIN_WORDS, MAX_WORDS = 6, 80


def sentences_of(text: str) -> list[tuple[str, int]]:
    """(sentence without markers, 1 if it carried one) for a paragraph whose markers are CITE."""
    out = []
    # A sentence may open with a citation ("[12] proposed ..."): a place to split, as in the app.
    for a, b in sentence_spans(text, {i for i, char in enumerate(text) if char == CITE}):
        raw = text[a:b]
        sentence = normalise_sentence(raw.replace(CITE, " "))
        if MIN_WORDS <= len(re.findall(r"[A-Za-z]+", sentence)) <= MAX_WORDS:
            out.append((sentence, int(CITE in raw)))
    return out


Paragraphs = list[list[tuple[str, int]]]  # a paper's paragraphs, each its (sentence, cited) in order


def unarxive_2022(data: Path) -> dict[str, Paragraphs]:
    papers = {}
    for line in (data / "unarxive_samples/2022_open_subset_sample/arXiv_src_2212_086.jsonl").open(encoding="utf-8"):
        paper = json.loads(line)
        found = []
        for paragraph in paper["body_text"]:
            text = re.sub(r"\{\{cite:[^}]*\}\}", CITE, paragraph["text"])
            text = re.sub(r"\{\{formula[^}]*\}\}", FORMULA, text)
            found.append(sentences_of(re.sub(r"\{\{(?:figure|table|float)[^}]*\}\}", " ", text)))
        papers[f"2022:{paper['paper_id']}"] = found
    return papers


def unarxive_2019(data: Path) -> dict[str, Paragraphs]:
    papers = {}
    for path in sorted((data / "unarxive_samples/2019_sample/paper_centered_sample/papers").glob("*.txt")):
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        # Hard-wrapped text: a short line without final punctuation is a heading or a byline.
        blocks, current = [], []
        for line in lines:
            stripped = line.strip()
            if not stripped or (len(stripped) < 40 and not re.search(r"[.,;:)]$", stripped)):
                blocks.append(" ".join(current))
                current = []
                continue
            current.append(stripped)
        blocks.append(" ".join(current))
        found = []
        for block in blocks:
            text = re.sub(r"\{\{cite:[^}]*\}\}", CITE, block).replace("FORMULA", FORMULA)
            found.append(sentences_of(text.replace("REF", " ")))
        papers[f"2019:{path.stem}"] = found
    return papers


def part_of(paper_id: str) -> str:
    bucket = zlib.crc32(paper_id.encode()) % 20
    return "train" if bucket < 14 else "threshold" if bucket < 17 else "test"


def train(rows: list[list[int]], labels: np.ndarray, l2: float = 1e-3, iterations: int = 300, rate: float = 0.05) -> tuple[float, np.ndarray]:
    """L2-regularised logistic regression, full batch with Adam over sparse rows (numpy only).

    l2=1e-3 was the best of 1e-4..3e-3 by AUC on the threshold part (0.80); weaker overfits badly.
    """
    lengths = np.array([len(r) for r in rows])
    ids = np.concatenate([np.asarray(r) for r in rows])
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    row_of = np.repeat(np.arange(len(rows)), lengths)
    params = np.zeros(BUCKETS + 1)  # the weights, then the bias
    first, second = np.zeros_like(params), np.zeros_like(params)
    for step in range(1, iterations + 1):
        z = params[-1] + np.add.reduceat(params[:-1][ids], starts)
        error = 1 / (1 + np.exp(-z)) - labels
        gradient = np.append(np.bincount(ids, weights=error[row_of], minlength=BUCKETS) / len(rows) + l2 * params[:-1], error.mean())
        first = 0.9 * first + 0.1 * gradient
        second = 0.999 * second + 0.001 * gradient ** 2
        params -= rate * (first / (1 - 0.9 ** step)) / (np.sqrt(second / (1 - 0.999 ** step)) + 1e-8)
    return float(params[-1]), params[:-1]


def probabilities(bias: float, weights: np.ndarray, rows: list[list[int]]) -> np.ndarray:
    return np.array([1 / (1 + np.exp(-(bias + weights[np.asarray(r)].sum()))) for r in rows])


def precision_recall(scores: np.ndarray, labels: np.ndarray, threshold: float) -> tuple[float, float]:
    chosen = scores >= threshold
    tp = float((chosen & (labels == 1)).sum())
    return tp / max(1, chosen.sum()), tp / max(1, (labels == 1).sum())


def paragraph_rows(model: WorthinessModel, paragraphs: Paragraphs) -> tuple[np.ndarray, np.ndarray]:
    """Per sentence: its log-odds, the mean of its paragraph neighbours' (0 without any), whether it has any; and its label."""
    rows, labels = [], []
    for found in paragraphs:
        scores = [model.logit(sentence) for sentence, _ in found]
        for i, (_, label) in enumerate(found):
            around = neighbour_scores(scores, [0] * len(found), i)
            rows.append((scores[i], sum(around) / len(around) if around else 0.0, float(bool(around))))
            labels.append(label)
    return np.array(rows), np.array(labels, float)


def fit_paragraph(rows: np.ndarray, labels: np.ndarray, target_recall: float) -> ParagraphWeights:
    """Logistic regression of the label on `paragraph_rows`, and the threshold that keeps `target_recall`."""
    design = np.hstack([rows, np.ones((len(rows), 1))])
    params = np.zeros(design.shape[1])
    for _ in range(5000):  # four parameters, thousands of rows: plain gradient descent converges
        params -= 0.1 * design.T @ (1 / (1 + np.exp(-design @ params)) - labels) / len(labels)
    combined = design @ params
    threshold = float(np.quantile(combined[labels == 1], 1 - target_recall))
    return ParagraphWeights(*(float(v) for v in params), threshold)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--target-recall", type=float, default=0.9)
    parser.add_argument("--out", default=str(ROOT / "resources" / MODEL_FILE))
    args = parser.parse_args()
    data = Path(args.data)
    papers = {**unarxive_2022(data), **unarxive_2019(data)}
    paragraphs: dict[str, Paragraphs] = {"train": [], "threshold": [], "test": []}
    for paper_id, found in papers.items():
        paragraphs[part_of(paper_id)] += [paragraph for paragraph in found if paragraph]
    parts = {name: [row for paragraph in found for row in paragraph] for name, found in paragraphs.items()}
    encoded = {name: ([features(s, BUCKETS) for s, _ in rows], np.array([y for _, y in rows], float)) for name, rows in parts.items()}
    for name, (_, labels) in encoded.items():
        print(f"{name}: {len(labels)} sentences, {int(labels.sum())} with citations")
    bias, weights = train(*encoded["train"])
    weights = np.where(np.abs(weights) >= 0.02, np.round(weights, 3), 0.0)  # what is shipped: small weights dropped
    kept = {i: float(w) for i, w in enumerate(weights) if w}
    scores = {name: probabilities(bias, weights, rows) for name, (rows, _) in encoded.items()}
    # The highest threshold that still reports target-recall of the cited sentences of held-out papers.
    held = scores["threshold"][encoded["threshold"][1] == 1]
    threshold = float(np.quantile(held, 1 - args.target_recall))
    precision, recall = precision_recall(scores["test"], encoded["test"][1], threshold)
    base_rate = float(encoded["test"][1].mean())
    print(f"threshold {threshold:.3f}; test papers: precision {precision:.3f}, recall {recall:.3f} (cited share {base_rate:.3f})")
    # What the app reports: the shipped (pruned) classifier or the cue heuristic (writing/claims.py).
    model = WorthinessModel(BUCKETS, bias, kept, threshold)
    cues = np.array([assess_cues(s).needs_citation for s, _ in parts["test"]])
    either = np.array([assess_claim(s, model).needs_citation for s, _ in parts["test"]])
    app_precision, app_recall = precision_recall(either.astype(float), encoded["test"][1], 0.5)
    cue_precision, cue_recall = precision_recall(cues.astype(float), encoded["test"][1], 0.5)
    print(f"cues alone: precision {cue_precision:.3f}, recall {cue_recall:.3f}; "
          f"classifier or cues (the app): precision {app_precision:.3f}, recall {app_recall:.3f}")
    # With the paragraph: fitted on the threshold part, whose sentences the classifier never saw.
    combined_rows, combined_labels = paragraph_rows(model, paragraphs["threshold"])
    paragraph = fit_paragraph(combined_rows, combined_labels, args.target_recall)
    model = WorthinessModel(BUCKETS, bias, kept, threshold, paragraph)
    test_rows, test_labels = paragraph_rows(model, paragraphs["test"])
    combined = np.array([paragraph.logit(own, [around] if has else []) for own, around, has in test_rows])
    paragraph_precision, paragraph_recall = precision_recall(combined, test_labels, paragraph.threshold)
    in_paragraphs = np.array([c.needs_citation for found in paragraphs["test"]
                              for c in assess_claims([s for s, _ in found], [0] * len(found), model)])
    app_paragraph_precision, app_paragraph_recall = precision_recall(in_paragraphs.astype(float), test_labels, 0.5)
    print(f"with the paragraph ({paragraph}): test papers: precision {paragraph_precision:.3f}, recall {paragraph_recall:.3f}; "
          f"with cues (the app on drafts): precision {app_paragraph_precision:.3f}, recall {app_paragraph_recall:.3f}")
    artefact = {
        "about": "citation worthiness: logistic regression over hashed unigrams+bigrams (scimult_desktop/writing/worthiness.py); "
                 "rebuilt by tools/train_citation_worthiness.py from unarXive samples",
        "buckets": BUCKETS,
        "bias": round(bias, 4),
        "threshold": round(threshold, 4),
        "held_out": {"papers": "15% of papers by id hash (test part)", "sentences": len(encoded["test"][1]),
                     "precision": round(precision, 3), "recall": round(recall, 3), "cited_share": round(base_rate, 3),
                     "with_cues": {"precision": round(app_precision, 3), "recall": round(app_recall, 3)},
                     "cues_alone": {"precision": round(cue_precision, 3), "recall": round(cue_recall, 3)},
                     "target_recall_on_threshold_part": args.target_recall,
                     "with_paragraph": {"precision": round(paragraph_precision, 3), "recall": round(paragraph_recall, 3),
                                        "with_cues": {"precision": round(app_paragraph_precision, 3),
                                                      "recall": round(app_paragraph_recall, 3)}}},
        "paragraph": paragraph.to_json(),
        "weights": {str(i): w for i, w in kept.items()},
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(artefact, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {out} ({out.stat().st_size // 1024} KiB, {len(kept)} weights)")


if __name__ == "__main__":
    main()
