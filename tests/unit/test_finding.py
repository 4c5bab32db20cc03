import pytest

from scimult_desktop.domain.records import ImportedRecord, Paper, Reference
from scimult_desktop.services.finding.filters import SearchFilters
from scimult_desktop.services.finding.finder import Finder
from scimult_desktop.domain.fusion import reciprocal_rank_fusion
from scimult_desktop.services.library.importing import store_record
from scimult_desktop.store.links import match_references
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.store.sources import SourceStore
from tests.fakes import bag_of_words_backend

PAPERS = [
    ("vit", "Vitamin D supplementation and fracture risk in older adults", "Randomised trial of vitamin D on bone fractures.", 2015, ["nutrition"]),
    ("bone", "Bone mineral density after calcium intake", "Calcium and bone density in women; fractures were rare.", 2012, ["nutrition"]),
    ("bert", "Pre-training deep bidirectional transformers for language understanding", "Masked language modeling of text.", 2019, ["nlp"]),
    ("dpr", "Dense passage retrieval for open-domain question answering", "Dual encoders retrieve passages for questions.", 2020, ["nlp", "retrieval"]),
    ("bm25", "Probabilistic relevance framework: BM25 and beyond", "Term weighting for document retrieval and ranking.", 2009, ["retrieval"]),
]


@pytest.fixture
def library(fresh_library):
    store, sources = PaperStore(fresh_library.database), SourceStore(fresh_library.database)
    for key, title, abstract, year, tags in PAPERS:
        paper = Paper(title=title, abstract=abstract, year=year, citekey=key, authors=["Doe, Jane"], tags=tags)
        refs = [Reference(raw="BERT", title=PAPERS[2][1])] if key == "dpr" else []
        refs += [Reference(raw="BM25", title=PAPERS[4][1])] if key in {"dpr", "bert"} else []
        store_record(store, sources, ImportedRecord(paper, "test", "t", key, references=refs))
    match_references(fresh_library.database)
    return fresh_library


def finder(library):
    return Finder(library.database, bag_of_words_backend(library.database))


def test_rrf_rewards_agreement_between_rankings():
    fused = reciprocal_rank_fusion([[1, 2, 3], [3, 1, 4]])
    assert [pid for pid, _ in fused][:2] == [1, 3]
    assert fused[0][1] == pytest.approx(1 / 61 + 1 / 62)


@pytest.mark.parametrize("mode", ["keyword", "semantic", "hybrid"])
def test_search_modes_find_the_obvious_paper(library, mode):
    [hits] = finder(library).search_many(["vitamin D fractures"], k=3, mode=mode)
    assert hits[0].paper.citekey == "vit"
    assert hits[0].why and "[" in hits[0].why  # highlighted evidence


def test_filters_restrict_every_mode(library):
    f = finder(library)
    for mode in ("keyword", "semantic", "hybrid"):
        [hits] = f.search_many(["retrieval"], k=5, mode=mode, filters=SearchFilters(year_from=2010))
        assert {h.paper.citekey for h in hits} <= {"vit", "bone", "bert", "dpr"}
        [tagged] = f.search_many(["retrieval"], k=5, mode=mode, filters=SearchFilters(tag="nutrition"))
        assert {h.paper.citekey for h in tagged} <= {"vit", "bone"}


def test_related_mixes_citation_graph_and_content_and_says_why(library):
    dpr = PaperStore(library.database).resolve("dpr")
    hits = finder(library).related(dpr, k=4)
    keys = [h.paper.citekey for h in hits]
    assert "dpr" not in keys
    assert set(keys[:2]) == {"bert", "bm25"}  # both cited by DPR
    why = {h.paper.citekey: h.why for h in hits}
    assert "this paper cites it" in why["bert"]
    assert "shares 1 reference" in why["bert"] or "this paper cites it" in why["bert"]


def test_suggest_ranks_relevant_papers_and_skips_excluded(library):
    f = finder(library)
    text = "Dense retrieval with dual encoders answers open-domain questions better than term weighting."
    [hits] = f.suggest_many([text], k=3)
    assert hits[0].paper.citekey == "dpr"
    dpr = hits[0].paper.id
    [without] = f.suggest_many([text], k=3, exclude=[[dpr]])
    assert dpr not in [h.paper.id for h in without]


def test_batch_search_returns_one_list_per_query_and_encodes_once(library):
    f = finder(library)
    results = f.search_many(["vitamin", "passage retrieval", "bone density"], k=2, mode="semantic")
    assert [r[0].paper.citekey for r in results] == ["vit", "dpr", "bone"]
    assert f.backend.calls["encode"] == 1


def test_near_duplicates_are_proposed_from_embeddings_and_titles(library):
    from scimult_desktop.services.library.duplicates import scan_near_duplicates

    store = PaperStore(library.database)
    sources = SourceStore(library.database)
    typo = Paper(title="Dense passage retrieval for open domain question answering.", citekey="dpr-typo",
                 abstract="Dual encoders retrieve passages for questions.", authors=["Other, Person"], year=2021)
    store_record(store, sources, ImportedRecord(typo, "test", "t", "dpr-typo"))
    made = scan_near_duplicates(library.database, bag_of_words_backend(library.database))
    assert made == 1
    [proposal] = library.duplicate_proposals()
    keys = {store.get(proposal["paper_a"]).citekey, store.get(proposal["paper_b"]).citekey}
    assert keys == {"dpr", "dpr-typo"} and "nearly identical" in proposal["reason"]
    assert scan_near_duplicates(library.database, bag_of_words_backend(library.database)) == 0


def test_draft_flags_a_cited_paper_that_looks_unrelated(fresh_library, tmp_path):
    from tests.bibgen import bib_entry, synthetic_bib

    bib = tmp_path / "refs.bib"
    bib.write_text(synthetic_bib(80) + bib_entry("dpr", "Dense passage retrieval for question answering",
                                               abstract="dual encoders retrieve passages for open domain questions"))
    fresh_library.import_paths([bib])
    fresh_library.use_semantic_backend(bag_of_words_backend(fresh_library.database))
    draft = tmp_path / "draft.md"
    draft.write_text("Dual encoders retrieve passages for open domain questions [@key3].\n\n"
                     "Dual encoders retrieve passages for open domain questions [@dpr].\n")
    report = fresh_library.suggest_for_draft(draft, k=3)
    assert [item["line"] for item in report] == [1]
    assert report[0]["flags"] == ["key3: looks unrelated to this sentence (not among its 25 closest papers)"]
