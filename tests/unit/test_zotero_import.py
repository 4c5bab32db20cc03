"""Zotero import: read-only snapshot, items/attachments/collections vs independent SQL, errors."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from scimult_desktop.errors import ImportFailed
from scimult_desktop.ingest.zotero import ZoteroImporter, note_to_text, parse_extra

FIXTURES = ("papis-zotero_current", "bbt_profile")


def truth(database: Path) -> dict[str, dict]:
    """Regular items of the user/group libraries, by key, computed with plain SQL."""
    conn = sqlite3.connect(f"file:{database}?mode=ro&immutable=1", uri=True)
    rows = conn.execute(
        """SELECT i.itemID, i.key FROM items i JOIN itemTypesCombined t USING (itemTypeID)
           JOIN libraries l USING (libraryID)
           WHERE t.typeName NOT IN ('attachment', 'note', 'annotation') AND l.type IN ('user', 'group')
             AND i.itemID NOT IN (SELECT itemID FROM deletedItems)
             AND EXISTS (SELECT 1 FROM itemData d JOIN fieldsCombined f USING (fieldID)
                         WHERE d.itemID = i.itemID AND f.fieldName = 'title')"""
    ).fetchall()
    result = {}
    for item_id, key in rows:
        files = conn.execute(
            "SELECT count(*) FROM itemAttachments WHERE parentItemID = ? AND linkMode != 3 AND path IS NOT NULL",
            (item_id,),
        ).fetchone()[0]
        collections = conn.execute("SELECT count(*) FROM collectionItems WHERE itemID = ?", (item_id,)).fetchone()[0]
        title = conn.execute(
            """SELECT v.value FROM itemData d JOIN fieldsCombined f USING (fieldID) JOIN itemDataValues v USING (valueID)
               WHERE d.itemID = ? AND f.fieldName = 'title'""", (item_id,)).fetchone()[0]
        result[key] = {"files": files, "collections": collections, "title": title}
    conn.close()
    return result


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_items_match_the_database(shared_data, name):
    folder = shared_data / "zotero_fixtures" / name
    database = folder / "zotero.sqlite"
    before = (digest(database), database.stat().st_mtime_ns)
    records = list(ZoteroImporter().read(folder))
    expected = truth(database)
    assert {r.source_key for r in records} == set(expected)
    for record in records:
        want = expected[record.source_key]
        assert record.paper.title == " ".join(want["title"].split())
        assert len(record.paper.files) == want["files"]
        assert len(record.paper.collections) == want["collections"]
        assert record.source_path == str(database)
        assert record.extra["zotero_snapshot"] == "copy"
        for attachment in record.paper.files:
            assert attachment.path.startswith(str(folder / "storage")), attachment.path
            if (folder / "storage").is_dir():  # bbt_profile ships without its storage folder
                assert Path(attachment.path).exists(), attachment.path
    assert (digest(database), database.stat().st_mtime_ns) == before  # never written


def test_zotero7_citation_keys_and_child_notes(shared_data):
    records = list(ZoteroImporter().read(shared_data / "zotero_fixtures" / "bbt_profile" / "zotero.sqlite"))
    assert all(r.paper.citekey for r in records)
    assert any(r.extra.get("notes") for r in records)


@pytest.fixture
def zotero_copy(shared_data, tmp_path) -> Path:
    """A copy of a real Zotero 7 database with collections, tags, a linked file and a trashed item added."""
    folder = tmp_path / "Zotero"
    folder.mkdir()
    shutil.copyfile(shared_data / "zotero_fixtures" / "bbt_profile" / "zotero.sqlite", folder / "zotero.sqlite")
    linked = tmp_path / "elsewhere.pdf"
    linked.write_bytes(b"%PDF-1.4")
    conn = sqlite3.connect(folder / "zotero.sqlite")
    items = [row[0] for row in conn.execute(
        """SELECT itemID FROM items JOIN itemTypesCombined USING (itemTypeID)
           WHERE typeName = 'journalArticle' AND libraryID = 1 ORDER BY itemID LIMIT 3""")]
    conn.execute("INSERT INTO collections (collectionID, collectionName, parentCollectionID, libraryID, key) VALUES (901, 'Parent', NULL, 1, 'COLLPARE')")
    conn.execute("INSERT INTO collections (collectionID, collectionName, parentCollectionID, libraryID, key) VALUES (902, 'Child', 901, 1, 'COLLCHIL')")
    conn.execute("INSERT INTO collectionItems (collectionID, itemID) VALUES (902, ?)", (items[0],))
    conn.execute("INSERT INTO collectionItems (collectionID, itemID) VALUES (901, ?)", (items[1],))
    conn.execute("INSERT INTO tags (tagID, name) VALUES (901, 'to read')")
    conn.execute("INSERT INTO itemTags (itemID, tagID, type) VALUES (?, 901, 0)", (items[0],))
    conn.execute("INSERT INTO items (itemID, itemTypeID, libraryID, key) SELECT 9901, itemTypeID, 1, 'LINKED01' FROM itemTypesCombined WHERE typeName = 'attachment'")
    conn.execute("INSERT INTO itemAttachments (itemID, parentItemID, linkMode, contentType, path) VALUES (9901, ?, 2, 'application/pdf', ?)", (items[0], str(linked)))
    conn.execute("INSERT INTO deletedItems (itemID) VALUES (?)", (items[2],))
    conn.commit()
    conn.close()
    return folder


def test_collections_tags_linked_files_and_trash(zotero_copy):
    records = {r.source_key: r for r in ZoteroImporter().read(zotero_copy)}
    expected = truth(zotero_copy / "zotero.sqlite")
    assert set(records) == set(expected)
    conn = sqlite3.connect(zotero_copy / "zotero.sqlite")
    first, second = [row[0] for row in conn.execute(
        "SELECT i.key FROM collectionItems c JOIN items i USING (itemID) ORDER BY c.collectionID DESC")]
    conn.close()
    assert records[first].paper.collections == ["Parent/Child"]
    assert records[second].paper.collections == ["Parent"]
    assert records[first].paper.tags == ["to read"]
    assert any(f.path.endswith("elsewhere.pdf") for f in records[first].paper.files)


def test_import_into_library_is_incremental(zotero_copy, fresh_library):
    first = fresh_library.import_paths([zotero_copy])
    assert first.added == len(truth(zotero_copy / "zotero.sqlite")) and not first.failed
    again = fresh_library.import_paths([zotero_copy], force=True)
    assert again.added == 0 and again.skipped == first.added
    row = fresh_library.database.conn.execute("SELECT count(*) FROM collections WHERE name = 'Parent/Child'").fetchone()
    assert row[0] == 1


@pytest.mark.parametrize("content", [b"", b"this is not a database at all" * 100])
def test_corrupt_database_is_a_clear_error(tmp_path, content):
    database = tmp_path / "zotero.sqlite"
    database.write_bytes(content)
    with pytest.raises(ImportFailed, match="zotero.sqlite"):
        list(ZoteroImporter().read(tmp_path))


def test_missing_database_and_helpers(tmp_path):
    with pytest.raises(ImportFailed, match="no zotero.sqlite"):
        list(ZoteroImporter().read(tmp_path))
    assert parse_extra("arXiv: 2101.00001\nCitation Key: smith2020\ntex.x= y") == {
        "arxiv": "2101.00001", "citation key": "smith2020"}
    assert note_to_text("<p>One &amp; two</p><p>three</p>") == "One & two\nthree"
