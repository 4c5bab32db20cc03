"""The language server's library: opened read-only (services/writing/editor_library.py) and keys by prefix (citekeys.py)."""

from __future__ import annotations

import sqlite3

import pytest

from scimult_desktop.errors import LibraryError, ModelError
from scimult_desktop.services.library.facade import Library
from scimult_desktop.services.writing import citekeys, draft_places
from scimult_desktop.services.writing.editor_library import attach_model, open_for_editor
from tests.bibgen import bib_entry


@pytest.fixture
def library_folder(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(
        bib_entry("smith2020dense", "Dense retrieval for science", author="Smith, Jane and Roe, Rick", year=2020)
        + bib_entry("doe2019graphs", "Citation graphs of 100% of arXiv", author="Doe, John", year=2019)
        + bib_entry("under_score", "Keys with odd characters", author="Müller, Anna", year=2021),
        encoding="utf-8",
    )
    with Library.open(tmp_path / "lib") as library:
        library.import_paths([bib])
    return tmp_path / "lib"


def test_no_library_is_an_error_and_nothing_is_created(tmp_path):
    with pytest.raises(LibraryError, match="no library here"):
        open_for_editor(tmp_path / "absent")
    assert not (tmp_path / "absent").exists()


def test_writes_to_the_library_are_refused_but_searches_with_scratch_tables_work(library_folder):
    before = (library_folder / "library.sqlite3").read_bytes()
    library = open_for_editor(library_folder)
    with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
        library.record_feedback("suggestion", 1.0, query="q", paper="smith2020dense")
    with pytest.raises(sqlite3.DatabaseError, match="not authorized"):
        library.edit_paper("smith2020dense", title="changed")
    # A long text keeps its rarest words through temporary FTS5 tables: allowed.
    long_text = " ".join(["dense retrieval science citation graphs arxiv"] * 12 + [f"word{i}" for i in range(40)])
    assert [hit.paper.citekey for hit in library.search(long_text, mode="keyword", k=2)][0] in {"smith2020dense", "doe2019graphs"}
    library.close()
    assert (library_folder / "library.sqlite3").read_bytes() == before


def test_a_library_that_needs_migrating_is_refused_not_migrated(library_folder):
    conn = sqlite3.connect(library_folder / "library.sqlite3")
    last = conn.execute("SELECT name FROM _migrations ORDER BY rowid DESC LIMIT 1").fetchone()[0]
    conn.execute("DELETE FROM _migrations WHERE name = ?", (last,))
    conn.commit()
    conn.close()
    with pytest.raises(LibraryError, match="older SciMult Desktop"):
        open_for_editor(library_folder)
    conn = sqlite3.connect(library_folder / "library.sqlite3")
    assert conn.execute("SELECT count(*) FROM _migrations WHERE name = ?", (last,)).fetchone()[0] == 0
    conn.close()


def test_no_model_installed_is_an_error_not_a_build(library_folder, tmp_path, monkeypatch):
    monkeypatch.setenv("SCIMULT_MODELS_DIR", str(tmp_path / "no-models"))
    library = open_for_editor(library_folder)
    with pytest.raises(ModelError, match="does not build one"):
        attach_model(library)
    assert not (tmp_path / "no-models").exists()
    library.close()


def test_papers_matching_key_title_and_author(library_folder):
    library = open_for_editor(library_folder)
    assert [m.citekey for m in citekeys.papers_matching(library, "smi")] == ["smith2020dense"]
    assert [m.citekey for m in citekeys.papers_matching(library, "GRAPH")] == ["doe2019graphs"]  # title, any case
    assert [m.citekey for m in citekeys.papers_matching(library, "Roe")] == ["smith2020dense"]  # second author
    assert [m.citekey for m in citekeys.papers_matching(library, "100%")] == ["doe2019graphs"]  # % is literal
    assert [m.citekey for m in citekeys.papers_matching(library, "e_s")] == []  # _ is literal ("eys" would match a wildcard)
    assert [m.citekey for m in citekeys.papers_matching(library, "under_")] == ["under_score"]
    assert citekeys.papers_matching(library, "smi", exclude=["smith2020dense"]) == []
    assert citekeys.papers_matching(library, "  ") == []
    match = citekeys.papers_matching(library, "dense")[0]
    assert (match.authors, match.year, match.title) == (("Smith, Jane", "Roe, Rick"), 2020, "Dense retrieval for science")
    assert set(citekeys.papers_by_citekey(library, ["doe2019graphs", "nope"])) == {"doe2019graphs"}
    library.close()


def test_key_prefix_matches_come_before_title_matches(library_folder):
    library = open_for_editor(library_folder)
    # "d" starts doe2019graphs and appears inside smith2020dense and in every title.
    assert [m.citekey for m in citekeys.papers_matching(library, "d")][:2] == ["doe2019graphs", "smith2020dense"]
    library.close()


def test_sentence_at():
    text = r"First claim has been shown \cite{a}. Second one was reported before."
    sentence = draft_places.sentence_at(text, "latex", text.index("Second") + 3)
    assert sentence.text == "Second one was reported before." and text[sentence.start:sentence.end] == sentence.text
    assert draft_places.sentence_at("", "latex", 0) is None
