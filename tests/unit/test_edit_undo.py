"""Undoing a metadata edit restores the values and the "edited by you" marks, so re-imports update those fields again."""

from __future__ import annotations

import json

import pytest

from scimult_desktop.errors import ScimultError
from scimult_desktop.services.library import editing
from tests.bibgen import bib_entry


def _marks(library, paper_id: int) -> list[str]:
    row = library.database.conn.execute("SELECT user_edited FROM papers WHERE id = ?", (paper_id,)).fetchone()
    return sorted(json.loads(row[0]))


@pytest.fixture
def imported(fresh_library, tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(bib_entry("doe2020", "The original title", year=2020), encoding="utf-8")
    fresh_library.import_paths([bib])
    (paper,) = fresh_library.list_papers()
    return fresh_library, bib, paper.id


def test_undo_restores_values_and_unfreezes_the_field_for_reimport(imported):
    library, bib, paper_id = imported
    library.edit_paper(paper_id, title="My corrected title", year=2021)
    assert _marks(library, paper_id) == ["title", "year"]

    assert library.undo() == "edit title, year of “The original title”"
    paper = library.get_paper(paper_id)
    assert (paper.title, paper.year) == ("The original title", 2020)
    assert _marks(library, paper_id) == []  # no longer "edited by you"

    bib.write_text(bib_entry("doe2020", "The publisher's final title", year=2020), encoding="utf-8")
    library.import_paths([bib])
    assert library.get_paper(paper_id).title == "The publisher's final title"  # imports update it again


def test_undo_of_a_second_edit_keeps_the_marks_of_the_first(imported):
    library, _bib, paper_id = imported
    library.edit_paper(paper_id, venue="Nature")
    library.edit_paper(paper_id, title="Another title")
    assert _marks(library, paper_id) == ["title", "venue"]
    library.undo()
    assert _marks(library, paper_id) == ["venue"]
    assert library.get_paper(paper_id).venue == "Nature"
    assert library.get_paper(paper_id).title == "The original title"


def test_an_edit_entry_is_undone_by_its_id_once(imported):
    library, _bib, paper_id = imported
    entry = editing.edit_paper(library, paper_id, {"authors": ["Curie, Marie"]})
    assert library.get_paper(paper_id).authors == ["Curie, Marie"]
    editing.undo_edit(library, entry)
    assert library.get_paper(paper_id).authors == ["Doe, Jane", "Roe, Richard"]
    assert _marks(library, paper_id) == []
    with pytest.raises(ScimultError, match="undone already"):
        editing.undo_edit(library, entry)
    with pytest.raises(ScimultError, match="cannot edit"):
        editing.edit_paper(library, paper_id, {"user_edited": "[]"})
