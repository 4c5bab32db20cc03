"""Citation suggestions for a draft, sentence by sentence, and checks of the keys it cites.

`Library.suggest_for_draft` / `suggest_for_text` are the verbs; this module is the work
behind them, given the draft's sentences (see `scimult_desktop.writing.draft`).
"""

from __future__ import annotations

from typing import Sequence

from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.errors import ScimultError
from scimult_desktop.services.finding.finder import Finder
from scimult_desktop.store.papers import PaperStore


def suggest_for_sentences(papers: PaperStore, finder: Finder, sentences: list, k: int) -> list[dict]:
    """Items for the sentences that need attention, in draft order (see `Library.suggest_for_draft`)."""
    needing = [i for i, s in enumerate(sentences) if s.missing_citation]
    contexts, excludes = [], []
    for i in needing:
        previous = sentences[i - 1].text if i > 0 and sentences[i - 1].line >= sentences[i].line - 3 else ""
        contexts.append(f"{previous} {sentences[i].text}".strip())
        nearby = [key for j in (i - 1, i + 1) if 0 <= j < len(sentences) for key in sentences[j].citations]
        excludes.append(list(papers.ids_by_citekey(nearby).values()))
    suggestions = finder.suggest_many(contexts, k=k, exclude=excludes) if contexts else []
    report: dict[int, dict] = {}
    for i, hits in zip(needing, suggestions):
        report[i] = draft_item(sentences[i], [h.to_json() for h in hits], [])
    for i, sentence in enumerate(sentences):
        if sentence.citations:
            flags = citation_flags(papers, finder, sentence.text, sentence.citations)
            if flags:
                report[i] = draft_item(sentence, [], flags)
    return [report[i] for i in sorted(report)]


def suggest_at(papers: PaperStore, finder: Finder, sentences: list, index: int, k: int) -> dict:
    """The item of `sentences[index]`, with suggestions whether or not it is a claim."""
    sentence = sentences[index]
    nearby = [key for j in (index - 1, index, index + 1) if 0 <= j < len(sentences) for key in sentences[j].citations]
    exclude = list(papers.ids_by_citekey(nearby).values())
    [hits] = finder.suggest_many([sentence.text], k=k, exclude=[exclude])
    flags = citation_flags(papers, finder, sentence.text, sentence.citations) if sentence.citations else []
    return draft_item(sentence, [h.to_json() for h in hits], flags)


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


def draft_item(sentence, suggestions: list[dict], flags: list[str]) -> dict:
    """The JSON of one sentence in a draft report."""
    return {
        "line": sentence.line,
        "end_line": sentence.end_line,
        "sentence": sentence.text,
        "cited": list(sentence.citations),
        "suggestions": suggestions,
        "flags": flags,
    }


def citation_flags(papers: PaperStore, finder: Finder, text: str, keys: Sequence[str]) -> list[str]:
    """Warnings about the keys a sentence cites: not in the library, or probably the wrong paper."""
    known = papers.ids_by_citekey(keys)
    flags = [f"{key}: not in the library" for key in keys if key not in known]
    if not known:
        return flags
    # Rank-based, so it means the same for cosine and dot-product models: a cited paper
    # outside the sentence's top few percent of the library is probably the wrong key.
    total = papers.count()
    depth = max(25, total // 20)
    [neighbours] = finder.backend.neighbours(Task.LINK, finder.backend.encode([text], Task.LINK, Role.QUERY), depth, ())
    close = {pid for pid, _ in neighbours}
    if total > 2 * depth:
        for key, pid in known.items():
            if pid not in close:
                flags.append(f"{key}: looks unrelated to this sentence (not among its {depth} closest papers)")
    return flags
