"""Citation contexts in a library: analysis after import, resumable re-analysis, how a paper is cited."""

from __future__ import annotations

import pytest

from scimult_desktop.domain.progress import CancelToken
from scimult_desktop.errors import Cancelled
from scimult_desktop.services.library import citation_contexts
from tests import contexts_library


def test_how_cited_lists_citing_sentences_with_page_and_citing_paper(fresh_library):
    ids = contexts_library.build(fresh_library)
    report = fresh_library.analyse_citation_contexts()
    assert report["analysed"] == 1 and report["remaining"] == 0
    dpr = ids["10.18653/v1/2020.emnlp-main.550"]
    found = fresh_library.citation_contexts(dpr)
    assert [(c["page"], c["sentence"]) for c in found] == [
        (1, "Dual encoders retrieve passages far better than sparse retrieval [2, 3] on open-domain questions."),
        (2, "We fine-tune the dual encoder of Karpukhin et al. [2] on our logs."),
    ]
    assert found[0]["citing_paper"]["id"] == ids["citing0"]
    assert found[0]["cited_paper_id"] == dpr
    assert "Karpukhin" in found[0]["reference"]
    bert = fresh_library.citation_contexts(ids["10.18653/v1/n19-1423"])
    assert [c["marker"] for c in bert] == ["[1]"]


def test_contexts_in_lists_every_citation_including_unmatched_references(fresh_library):
    ids = contexts_library.build(fresh_library)
    fresh_library.analyse_citation_contexts()
    inside = fresh_library.contexts_in(ids["citing0"])
    assert [(c["marker"], c["cited_paper_id"] is not None) for c in inside] == [
        ("[1]", True), ("[2, 3]", True), ("[2, 3]", False), ("[2]", True)]
    assert not any("Toutanova" in c["sentence"] for c in inside)  # reference-list lines are not contexts


def test_import_analyses_new_papers(fresh_library, tmp_path):
    contexts_library.build(fresh_library)
    # build() stores records without import_paths; the import hook runs on the papers an import touched
    report = citation_contexts.analyse_papers(fresh_library.database, [])
    assert report["analysed"] == 0 and report["remaining"] == 1


def test_reanalysis_resumes_after_cancel_and_redoes_only_rewritten_papers(fresh_library):
    ids = contexts_library.build(fresh_library, citing=3)
    token = CancelToken()
    seen = []

    def progress(event):
        seen.append(event.done)
        if event.done == 1:
            token.cancel()

    with pytest.raises(Cancelled):
        citation_contexts.analyse_papers(fresh_library.database, progress=progress, cancel=token)
    second = fresh_library.analyse_citation_contexts()
    assert second["analysed"] == 2 and second["remaining"] == 0  # the first paper is not redone
    assert fresh_library.analyse_citation_contexts()["analysed"] == 0
    # re-importing a paper rewrites its references: its run is forgotten, only it is analysed again
    from scimult_desktop.services.library import importing
    from scimult_desktop.store.papers import PaperStore
    from scimult_desktop.store.sources import SourceStore

    record = contexts_library.citing_record("citing1.pdf", title="Neural rankers for everyone, part 2 (revised)")
    importing.store_record(PaperStore(fresh_library.database), SourceStore(fresh_library.database), record)
    from scimult_desktop.store import links

    links.match_references(fresh_library.database)  # as import_paths does before analysing
    again = fresh_library.analyse_citation_contexts()
    assert again["analysed"] == 1
    dpr = ids["10.18653/v1/2020.emnlp-main.550"]
    assert len({c["citing_paper"]["id"] for c in fresh_library.citation_contexts(dpr)}) == 3
    assert fresh_library.analyse_citation_contexts(force=True)["analysed"] == 3


def test_one_bad_paper_is_reported_and_the_rest_go_on(fresh_library, monkeypatch):
    ids = contexts_library.build(fresh_library, citing=2)
    real = citation_contexts.find_citation_contexts
    calls = []

    def flaky(pages, references):
        calls.append(1)
        if len(calls) == 1:
            raise ValueError("odd text")
        return real(pages, references)

    monkeypatch.setattr(citation_contexts, "find_citation_contexts", flaky)
    report = fresh_library.analyse_citation_contexts()
    assert report["analysed"] == 1 and report["failed"][0]["error"] == "ValueError: odd text"
    assert report["remaining"] == 1  # tried again next time
    assert ids


def test_import_paths_stores_contexts_of_a_real_pdf(fresh_library, shared_data):
    pdf = shared_data / "pdf_corpus" / "science-parse" / "map-reduce.pdf"
    report = fresh_library.import_paths([pdf])
    paper_id = report.paper_ids[0]
    inside = fresh_library.contexts_in(paper_id)
    assert len(inside) >= 15
    gfs = [c for c in inside if c["marker"] == "[8]"]
    assert gfs and "file system" in gfs[0]["reference"].lower()
    assert fresh_library.analyse_citation_contexts()["analysed"] == 0  # the import already did it


def test_sentence_without_markers():
    assert citation_contexts.sentence_without_markers(
        "Dual encoders beat BM25 [2, 3] on QA (Karpukhin et al., 2020).") == "Dual encoders beat BM25 on QA."
    assert citation_contexts.sentence_without_markers("As Smith et al. (2019) show, it works.") == "As Smith et al. show, it works."
