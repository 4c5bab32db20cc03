"""Draft analysis for citation suggestions while writing.

Pure Python (standard library only): split a LaTeX, Markdown or plain-text
draft into sentences with line numbers and character offsets, find the
citation keys each sentence already has, flag sentences that make a claim
needing a citation, and format citation commands for the user's editor.

Entry points: `analyse_draft`, `read_draft`, `assess_claim`, `format_citation`.
"""

from __future__ import annotations

from scimult_desktop.writing.citations import CITATION_STYLES, format_citation
from scimult_desktop.writing.claims import ClaimCheck, assess_claim, assess_cues
from scimult_desktop.writing.draft import DRAFT_KINDS, DraftError, DraftSentence, analyse_draft, draft_kind, read_draft

__all__ = [
    "CITATION_STYLES",
    "DRAFT_KINDS",
    "ClaimCheck",
    "DraftError",
    "DraftSentence",
    "analyse_draft",
    "assess_claim",
    "assess_cues",
    "draft_kind",
    "format_citation",
    "read_draft",
]
