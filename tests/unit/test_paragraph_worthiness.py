"""Citation worthiness with the paragraph around a sentence, and the cues of a citation's place."""

from __future__ import annotations

import zlib

from scimult_desktop.writing.claims import assess_claim, assess_claims
from scimult_desktop.writing.draft import analyse_draft
from scimult_desktop.writing.paragraph_worthiness import ParagraphWeights, neighbour_scores
from scimult_desktop.writing.worthiness import WorthinessModel, default_model, features

BUCKETS = 1 << 14


def bucket(gram: str) -> int:
    return zlib.crc32(gram.encode("utf-8")) % BUCKETS


def test_a_function_word_before_punctuation_marks_the_place_of_a_removed_citation():
    assert bucket("f:gap:in") in features("Dense retrieval was shown to beat BM25 in.", BUCKETS)
    assert bucket("f:gap:by") in features("The model proposed by, which we extend, is small.", BUCKETS)
    assert bucket("f:gap:in") not in features("Dense retrieval was shown to beat BM25 in practice.", BUCKETS)


def test_a_sentence_opening_in_lower_case_is_told_apart_by_its_first_word():
    lacks_subject = features("proposes a model for ranking documents by their citations.", BUCKETS)
    assert bucket("f:lower-open:content") in lacks_subject and bucket("f:lower-open:proposes") in lacks_subject
    continues_formula = features("where x is the number of documents in the collection.", BUCKETS)
    assert bucket("f:lower-open:function") in continues_formula
    assert bucket("f:lower-open:content") not in features("Proposes a model for ranking documents.", BUCKETS)


# A model that knows two words: "ranker" (a statement from the literature) and "plain".
LITERATURE, PLAIN = "The neural ranker was trained on clicks from the search log.", "The plain text was split into short pieces."
MODEL = WorthinessModel(
    BUCKETS, -2.0, {bucket("u:ranker"): 4.0, bucket("u:plain"): -1.0}, threshold=0.5,
    paragraph=ParagraphWeights(own=1.0, neighbours=1.0, with_neighbours=0.0, bias=0.0, threshold=-0.5),
)


def test_a_neighbour_that_reads_like_the_literature_lifts_a_sentence_of_its_paragraph():
    vague = "The same holds for the other collections we looked at."
    assert not assess_claim(vague, MODEL).needs_citation  # alone: log-odds -2, below the threshold
    among = assess_claims([LITERATURE, vague], [0, 0], MODEL)
    assert among[1].needs_citation and "as the sentences around it do" in among[1].reasons[0]
    # A neighbour in another paragraph, or one that reads like plain description, does not.
    assert not assess_claims([LITERATURE, vague], [0, 1], MODEL)[1].needs_citation
    assert not assess_claims([PLAIN, vague], [0, 0], MODEL)[1].needs_citation


def test_neighbour_scores_stay_in_the_paragraph():
    assert neighbour_scores([1.0, 2.0, 3.0, 4.0], [0, 0, 0, 1], 2) == [2.0]
    assert neighbour_scores([1.0, 2.0, 3.0], [0, 0, 0], 1) == [1.0, 3.0]
    assert neighbour_scores([1.0], [0], 0) == []


def test_the_shipped_model_has_paragraph_weights_fitted_on_held_out_papers():
    model = default_model()
    assert model is not None and model.paragraph is not None
    # The sentence itself dominates; its neighbours add to it, never take its place.
    assert model.paragraph.own > model.paragraph.neighbours > 0


def test_the_draft_reader_judges_each_sentence_with_its_paragraph(monkeypatch):
    import scimult_desktop.writing.claims as claims

    monkeypatch.setattr(claims, "default_model", lambda: MODEL)
    vague = "The same holds for the other collections we looked at."
    together = analyse_draft(f"{LITERATURE} {vague}", "plain")
    apart = analyse_draft(f"{LITERATURE}\n\n{vague}", "plain")
    assert together[1].needs_citation and not apart[1].needs_citation


def test_training_sentences_split_where_a_citation_opens_one_and_keep_formulas_as_words():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "tools" / "train_citation_worthiness.py"
    spec = importlib.util.spec_from_file_location("train_citation_worthiness", path)
    tool = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tool)
    cite = tool.CITE
    text = f"Rankers are trained on clicks from the search log. {cite} proposed a model of position bias for them."
    assert tool.sentences_of(text) == [("Rankers are trained on clicks from the search log.", 0),
                                       ("proposed a model of position bias for them.", 1)]
    assert tool.FORMULA.isalpha()  # a formula leaves a word, not the hole a removed citation leaves
