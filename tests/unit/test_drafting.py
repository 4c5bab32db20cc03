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
    assert {"key": "nokey", "problem": "missing", "message": "nokey: not in the library"} in first["key_flags"]
    assert first["suggestions"][0]["citekey"] in {"vitd-pth", "vitd-bone"}


def test_suggest_at_without_any_sentence_is_one_clear_error(library):
    with pytest.raises(ScimultError, match="no sentence"):
        library.suggest_at("   \n\n", "markdown", 0)


# ---- context stays in its paragraph ------------------------------------------------------
VITAMIN = "Previous studies have found that vitamin D sufficiency is associated with lower parathyroid hormone levels."
DISTILLATION = "Knowledge distillation has been widely used to compress large neural rankers into smaller students."


def test_a_paragraph_above_does_not_leak_into_the_next_sentence(library, tmp_path):
    draft = tmp_path / "draft.tex"
    draft.write_text(f"\\begin{{document}}\n{VITAMIN}\n\n{DISTILLATION}\n\\end{{document}}\n")
    report = library.suggest_for_draft(draft, k=3)
    second = next(item for item in report if item["sentence"] == DISTILLATION)
    alone = library.suggest_at(DISTILLATION, "plain", 0, k=3)
    assert [s["citekey"] for s in second["suggestions"]] == [s["citekey"] for s in alone["suggestions"]]
    assert {s["citekey"] for s in second["suggestions"][:2]} == {"distil", "distil2"}


def test_context_in_the_same_paragraph_reorders_but_never_adds_papers(library):
    from scimult_desktop.domain.tasks import Task

    finder = library._finder(Task.LINK)
    keys = {p.id: p.citekey for p in library.papers.get_many(library.papers.all_ids())}
    # However much an off-topic neighbour weighs, only the sentence's own candidates come back.
    [ranked] = finder.suggestion_rankings([DISTILLATION], 2, contexts=[VITAMIN], context_weight=10.0, pool=2)
    assert {keys[pid] for pid in ranked.ids} <= {"distil", "distil2"}
    # Without context it is the sentence asked alone.
    [plain] = finder.suggestion_rankings([DISTILLATION], 5, contexts=[""], context_weight=0.5, pool=300)
    assert plain.ids == finder.suggestion_rankings([DISTILLATION], 5)[0].ids


def test_an_off_topic_neighbour_in_the_paragraph_does_not_outweigh_the_sentence(library):
    together = library.suggest_at(f"{VITAMIN} {DISTILLATION}", "plain", len(VITAMIN) + 2, k=2)
    assert together["sentence"] == DISTILLATION
    assert {s["citekey"] for s in together["suggestions"]} == {"distil", "distil2"}


VAGUE = "This was later confirmed in a larger cohort."  # names no topic: its paragraph has to
BONE = "Bone turnover follows when vitamin D status is insufficient."


def test_a_vague_sentence_is_ranked_with_its_paragraph_neighbours(library):
    alone = library.suggest_at(VAGUE, "plain", 0, k=3)
    assert alone["suggestions"][0]["citekey"] != "vitd-bone"
    # The sentence before it in its paragraph is about bone turnover: that paper comes first.
    after_bone = library.suggest_at(f"{BONE} {VAGUE}", "plain", len(BONE) + 2, k=3)
    assert after_bone["sentence"] == VAGUE and after_bone["suggestions"][0]["citekey"] == "vitd-bone"
    after_distillation = library.suggest_at(f"{DISTILLATION} {VAGUE}", "plain", len(DISTILLATION) + 2, k=3)
    assert after_distillation["suggestions"][0]["citekey"] in {"distil", "distil2"}
    # In another paragraph it does not count.
    apart = library.suggest_at(f"{BONE}\n\n{VAGUE}", "plain", len(BONE) + 3, k=3)
    assert apart["sentence"] == VAGUE
    assert [s["citekey"] for s in apart["suggestions"]] == [s["citekey"] for s in alone["suggestions"]]


def test_every_sentence_stating_a_finding_in_a_pasted_paragraph_is_reported(library):
    # Four statements from the literature; the old cue heuristic reported one of them.
    text = ("Transformers have become the dominant architecture for language modelling. "
            "Dense retrieval models encode queries and documents into a shared vector space. "
            "Students distilled from cross-encoders keep most of their effectiveness. "
            "Knowledge distillation has been widely used to compress large neural rankers.")
    report = library.suggest_for_text(text, kind="plain", k=2)
    assert len(report) == 4 and all(item["suggestions"] for item in report)


def test_a_missing_key_gets_replacement_suggestions(library):
    report = library.suggest_for_text(f"{DISTILLATION[:-1]} \\cite{{hinton2015}}.", kind="latex", k=2)
    [item] = report
    assert item["flags"] == ["hinton2015: not in the library"]
    assert {s["citekey"] for s in item["suggestions"]} == {"distil", "distil2"}
