"""Places in a draft's source text that editors act on: the sentence at the cursor."""

from __future__ import annotations

from scimult_desktop.services.writing.drafting import sentence_index_at
from scimult_desktop.writing.draft import DraftSentence, analyse_draft, cited_key_places
from scimult_desktop.writing.markdown import is_cross_reference

__all__ = ["DraftSentence", "cited_key_places", "is_cross_reference", "sentence_at"]


def sentence_at(text: str, kind: str, position: int) -> DraftSentence | None:
    """The sentence of `text` (latex, markdown or plain) at character offset `position`.

    Between sentences the nearest one (as `Library.suggest_at` picks it); None when the
    text has no sentence. `start`/`end` are offsets into `text`.
    """
    sentences = analyse_draft(text, kind)
    return sentences[sentence_index_at(sentences, position)] if sentences else None
