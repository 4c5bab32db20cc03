"""Citation contexts as evidence: suggestions quote how the library cites them, related papers a shared sentence."""

from __future__ import annotations

from scimult_desktop.domain.records import ImportedRecord, PageText, Paper, Reference
from scimult_desktop.services.finding.finder import Finder
from scimult_desktop.services.library.importing import store_record
from scimult_desktop.store.links import match_references
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.store.sources import SourceStore
from tests import contexts_library
from tests.fakes import bag_of_words_backend


def finder(library):
    return Finder(library.database, bag_of_words_backend(library.database))


def test_suggestion_carries_a_library_sentence_citing_it_for_a_similar_claim(fresh_library):
    ids = contexts_library.build(fresh_library)
    fresh_library.analyse_citation_contexts()
    text = "Dual encoders retrieve passages better than sparse retrieval for open-domain questions."
    [hits] = finder(fresh_library).suggest_many([text], k=5)
    dpr = next(h for h in hits if h.paper.id == ids["10.18653/v1/2020.emnlp-main.550"])
    context = dpr.library_context
    assert context["sentence"] == ("Dual encoders retrieve passages far better than sparse retrieval [2, 3] on "
                                   "open-domain questions.")
    assert context["page"] == 1 and context["citing_paper"]["id"] == ids["citing0"]
    assert {"encoder", "passage", "retrieve", "sparse"} <= set(context["shared_words"])
    assert dpr.to_json()["library_context"] == context
    assert set(dpr.to_json()) >= {"id", "citekey", "title", "score"}  # the old fields stay


def test_no_library_context_for_an_unrelated_claim_or_an_uncited_paper(fresh_library):
    ids = contexts_library.build(fresh_library)
    fresh_library.analyse_citation_contexts()
    [hits] = finder(fresh_library).suggest_many(["Language models are pre-trained on unlabeled text."], k=5)
    assert all(h.library_context is None for h in hits if h.paper.id != ids["10.18653/v1/n19-1423"])
    bert = next(h for h in hits if h.paper.id == ids["10.18653/v1/n19-1423"])
    assert bert.library_context["sentence"] == "Pre-trained language models such as BERT [1] changed ranking."
    assert all("library_context" not in h.to_json() for h in hits if h is not bert)


def test_related_papers_quote_the_sentence_that_cites_both(fresh_library):
    ids = contexts_library.build(fresh_library)
    store, sources = PaperStore(fresh_library.database), SourceStore(fresh_library.database)
    bm25 = Paper(title="The probabilistic relevance framework: BM25 and beyond", authors=["Robertson, Stephen"], year=2009,
                 abstract="Term weighting for retrieval.")
    store_record(store, sources, ImportedRecord(bm25, "bibtex", "/refs.bib", "bm25"))
    # the citing record's reference [3] names BM25 by title only: give it one the matcher can use
    fresh_library.database.conn.execute(
        "UPDATE paper_references SET title = ? WHERE raw LIKE '[3]%'", ("The probabilistic relevance framework: BM25 and beyond",))
    match_references(fresh_library.database)
    fresh_library.analyse_citation_contexts(force=True)
    hits = finder(fresh_library).related(ids["10.18653/v1/2020.emnlp-main.550"], k=5)
    reason = next(h.why for h in hits if h.paper.id == bm25.id)
    assert reason.startswith("cited together in “Dual encoders retrieve passages far better than sparse retrieval [2, 3]")
    assert "(Neural rankers for everyone, part 1, p. 1)" in reason
    bert_reason = next(h.why for h in hits if h.paper.id == ids["10.18653/v1/n19-1423"])
    assert "cited together" not in bert_reason  # cited by the same paper, never in one sentence

