"""Why a paper matched: the sentence of its abstract or cleaned PDF text closest to the query.

A cheap lexical scorer over sentences (distinct query words present) is enough to
show the reader where to look; it runs on a handful of result papers, never on the
whole library. Only clean text is shown: the PDF text comes as passages
(`ingest.passages`: no running heads, copyright footers, reference lists or raw
JSON), and a keyword snippet that reads like one of those is replaced.

Highlights (`[word]`) mark whole query words only, case aside: "net" never lights
up inside "network", and a stemmed match such as "retrieved" for "retrieval" is
not marked as if it were the query word.
"""

from __future__ import annotations

import re

from scimult_desktop.ingest.passages import body_pages, is_clean_text
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.passages import PassageStore

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\[])")
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_STOP = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were with we our "
    "which these those their than then also can may not no into using based".split()
)
SNIPPET_WIDTH = 240
_LITERAL_MARK = re.compile(r"\[([A-Za-z0-9]+)\]")  # what front ends read as a highlight mark


def query_terms(text: str) -> set[str]:
    """The query's words that count as matches: lower-cased, stop words and one- or two-letter words left out."""
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in _STOP and len(w) > 2}


def best_passage(database: LibraryDatabase, paper_id: int, query: str, abstract: str | None) -> tuple[str | None, int | None]:
    """(highlighted sentence with the most query words, its page or None for the abstract)."""
    terms = query_terms(query)
    if not terms:
        return None, None
    candidates: list[tuple[str, int | None]] = [(s, None) for s in _sentences(abstract or "")]
    for page, text in _clean_page_texts(database, paper_id):
        candidates += [(s, page) for s in _sentences(text) if is_clean_text(s)]
    best, best_score = (None, None), 0
    for sentence, page in candidates:
        found = {w.lower() for w in _WORD.findall(sentence)} & terms
        if len(found) > best_score:
            best, best_score = (highlight(sentence, terms), page), len(found)
    return best


def passage_excerpt(text: str, query: str, width: int = 320) -> str:
    """A passage cut to `width` characters around its sentences richest in query words, highlighted."""
    terms = query_terms(query)
    sentences = _sentences(text) or [" ".join(text.split())]
    scores = [len({w.lower() for w in _WORD.findall(s)} & terms) for s in sentences]
    start = max(range(len(sentences)), key=lambda i: (scores[i], -i))
    excerpt = sentences[start]
    end = start + 1
    while end < len(sentences) and len(excerpt) + len(sentences[end]) < width:
        excerpt = f"{excerpt} {sentences[end]}"
        end += 1
    prefix = "… " if start > 0 else ""
    return prefix + highlight(excerpt, terms, width)


def keyword_snippet(snippet: str | None, query: str) -> str | None:
    """A keyword-search snippet re-highlighted on whole query words, or None when it is not clean text.

    SQLite's snippets mark stemmed matches and may come from the JSON author list or a
    reference-list line; the caller then falls back to `best_passage`.
    """
    if not snippet:
        return None
    plain = snippet.replace("[", "").replace("]", "")
    if not is_clean_text(snippet) or not is_clean_text(plain):
        return None
    return highlight(plain, query_terms(query))


def highlight(sentence: str, terms: set[str], width: int = SNIPPET_WIDTH) -> str:
    """`sentence` with each whole word in `terms` marked as `[word]`, cut to `width` characters.

    A bracketed word already in the text ("[12]", a numeric citation) would read as a mark,
    so it is shown in parentheses.
    """
    sentence = _LITERAL_MARK.sub(r"(\1)", sentence)
    marked = _WORD.sub(lambda m: f"[{m.group(0)}]" if m.group(0).lower() in terms else m.group(0), sentence)
    marked = " ".join(marked.split())
    if len(marked) <= width:
        return marked
    cut = marked[: width - 1]
    if cut.count("[") > cut.count("]"):  # never leave a mark open
        cut = cut[: cut.rindex("[")]
    return cut.rstrip() + "…"


def _clean_page_texts(database: LibraryDatabase, paper_id: int) -> list[tuple[int, str]]:
    """(page, text) of the paper's passages when they are stored, else its pages without the reference list.

    Cutting passages costs a few ms a page, too much for every hit of every search; unstored
    pages get the cheap cut here and each sentence is checked by `best_passage`.
    """
    store = PassageStore(database)
    stored = store.of_papers([paper_id])
    if stored:
        return [(p.page, p.text) for p in stored]
    return body_pages(store.pages(paper_id))


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(" ".join(text.split())) if len(s.strip()) > 20]
