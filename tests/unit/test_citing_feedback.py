"""Verdicts on citation suggestions can be taken back, and a selection can be asked about as one passage."""

from __future__ import annotations

import pytest

from scimult_desktop.domain.records import ImportedRecord, Paper
from scimult_desktop.errors import ScimultError
from scimult_desktop.services.library.importing import store_record
from scimult_desktop.services.writing import citing
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.store.sources import SourceStore
from tests.fakes import bag_of_words_backend

PAPERS = [
    ("vitd", "Vitamin D and parathyroid hormone", "Vitamin D sufficiency lowers parathyroid hormone in adults."),
    ("vitd2", "Vitamin D status and bone turnover", "Parathyroid hormone rises when vitamin D is insufficient."),
    ("distil", "Distilling neural rankers into students", "Knowledge distillation compresses a neural ranker."),
    ("bm25", "The probabilistic relevance framework: BM25", "Term weighting for document retrieval."),
]


@pytest.fixture
def library(fresh_library):
    store, sources = PaperStore(fresh_library.database), SourceStore(fresh_library.database)
    for key, title, abstract in PAPERS:
        store_record(store, sources, ImportedRecord(Paper(title=title, abstract=abstract, year=2020, citekey=key), "test", "t", key))
    fresh_library.use_semantic_backend(bag_of_words_backend(fresh_library.database))
    return fresh_library


def feedback_rows(library) -> list[tuple]:
    return [tuple(r) for r in library.database.conn.execute("SELECT id, kind, query, value FROM feedback ORDER BY id")]


def test_withdrawing_a_verdict_removes_exactly_its_stored_row(library):
    first = citing.record_suggestion_feedback(library, "Vitamin D lowers PTH.", "vitd", True)
    second = citing.record_suggestion_feedback(library, "Vitamin D lowers PTH.", "vitd2", False)
    library.record_feedback("search", 1.0, query="vitamin d", paper="vitd")
    assert [row[0] for row in feedback_rows(library)][:2] == [first, second]

    assert citing.withdraw_suggestion_feedback(library, first) is True
    assert [(row[0], row[1], row[3]) for row in feedback_rows(library)][:1] == [(second, "suggestion", -1.0)]
    assert len(feedback_rows(library)) == 2  # the other verdict and the search feedback stay
    assert citing.withdraw_suggestion_feedback(library, first) is False  # already gone


def test_withdrawing_never_removes_feedback_of_another_kind(library):
    library.record_feedback("search", 1.0, query="vitamin d", paper="vitd")
    [(search_id, *_)] = feedback_rows(library)
    assert citing.withdraw_suggestion_feedback(library, search_id) is False
    assert len(feedback_rows(library)) == 1


def test_a_selection_over_two_sentences_is_one_passage_without_its_cited_papers(library):
    text = ("Intro line.\n"
            "Vitamin D lowers parathyroid hormone \\cite{vitd}. Bone turnover follows vitamin D status.\n"
            "Rankers are distilled.")
    start, end = text.index("Vitamin"), text.index("Rankers") - 1
    item = citing.suggest_for_selection(library, text, "latex", start, end, k=3)
    assert item["sentence"] == "Vitamin D lowers parathyroid hormone. Bone turnover follows vitamin D status."
    assert (item["line"], item["end_line"], item["cited"], item["flags"]) == (2, 2, ["vitd"], [])
    keys = [hit["citekey"] for hit in item["suggestions"]]
    assert "vitd" not in keys and keys[0] == "vitd2"


def test_a_selection_without_words_is_one_clear_error(library):
    with pytest.raises(ScimultError, match="no sentence"):
        citing.suggest_for_selection(library, "Text.   \n\n", "plain", 5, 9)
