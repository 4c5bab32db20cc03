"""Seeded fuzzing of the BibTeX, CSL-JSON and Zotero importers through the import service.

For every generated file, imported between two good .bib files:
- no exception escapes `import_paths`;
- both good files are imported (one bad file stops nothing);
- every failure names one of the files given, and the fuzzed file is either
  finished or reported as failed;
- the library passes `PRAGMA integrity_check`.

Derandomized (the same examples on every run, so CI is reproducible), a bounded
number of examples with a deadline per example; the whole module runs in well
under a minute.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
from datetime import timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scimult_desktop.services.library import importing
from scimult_desktop.store.database import LibraryDatabase
from tests.benchmark_scripts import load_benchmark

probe = load_benchmark("probe_inputs")

FUZZ = settings(
    max_examples=40,
    deadline=timedelta(seconds=10),  # the per-file time budget of issue 15
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

_SURROGATES = st.sampled_from(["\ud800", "\udfff", "a\udc80b", "\udbff\udbff"])
_TEXT = st.one_of(st.text(max_size=30), _SURROGATES, st.sampled_from(["", " ", "{", "}", "\\", "$", "%", "#", '"']))
_SCALAR = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10**40), max_value=10**40),
    st.floats(allow_nan=True, allow_infinity=True), _TEXT,
)
_JSON = st.recursive(_SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_TEXT, inner, max_size=3),
                     max_leaves=8)
_CSL_FIELDS = ["title", "author", "editor", "issued", "DOI", "URL", "arxiv", "id", "citation-key", "container-title",
               "publisher", "abstract", "type"]


def _import_between_good_files(folder: Path, fuzzed: Path) -> None:
    """Import good.bib, `fuzzed`, good2.bib into a fresh library and check the module's promises."""
    before, after = folder / "good.bib", folder / "good2.bib"
    before.write_text("@article{goodbefore, title = {A good paper before}}\n")
    after.write_text("@article{goodafter, title = {A good paper after}}\n")
    database = LibraryDatabase(folder / "lib")
    try:
        report = importing.import_paths(database, [before, fuzzed, after])
        conn = database.conn
        keys = {row[0] for row in conn.execute("SELECT citekey FROM papers")}
        assert {"goodbefore", "goodafter"} <= keys
        given_paths = (str(before), str(fuzzed), str(after))
        for problem in report.failed:
            assert problem.path.startswith(given_paths), problem
            json.dumps([problem.path, problem.error], ensure_ascii=False).encode("utf-8")
        finished = conn.execute("SELECT count(*) FROM source_files WHERE path = ?", (str(fuzzed),)).fetchone()[0]
        assert finished == 1 or any(p.path == str(fuzzed) for p in report.failed)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    finally:
        database.close()


# ---- CSL-JSON --------------------------------------------------------------
@st.composite
def csl_documents(draw) -> bytes:
    items = []
    for _ in range(draw(st.integers(0, 4))):
        if draw(st.booleans()):
            items.append(draw(_JSON))
            continue
        item = {}
        for name in draw(st.lists(st.sampled_from(_CSL_FIELDS), max_size=6, unique=True)):
            shape = draw(st.sampled_from(["any", "names", "date"]))
            if shape == "names":
                item[name] = draw(st.lists(st.one_of(_JSON, st.fixed_dictionaries(
                    {}, optional={"family": _JSON, "given": _JSON, "literal": _JSON})), max_size=3))
            elif shape == "date":
                item[name] = {"date-parts": [[draw(_SCALAR)]]}
            else:
                item[name] = draw(_JSON)
        if draw(st.booleans()):
            item["title"] = draw(_TEXT)
        items.append(item)
    text = json.dumps(items, ensure_ascii=True, allow_nan=True)
    if draw(st.integers(0, 9)) == 0:  # now and then a damaged file
        cut = draw(st.integers(0, len(text)))
        text = text[:cut] + draw(st.sampled_from(["", "[" * 3000, "\x00", "\ufeff", '"\\ud800"']))
    return text.encode("utf-8", errors="surrogatepass")


@FUZZ
@given(csl_documents())
def test_fuzzed_csl_json(document):
    with tempfile.TemporaryDirectory() as tmp:
        fuzzed = Path(tmp) / "fuzzed.json"
        fuzzed.write_bytes(document)
        _import_between_good_files(Path(tmp), fuzzed)


# ---- BibTeX ----------------------------------------------------------------
_KEYS = st.sampled_from(["a", "b", "c", "A", "loop", "", "x y", "k,1"])
_FIELD_NAMES = st.sampled_from(["title", "author", "editor", "year", "date", "doi", "url", "eprint", "archiveprefix",
                                "crossref", "xref", "file", "keywords", "groups", "abstract", "journal", "booktitle",
                                "subtitle", "note", "TITLE"])
_BIB_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)


