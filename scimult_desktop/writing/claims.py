"""Does a sentence make a claim that needs a citation?

Two judges, and a sentence is reported when either says yes (and none of the
reasons to leave it alone applies): a citation-worthiness classifier trained on
sentences with and without citations in published papers (`worthiness.py`; its
threshold is set for high recall; in a draft, `assess_claims` lets the
classifier's scores of the sentences beside one in its paragraph count too,
`paragraph_worthiness.py`), and cues that it reports what others found or what
is generally known (this module; also the reasons shown to the writer).

Cues (any one is enough; each is reported as a reason):
- report verbs and prior-work phrases: "shown", "demonstrated", "proposed",
  "introduced", "reported", "found that", "previous/prior/recent work",
  "studies", "has/have been", "state of the art", "widely used", "well known",
  "existing", "literature", "according to", "et al.", "inspired by" ...;
- numbers that state a result: percentages, decimals, years (1900-2099);
- comparisons: "outperforms", "better/worse/faster than", "more ... than",
  "compared to/with", "superior to", "improves on/over".

Reasons to leave a sentence alone (never flagged):
- it is a question, or shorter than 6 words;
- it speaks only about the author's own contribution: it opens with "we",
  "our", "in this paper/work/section", "this paper/work/article/study", "here
  we" ... and has no prior-work cue ("previous", "prior", "existing", "et al.",
  "state of the art", "has been" ...). Such sentences mostly describe what the
  draft itself does ("We show that our method is 3% better").

The cues alone err on the side of silence (on held-out arXiv papers they find
under a third of the sentences that cite); the classifier is what reaches the
rest. Whether the sentence already cites something is a separate matter (see
`DraftSentence.missing_citation`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from scimult_desktop.writing.paragraph_worthiness import neighbour_scores
from scimult_desktop.writing.worthiness import WorthinessModel, default_model

_REPORT_CUES = [
    r"shown", r"showed", r"show(?:s)? that", r"demonstrated?", r"proposed", r"introduced", r"reported", r"observed",
    r"found that", r"has been", r"have been", r"had been", r"it is (?:well )?known", r"well[- ]known", r"widely used",
    r"commonly used", r"popular", r"studies", r"researchers", r"literature", r"according to", r"developed by",
    r"inspired by", r"originally", r"state[- ]of[- ]the[- ]art", r"existing", r"et al\.?",
    r"(?:previous|prior|recent|earlier|related|seminal|pioneering) (?:work|works|studies|research|approaches|methods|efforts)",
]
_PRIOR_WORK_CUES = [
    r"previous", r"prior", r"existing", r"et al\.?", r"state[- ]of[- ]the[- ]art", r"has been", r"have been",
    r"literature", r"others", r"originally", r"following", r"as in", r"studies have", r"recent work",
]
_COMPARISON_CUES = [
    r"outperform(?:s|ed|ing)?", r"\w+er than", r"(?:more|less|fewer) \w+(?: \w+)? than", r"compared (?:to|with)",
    r"superior to", r"inferior to", r"improve(?:s|d)? (?:on|over|upon)", r"in contrast to",
]
_NUMBER_CUES = [r"\d+(?:\.\d+)?\s?%", r"\d+\.\d+", r"(?:19|20)\d\d", r"\d+(?:\.\d+)?\s?(?:percent|per cent|fold|times)"]
_OWN_WORK_OPENING = re.compile(
    r"^(?:here,? we|we|our|in this (?:paper|work|article|section|chapter|study|thesis)|"
    r"this (?:paper|work|article|study|thesis|chapter|section)|in the following|next,? we|finally,? we|first,? we)\b",
    re.IGNORECASE,
)
_SELF_DESCRIPTION = re.compile(
    r"^(?:here,? we|in this (?:paper|work|article|section|chapter|study|thesis)|"
    r"this (?:paper|work|article|study|thesis|chapter|section))\b",
    re.IGNORECASE,
)
MIN_WORDS = 6
OWN_WORK = "about the author's own work"


def _compile(cues: list[str]) -> re.Pattern[str]:
    return re.compile(r"(?<![\w-])(?:" + "|".join(cues) + r")(?![\w-])", re.IGNORECASE)


_REPORT = _compile(_REPORT_CUES)
_PRIOR_WORK = _compile(_PRIOR_WORK_CUES)
_COMPARISON = _compile(_COMPARISON_CUES)
_NUMBER = _compile(_NUMBER_CUES)


@dataclass(frozen=True)
class ClaimCheck:
    """The verdict on one sentence and the cues behind it (shown to the writer as the why)."""

    needs_citation: bool
    reasons: tuple[str, ...] = ()


def assess_claim(sentence: str, model: WorthinessModel | None = None) -> ClaimCheck:
    """Whether `sentence` makes a claim that needs a citation (see the module docstring).

    Args:
        sentence: one sentence of readable text (markup and citations removed).
        model: the classifier (default: the shipped one; the cues alone when there is none).

    Returns:
        ClaimCheck with `needs_citation` and why as `reasons` (the matched cues, e.g.
        `('report: "has been shown"', 'number: "23%"')`, or the classifier's likelihood).
    """
    return assess_claims([sentence], None, model)[0]


def assess_claims(sentences: Sequence[str], paragraphs: Sequence[int] | None = None,
                  model: WorthinessModel | None = None) -> list[ClaimCheck]:
    """`assess_claim` for a draft's sentences in order, each judged with its paragraph.

    Args:
        sentences: the sentences in reading order.
        paragraphs: each sentence's paragraph number; the classifier's scores of the sentences
            beside one in its paragraph count with its own (`paragraph_worthiness.py`).
            None: each sentence is judged alone.
        model: as for `assess_claim`.
    """
    texts = [sentence.strip() for sentence in sentences]
    cues = [assess_cues(text) for text in texts]
    model = model or default_model()
    if model is None:
        return cues
    scores = [model.logit(text) for text in texts]
    checks = []
    for i, text in enumerate(texts):
        # The classifier may speak for "We use X", which often cites X, but not for a sentence
        # that describes the draft itself.
        if cues[i].needs_citation or _too_short_or_question(text) or _SELF_DESCRIPTION.match(text):
            checks.append(cues[i])
            continue
        neighbours = neighbour_scores(scores, paragraphs, i) if paragraphs is not None else None
        reported, likelihood = model.reports(scores[i], neighbours)
        if not reported:
            checks.append(cues[i])
        elif neighbours and not model.reports(scores[i], None)[0]:
            checks.append(ClaimCheck(True, (f"reads like a statement from the literature, as the sentences around it do "
                                            f"(likelihood {likelihood:.2f})",)))
        else:
            checks.append(ClaimCheck(True, (f"reads like a statement from the literature (likelihood {likelihood:.2f})",)))
    return checks


def assess_cues(sentence: str) -> ClaimCheck:
    """The cue heuristic alone (see the module docstring)."""
    text = sentence.strip()
    if _too_short_or_question(text):
        return ClaimCheck(False)
    reasons: list[str] = []
    for kind, pattern in (("report", _REPORT), ("comparison", _COMPARISON), ("number", _NUMBER)):
        reasons += [f'{kind}: "{match.group(0)}"' for match in pattern.finditer(text)]
    if _OWN_WORK_OPENING.match(text) and not _PRIOR_WORK.search(text):
        return ClaimCheck(False, (OWN_WORK,))
    if not reasons:
        return ClaimCheck(False)
    return ClaimCheck(True, tuple(dict.fromkeys(reasons)))


def _too_short_or_question(text: str) -> bool:
    text = text.strip()
    return text.endswith("?") or len(re.findall(r"[A-Za-z]+", text)) < MIN_WORDS
