"""Passage indexing (incremental, resumable, can be turned off) and passage hits fused into search."""

from __future__ import annotations

import pytest

from scimult_desktop.domain.progress import CancelToken
from scimult_desktop.domain.records import Paper
from scimult_desktop.domain.tasks import Role
from scimult_desktop.errors import Cancelled
from scimult_desktop.services.library import preferences
from scimult_desktop.services.models import indexing, passage_indexing
from scimult_desktop.store.passages import PassageStore
from tests.fakes import DIM, bag_of_words_backend, hash_embed

MODEL_KEY = "hashing@0123456789abcdef"

FILLER = (
    "This section describes the experimental setup in general terms, the hardware used and the software "
    "versions, so that other groups can repeat every measurement reported later in the paper. "
)


ANSWER = "Our hyperspectral chlorophyll fluorescence imaging detects drought stress in maize leaves."


class HashEncoder:
    """Bag-of-words vectors (tests.fakes.hash_embed) behind the encoder interface; counts texts embedded."""

    name = "hashing"
    dim = DIM
    similarity = "cosine"
    engine = "fake"

    def __init__(self):
        self.texts = 0

    def encode(self, texts, task, role=Role.DOCUMENT, batch_size=16):
        self.texts += len(texts)
        return hash_embed(list(texts))


def page_text(topic_sentence: str, repeat: int = 6) -> str:
    return "\n".join([FILLER] * repeat + [topic_sentence] + [FILLER] * 2)


def add_paper(library, title: str, abstract: str, pages: list[str]) -> int:
    with library.database.transaction():
        paper_id = library.papers.insert(Paper(title=title, abstract=abstract))
        library.database.conn.executemany(
            "INSERT INTO pages (paper_id, page, text) VALUES (?, ?, ?)",
            [(paper_id, n, text) for n, text in enumerate(pages, start=1)],
        )
    return paper_id


@pytest.fixture
def library(fresh_library):
    indexing.forget_loaded_indexes()
    for i in range(6):
        add_paper(fresh_library, f"Paper {i} on scheduling", "We study job scheduling on clusters.",
                  [page_text(f"Topic sentence number {i} about queue fairness.") for _ in range(3)])
    add_paper(
        fresh_library, "Scalable storage for video servers", "Disk layouts for streaming media.",
        [page_text("Disk layout matters."), page_text("Intro."),
         "\n".join([FILLER] + [ANSWER] * 4)],
    )
    yield fresh_library
    indexing.forget_loaded_indexes()


def test_indexing_splits_embeds_and_is_incremental(library):
    encoder = HashEncoder()
    first = passage_indexing.index_passages(library.database, encoder, MODEL_KEY, commit_every=8)
    store = PassageStore(library.database)
    assert first["papers_split"] == 7 and first["passages"] == store.count() > 7
    assert first["embedded"] == first["passages"] == first["indexed"] and first["already_embedded"] == 0
    assert {p.page for p in store.of_papers([7])} == {1, 2, 3}

    again = passage_indexing.index_passages(library.database, HashEncoder(), MODEL_KEY, commit_every=8)
    assert again["papers_split"] == 0 and again["embedded"] == 0 and again["already_embedded"] == first["passages"]

    # One page of one paper changes: only that paper is re-split and only its passages re-embedded.
    with library.database.transaction():
        library.database.conn.execute("UPDATE pages SET text = ? WHERE paper_id = 1 AND page = 2",
                                      (page_text("A new paragraph about preemption."),))
    changed = HashEncoder()
    third = passage_indexing.index_passages(library.database, changed, MODEL_KEY, commit_every=8)
    assert third["papers_split"] == 1
    assert third["embedded"] == changed.texts == len(store.of_papers([1]))
    assert third["indexed"] == third["passages"] == store.count()

    # A paper that loses its page text loses its passages (and their vectors, by cascade).
    with library.database.transaction():
        library.database.conn.execute("DELETE FROM pages WHERE paper_id = 2")
    fourth = passage_indexing.index_passages(library.database, HashEncoder(), MODEL_KEY)
    assert store.of_papers([2]) == [] and fourth["indexed"] == store.count()


def test_indexing_is_resumable_after_a_cancel(library):
    cancel = CancelToken()

    def stop_after_first_batch(event):
        if event.stage == "embedding passages" and event.done >= 8:
            cancel.cancel()

    with pytest.raises(Cancelled):
        passage_indexing.index_passages(library.database, HashEncoder(), MODEL_KEY, commit_every=8,
                                        progress=stop_after_first_batch, cancel=cancel)
    store = PassageStore(library.database)
    kept = store.embedded_count(MODEL_KEY)
    assert 8 <= kept < store.count()
    rest = HashEncoder()
    report = passage_indexing.index_passages(library.database, rest, MODEL_KEY, commit_every=8)
    assert report["already_embedded"] == kept and rest.texts == store.count() - kept == report["embedded"]


def test_passage_index_files_persist_and_answer_after_a_reload(library):
    encoder = HashEncoder()
    passage_indexing.index_passages(library.database, encoder, MODEL_KEY)
    faiss_path, ids_path = indexing.index_files(library.database, MODEL_KEY, passage_indexing.SOURCE_NAME)
    assert faiss_path.exists() and ids_path.exists()
    indexing.forget_loaded_indexes()
    query = hash_embed(["hyperspectral chlorophyll fluorescence drought maize"])[0]
    [(best, _score), *_] = passage_indexing.passage_search(library.database, MODEL_KEY, query, 5)
    assert PassageStore(library.database).get_many([best])[best].paper_id == 7


def passage_backend(library):
    backend = bag_of_words_backend(library.database)
    backend.passage_neighbours = lambda queries, k, allowed: passage_indexing.passage_search_many(
        library.database, MODEL_KEY, queries, k, allowed)
    return backend


