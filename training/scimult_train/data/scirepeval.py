"""SciRepEval training files (allenai/scirepeval, HF `allenai/scirepeval`) as `Example`s.

Layouts, as SciRepEval's own loaders read them (`datasets.py`: `TripletDataset`, `IRDataset`):

- ``cite_prediction``: one record per line (or one JSON array) with paper objects
  ``{"query": {...}, "pos": {...}, "neg": {...}}``, each paper ``{"title", "abstract", ...}``
  (SPECTER-style citation triplets) -> a `link` example with one hard negative.
- ``search``: ``{"query": str, "candidates": [{"title", "abstract", "score", ...}, ...]}``;
  candidates with a non-zero ``score`` are relevant -> one `search` example per relevant
  candidate, the non-relevant candidates of the same query as its hard negatives.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from scimult_train.data.examples import Example
from scimult_train.data.jsonstream import DataFormatError, iter_records, where
from scimult_train.data.texts import clean, paper_from_record


def read_cite_prediction(path: str | Path) -> Iterator[Example]:
    """Link-prediction examples from SciRepEval ``cite_prediction`` triplets (JSONL or a JSON array).

    Raises:
        DataFormatError: a record without usable query/pos/neg papers (names file:line).
    """
    for line, record in iter_records(path):
        if not isinstance(record, dict):
            raise DataFormatError(f"{where(path, line)}: expected an object with query/pos/neg")
        texts = {}
        for key in ("query", "pos", "neg"):
            texts[key] = paper_from_record(record.get(key))
            if key != "neg" and not texts[key]:
                raise DataFormatError(f"{where(path, line)}: '{key}' has no title or abstract")
        negatives = (texts["neg"],) if texts["neg"] else ()
        yield Example("link", texts["query"], texts["pos"], negatives)


def read_search(path: str | Path, *, max_negatives: int = 3) -> Iterator[Example]:
    """Search examples from SciRepEval ``search`` records (query + scored candidates).

    Each relevant candidate becomes one example; its hard negatives are up to
    `max_negatives` non-relevant candidates of the same query, rotated so that
    consecutive positives of one query get different negatives. Queries with no
    relevant candidate yield nothing.

    Raises:
        DataFormatError: a record without a query string or a candidate list (names file:line).
    """
    for line, record in iter_records(path):
        if not isinstance(record, dict):
            raise DataFormatError(f"{where(path, line)}: expected an object with query and candidates")
        query, candidates = clean(record.get("query")), record.get("candidates")
        if not query:
            raise DataFormatError(f"{where(path, line)}: missing or empty 'query'")
        if not isinstance(candidates, list) or not all(isinstance(c, dict) for c in candidates):
            raise DataFormatError(f"{where(path, line)}: 'candidates' must be a list of paper objects")
        relevant, irrelevant = [], []
        for candidate in candidates:
            text = paper_from_record(candidate)
            if text:
                (relevant if _score(candidate, path, line) > 0 else irrelevant).append(text)
        for i, positive in enumerate(relevant):
            negatives = [irrelevant[(i * max_negatives + j) % len(irrelevant)] for j in range(min(max_negatives, len(irrelevant)))]
            yield Example("search", query, positive, tuple(negatives))


def _score(candidate: dict, path, line: int) -> float:
    score = candidate.get("score", 0)
    try:
        return float(score or 0)
    except (TypeError, ValueError):
        raise DataFormatError(f"{where(path, line)}: candidate score {score!r} is not a number") from None
