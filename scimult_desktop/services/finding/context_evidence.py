"""Citation contexts as evidence: how the library already cites a suggested or related paper.

- a suggestion gets the sentence in which a library paper cites it for the claim closest to
  the text being written (the most shared content words, at least `MIN_SHARED_WORDS`);
- a related paper gets the sentence in which a library paper cites it *together with* the
  paper it is related to, when there is one (co-cited in one sentence: the strongest kind
  of co-citation).

Lexical overlap keeps this cheap enough for suggestions as you type: it reads stored
sentences of the few papers shown, and embeds nothing.
"""

from __future__ import annotations

from typing import Iterable, Sequence

from scimult_desktop.domain.records import SearchHit
from scimult_desktop.ingest.citation_contexts import sentence_without_markers
from scimult_desktop.services.finding.evidence import query_terms
from scimult_desktop.store import citation_contexts as stored
from scimult_desktop.store.database import LibraryDatabase

# Fewer shared content words than this is no "similar claim" (one shared word is a topic at most).
MIN_SHARED_WORDS = 2
# Quoted sentences are cut to this many characters in related-paper reasons.
QUOTE_CHARS = 160


def attach_library_contexts(database: LibraryDatabase, hits: Sequence[SearchHit], text: str) -> None:
    """Set `hit.library_context` on suggestions the library cites in a sentence like `text`."""
    terms = _stems(query_terms(text))
    if len(terms) < MIN_SHARED_WORDS or not hits:
        return
    contexts = stored.contexts_citing_many(database, [h.paper.id for h in hits if h.paper.id is not None])
    for hit in hits:
        best, best_key = None, None
        for row in contexts.get(int(hit.paper.id or -1), []):
            claim = sentence_without_markers(row["sentence"])
            shared = terms & _stems(query_terms(claim))
            if len(shared) < MIN_SHARED_WORDS:
                continue
            key = (len(shared), -len(claim))
            if best_key is None or key > best_key:
                best, best_key = (row, sorted(shared)), key
        if best is not None:
            row, shared = best
            hit.library_context = {
                "sentence": row["sentence"],
                "marker": row["marker"],
                "page": row["page"],
                "citing_paper": {"id": row["citing_paper_id"], "citekey": row["citing_citekey"],
                                 "title": row["citing_title"], "year": row["citing_year"]},
                "shared_words": shared,
            }


def shared_context_reasons(database: LibraryDatabase, paper_id: int, other_ids: Iterable[int]) -> dict[int, str]:
    """For papers cited in one sentence together with `paper_id`: a reason quoting that sentence."""
    others = set(other_ids)
    if not others:
        return {}
    own = stored.contexts_citing(database, paper_id)
    by_sentence = {(row["citing_paper_id"], row["sentence"]): row for row in own}
    if not by_sentence:
        return {}
    reasons: dict[int, str] = {}
    for pid, rows in stored.contexts_citing_many(database, list(others)).items():
        for row in rows:
            mine = by_sentence.get((row["citing_paper_id"], row["sentence"]))
            if mine is not None:
                reasons[pid] = f"cited together in “{_quote(row['sentence'])}” ({row['citing_title']}, p. {row['page']})"
                break
    return reasons


def _quote(sentence: str) -> str:
    sentence = " ".join(sentence.split())
    return sentence if len(sentence) <= QUOTE_CHARS else sentence[:QUOTE_CHARS - 1].rstrip() + "…"


def _stems(words: set[str]) -> set[str]:
    # Plural and singular count as one word ("encoders" / "encoder"); nothing heavier is needed here.
    return {w[:-1] if w.endswith("s") and len(w) > 4 and not w.endswith("ss") else w for w in words}
