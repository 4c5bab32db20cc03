"""Draft suggestions sentence by sentence: what is asked, with which context, and the checks of cited keys."""

from __future__ import annotations

import pytest

from scimult_desktop.domain.records import ImportedRecord, Paper
from scimult_desktop.errors import ScimultError
from scimult_desktop.services.library.importing import store_record
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.store.sources import SourceStore
from tests.fakes import bag_of_words_backend

PAPERS = [
    ("vitd-pth", "Vitamin D sufficiency and parathyroid hormone levels",
     "Serum vitamin D sufficiency is associated with lower parathyroid hormone in adults."),
    ("vitd-bone", "Vitamin D status, parathyroid hormone and bone turnover",
     "Parathyroid hormone rises when vitamin D is insufficient; bone turnover follows."),
    ("distil", "Distilling large neural rankers into compact students",
     "Knowledge distillation compresses a large neural ranker into a smaller student model."),
    ("distil2", "Knowledge distillation for efficient passage ranking",
     "Students distilled from cross-encoder rankers keep most of their effectiveness."),
    ("bm25", "The probabilistic relevance framework: BM25 and beyond", "Term weighting for document retrieval."),
]


@pytest.fixture
def library(fresh_library):
    store, sources = PaperStore(fresh_library.database), SourceStore(fresh_library.database)
    for key, title, abstract in PAPERS:
        paper = Paper(title=title, abstract=abstract, year=2020, citekey=key, authors=["Doe, Jane"])
        store_record(store, sources, ImportedRecord(paper, "test", "t", key))
    fresh_library.use_semantic_backend(bag_of_words_backend(fresh_library.database))
    return fresh_library


# ---- one sentence on request --------------------------------------------------------------
def test_suggest_at_answers_for_the_sentence_under_the_cursor_claim_or_not(library):
    text = ("Our encoder maps every document to one vector.\n\n"
            "We compress the ranker by distillation into a student.")
    position = text.index("distillation")
    item = library.suggest_at(text, "plain", position, k=2)
    assert item["sentence"] == "We compress the ranker by distillation into a student."
    assert item["line"] == 3 and item["cited"] == [] and item["flags"] == []
    assert item["suggestions"][0]["citekey"] in {"distil", "distil2"}
    assert set(item) >= {"line", "end_line", "sentence", "cited", "suggestions", "flags"}


def test_suggest_at_between_sentences_and_at_the_end_takes_the_nearest(library):
    text = r"Vitamin D lowers parathyroid hormone \cite{nokey}.  Rankers are distilled into students."
    at_end = library.suggest_at(text, "latex", len(text), k=1)
    assert at_end["sentence"] == "Rankers are distilled into students."
    first = library.suggest_at(text, "latex", text.index(".") + 1, k=3)
    assert first["cited"] == ["nokey"] and "nokey: not in the library" in first["flags"]
    assert first["suggestions"][0]["citekey"] in {"vitd-pth", "vitd-bone"}


def test_suggest_at_without_any_sentence_is_one_clear_error(library):
    with pytest.raises(ScimultError, match="no sentence"):
        library.suggest_at("   \n\n", "markdown", 0)
