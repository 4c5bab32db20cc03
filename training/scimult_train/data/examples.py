"""The one training-example format every data source converts to.

A line of our JSONL format is one contrastive example:

    {"task": "search" | "link" | "classify", "query": str, "positive": str,
     "negatives": [str, ...]}            # "negatives" optional (hard negatives)

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


@dataclass(frozen=True)
class Example:
    """One (query, positive, hard negatives) triple for one task."""

    task: str
    query: str
    positive: str
    negatives: tuple[str, ...] = field(default_factory=tuple)

    def to_json(self) -> str:
        record = {"task": self.task, "query": self.query, "positive": self.positive}
        if self.negatives:
            record["negatives"] = list(self.negatives)
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
    return Example(task, query, positive, tuple(n for n in negatives if n.strip()))


def read_examples(path: str | Path) -> Iterator[Example]:
    """Stream examples from one JSONL file (never loads the file whole).

    Raises:
        ValueError: a malformed line, naming the file and the line number.
    """
    path = Path(path)
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield parse_example(json.loads(line))
            except (json.JSONDecodeError, ValueError) as exc:
                raise ValueError(f"{path}:{number}: {exc}") from None


def write_examples(path: str | Path, examples: Iterable[Example]) -> int:
    """Write examples as JSONL (atomically: temp file, fsync, rename); returns the count."""
    import os

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    count = 0
    with tmp.open("w", encoding="utf-8") as handle:
        for example in examples:
            handle.write(example.to_json() + "\n")
            count += 1
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    return count
