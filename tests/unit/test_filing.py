"""Filing papers by hand (tags, collections) with exact undo, as the paper context menu does."""

from __future__ import annotations

import pytest

from scimult_desktop.domain.records import ImportedRecord, Paper
from scimult_desktop.errors import ScimultError
from scimult_desktop.services.library import browsing, filing
from scimult_desktop.services.library.importing import store_record
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.store.sources import SourceStore


@pytest.fixture
def library(fresh_library):
    store, sources = PaperStore(fresh_library.database), SourceStore(fresh_library.database)
    for key, tags, collections in (("a", ["old"], ["Inbox"]), ("b", [], ["Inbox"]), ("c", ["old"], [])):
        store_record(store, sources, ImportedRecord(Paper(title=f"Paper {key}", citekey=key, tags=tags, collections=collections),
                                                    "test", "t", key))
    return fresh_library


def filed(library) -> dict[str, tuple[list[str], list[str]]]:
    return {row.citekey: (sorted(row.tags), sorted(row.collections)) for row in browsing.list_rows(library)}


def ids(library, *keys):
    return [library.papers.resolve(k) for k in keys]


def test_add_and_remove_a_tag_and_undo_each(library):
    before = filed(library)
    change = filing.add_tag(library, ids(library, "a", "b"), "  to   read ")
    assert change.changed == 2 and filed(library)["b"][0] == ["to read"]
    assert filing.undo_filing(library, change.undo_id) == "tag 2 paper(s) “to read”"
    assert filed(library) == before
    removed = filing.remove_tag(library, ids(library, "a", "b", "c"), "old")
    assert removed.changed == 2 and filed(library)["a"][0] == []
    assert library.undo() == "remove tag “old” from 2 paper(s)"  # `scimult undo` reverses it too
    assert filed(library) == before
    with pytest.raises(ScimultError, match="empty"):
        filing.add_tag(library, ids(library, "a"), "   ")


def test_collections_add_remove_move_with_one_undo_each(library):
    before = filed(library)
    added = filing.add_to_collection(library, ids(library, "c"), "Thesis")
    assert filed(library)["c"][1] == ["Thesis"] and "Thesis" in filing.collection_names(library)
    moved = filing.move_to_collection(library, ids(library, "a", "b"), "Inbox", "Thesis")
    assert filed(library)["a"][1] == ["Thesis"] and filed(library)["b"][1] == ["Thesis"]
    filing.undo_filing(library, moved.undo_id)
    assert filed(library)["a"][1] == ["Inbox"]
    filing.undo_filing(library, added.undo_id)
    assert filed(library) == before
    gone = filing.remove_from_collection(library, ids(library, "a"), "inbox")
    assert gone.changed == 1 and filed(library)["a"][1] == []
    assert filing.add_tag(library, ids(library, "c"), "old").undo_id is None  # nothing changed: nothing to undo
    with pytest.raises(ScimultError, match="no collection named 'Nope'"):
        filing.remove_from_collection(library, ids(library, "a"), "Nope")


def test_rename_and_delete_a_collection_with_its_sub_collections_and_undo(library):
    filing.add_to_collection(library, ids(library, "c"), "Inbox/Later")
    before = filed(library)
    renamed = filing.rename_collection(library, "inbox", "Queue")
    assert filed(library)["a"][1] == ["Queue"] and filed(library)["c"][1] == ["Queue/Later"]
    with pytest.raises(ScimultError, match="exists already"):
        filing.rename_collection(library, "Queue/Later", "Queue")
    filing.undo_filing(library, renamed.undo_id)
    assert filed(library) == before
    deleted = filing.delete_collection(library, "Inbox")
    assert deleted.changed == 2 and all(not cols for _, cols in filed(library).values())
    assert filing.collection_names(library) == []
    assert library.undo() == "delete collection “Inbox”"
    assert filed(library) == before
