"""Citation keys as an editor sees them: which papers a typed prefix names, and what a key is.

The language server's completion ranks papers by meaning (`Library.suggest*`); these
verbs cover the rest: papers outside the ranked few are still found by typing part of
their key, title or an author's name, and cited keys are looked up for hover and for
"not in the library" warnings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable

from scimult_desktop.writing.latex import is_cite_command

if TYPE_CHECKING:
    from scimult_desktop.domain.records import Paper
    from scimult_desktop.services.library.facade import Library

__all__ = ["KeyMatch", "is_cite_command", "papers_by_citekey", "papers_matching"]


@dataclass(frozen=True)
class KeyMatch:
    """A paper whose key, title or authors contain what was typed (no abstract: cheap rows)."""

    id: int
    citekey: str
    title: str
    authors: tuple[str, ...]
    year: int | None


def papers_matching(library: "Library", typed: str, *, limit: int = 50, exclude: Iterable[str] = ()) -> list[KeyMatch]:
    """Papers whose citation key, title or author list contains `typed` (case-insensitive).

    Keys that start with `typed` come first, then other key matches, then title and
    author matches; ties in key order. An empty `typed` matches nothing.
    """
    typed = typed.strip()
    if not typed:
        return []
    skipped = set(exclude)
    rows = library.database.conn.execute(
        r"""SELECT id, citekey, title, authors, year,
                   CASE WHEN citekey LIKE :prefix ESCAPE '\' THEN 0
                        WHEN citekey LIKE :anywhere ESCAPE '\' THEN 1 ELSE 2 END AS rank
            FROM papers
            WHERE (citekey LIKE :anywhere ESCAPE '\' OR title LIKE :anywhere ESCAPE '\' OR authors LIKE :anywhere ESCAPE '\')
                  AND deleted_at IS NULL
            ORDER BY rank, citekey LIMIT :limit""",
        {"prefix": _escaped(typed) + "%", "anywhere": "%" + _escaped(typed) + "%", "limit": limit + len(skipped)},
    ).fetchall()
    found = [
        KeyMatch(int(row[0]), row[1], row[2], tuple(json.loads(row[3] or "[]")), row[4])
        for row in rows
        if row[1] not in skipped
    ]
    return found[:limit]


def _escaped(text: str) -> str:
    """`text` as a literal inside a LIKE pattern (ESCAPE '\\')."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def papers_by_citekey(library: "Library", keys: Iterable[str]) -> dict[str, "Paper"]:
    """Citation key -> paper for the keys this library has (the others are left out)."""
    ids = library.papers.ids_by_citekey(list(dict.fromkeys(keys)))
    papers = {paper.id: paper for paper in library.papers.get_many(list(ids.values()))}
    return {key: papers[pid] for key, pid in ids.items() if pid in papers}
