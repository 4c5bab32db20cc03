"""Citing while writing: citation text in the writer's format and feedback on suggestions.

Thin on purpose: the analysis itself is `Library.suggest_for_text` / `suggest_for_draft`;
this module is what front ends need around it without reaching into `writing/`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Iterable

from scimult_desktop.writing.citations import CITATION_STYLES, format_citation
from scimult_desktop.writing.draft import draft_kind

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

__all__ = ["CITATION_STYLES", "SUGGESTION_FEEDBACK_KIND", "citation_text", "draft_kind", "guess_text_kind", "record_suggestion_feedback"]

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


def record_suggestion_feedback(library: "Library", sentence: str, paper: int | str, good: bool) -> None:
    """Store the user's verdict on one suggested paper for one sentence."""
    library.record_feedback(SUGGESTION_FEEDBACK_KIND, 1.0 if good else -1.0, query=sentence, paper=paper)