@pytest.mark.parametrize("mode", ["semantic", "hybrid"])
def test_search_ranks_a_paper_by_its_best_passage_and_returns_passage_and_page(library, mode):
    passage_indexing.index_passages(library.database, HashEncoder(), MODEL_KEY)
    query = "hyperspectral chlorophyll fluorescence imaging of drought stress"
    library.use_semantic_backend(passage_backend(library))
    [top, *_] = library.search(query, k=3, mode=mode)
    assert top.paper.id == 7
    assert top.passage is not None and top.passage.page == 3 and "chlorophyll fluorescence" in top.passage.text
    assert top.page == 3 and "[chlorophyll]" in top.why
    assert top.to_json()["passage"] == {"text": top.passage.text, "page": 3, "score": round(top.passage.score, 6)}


def test_without_passages_the_body_text_answer_is_not_found_by_meaning(library):
    passage_indexing.index_passages(library.database, HashEncoder(), MODEL_KEY)
    library.use_semantic_backend(bag_of_words_backend(library.database))  # passage search off
    hits = library.search("hyperspectral chlorophyll fluorescence imaging of drought stress", k=3, mode="semantic")
    assert hits[0].paper.id != 7 or hits[0].passage is None
    assert all(h.passage is None and "passage" not in h.to_json() for h in hits)


def test_search_filters_apply_to_passage_hits(library):
    passage_indexing.index_passages(library.database, HashEncoder(), MODEL_KEY)
    library.use_semantic_backend(passage_backend(library))
    with library.database.transaction():
        library.database.conn.execute("UPDATE papers SET year = 2001 WHERE id = 7")
        library.database.conn.execute("UPDATE papers SET year = 2020 WHERE id != 7")
    from scimult_desktop.services.finding.filters import SearchFilters

    hits = library.search("hyperspectral chlorophyll fluorescence", k=3, mode="semantic", filters=SearchFilters(year_from=2010))
    assert 7 not in [h.paper.id for h in hits]


def test_the_setting_turns_passage_search_off_and_on():
    assert preferences.passage_search_enabled() is True
    chosen = preferences.load_preferences()
    chosen.passage_search = False
    preferences.save_preferences(chosen)
    assert preferences.passage_search_enabled() is False
    assert preferences.load_preferences().passage_search is False
    chosen.passage_search = True
    preferences.save_preferences(chosen)
    assert preferences.passage_search_enabled() is True


def test_the_real_backend_has_no_passage_search_when_the_setting_is_off(library, monkeypatch):
    from scimult_desktop.services.finding import semantic_backend

    monkeypatch.setattr(semantic_backend.models, "load_encoder", lambda model=None, engine=None: HashEncoder())
    monkeypatch.setattr(semantic_backend.models, "model_key", lambda model=None: MODEL_KEY)
    assert semantic_backend.build_backend(library.database).passage_neighbours is not None
    chosen = preferences.load_preferences()
    chosen.passage_search = False
    preferences.save_preferences(chosen)
    assert semantic_backend.build_backend(library.database).passage_neighbours is None
    assert semantic_backend.build_backend(library.database, vector_search=lambda *a: []).passage_neighbours is None


def test_a_paper_scores_by_the_better_of_its_abstract_and_its_best_passage(monkeypatch):
    from scimult_desktop.domain.records import PassageMatch
    from scimult_desktop.services.finding import passage_ranking

    monkeypatch.setattr(passage_ranking, "PASSAGE_OFFSET", -0.1)
    ids, scores = passage_ranking.fuse_scores(
        [1, 2, 3], {1: 0.5, 2: 0.4, 3: 0.3},
        {3: PassageMatch("p", 2, 0.75), 2: PassageMatch("q", 1, 0.45), 4: PassageMatch("r", 5, 0.2)}, depth=10)
    assert ids == [3, 1, 2, 4]  # 3 lifted by its passage (0.65); 2 keeps its abstract (0.4 > 0.35)
    assert scores[3] == pytest.approx(0.65) and scores[2] == pytest.approx(0.4) and scores[4] == pytest.approx(0.1)
    assert passage_ranking.fuse_scores([1, 2, 3], {1: 0.5, 2: 0.4, 3: 0.3}, {}, depth=2)[0] == [1, 2]


def test_evidence_is_never_a_json_author_list_or_a_reference_line(fresh_library):
    """Keyword hits on author names or on the bibliography must not quote raw JSON or reference entries."""
    with fresh_library.database.transaction():
        paper_id = fresh_library.papers.insert(Paper(
            title="Identifying relations for open extraction", authors=["Soderland, Stephen", "Fader, Anthony"],
            abstract="Open extraction systems read large corpora without a fixed vocabulary."))
        body = "\n".join([FILLER] * 8)
        references = ("References\nM. Banko and O. Etzioni. 2008. The tradeoffs between open and traditional relation "
                      "extraction. In Proceedings of the 46th Annual Meeting of the ACL, pages 28-36.")
        pages = [(1, body), (2, body), (3, body + "\n" + references)]
        fresh_library.database.conn.executemany("INSERT INTO pages (paper_id, page, text) VALUES (?, ?, ?)",
                                                [(paper_id, n, t) for n, t in pages])
        fresh_library.database.conn.execute("UPDATE papers SET full_text = ? WHERE id = ?",
                                             ("\n".join(t for _, t in pages), paper_id))
    [by_author] = fresh_library.search("Soderland", mode="keyword")
    assert by_author.why is None or '["' not in by_author.why and "Soderland, Stephen" not in by_author.why
    [by_reference] = fresh_library.search("tradeoffs traditional relation extraction", mode="keyword")
    assert by_reference.why is None or "Banko" not in by_reference.why and "Proceedings" not in by_reference.why
