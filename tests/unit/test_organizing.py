"""Merging duplicate records, editing tags and notes: each change exact, and undone exactly."""

from __future__ import annotations

import pytest

from scimult_desktop.domain.records import Attachment, Paper
from scimult_desktop.errors import ScimultError
from scimult_desktop.services.library import merging, notes, tagging
from scimult_desktop.services.library.undo_entries import undo_entry
from scimult_desktop.store.clock import utc_now

# Tables whose content is the library; the undo log itself and FTS internals are left out.
_SKIPPED = ("undo_log", "_migrations", "sqlite_")


def dump(library) -> dict[str, list[tuple]]:
    conn = library.database.conn
    tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
              if not r[0].startswith(_SKIPPED) and "_fts" not in r[0]]
    return {t: sorted(tuple(row) for row in conn.execute(f'SELECT rowid, * FROM "{t}"')) for t in tables}


@pytest.fixture
def pair_library(fresh_library):
    """A preprint and its published version, each with files, tags, collections, links, notes, vectors."""
    lib = fresh_library
    store, conn = lib.papers, lib.database.conn
    now = utc_now()
    with lib.database.transaction():
        published = store.insert(Paper("Dense passage retrieval for open-domain question answering", ["Karpukhin, Vladimir", "Oguz, Barlas"],
                                       2020, "EMNLP", "Short abstract.", doi="10.18653/v1/2020.emnlp-main.550", citekey="karpukhin2020dense"))
        preprint = store.insert(Paper("Dense passage retrieval for open domain question answering", ["Karpukhin, Vladimir", "Oguz, Barlas", "Min, Sewon"],
                                      2020, None, "A much longer abstract of the preprint, with more detail.", arxiv_id="2004.04906",
                                      citekey="karpukhin2020preprint"), full_text="Full text of the preprint.")
        other = store.insert(Paper("BM25 and beyond", ["Robertson, Stephen"], 2009, citekey="robertson2009"))
        citing = store.insert(Paper("A survey citing the preprint", ["Lin, Jimmy"], 2022, citekey="lin2022"))
        store.add_attachment(preprint, Attachment("/papers/dpr-preprint.pdf", "pdf", "ok"))
        store.add_attachment(published, Attachment("/papers/dpr.pdf", "pdf", "ok"))
        conn.execute("INSERT INTO pages (paper_id, file_id, page, text) VALUES (?, NULL, 1, 'page one')", (preprint,))
        for paper_id, name in ((preprint, "retrieval"), (published, "retrieval"), (preprint, "to read"), (other, "retrieval")):
            store.add_tag(paper_id, name, "user")
        conn.execute("INSERT INTO collections (id, name) VALUES (1, 'Thesis')")
        conn.execute("INSERT INTO paper_collections VALUES (?, 1)", (preprint,))
        conn.execute("INSERT INTO paper_references (citing_paper_id, position, raw, cited_paper_id) VALUES (?, 1, 'Robertson 2009', ?)",
                     (preprint, other))
        conn.execute("INSERT INTO paper_references (citing_paper_id, position, raw, cited_paper_id) VALUES (?, 1, 'DPR', ?)",
                     (citing, preprint))
        conn.execute("INSERT INTO citations VALUES (?, ?, 'references')", (preprint, other))
        conn.execute("INSERT INTO citations VALUES (?, ?, 'references')", (citing, preprint))
        conn.execute("INSERT INTO citations VALUES (?, ?, 'references')", (published, preprint))  # becomes a self-loop
        conn.execute("INSERT INTO embeddings VALUES (?, 'm@1', 'search', 'h', 3, ?, ?)", (preprint, b"\x00\x01\x02\xff" * 3, now))
        conn.execute("INSERT INTO embeddings VALUES (?, 'm@1', 'search', 'k', 3, ?, ?)", (published, b"\x07" * 12, now))
        conn.execute("INSERT INTO feedback (kind, query, paper_id, value, created_at) VALUES ('relevant', 'dpr', ?, 1, ?)", (preprint, now))
        # Tables of later migrations whose key is the paper id itself (the row id changes when re-pointed).
        conn.execute("INSERT INTO passages (paper_id, position, page, text) VALUES (?, 0, 1, 'page one')", (preprint,))
        conn.execute("INSERT INTO passage_sources VALUES (?, 'fp', 1, ?)", (preprint, now))
        conn.execute("INSERT INTO citation_context_runs VALUES (?, 1, 0, ?)", (preprint, now))
        conn.execute("INSERT INTO duplicate_candidates VALUES (?, ?, 'same title', 'proposed', ?)", (published, preprint, now))
        conn.execute("INSERT INTO duplicate_candidates VALUES (?, ?, 'near', 'proposed', ?)", (preprint, other, now))
    notes.add_note(lib, preprint, "Read section 3 on **in-batch negatives**.")
    return lib, published, preprint, other, citing


