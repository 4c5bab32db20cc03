"""Citation worthiness: how likely a sentence is to carry a citation in a published paper.

A logistic regression over hashed word unigrams and bigrams, trained offline on
sentences with and without citation markers from arXiv full texts (unarXive);
`tools/train_citation_worthiness.py` rebuilds `resources/writing/citation_worthiness.json`
and records its threshold (chosen for high recall on held-out papers) and its
held-out precision and recall. Scoring is plain Python: a sum over a sentence's
few dozen features.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

MODEL_FILE = Path("writing") / "citation_worthiness.json"
_TOKEN = re.compile(r"[a-z]+(?:['\u2019][a-z]+)?|\d+(?:[.,]\d+)?|[%?:;()]")


_FIRST_PERSON = frozenset("we our us ours i my".split())


def features(text: str, buckets: int) -> list[int]:
    """Hashed unigram and bigram ids of `text` (lower-cased; every number is one token), plus
    whether it speaks in the first person and its length: a sentence of unseen words is then
    judged by its form (an impersonal statement) rather than by the bias alone."""
    words = ["<num>" if t[0].isdigit() else t for t in _TOKEN.findall(text.lower())]
    tokens = ["<s>", *words, "</s>"]
    grams = [f"u:{t}" for t in words] + [f"b:{a} {b}" for a, b in zip(tokens, tokens[1:])]
    grams.append("f:first-person" if _FIRST_PERSON.intersection(words) else "f:impersonal")
    grams.append(f"f:length-{min(len(words) // 8, 6)}")
    return [zlib.crc32(gram.encode("utf-8")) % buckets for gram in grams]


@dataclass(frozen=True)
class WorthinessModel:
    """Weights of the classifier and the threshold above which a sentence is reported."""

    buckets: int
    bias: float
    weights: dict[int, float]
    threshold: float

    def probability(self, text: str) -> float:
        """P(a published paper would cite something in this sentence)."""
        z = self.bias + sum(self.weights.get(f, 0.0) for f in features(text, self.buckets))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    @classmethod
    def from_json(cls, data: dict) -> "WorthinessModel":
        return cls(int(data["buckets"]), float(data["bias"]), {int(k): float(v) for k, v in data["weights"].items()},
                   float(data["threshold"]))


@lru_cache(maxsize=1)
def default_model() -> WorthinessModel | None:
    """The shipped classifier, or None when the resources folder does not have it (the heuristic alone then)."""
    for folder in _resource_folders():
        path = folder / MODEL_FILE
        if path.is_file():
            return WorthinessModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    return None


def _resource_folders() -> list[Path]:
    # The same places as the label sets (services/finding/label_sets.resources_dir), without its error.
    env = os.environ.get("SCIMULT_RESOURCES")
    package = Path(__file__).resolve().parents[1]
    folders = [Path(env).expanduser()] if env else []
    return folders + [package.parent / "resources", package / "resources", Path(sys.prefix) / "share" / "scimult-desktop" / "resources"]
