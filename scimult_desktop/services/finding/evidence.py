"""Why a paper matched: the passage of its abstract or full text closest to the query.

A cheap lexical scorer over sentences (distinct query terms matched, prefix
matching as a poor man's stemmer) is enough to show the reader where to look;
it runs on a handful of result papers, never on the whole library.
"""

from __future__ import annotations

import re

from scimult_desktop.store.database import LibraryDatabase

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")
_WORD = re.compile(r"[A-Za-z0-9]+")
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were with we our "
    "which these those their than then also can may not no into using based".split()
)
_PREFIX = 5


def query_terms(text: str) -> set[str]:
    return {w.lower()[:_PREFIX] for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 2}


def best_passage(database: LibraryDatabase, paper_id: int, query: str, abstract: str | None) -> tuple[str | None, int | None]:
    """(sentence with the most query terms, its page or None for the abstract)."""
    terms = query_terms(query)
    if not terms:
        return None, None
    candidates: list[tuple[str, int | None]] = [(s, None) for s in _sentences(abstract or "")]
    for row in database.conn.execute("SELECT page, text FROM pages WHERE paper_id = ? ORDER BY page", (paper_id,)):
        candidates += [(s, int(row[0])) for s in _sentences(row[1])]
    best, best_score = (None, None), 0
    for sentence, page in candidates:
        found = {w.lower()[:_PREFIX] for w in _WORD.findall(sentence)} & terms
        if len(found) > best_score:
            best, best_score = (highlight(sentence, terms), page), len(found)
    return best


def highlight(sentence: str, terms: set[str], width: int = 240) -> str:
    marked = _WORD.sub(lambda m: f"[{m.group(0)}]" if m.group(0).lower()[:_PREFIX] in terms and len(m.group(0)) > 2 and m.group(0).lower() not in _STOP else m.group(0), sentence)
    marked = " ".join(marked.split())
    return marked if len(marked) <= width else marked[: width - 1] + "…"


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if len(s.strip()) > 20]
