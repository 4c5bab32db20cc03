"""Citing while writing: citation text in the writer's format and feedback on suggestions.

Thin on purpose: the analysis itself is `Library.suggest_for_text` / `suggest_for_draft`;
this module is what front ends need around it without reaching into `writing/`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from scimult_desktop.errors import ScimultError
from scimult_desktop.writing.citations import CITATION_STYLES, format_citation
from scimult_desktop.writing.draft import analyse_draft, draft_kind

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

__all__ = [
    "CITATION_STYLES",
    "SUGGESTION_FEEDBACK_KIND",
    "citation_text",
    "draft_kind",
    "guess_text_kind",
    "record_suggestion_feedback",
    "suggest_for_selection",
    "withdraw_suggestion_feedback",
]

# The `feedback.kind` of a judged citation suggestion (value +1 good, -1 wrong); fine-tuning reads it.
SUGGESTION_FEEDBACK_KIND = "suggestion"


def citation_text(keys: Iterable[str], style: str) -> str:
    """`\\cite{a,b}`, `[@a; @b]`, ... for `keys` in `style` (see `CITATION_STYLES`)."""
    return format_citation(keys, style)


def guess_text_kind(text: str) -> str:
    """`latex`, `markdown` or `plain` for pasted text: LaTeX commands or pandoc citations decide."""
    if re.search(r"\\(?:[A-Za-z]*cite[a-zA-Z]*|section|begin|emph|textbf)\b", text):
        return "latex"
    if re.search(r"\[@[\w:.\-]+|^#{1,6} ", text, re.MULTILINE):
        return "markdown"
    return "plain"


def record_suggestion_feedback(library: "Library", sentence: str, paper: int | str, good: bool) -> int:
    """Store the user's verdict on one suggested paper for one sentence; returns the stored row's id."""
    library.record_feedback(SUGGESTION_FEEDBACK_KIND, 1.0 if good else -1.0, query=sentence, paper=paper)
    # record_feedback inserts on this library's own connection, so SQLite's last row id is that row.
    return int(library.database.conn.execute("SELECT last_insert_rowid()").fetchone()[0])


def withdraw_suggestion_feedback(library: "Library", feedback_id: int) -> bool:
    """Remove a verdict stored by `record_suggestion_feedback` (undo); False when it was already gone."""
    with library.database.transaction():
        cursor = library.database.conn.execute(
            "DELETE FROM feedback WHERE id = ? AND kind = ?", (feedback_id, SUGGESTION_FEEDBACK_KIND)
        )
    return cursor.rowcount == 1


def suggest_for_selection(library: "Library", text: str, kind: str, start: int, end: int, *, k: int = 5) -> dict:
    """Suggestions for the selected part `text[start:end]` taken as one passage, claim or not.

    Returns the item `Library.suggest_at` gives for a sentence (`line`, `end_line`, `sentence`: the
    selection without its markup, `cited`, `suggestions`, `flags`); papers it cites are not suggested.

    Raises:
        ScimultError: the selection holds no words, or `kind` is unknown.
    """
    sentences = analyse_draft(text[start:end], kind)
    passage = " ".join(s.text for s in sentences).strip()
    if not passage:
        raise ScimultError("the selection holds no sentence to find citations for")
    cited = [key for s in sentences for key in s.citations]
    skipped = set(cited)
    hits = [h for h in library.suggest(passage, k=k + len(skipped)) if h.paper.citekey not in skipped][:k]
    first_line = text.count("\n", 0, start) + 1
    return {
        "line": first_line,
        "end_line": first_line + text.count("\n", start, max(start, end - 1)),
        "sentence": passage,
        "cited": cited,
        "suggestions": [h.to_json() for h in hits],
        "flags": [],
        "key_flags": [],
    }
