import sqlite3

import pytest

from scimult_desktop.domain.records import Attachment, Paper
from scimult_desktop.errors import LibraryError, PaperNotFound
from scimult_desktop.store.database import DATABASE_NAME, LibraryDatabase
from scimult_desktop.store.migrations import MIGRATIONS
from scimult_desktop.store.papers import PaperStore


@pytest.fixture
def store():
    database = LibraryDatabase(None)
    yield PaperStore(database)
    database.close()


def add(store, **fields):
    paper = Paper(**{"title": "A study of dense retrieval for scientific papers", "authors": ["Doe, Jane"], "year": 2020, **fields})
    with store.database.transaction():
        return store.insert(paper)


def test_new_database_has_every_migration_recorded_and_wal_with_foreign_keys(tmp_path):
    database = LibraryDatabase(tmp_path / "lib")
    names = [row[0] for row in database.execute("SELECT name FROM _migrations ORDER BY name")]
    assert names == sorted(name for name, _ in MIGRATIONS)
    assert database.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert database.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert database.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    tables = {row[0] for row in database.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    for table in ("papers", "files", "collections", "tags", "citations", "embeddings", "labels", "feedback", "papers_fts"):
        assert table in tables
    database.close()
    # Reopening applies nothing twice.
    again = LibraryDatabase(tmp_path / "lib")
    assert again.execute("SELECT count(*) FROM _migrations").fetchone()[0] == len(MIGRATIONS)
    again.close()


def test_threads_opening_the_same_new_library_at_once_all_get_a_migrated_database(tmp_path):
    # The GUI opens a library per worker thread; on a fresh folder they used to race the
    # migrations ("table papers already exists", 1 attempt in 3) and the switch to WAL
    # ("database is locked", 1 in 30). Repeat enough for the rarer race to show.
    import threading

    for attempt in range(40):
        folder = tmp_path / f"library-{attempt}"
        barrier = threading.Barrier(4)
        errors: list[BaseException] = []
        counts: list[int] = []

        def open_and_count() -> None:
            try:
                barrier.wait()
                with LibraryDatabase(folder) as database:
                    counts.append(database.execute("SELECT COUNT(*) FROM _migrations").fetchone()[0])
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        threads = [threading.Thread(target=open_and_count) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert errors == []
        assert counts == [len(MIGRATIONS)] * 4


def test_opening_a_non_database_file_names_it(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    (folder / DATABASE_NAME).write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(LibraryError, match=DATABASE_NAME):
        LibraryDatabase(folder)


def test_missing_library_is_an_error_when_not_creating(tmp_path):
    with pytest.raises(LibraryError, match="no library"):
        LibraryDatabase(tmp_path / "nowhere", create=False)


def test_insert_normalises_identifiers_and_makes_unique_citekeys(store):
    first = add(store, doi="https://doi.org/10.1234/ABC", arxiv_id="arXiv:2101.00001v3")
    second = add(store, title="A study of dense retrieval, second part")
    p1, p2 = store.get(first), store.get(second)
    assert (p1.doi, p1.arxiv_id) == ("10.1234/abc", "2101.00001")
    assert p1.citekey == "doe2020study"
    assert p2.citekey == "doe2020studya"


def test_explicit_citekey_is_kept_exactly(store):
    paper_id = add(store, citekey="Doe:2020_Dense-Retrieval")
    assert store.get(paper_id).citekey == "Doe:2020_Dense-Retrieval"


def test_find_same_by_doi_arxiv_and_title_year_author(store):
    paper_id = add(store, doi="10.1234/abc", arxiv_id="2101.00001")
    assert store.find_same(Paper(title="x", doi="10.1234/ABC")) == paper_id
    assert store.find_same(Paper(title="x", arxiv_id="2101.00001v2")) == paper_id
    same_title = Paper(title="A Study of Dense Retrieval for Scientific Papers!", authors=["Jane Doe"], year=2020)
    assert store.find_same(same_title) == paper_id
    assert store.find_same(Paper(title=same_title.title, authors=["Doe, J."], year=2021)) is None
    # A different DOI means a different work (e.g. preprint vs published): never merged.
    assert store.find_same(Paper(title=same_title.title, authors=["Doe, J."], year=2020, doi="10.9999/other")) is None


def test_merge_fills_gaps_or_overwrites_but_keeps_user_edits(store):
    paper_id = add(store)
    with store.database.transaction():
        assert store.merge(paper_id, Paper(title="ignored", abstract="New abstract"), overwrite=False)
    paper = store.get(paper_id)
    assert paper.title.startswith("A study") and paper.abstract == "New abstract"
    with store.database.transaction():
        store.edit(paper_id, title="My corrected title")
        store.merge(paper_id, Paper(title="Importer title", venue="SIGIR"), overwrite=True)
    paper = store.get(paper_id)
    assert paper.title == "My corrected title" and paper.venue == "SIGIR"


def test_resolve_accepts_id_citekey_and_doi(store):
    paper_id = add(store, doi="10.5555/xyz", citekey="doe2020")
    assert store.resolve(str(paper_id)) == paper_id
    assert store.resolve("doe2020") == paper_id
    assert store.resolve("https://doi.org/10.5555/XYZ") == paper_id
    with pytest.raises(PaperNotFound, match="nope"):
        store.resolve("nope")


def test_keyword_search_ranks_title_matches_first_and_survives_fts_syntax(store):
    add(store, title="Graph neural networks for molecules", abstract="We use message passing.")
    target = add(store, title="Protein folding with attention", abstract="Graph methods are not used.")
    add(store, title="Unrelated topic in astronomy", abstract="Galaxies and stars.")
    hits = store.keyword_search("protein folding", k=5)
    assert hits[0].paper.id == target
    assert "[Protein]" in hits[0].why
    assert isinstance(store.keyword_search('"unbalanced AND (quote NEAR', k=5), list)
    assert [h.paper.title for h in store.keyword_search("galaxies", k=5)] == ["Unrelated topic in astronomy"]


def test_keyword_search_sees_updates_and_deletes(store):
    paper_id = add(store, title="Original words about topology")
    with store.database.transaction():
        store.edit(paper_id, title="Replacement words about knots")
    assert store.keyword_search("topology") == []
    assert store.keyword_search("knots")[0].paper.id == paper_id
    with store.database.transaction():
        store.delete(paper_id)
    assert store.keyword_search("knots") == []


def test_failed_transaction_leaves_nothing_behind(store):
    with pytest.raises(RuntimeError):
        with store.database.transaction():
            store.insert(Paper(title="half written"))
            raise RuntimeError("crash in the middle")
    assert store.count() == 0


def test_attachments_are_listed_with_their_paper_and_cascade_on_delete(store):
    paper_id = add(store)
    with store.database.transaction():
        store.add_attachment(paper_id, Attachment("/papers/a.pdf"))
        store.add_attachment(paper_id, Attachment("/papers/a.pdf", status="missing"))
    assert [(f.path, f.status) for f in store.get(paper_id).files] == [("/papers/a.pdf", "missing")]
    with store.database.transaction():
        store.delete(paper_id)
    assert store.conn.execute("SELECT count(*) FROM files").fetchone()[0] == 0


def test_foreign_keys_are_enforced(store):
    with pytest.raises(sqlite3.IntegrityError):
        with store.database.transaction():
            store.conn.execute("INSERT INTO files (paper_id, path, added_at) VALUES (999, 'x', 'now')")


def test_long_queries_keep_their_rarest_words(store):
    target = add(store, title="Zygomorphic flowers attract specialised pollinators")
    for i in range(30):
        add(store, title=f"Common words study number {i} about results and methods")
    filler = " ".join(f"common words study results methods number{i}" for i in range(40))
    hits = store.keyword_search(filler + " zygomorphic", k=3)
    assert hits[0].paper.id == target
    words = store._rarest_words(["common", "zygomorphic", "unknownword", "study"], 2)
    assert words == ["zygomorphic", "common"] or words == ["common", "zygomorphic"]
    assert "unknownword" not in words


def test_snippets_only_for_the_requested_top_hits(store):
    for i in range(5):
        add(store, title=f"Graph neural networks part {i}")
    hits = store.keyword_search("graph networks", k=5, snippets=2)
    assert [h.why is not None for h in hits] == [True, True, False, False, False]


def test_label_rows_join_tags_and_collections_and_can_leave_out_the_classifiers_tags(store):
    from scimult_desktop.store.labels import paper_collections, paper_tags

    first, second = add(store), add(store, title="Graph neural networks for citation recommendation")
    with store.database.transaction():
        store.add_tag(first, "retrieval", "user")
        store.add_tag(first, "Computer science", "classifier")
        store.add_tag(second, "graphs", "import")
        store.conn.execute("INSERT INTO collections (name, source, source_key) VALUES ('Thesis', 'zotero', 'K1')")
        store.conn.execute("INSERT INTO paper_collections (paper_id, collection_id) SELECT ?, id FROM collections", (second,))

    assert paper_tags(store.conn) == [(first, "Computer science", "classifier"), (second, "graphs", "import"), (first, "retrieval", "user")]
    assert [label.name for label in paper_tags(store.conn, user_filed_only=True)] == ["graphs", "retrieval"]
    assert [label.name for label in paper_tags(store.conn, paper_id=first, user_filed_only=True)] == ["retrieval"]
    assert paper_collections(store.conn) == [(second, "Thesis", "collection")]
    assert paper_collections(store.conn, paper_id=first) == []