def test_compare_marks_differences_and_suggests_the_richer_record(pair_library):
    lib, published, preprint, _, _ = pair_library
    comparison = merging.compare_duplicates(lib, published, preprint)
    by_name = {f.name: f for f in comparison.fields}
    assert by_name["title"].differs and by_name["abstract"].richer == "b" and by_name["authors"].richer == "b"
    assert by_name["doi"].richer == "a" and by_name["arxiv_id"].richer == "b"
    assert not by_name["year"].differs
    assert comparison.b.counts["notes"] == 1 and comparison.b.counts["files"] == 1
    assert comparison.reason == "same title"
    assert comparison.to_json()["suggested_keep"] in (published, preprint)


def test_merge_moves_everything_and_undo_restores_the_library_exactly(pair_library):
    lib, published, preprint, other, citing = pair_library
    before = dump(lib)
    result = merging.merge_papers(lib, published, preprint)  # richer values by default
    kept = lib.get_paper(published)
    assert set(result.fields_taken) == {"authors", "abstract", "arxiv_id"}
    assert kept.doi == "10.18653/v1/2020.emnlp-main.550" and kept.arxiv_id == "2004.04906"
    assert kept.abstract.startswith("A much longer") and len(kept.authors) == 3
    assert kept.title == "Dense passage retrieval for open-domain question answering"  # the kept record's title
    assert {f.path for f in kept.files} == {"/papers/dpr.pdf", "/papers/dpr-preprint.pdf"}
    conn = lib.database.conn
    assert conn.execute("SELECT count(*) FROM papers WHERE id = ?", (preprint,)).fetchone()[0] == 0
    assert sorted(r[0] for r in conn.execute("SELECT t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id WHERE paper_id = ?",
                                             (published,))) == ["retrieval", "to read"]
    assert conn.execute("SELECT count(*) FROM paper_collections WHERE paper_id = ?", (published,)).fetchone()[0] == 1
    assert lib.citations_of(published) == {"cites": [other], "cited_by": [citing]}  # no self-citation
    assert conn.execute("SELECT cited_paper_id FROM paper_references WHERE citing_paper_id = ?", (citing,)).fetchone()[0] == published
    assert [n.body for n in notes.list_notes(lib, published)] == ["Read section 3 on **in-batch negatives**."]
    assert conn.execute("SELECT paper_id FROM feedback").fetchone()[0] == published
    assert [r[0] for r in conn.execute("SELECT paper_id FROM embeddings")] == [published]  # the other text's vectors are not moved
    assert [r[0] for r in conn.execute("SELECT paper_id FROM passage_sources")] == [published]
    # Indexing after the merge computes the kept paper's vector again (a new row): undo still restores the old one.
    conn.execute("INSERT OR REPLACE INTO embeddings VALUES (?, 'm@1', 'search', 'new', 3, ?, ?)", (published, b"\x09" * 12, utc_now()))
    assert conn.execute("SELECT full_text FROM papers WHERE id = ?", (published,)).fetchone()[0] == "Full text of the preprint."
    assert lib.duplicate_proposals() == [{"paper_a": published, "paper_b": other, "reason": "near", "status": "proposed"}]

    assert undo_entry(lib, result.undo_id).startswith("merge")
    assert dump(lib) == before
    # The restored paper is findable again by keyword (its full-text index row came back too).
    assert [h.paper.id for h in lib.search("detail", mode="keyword")] == [preprint]
    assert [h.paper_id for h in notes.search_notes(lib, "negatives")] == [preprint]
    with pytest.raises(ScimultError, match="undone already"):
        undo_entry(lib, result.undo_id)


def test_merge_with_chosen_fields_and_library_undo(pair_library):
    lib, published, preprint, _, _ = pair_library
    before = dump(lib)
    result = merging.merge_papers(lib, preprint, published, take=["title", "venue", "doi"])
    kept = lib.get_paper(preprint)
    assert (kept.title, kept.venue, kept.doi) == ("Dense passage retrieval for open-domain question answering", "EMNLP",
                                                   "10.18653/v1/2020.emnlp-main.550")
    assert kept.abstract.startswith("A much longer")  # not taken: the kept record's own
    assert lib.undo().startswith("merge")  # `scimult undo` reverts the newest entry, a merge too
    assert dump(lib) == before
    assert result.merged == published
    with pytest.raises(ScimultError, match="cannot take"):
        merging.merge_papers(lib, preprint, published, take=["colour"])
    with pytest.raises(ScimultError, match="same paper"):
        merging.merge_papers(lib, preprint, "karpukhin2020preprint")


