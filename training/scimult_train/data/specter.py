"""SPECTER training files (allenai/specter `data/training`) as `link` triplets.

Layout (`specter/data_utils/create_training_files.py`, see ``../shared/data/specter_sample``):

- ``data.json``: one JSON object ``{query_id: {candidate_id: {"count": n}, ...}, ...}``; in
  SPECTER's citation graph a direct citation has a higher count than a 2-hop one;
- ``metadata.json``: one JSON object ``{paper_id: {"title", "abstract", ...}, ...}``;
- optionally ``train.txt`` / ``val.txt``: the query ids of a split, one per line.

Triplets follow SPECTER's `TripletGenerator`: candidates sorted by count; with a spread of
counts, positives are candidates at least `margin_fraction * spread` above the lowest and hard
negatives those that much below the highest (each hard negative paired with a positive whose
count exceeds it by the margin). Queries whose candidates all have the same count yield
their candidates as positives without a hard negative (the loop's in-batch negatives remain).
Paper texts are looked up in an on-disk SQLite index built from ``metadata.json`` in one
streaming pass, so neither file is held in memory.
"""

from __future__ import annotations

import math
import random
import sqlite3
import tempfile
from collections.abc import Iterator
from pathlib import Path

from scimult_train.data.examples import Example
from scimult_train.data.jsonstream import DataFormatError, iter_object_members, open_text, where
from scimult_train.data.texts import paper_from_record


class MetadataIndex:
    """Paper id -> ``title [SEP] abstract`` from a SPECTER metadata.json, kept in a temporary SQLite file."""

    def __init__(self, metadata: str | Path) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="specter-meta-")
        self.db = sqlite3.connect(Path(self._dir.name) / "meta.sqlite")
        self.db.execute("CREATE TABLE paper (id TEXT PRIMARY KEY, text TEXT NOT NULL)")
        rows = []
        for line, paper_id, record in iter_object_members(metadata):
            if not isinstance(record, dict):
                raise DataFormatError(f"{where(metadata, line)}: paper {paper_id!r} is not an object")
            text = paper_from_record(record)
            if text:
                rows.append((paper_id, text))
            if len(rows) >= 10_000:
                self._insert(rows)
        self._insert(rows)

    def _insert(self, rows: list) -> None:
        self.db.executemany("INSERT OR REPLACE INTO paper VALUES (?, ?)", rows)
        rows.clear()

    def get(self, paper_id: str) -> str | None:
        row = self.db.execute("SELECT text FROM paper WHERE id = ?", (paper_id,)).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.db.close()
        self._dir.cleanup()


def read_specter(
    graph: str | Path,
    metadata: str | Path,
    *,
    query_ids: str | Path | None = None,
    samples_per_query: int = 5,
    margin_fraction: float = 0.5,
    seed: int = 321,
) -> Iterator[Example]:
    """Link examples (query paper, cited paper, hard negative) from SPECTER's data.json + metadata.json.

    Args:
        graph: data.json, ``{query: {candidate: {"count": n}}}``.
        metadata: metadata.json, ``{paper_id: {"title", "abstract"}}``.
        query_ids: optional split file (train.txt): only these queries are used.
        samples_per_query: at most this many examples per query paper.
        margin_fraction: SPECTER's minimum count margin between positive and negative, as a
            fraction of the query's count spread.
        seed: sampling seed (each query's draws also depend on its id, so output is stable).

    Raises:
        DataFormatError: a malformed graph entry (names file:line).
    """
    wanted = _read_ids(query_ids) if query_ids else None
    index = MetadataIndex(metadata)
    try:
        for line, query, candidates in iter_object_members(graph):
            if wanted is not None and query not in wanted:
                continue
            ranked = _ranked_candidates(candidates, graph, line)
            query_text = index.get(query)
            if not query_text or not ranked:
                continue
            rng = random.Random(f"{seed}:{query}")
            for pos_id, neg_id in _triplets(ranked, margin_fraction, samples_per_query, rng):
                positive = index.get(pos_id)
                negative = index.get(neg_id) if neg_id else None
                if positive:
                    yield Example("link", query_text, positive, (negative,) if negative else ())
    finally:
        index.close()


def _read_ids(path: str | Path) -> set[str]:
    with open_text(Path(path)) as handle:
        return {line.strip() for line in handle if line.strip()}


def _ranked_candidates(candidates: object, path, line: int) -> list[tuple[str, float]]:
    if not isinstance(candidates, dict):
        raise DataFormatError(f"{where(path, line)}: candidates must be an object {{paper_id: {{count}}}}")
    ranked = []
    for paper_id, info in candidates.items():
        count = info.get("count") if isinstance(info, dict) else None
        if not isinstance(count, (int, float)) or isinstance(count, bool):
            raise DataFormatError(f"{where(path, line)}: candidate {paper_id!r} has no numeric 'count'")
        ranked.append((paper_id, float(count)))
    return sorted(ranked, key=lambda item: (-item[1], item[0]))


def _triplets(ranked, margin_fraction: float, samples: int, rng: random.Random) -> Iterator[tuple[str, str | None]]:
    top, bottom = ranked[0][1], ranked[-1][1]
    spread = top - bottom
    margin = margin_fraction * spread
    if spread == 1 and top.is_integer() and bottom.is_integer():
        margin = math.ceil(margin)
    if spread == 0:
        for paper_id, _ in ranked[:samples]:
            yield paper_id, None
        return
    hard = [c for c in ranked if c[1] < top - margin]
    for _ in range(min(samples, len(hard) * (len(ranked) - len(hard)))):
        neg = hard[rng.randrange(len(hard))]
        positives = [c for c in ranked if c[1] > neg[1] + margin]
        if positives:
            yield positives[rng.randrange(len(positives))][0], neg[0]
