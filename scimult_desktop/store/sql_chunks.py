"""Asking SQLite about many ids at once without passing its host-parameter limit."""

from __future__ import annotations

from typing import Iterator, Sequence

CHUNK = 500  # SQLite's host-parameter limit is 999 on old builds


def in_chunks(ids: Sequence, size: int = CHUNK) -> Iterator[tuple[list, str]]:
    """(chunk of `ids`, its placeholders "?,?,...") for an `IN ({marks})` clause, `size` ids at a time."""
    for start in range(0, len(ids), size):
        chunk = list(ids[start : start + size])
        yield chunk, ",".join("?" * len(chunk))
