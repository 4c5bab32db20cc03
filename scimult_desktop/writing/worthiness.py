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
import re
import zlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Sequence

from scimult_desktop.resource_folders import resource_folders
from scimult_desktop.writing.paragraph_worthiness import ParagraphWeights

MODEL_FILE = Path("writing") / "citation_worthiness.json"
_TOKEN = re.compile(r"[a-z]+(?:['\u2019][a-z]+)?|\d+(?:[.,]\d+)?|[%?:;()]")


_FIRST_PERSON = frozenset("we our us ours i my".split())
# A word that needs something after it, directly followed by punctuation or the end: the hole a
# citation leaves when its marker is gone or not written yet ("as shown in.", "proposed by, and").
_GAP = re.compile(
    r"(?<![\w-])(in|by|of|as|from|see|and|with|than|e\.g\.|cf\.|following|using|to|on|at|also|including|like|"
    r"work|works|studies|approaches|methods|models|systems)\s*(?=[.,;:)]|$)",
    re.IGNORECASE,
)
_OPENING_WORD = re.compile(r"[a-z][a-z-]*")
# Closed-class English words: a sentence opening with one in lower case mostly continues a formula
# or the sentence before ("where x is ..."); opening with another word it mostly lacks its subject.
_FUNCTION_WORDS = frozenset("""a an the this that these those there here it its they them their we our us i you he she
his her and or but nor so yet for because since while whereas although though unless if then than as when whenever
where wherever which who whom whose what whatever how why whether in on at by of to from with without within into onto
over under between among through during before after above below about against along across around upon via per is
are was were be been being am do does did not no each every all any some such many much more most other another both
either neither also only just even thus hence therefore however moreover furthermore respectively namely""".split())


def features(text: str, buckets: int) -> list[int]:
    """Hashed unigram and bigram ids of `text` (lower-cased; every number is one token), plus
    whether it speaks in the first person and its length: a sentence of unseen words is then
    judged by its form (an impersonal statement) rather than by the bias alone.

    Two cues of a citation's place, which the lower-cased words lose: a function word left
    before punctuation (`f:gap:in` for "as shown in."), and a sentence opening in lower case
    (`f:lower-open:content` or `:function`, and its first word: "proposes a model ..." lacks the
    subject a textual citation was; "where x is ..." continues a formula)."""
    words = ["<num>" if t[0].isdigit() else t for t in _TOKEN.findall(text.lower())]
    tokens = ["<s>", *words, "</s>"]
    grams = [f"u:{t}" for t in words] + [f"b:{a} {b}" for a, b in zip(tokens, tokens[1:])]
    grams.append("f:first-person" if _FIRST_PERSON.intersection(words) else "f:impersonal")
    grams.append(f"f:length-{min(len(words) // 8, 6)}")
    grams += [f"f:gap:{match.group(1).lower()}" for match in _GAP.finditer(text)]
    opening = _OPENING_WORD.match(text.strip())
    if opening:
        word = opening.group(0)
        kind = "function" if word in _FUNCTION_WORDS or len(word) < 3 else "content"
        grams += [f"f:lower-open:{kind}", f"f:lower-open:{word}"]
    return [zlib.crc32(gram.encode("utf-8")) % buckets for gram in grams]


@dataclass(frozen=True)
class WorthinessModel:
    """Weights of the classifier and the threshold above which a sentence is reported.

    `paragraph`, when the artefact has it, decides instead of `threshold` where a sentence's
    paragraph neighbours are known (`paragraph_worthiness.py`).
    """

    buckets: int
    bias: float
    weights: dict[int, float]
    threshold: float
    paragraph: ParagraphWeights | None = None

    def logit(self, text: str) -> float:
        """The log-odds behind `probability`."""
        return self.bias + sum(self.weights.get(f, 0.0) for f in features(text, self.buckets))

    def probability(self, text: str) -> float:
        """P(a published paper would cite something in this sentence)."""
        return sigmoid(self.logit(text))

    def reports(self, own: float, neighbours: Sequence[float] | None) -> tuple[bool, float]:
        """Whether a sentence of log-odds `own` is reported, and the likelihood that decided it.

        `neighbours`: the log-odds of the sentences beside it in its paragraph (empty: none);
        None when they are not known, and then the sentence's own score decides alone.
        """
        if self.paragraph is None or neighbours is None:
            likelihood = sigmoid(own)
            return likelihood >= self.threshold, likelihood
        combined = self.paragraph.logit(own, neighbours)
        return combined >= self.paragraph.threshold, sigmoid(combined)

    @classmethod
    def from_json(cls, data: dict) -> "WorthinessModel":
        paragraph = ParagraphWeights.from_json(data["paragraph"]) if data.get("paragraph") else None
        return cls(int(data["buckets"]), float(data["bias"]), {int(k): float(v) for k, v in data["weights"].items()},
                   float(data["threshold"]), paragraph)


def sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@lru_cache(maxsize=1)
def default_model() -> WorthinessModel | None:
    """The shipped classifier, or None when the resources folder does not have it (the heuristic alone then)."""
    for folder in resource_folders():  # the same places as the label sets and the trained weights
        path = folder / MODEL_FILE
        if path.is_file():
            return WorthinessModel.from_json(json.loads(path.read_text(encoding="utf-8")))
    return None
