"""The one training-example format every data source converts to.

A line of our JSONL format is one contrastive example:

    {"task": "search" | "link" | "classify", "query": str, "positive": str,
     "negatives": [str, ...],            # optional: hard negatives
     "positive_id": str}                 # optional: what the positive is (a label or paper id)

``positive_id`` lets the loop recognise false in-batch negatives: another query's
positive (or hard negative) that is the same label or paper, even when written
differently (a label as "name", "name [SEP] definition", ...), must not count as a
negative. Without it, identical texts are the only sign of the same item.

Texts of papers are already formatted as ``"title [SEP] abstract"`` and labels as
``"name [SEP] definition"`` (spec §1.1), so the training loop never needs to know
where an example came from.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from scimult_desktop.domain.tasks import Task
from scimult_train.data.jsonstream import DataFormatError, iter_jsonl


@dataclass(frozen=True)
class Example:
    """One (query, positive, hard negatives) triple for one task."""

    task: str
    query: str
    positive: str
    negatives: tuple[str, ...] = field(default_factory=tuple)
    positive_id: str | None = None

    def to_json(self) -> str:
        record = {"task": self.task, "query": self.query, "positive": self.positive}
        if self.negatives:
            record["negatives"] = list(self.negatives)
        if self.positive_id is not None:
            record["positive_id"] = self.positive_id
        return json.dumps(record, ensure_ascii=False)


def parse_example(record: dict) -> Example:
    """Validate one decoded JSONL record; raises ValueError naming what is wrong."""
    task = Task.parse(record.get("task", "")).value
    query, positive = record.get("query"), record.get("positive")
    if not isinstance(query, str) or not query.strip():
        raise ValueError("missing or empty 'query'")
    if not isinstance(positive, str) or not positive.strip():
        raise ValueError("missing or empty 'positive'")
    negatives = record.get("negatives") or []
    if not isinstance(negatives, list) or not all(isinstance(n, str) for n in negatives):
        raise ValueError("'negatives' must be a list of strings")
    positive_id = record.get("positive_id")
    if positive_id is not None and not isinstance(positive_id, str):
        raise ValueError("'positive_id' must be a string")
    return Example(task, query, positive, tuple(n for n in negatives if n.strip()), positive_id)


def read_examples(path: str | Path) -> Iterator[Example]:
    """Stream examples from one JSONL file (never loads the file whole).

    Raises:
        DataFormatError: (a ValueError) a malformed line, naming the file and the line number.
    """
    for number, record in iter_jsonl(path):
        try:
            if not isinstance(record, dict):
                raise ValueError("expected a JSON object")
            yield parse_example(record)
        except ValueError as exc:
            raise DataFormatError(f"{path}:{number}: {exc}") from None


def write_examples(path: str | Path, examples: Iterable[Example]) -> int:
    """Write examples as JSONL (atomically: temp file, fsync, rename); returns the count."""
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    try:
        with tmp.open("w", encoding="utf-8") as handle:
            for example in examples:
                handle.write(example.to_json() + "\n")
                count += 1
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)  # a failed conversion leaves neither a partial file nor a stale temp
        raise
    os.replace(tmp, path)
    return count