@st.composite
def bib_values(draw) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["braced", "quoted", "macro", "number", "key"]))
        if kind == "braced":
            parts.append("{" + draw(_BIB_TEXT) + "}")
        elif kind == "quoted":
            parts.append('"' + draw(_BIB_TEXT) + '"')
        elif kind == "macro":
            parts.append(draw(st.sampled_from(["m0", "m1", "m2", "jan", "undefined"])))
        elif kind == "number":
            parts.append(str(draw(st.integers(-(10**30), 10**30))))
        else:
            parts.append("{" + draw(_KEYS) + "}")
    return " # ".join(parts)


@st.composite
def bib_documents(draw) -> bytes:
    blocks = []
    for i in range(draw(st.integers(0, 3))):
        blocks.append(f"@string{{m{i} = {draw(bib_values())}}}")
    for _ in range(draw(st.integers(0, 5))):
        kind = draw(st.sampled_from(["article", "inproceedings", "proceedings", "book", "misc", "comment", "preamble"]))
        fields = ",\n  ".join(f"{draw(_FIELD_NAMES)} = {draw(bib_values())}"
                              for _ in range(draw(st.integers(0, 6))))
        key = draw(_KEYS)
        blocks.append(f"@{kind}{{{key},\n  {fields}\n}}" if draw(st.integers(0, 5)) else f"@{kind}{{ {fields}")
    text = "\n".join(blocks)
    for _ in range(draw(st.integers(0, 3))):  # random damage
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(["{", "}", "@", '"', "#", "\n", "\\", "%", "{" * 500, "\x00"])) + text[at:]
    encoding = draw(st.sampled_from(["utf-8", "latin-1", "utf-16"]))
    return text.encode(encoding, errors="replace")


@FUZZ
@given(bib_documents())
def test_fuzzed_bibtex(document):
    with tempfile.TemporaryDirectory() as tmp:
        fuzzed = Path(tmp) / "fuzzed.bib"
        fuzzed.write_bytes(document)
        _import_between_good_files(Path(tmp), fuzzed)


# ---- Zotero ------------------------------------------------------------------
_ZOTERO_COLUMNS = {
    "items": ["itemTypeID", "libraryID", "key"],
    "itemDataValues": ["value"],
    "itemData": ["itemID", "fieldID", "valueID"],
    "fields": ["fieldName"],
    "itemTypes": ["typeName"],
    "creators": ["firstName", "lastName", "fieldMode"],
    "itemCreators": ["itemID", "creatorID", "creatorTypeID"],
    "creatorTypes": ["creatorType"],
    "tags": ["name"],
    "collections": ["collectionName", "parentCollectionID"],
    "collectionItems": ["collectionID", "itemID"],
    "itemNotes": ["parentItemID", "note"],
    "libraries": ["type"],
}
_CELL = st.one_of(
    st.none(), st.integers(min_value=-(2**63), max_value=2**63 - 1), st.floats(allow_nan=False),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=30), st.binary(max_size=12),
    st.sampled_from([1, 2, 3, 101, "1", "ITEM0001", "journalArticle", "<p>x</p>" * 50]),
)
_MUTATIONS = st.one_of(
    st.tuples(st.just("update"), st.sampled_from(sorted(_ZOTERO_COLUMNS)), st.integers(1, 8), _CELL, st.integers(0, 3)),
    st.tuples(st.just("delete"), st.sampled_from(sorted(_ZOTERO_COLUMNS)), st.integers(1, 8)),
    st.tuples(st.just("drop"), st.sampled_from(sorted(_ZOTERO_COLUMNS) + ["deletedItems", "itemAttachments"])),
)


def _mutate(conn: sqlite3.Connection, mutation: tuple) -> None:
    try:
        if mutation[0] == "update":
            _, table, row, value, column = mutation
            columns = _ZOTERO_COLUMNS[table]
            conn.execute(f'UPDATE {table} SET "{columns[column % len(columns)]}" = ? WHERE rowid = ?', (value, row))
        elif mutation[0] == "delete":
            conn.execute(f"DELETE FROM {mutation[1]} WHERE rowid = ?", (mutation[2],))
        else:
            conn.execute(f"DROP TABLE IF EXISTS {mutation[1]}")
    except sqlite3.Error:
        pass  # e.g. a duplicate primary key: that mutation just does not happen


@FUZZ
@given(st.lists(_MUTATIONS, min_size=1, max_size=5))
def test_fuzzed_zotero_database(mutations):
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "Zotero"
        data.mkdir()
        fuzzed = data / "zotero.sqlite"
        probe.write_zotero_db(fuzzed, items=3)
        conn = sqlite3.connect(fuzzed)
        for mutation in mutations:
            _mutate(conn, mutation)
        conn.commit()
        conn.close()
        _import_between_good_files(Path(tmp), fuzzed)
