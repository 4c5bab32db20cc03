"""Citation suggestions for a draft, sentence by sentence, and checks of the keys it cites.

`Library.suggest_for_draft` / `suggest_for_text` / `suggest_at` are the verbs; this module is
the work behind them, given the draft's sentences (see `scimult_desktop.writing.draft`).

Each sentence is its own query. The sentences around it *in its paragraph* are a weaker
second query (`CONTEXT_WEIGHT`) that only re-orders the sentence's own candidates
(`services/finding/context_ranking.py`): a paper reaches the suggestions only if the sentence
alone ranks it among its `CONTEXT_POOL` closest papers or its keyword matches, so text about
something else (another paragraph, or an off-topic neighbour) cannot push in its papers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

from scimult_desktop.domain.records import SearchHit
from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.errors import ScimultError
from scimult_desktop.services.finding.finder import CANDIDATE_DEPTH, Finder
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.writing.paragraph_worthiness import neighbours_in_paragraph

# Weight of the paragraph context's similarity to a paper against the sentence's own (1.0).
# tools/calibrate_draft_context.py (1,715 unarXive citing sentences, training-side data; the
# trained default model): nDCG@10 against the sentence alone +0.60 +- 0.14 at 0.1, +0.94 +- 0.21
# at 0.25, +1.36 +- 0.29 at 0.5, +1.45 +- 0.33 at 0.75, +1.12 +- 0.36 at 1.0 (Recall@10 35.9
# alone; 36.7, 37.4, 37.9, 38.1, 37.6). 0.5: within one SE of the best, and the sentence still
# counts twice as much as its neighbours together. (Fusing the neighbours' own ranking by
# reciprocal rank instead lowered nDCG at every weight: -0.20 +- 0.09 at 0.02, -5.4 at 1.0.)
CONTEXT_WEIGHT = 0.5
# How many of the sentence's closest papers (with its keyword matches) the context may re-order.
CONTEXT_POOL = 300
# A cited paper ranked below this share of the library for its sentence "looks unrelated".
# tools/calibrate_citation_flags.py on ACM-CR (half of the citing papers chooses it: 5% of their
# real cited pairs flagged; on the other half 8.9% of real pairs and 83% of random pairs are).
UNRELATED_RANK_SHARE = 0.17
MIN_UNRELATED_DEPTH = 25


def suggest_for_sentences(papers: PaperStore, finder: Finder, sentences: list, k: int) -> list[dict]:
    """Items for the sentences that need attention, in draft order (see `Library.suggest_for_draft`).

    A claim citing nothing gets suggestions; a sentence citing a key the library lacks gets
    suggestions too (replacements) and a flag; a cited paper far down the library's ranking
    for its sentence is flagged as possibly the wrong key.
    """
    flags = {i: citation_flags(papers, finder, s.text, s.citations) for i, s in enumerate(sentences) if s.citations}
    asking = [i for i, s in enumerate(sentences) if s.missing_citation or any(f.missing for f in flags.get(i, []))]
    ranked = rank_sentences(papers, finder, sentences, asking, k)
    report = {i: draft_item(sentences[i], [h.to_json() for h in hits], flags.get(i, [])) for i, hits in zip(asking, ranked)}
    for i, found in flags.items():
        if found and i not in report:
            report[i] = draft_item(sentences[i], [], found)
    return [report[i] for i in sorted(report)]


def suggest_at(papers: PaperStore, finder: Finder, sentences: list, index: int, k: int) -> dict:
    """The item of `sentences[index]`, with suggestions whether or not it is a claim."""
    sentence = sentences[index]
    [hits] = rank_sentences(papers, finder, sentences, [index], k)
    flags = citation_flags(papers, finder, sentence.text, sentence.citations) if sentence.citations else []
    return draft_item(sentence, [h.to_json() for h in hits], flags)


def rank_sentences(papers: PaperStore, finder: Finder, sentences: list, indexes: Sequence[int], k: int) -> list[list[SearchHit]]:
    """Top `k` papers for each of `sentences[indexes]` (its paragraph as weaker context, at `CONTEXT_WEIGHT`).

    Papers the sentence or its neighbours in the paragraph already cite are skipped.
    """
    if not indexes:
        return []
    depth = max(CANDIDATE_DEPTH, k)
    paragraphs = [sentence.paragraph for sentence in sentences]
    contexts = [paragraph_context(sentences, i, paragraphs) if CONTEXT_WEIGHT > 0 else "" for i in indexes]
    rankings = finder.suggestion_rankings([sentences[i].text for i in indexes], depth, contexts=contexts,
                                          context_weight=CONTEXT_WEIGHT, pool=CONTEXT_POOL)
    return [finder.suggestion_hits(ranked, k, sentences[i].text, _cited_nearby(papers, sentences, i, paragraphs))
            for i, ranked in zip(indexes, rankings)]


def paragraph_context(sentences: list, index: int, paragraphs: Sequence[int] | None = None) -> str:
    """The sentences just before and after `sentences[index]` within its paragraph ("" when alone).

    `paragraphs`: each sentence's paragraph number, when the caller has them already.
    """
    if paragraphs is None:
        paragraphs = [sentence.paragraph for sentence in sentences]
    return " ".join(sentences[j].text for j in neighbours_in_paragraph(paragraphs, index))


def _cited_nearby(papers: PaperStore, sentences: list, index: int, paragraphs: Sequence[int]) -> set[int]:
    nearby = sorted([index, *neighbours_in_paragraph(paragraphs, index)])
    keys = [key for j in nearby for key in sentences[j].citations]
    return set(papers.ids_by_citekey(keys).values()) if keys else set()


def sentence_index_at(sentences: list, position: int) -> int:
    """Index of the sentence whose span holds `position` (its end included: a cursor just after the
    full stop); between sentences, the nearest one (the earlier on a tie).

    Raises:
        ScimultError: there is no sentence at all.
    """
    if not sentences:
        raise ScimultError("the text has no sentence to find citations for")
    distances = [0 if s.start <= position <= s.end else min(abs(position - s.start), abs(position - s.end)) for s in sentences]
    return distances.index(min(distances))


def draft_item(sentence, suggestions: list[dict], flags: "list[KeyFlag]") -> dict:
    """The JSON of one sentence in a draft report."""
    return {
        "line": sentence.line,
        "end_line": sentence.end_line,
        "sentence": sentence.text,
        "cited": list(sentence.citations),
        "suggestions": suggestions,
        "flags": [flag.message for flag in flags],
        "key_flags": [flag.to_json() for flag in flags],
        "start": sentence.start,
        "end": sentence.end,
        "needs_citation": sentence.needs_citation,
        "reasons": list(sentence.reasons),
        "written_citations": list(sentence.written_citations),
        **({"file": sentence.file} if getattr(sentence, "file", None) is not None else {}),
    }


@dataclass(frozen=True)
class KeyFlag:
    """A problem with one cited key: missing from the library, or its paper looks unrelated."""

    key: str
    missing: bool
    message: str

    def to_json(self) -> dict:
        return {"key": self.key, "problem": "missing" if self.missing else "unrelated", "message": self.message}


def unrelated_depth(total: int) -> int:
    """How far down the library's ranking for a sentence a cited paper may sit before it is flagged."""
    return max(MIN_UNRELATED_DEPTH, math.ceil(UNRELATED_RANK_SHARE * total))


def citation_flags(papers: PaperStore, finder: Finder, text: str, keys: Sequence[str]) -> list[KeyFlag]:
    """Warnings about the keys a sentence cites: not in the library, or probably the wrong paper."""
    known = papers.ids_by_citekey(keys)
    flags = [KeyFlag(key, True, f"{key}: not in the library") for key in keys if key not in known]
    if not known:
        return flags
    # Rank-based, so it means the same for cosine and dot-product models and any library size.
    total = papers.count()
    depth = unrelated_depth(total)
    if total < 2 * MIN_UNRELATED_DEPTH or depth >= total:
        return flags  # too few papers for a rank to say anything
    query = finder.backend.encode([text], Task.LINK, Role.QUERY)
    [neighbours] = finder.backend.neighbours(Task.LINK, query, depth, papers.trashed_ids())
    close = {pid for pid, _ in neighbours}
    for key, pid in known.items():
        if pid not in close:
            flags.append(KeyFlag(key, False, f"{key}: looks unrelated to this sentence (not among its {depth} closest papers)"))
    return flags