def test_tag_rename_merge_colour_delete_and_undo(pair_library):
    lib, published, preprint, other, _ = pair_library
    before = dump(lib)
    change = tagging.rename_tag(lib, "retrieval", "information retrieval")
    assert change.papers == 3
    assert [t.name for t in tagging.list_tags(lib)] == ["information retrieval", "to read"]
    undo_entry(lib, change.undo_id)
    assert dump(lib) == before

    merged = tagging.merge_tags(lib, ["to read", "retrieval"], "retrieval")  # preprint has both
    assert [(t.name, t.papers) for t in tagging.list_tags(lib)] == [("retrieval", 3)]
    undo_entry(lib, merged.undo_id)
    assert dump(lib) == before

    via_rename = tagging.rename_tag(lib, "to read", "retrieval")  # renaming onto an existing tag merges
    assert via_rename.description.startswith("merge tags")
    undo_entry(lib, via_rename.undo_id)

    coloured = tagging.set_tag_colour(lib, "retrieval", "#FF8800")
    assert tagging.tag_colours(lib) == {"retrieval": "#ff8800"}
    with pytest.raises(ScimultError, match="#rrggbb"):
        tagging.set_tag_colour(lib, "retrieval", "orange")
    deleted = tagging.delete_tag(lib, "retrieval")
    assert [t.name for t in tagging.list_tags(lib)] == ["to read"]
    undo_entry(lib, deleted.undo_id)
    assert tagging.tag_colours(lib) == {"retrieval": "#ff8800"}
    undo_entry(lib, coloured.undo_id)
    assert dump(lib) == before
    with pytest.raises(ScimultError, match="no tag"):
        tagging.rename_tag(lib, "nope", "x")


def test_papers_in_the_trash_are_not_counted_searched_or_merged(pair_library):
    from scimult_desktop.services.library.trash import trash_papers

    lib, published, preprint, other, _ = pair_library
    trash_papers(lib, [preprint])
    assert {t.name: t.papers for t in tagging.list_tags(lib)} == {"retrieval": 2, "to read": 0}
    assert notes.search_notes(lib, "negatives") == []
    with pytest.raises(ScimultError, match="trash"):
        merging.merge_papers(lib, published, preprint)


def test_notes_crud_search_persist_and_undo_delete(tmp_path):
    from scimult_desktop.services.library.facade import Library

    folder = tmp_path / "lib"
    with Library.open(folder) as lib:
        with lib.database.transaction():
            paper_id = lib.papers.insert(Paper("Galaxy rotation curves", ["Rubin, Vera"], 1980, citekey="rubin1980"))
        first = notes.add_note(lib, "rubin1980", "# Dark matter\nFlat curves imply halos.")
        second = notes.add_note(lib, paper_id, "plain text note", format="plain")
        assert first.title == "Dark matter"
        updated = notes.update_note(lib, first.id, "# Dark matter\nFlat rotation curves imply massive halos.")
        assert updated.updated_at >= first.updated_at and updated.created_at == first.created_at
        with pytest.raises(ScimultError, match="format"):
            notes.add_note(lib, paper_id, "x", format="html")
    with Library.open(folder) as lib:  # persisted across opening the library again
        assert [n.body.splitlines()[-1] for n in notes.list_notes(lib, paper_id)] == [
            "Flat rotation curves imply massive halos.", "plain text note"]
        assert [h.note_id for h in notes.search_notes(lib, "massive halo")] == [first.id]
        undo_id = notes.delete_note(lib, second.id)
        assert [n.id for n in notes.list_notes(lib, paper_id)] == [first.id]
        undo_entry(lib, undo_id)
        assert [n.id for n in notes.list_notes(lib, paper_id)] == [first.id, second.id]
        assert [h.note_id for h in notes.search_notes(lib, "plain")] == [second.id]


def test_keyword_search_finds_papers_by_their_notes(pair_library):
    lib, published, preprint, other, _ = pair_library
    assert lib.search("wormholes", mode="keyword") == []
    notes.add_note(lib, other, "Compare with the wormholes idea from the reading group.")
    hits = lib.search("wormholes", mode="keyword")
    assert [h.paper.id for h in hits] == [other]
    assert hits[0].why.startswith("Your note:") and "[wormholes]" in hits[0].why
    # Notes add to what the papers' own text finds; they do not replace it.
    notes.add_note(lib, published, "BM25 is the baseline here.")
    assert {h.paper.id for h in lib.search("bm25", mode="keyword")} == {published, other}


def test_the_undo_log_keeps_the_newest_entries_and_undo_still_works(fresh_library, monkeypatch):
    from scimult_desktop.services.library import filing
    from scimult_desktop.store import undo_log

    monkeypatch.setattr(undo_log, "KEPT_ENTRIES", 5)
    lib = fresh_library
    with lib.database.transaction():
        pid = lib.papers.insert(Paper(title="A paper to tag many times", citekey="many"))
    for n in range(12):
        filing.add_tag(lib, [pid], f"t{n}")
    rows = lib.database.conn.execute("SELECT description FROM undo_log ORDER BY id").fetchall()
    assert len(rows) == 5 and "t11" in rows[-1]["description"] and "t7" in rows[0]["description"]
    assert "t11" in lib.undo()  # the newest change is still undone exactly
    tags = {row[0] for row in lib.database.conn.execute(
        "SELECT t.name FROM paper_tags pt JOIN tags t ON t.id = pt.tag_id WHERE pt.paper_id = ?", (pid,))}
    assert "t11" not in tags and "t10" in tags
