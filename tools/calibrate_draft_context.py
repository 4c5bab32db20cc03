"""Choose how much a sentence's paragraph context counts in draft suggestions (drafting.CONTEXT_WEIGHT).

    python tools/calibrate_draft_context.py [--data ../shared/data] [--workdir .bench-out/context]

Training-side data only: the unarXive 2022 sample's 49 full papers. Library: their 1.8k
reference strings (title = the raw reference). Queries: every sentence citing at least one
linked reference, markers removed, each paragraph kept as a paragraph; the gold papers are
the references the sentence cites. For each weight, Recall@10 and nDCG@10 of the sentence
ranked as the draft path ranks it (`Finder.suggestion_rankings(..., contexts=...)`: its
paragraph neighbours' similarity added at that weight, over its own candidates), and, for
comparison, the sentence glued to the previous one (an older draft query) and the
neighbours' own ranking fused in by reciprocal rank (the previous draft path), each against
the sentence alone with the paired standard error. Uses the active model (or --model).
"""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from eval_quality import ndcg_at, recall_at  # noqa: E402

from scimult_desktop.domain.fusion import reciprocal_rank_fusion  # noqa: E402
from scimult_desktop.domain.tasks import Task  # noqa: E402
from scimult_desktop.services.finding.finder import Ranked  # noqa: E402
from scimult_desktop.services.library.facade import Library  # noqa: E402
from scimult_desktop.services.models import bundles as models  # noqa: E402
from scimult_desktop.services.models import indexing  # noqa: E402
from scimult_desktop.services.writing import drafting  # noqa: E402
from scimult_desktop.writing.sentences import normalise_sentence, sentence_spans  # noqa: E402

WEIGHTS = (0.1, 0.25, 0.5, 0.75, 1.0)
CITE = "\ue000"


@dataclass
class Sentence:
    text: str
    paragraph: int
    gold: set[str]
    citations: tuple[str, ...] = ()


def load(data: Path) -> tuple[list[dict], list[list[Sentence]]]:
    items, papers = {}, []
    path = data / "unarxive_samples/2022_open_subset_sample/arXiv_src_2212_086.jsonl"
    for line in path.open(encoding="utf-8"):
        paper = json.loads(line)
        for key, entry in paper["bib_entries"].items():
            items[key] = {"id": f"ref{len(items)}-{key[:8]}", "title": entry["bib_entry_raw"][:500], "type": "article-journal"}
        sentences = []
        for number, paragraph in enumerate(paper["body_text"]):
            text, golds = paragraph["text"], []
            for span in sorted(paragraph["cite_spans"], key=lambda s: -s["start"]):
                text = text[:span["start"]] + CITE + text[span["end"]:]
                golds.append(span.get("ref_id"))
            golds.reverse()
            text = re.sub(r"\{\{(?:formula|figure|table|float)[^}]*\}\}", " ", text)
            marks = [m.start() for m in re.finditer(CITE, text)]
            for a, b in sentence_spans(text):
                clean = normalise_sentence(text[a:b].replace(CITE, " "))
                if not re.search(r"[A-Za-z]{3}", clean):
                    continue
                gold = {items[g]["id"] for g, m in zip(golds, marks) if a <= m < b and g in items}
                sentences.append(Sentence(clean, number, gold))
        papers.append(sentences)
    return list(items.values()), papers


def rerank_by_rank(own: Ranked, context: Ranked | None, weight: float) -> Ranked:
    """The previous draft path: the context's ranking fused by reciprocal rank at `weight`, over the sentence's candidates."""
    if context is None:
        return own
    candidates = set(own.ids)
    fused = reciprocal_rank_fusion([own.ids, [pid for pid in context.ids if pid in candidates]], weights=[1.0, weight])
    return Ranked([pid for pid, _ in fused], dict(fused), {})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--workdir", default=str(ROOT / ".bench-out" / "context"))
    parser.add_argument("--model", default=None)
    args = parser.parse_args()
    items, papers = load(Path(args.data))
    folder = Path(args.workdir)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "refs.json").write_text(json.dumps(items), encoding="utf-8")
    library = Library.open(folder / "lib", model=args.model)
    library.import_paths([folder / "refs.json"])
    name = args.model or models.ensure_model()
    indexing.index_library(library.database, library.encoder(name, None), models.model_key(name), tasks=[Task.LINK])
    finder = library._finder(Task.LINK)
    keys = {p.id: p.citekey for p in library.papers.get_many(library.papers.all_ids())}

    queries, contexts, previous, golds = [], [], [], []
    for sentences in papers:
        for i, sentence in enumerate(sentences):
            if sentence.gold:
                queries.append(sentence.text)
                contexts.append(drafting.paragraph_context(sentences, i))
                before = sentences[i - 1].text if i > 0 and sentences[i - 1].paragraph == sentence.paragraph else ""
                previous.append(f"{before} {sentence.text}".strip())
                golds.append(sentence.gold)
    depth = 100
    own = finder.suggestion_rankings(queries, depth)
    around = finder.suggestion_rankings([c or q for c, q in zip(contexts, queries)], depth)
    glued = finder.suggestion_rankings(previous, depth)
    with_context = sum(1 for c in contexts if c)
    print(f"{len(queries)} citing sentences ({with_context} with paragraph neighbours), {len(items)} references")

    def score(rankings) -> tuple[float, float, list[float]]:
        recalls, ndcgs = [], []
        for ranked, gold in zip(rankings, golds):
            top = [keys[pid] for pid in ranked.ids[:10]]
            recalls.append(recall_at(top, gold))
            ndcgs.append(ndcg_at(top, gold))
        return 100 * sum(recalls) / len(recalls), 100 * sum(ndcgs) / len(ndcgs), ndcgs

    _, _, alone = score(own)
    rows = [("sentence + previous sentence as one query (old)", glued)]
    rows += [(f"neighbours' ranking fused by rank at {w}", [rerank_by_rank(o, a if c else None, w) for o, a, c in zip(own, around, contexts)])
             for w in (0.02, 0.1, 1.0)]
    rows += [(f"context weight {w}", finder.suggestion_rankings(queries, depth, contexts=contexts, context_weight=w, pool=drafting.CONTEXT_POOL))
             for w in WEIGHTS]
    for label, rankings in rows:
        recall, ndcg, per = score(rankings)
        differences = [b - a for a, b in zip(alone, per)]
        mean = sum(differences) / len(differences)
        se = math.sqrt(sum((d - mean) ** 2 for d in differences) / (len(differences) - 1) / len(differences))
        print(f"{label:50s} R@10 {recall:5.1f}  nDCG@10 {ndcg:5.1f}  vs alone {100 * mean:+.2f} ± {100 * se:.2f}")
    library.close()


if __name__ == "__main__":
    main()
