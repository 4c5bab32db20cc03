"""Regenerate resources/demo/scifact-demo.json from ../shared/data/scifact.

Maintainers' tool, not used at run time. Picks the abstracts judged relevant to
the SciFact test claims (so demo searches have real answers), then fills up to
300 papers in corpus order. SciFact abstracts are ODC-By 1.0 (see the demo README).
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

SCIFACT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "scifact"
OUT = Path(__file__).resolve().parents[1] / "resources" / "demo" / "scifact-demo.json"
SIZE = 300


def main() -> None:
    corpus = [json.loads(line) for line in (SCIFACT / "corpus.jsonl").open(encoding="utf-8")]
    with (SCIFACT / "qrels" / "test.tsv").open(encoding="utf-8") as handle:
        relevant = {row["corpus-id"] for row in csv.DictReader(handle, delimiter="\t")}
    chosen = [doc for doc in corpus if doc["_id"] in relevant]
    chosen += [doc for doc in corpus if doc["_id"] not in relevant][: max(0, SIZE - len(chosen))]
    chosen = chosen[:SIZE]
    items = [
        {
            "id": f"scifact-{doc['_id']}",
            "type": "article-journal",
            "title": doc["title"].strip(),
            "abstract": doc["text"].strip(),
            "note": f"SciFact corpus document {doc['_id']} (ODC-By 1.0)",
        }
        for doc in chosen
    ]
    OUT.write_text(json.dumps(items, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"wrote {len(items)} papers to {OUT}", file=sys.stderr)


if __name__ == "__main__":
    main()
