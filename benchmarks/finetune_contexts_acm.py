"""Fine-tuning with citation contexts as link signals, on the ACM-CR library: held-out context Recall@10 before/after.

The library is `finetune_acm.build_library`'s (3,953 ACM BibTeX records, venues as
collections). ACM-CR's citing papers get what a PDF import of them would store: their body
text as page text (the manually extracted citation paragraphs of `papers/*/*.xml`, markers
such as "[5, 9, 10]" as printed) and their reference lists (`*.dois`, "[n] DOI"). The
app's own pipeline then does the rest: references matched to library papers by DOI,
citation contexts found by the marker finder (`scimult contexts --rebuild`), and
`scimult finetune --tasks link`, where each context (citing sentence without its markers
-> cited paper) is a link signal split with its citation edge.

Printed: the context analysis, the signal counts, Recall@10 of the held-out contexts
(every library paper a candidate) for the base model and the fine-tuned one with the
paired standard error of the difference, and the full `finetune` table.

    nice -n 5 python benchmarks/finetune_contexts_acm.py --library /tmp/ctx-acm-lib [--steps 120] [--adapter-only]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from finetune_acm import ACM, acm_missing, ensure_library, reference_dois  # noqa: E402


def citing_papers() -> list[tuple[str, str, list[str]]]:
    """(citing DOI, page text, reference strings "[n] DOI") for each ACM-CR citing paper."""
    found = []
    for xml in sorted((ACM / "topics+qrels" / "papers").glob("*/*.xml")):
        root = ET.parse(xml).getroot()
        paragraphs = []
        for context in root.iter("context"):
            sentences = [" ".join("".join(s.itertext()).split()) for s in context.iter("s")]
            paragraphs.append(" ".join(s for s in sentences if s))
        listing = xml.with_suffix(".dois")
        references = []
        if listing.exists():
            references = [(number, f"[{number}] {doi}") for number, doi in reference_dois(listing) if number is not None]
        references.sort()
        found.append(("10.1145/" + xml.stem, "\n\n".join(paragraphs), [raw for _, raw in references]))
    return found


def add_citing_texts(library) -> dict:
    """Store page text and references for the citing papers in the library, then match and analyse."""
    from scimult_desktop.domain.ids import normalize_doi
    from scimult_desktop.store import links

    conn = library.database.conn
    stored = 0
    with library.database.transaction():
        for doi, text, references in citing_papers():
            row = conn.execute("SELECT id FROM papers WHERE doi = ?", (doi,)).fetchone()
            if row is None or not text:
                continue
            pid = int(row[0])
            conn.execute("DELETE FROM pages WHERE paper_id = ?", (pid,))
            conn.execute("INSERT INTO pages (paper_id, page, text) VALUES (?, 1, ?)", (pid, text))
            conn.execute("DELETE FROM paper_references WHERE citing_paper_id = ?", (pid,))
            conn.executemany(
                "INSERT INTO paper_references (citing_paper_id, position, raw, doi) VALUES (?, ?, ?, ?)",
                [(pid, i, raw, normalize_doi(raw.split(" ", 1)[-1])) for i, raw in enumerate(references)],
            )
            stored += 1
    edges = links.match_references(library.database)
    analysis = library.analyse_citation_contexts()
    linked = conn.execute(
        """SELECT count(*) FROM citation_contexts c JOIN paper_references r ON r.id = c.reference_id
           WHERE r.cited_paper_id IS NOT NULL"""
    ).fetchone()[0]
    return {"citing_papers_with_text": stored, "new_edges_from_references": edges, "analysis": analysis,
            "contexts_linked_to_library_papers": linked}


def context_recall(library, model: str, signals) -> list[float]:
    """Per held-out context: 1 when its cited paper is in the model's top 10 (the evaluation's link ranking)."""
    from scimult_desktop.services.finetuning import evaluation
    from scimult_desktop.services.finetuning.signals import SignalSet
    from scimult_desktop.services.models import bundles as models

    only = SignalSet(train={"link": signals.train["link"]},
                     held_out={"link": [s for s in signals.held_out["link"] if s.source == "contexts"]})
    scores = evaluation.evaluate(library.database, models.load_encoder(model), models.model_key(model), only)
    return scores["link"].per_item


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", type=Path, required=True, help="library folder (built when absent)")
    parser.add_argument("--steps", type=int, default=120)
    parser.add_argument("--trainable", default=None, help="all | experts | experts+top:N (default: by device)")
    parser.add_argument("--model", default=None, help="an already fine-tuned model to evaluate instead of training")
    parser.add_argument("--adapter-only", action="store_true", help="`scimult finetune --adapter-only`: the query adapter alone")
    args = parser.parse_args(argv)
    if acm_missing():
        return 0
    from scimult_desktop.cli.progress import StderrProgress
    from scimult_desktop.services.finetuning import pipeline as finetuning
    from scimult_desktop.services.finetuning import signals as finetune_signals
    from scimult_desktop.services.library.facade import Library
    from scimult_desktop.services.models import bundles as models

    ensure_library(args.library)
    progress = StderrProgress(log_interval=30.0)
    with Library.open(args.library) as library:
        print(json.dumps({"contexts": add_citing_texts(library)}), flush=True)
        signals = finetune_signals.collect(library.database, ["link"])
        sources = {}
        for part in ("train", "held_out"):
            for s in getattr(signals, part)["link"]:
                sources.setdefault(s.source, {"train": 0, "held_out": 0})[part] += 1
        print(json.dumps({"link_signals": sources}), flush=True)
        base = finetuning._base_model()
        started = time.monotonic()
        if args.model is None:
            result = finetuning.finetune(library, "link", max_steps=args.steps, trainable=args.trainable,
                                         adapter_only=args.adapter_only, progress=progress)
            print(json.dumps({"finetune": result.to_json(), "seconds": result.seconds}), flush=True)
            tuned = result.model
        else:
            tuned = args.model
        before = np.asarray(context_recall(library, base, signals))
        after = np.asarray(context_recall(library, tuned, signals))
        diff = after - before
        se = float(diff.std(ddof=1)) / math.sqrt(len(diff))
        print(json.dumps({
            "held_out_contexts": len(diff),
            "recall@10_before": round(float(before.mean()), 4),
            "recall@10_after": round(float(after.mean()), 4),
            "difference": round(float(diff.mean()), 4),
            "paired_se": round(se, 4),
            "difference_in_se": round(float(diff.mean()) / se, 2) if se else None,
            "seconds": round(time.monotonic() - started, 1),
            "base_model": base, "model": tuned, "bundle_key": models.model_key(tuned),
        }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
