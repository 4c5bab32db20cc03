"""Files broken the way real files break: the good part imports, the rest is named in words, nothing hangs.

Every file is generated in tmp_path. The last test runs a few variants of the real
fixtures through benchmarks/probe_mutations.py (skipped without ../shared/data).
"""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from scimult_desktop.ingest.bibtex import BibtexImporter
from scimult_desktop.ingest.csl_json import CslJsonImporter
from scimult_desktop.ingest.text_decoding import decode_text
from scimult_desktop.services.library.facade import Library
from tests.benchmark_scripts import BENCHMARKS, load_benchmark

probe = load_benchmark("probe_inputs")

ACCENTED = ["Über Gödel", "Il a neigé à Port-au-Prince", "Łódź and Kraków"]


def _bib_text(titles: list[str]) -> str:
    return "".join(f"@article{{k{i},\n  title = {{{t}}},\n  year = {{2020}}\n}}\n\n" for i, t in enumerate(titles))


def _titles(library) -> set[str]:
    return {p.title for p in library.list_papers()}


def _good_bib(path: Path, prefix: str) -> Path:
    path.write_text("".join(f"@article{{{prefix}{i}, title = {{Good {prefix} paper {i}}}}}\n" for i in range(2)))
    return path


# ---- text that is not plain UTF-8 ----------------------------------------------------
@pytest.mark.parametrize("encode", [
    lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
    lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    lambda t: t.encode("utf-16-le"),  # Windows tools also write UTF-16 without a BOM
], ids=["utf16le-bom", "utf16be-bom", "utf16le-no-bom"])
def test_a_utf16_bib_file_imports_every_entry(fresh_library, tmp_path, encode):
    path = tmp_path / "refs.bib"
    path.write_bytes(encode(_bib_text(ACCENTED)))
    report = fresh_library.import_paths([path])
    assert report.added == 3, report.failed
    assert _titles(fresh_library) == set(ACCENTED)


def test_one_windows_1252_entry_in_a_utf8_file_leaves_the_utf8_entries_right(fresh_library, tmp_path):
    path = tmp_path / "refs.bib"
    pasted = "@article{pasted,\n  title = {Müller-Lyer Täuschung},\n  year = {1999}\n}\n"
    path.write_bytes(_bib_text(ACCENTED).encode("utf-8") + pasted.encode("cp1252"))
    report = fresh_library.import_paths([path])
    assert _titles(fresh_library) == set(ACCENTED) | {"Müller-Lyer Täuschung"}
    notes = [p for p in report.failed if "Windows-1252" in p.error]
    assert notes and notes[0].path == f"{path}:17"  # the line of the first byte that is not UTF-8


def test_a_whole_file_in_windows_1252_is_read_quietly():
    decoded = decode_text(_bib_text(["Über café"]).encode("cp1252"))
    assert "Über café" in decoded.text and decoded.notes == []


def test_nul_bytes_at_the_start_of_a_bib_file_do_not_make_it_binary(fresh_library, tmp_path):
    path = tmp_path / "refs.bib"
    path.write_bytes(b"\x00" * 64 + _bib_text(ACCENTED).encode() + b"\x00" * 4096)
    report = fresh_library.import_paths([path])
    assert _titles(fresh_library) == set(ACCENTED)
    assert any("NUL bytes removed" in p.error for p in report.failed)


def test_a_pdf_or_sqlite_file_named_bib_says_what_it_is(fresh_library, tmp_path):
    pdf, database = tmp_path / "paper.bib", tmp_path / "zotero.bib"
    pdf.write_bytes(probe.pdf_text_bomb(0.01))
    probe.write_zotero_db(database)
    report = fresh_library.import_paths([pdf, database])
    errors = {Path(p.path).name: p.error for p in report.failed}
    assert "it is a PDF file" in errors["paper.bib"]
    assert "SQLite database" in errors["zotero.bib"]


# ---- CSL-JSON ------------------------------------------------------------------------
def _csl(n: int) -> list[dict]:
    return [{"id": f"i{i}", "type": "article-journal", "title": f"CSL paper {i}",
             "author": [{"family": "Doe", "given": "J."}]} for i in range(n)]


def test_a_csl_json_file_cut_short_keeps_the_items_before_the_cut(fresh_library, tmp_path):
    path = tmp_path / "export.json"
    text = json.dumps(_csl(5), indent=2)
    path.write_text(text[: text.index('"CSL paper 4"') + 5])
    report = fresh_library.import_paths([path])
    assert _titles(fresh_library) == {f"CSL paper {i}" for i in range(4)}
    [problem] = report.failed
    assert problem.path.startswith(f"{path}:") and "cut short" in problem.error and "4 items" in problem.error


def test_a_utf16_csl_json_file_imports(fresh_library, tmp_path):
    path = tmp_path / "export.json"
    path.write_bytes(codecs.BOM_UTF16_LE + json.dumps(_csl(3)).encode("utf-16-le"))
    report = fresh_library.import_paths([path])
    assert report.added == 3, report.failed


@pytest.mark.parametrize("document, words", [
    ({"items": _csl(2)}, "object with keys items"),
    (_csl(1)[0], "one object"),
    (["a title", "another"], "holds strs"),
])
def test_json_of_the_wrong_shape_says_what_it_is(fresh_library, tmp_path, document, words):
    path = tmp_path / "export.json"
    path.write_text(json.dumps(document))
    report = fresh_library.import_paths([path])
    [problem] = report.failed
    assert "CSL-JSON must be a list of items" in problem.error and words in problem.error


def test_a_csl_item_whose_title_comes_after_a_long_abstract_is_found_in_a_folder(fresh_library, tmp_path):
    item = {"abstract": "A long abstract. " * 500, "id": "late", "type": "article", "title": "Title after 8 KB"}
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "export.json").write_text(json.dumps([item]))
    assert CslJsonImporter().can_import(tmp_path / "in" / "export.json")
    fresh_library.import_paths([tmp_path / "in"])
    assert _titles(fresh_library) == {"Title after 8 KB"}


# ---- paths that are not ordinary files -----------------------------------------------
def test_a_named_pipe_is_refused_instead_of_read_forever(tmp_path):
    pipe = tmp_path / "refs.bib"
    os.mkfifo(pipe)
    after = _good_bib(tmp_path / "after.bib", "after")
    outcome = {}

    def run() -> None:  # a library is used in the thread that opened it
        with Library.open(tmp_path / "lib-thread") as library:
            outcome["report"] = library.import_paths([pipe, after])

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(30)
    if worker.is_alive():
        with open(pipe, "wb"):  # unblock the reader so the test process can end
            pass
        pytest.fail("the import blocked reading a named pipe")
    report = outcome["report"]
    assert report.added == 2
    assert [(p.path, "named pipe" in p.error) for p in report.failed] == [(str(pipe), True)]


def test_link_loops_dangling_links_and_empty_folders_are_named(fresh_library, tmp_path):
    loop, other = tmp_path / "loop.bib", tmp_path / "loop2.bib"
    loop.symlink_to(other)
    other.symlink_to(loop)
    dangling = tmp_path / "moved.bib"
    dangling.symlink_to(tmp_path / "gone.bib")
    empty = tmp_path / "folder.bib"
    empty.mkdir()
    report = fresh_library.import_paths([loop, dangling, empty])
    errors = {Path(p.path).name: p.error for p in report.failed}
    assert "link loop" in errors["loop.bib"]
    assert "gone.bib, which does not exist" in errors["moved.bib"]
    assert "no files to import" in errors["folder.bib"]


# ---- PDF -----------------------------------------------------------------------------
def test_an_html_page_saved_as_pdf_is_refused_not_stored_as_a_paper(fresh_library, tmp_path):
    page = tmp_path / "article.pdf"
    page.write_bytes(b"<!DOCTYPE html><html><head><title>Log in</title></head><body>Access denied</body></html>")
    report = fresh_library.import_paths([page])
    assert fresh_library.count_papers() == 0
    [problem] = report.failed
    assert "not a PDF" in problem.error and "HTML" in problem.error


def test_a_pdf_cut_to_its_first_pages_says_so(tmp_path):
    pymupdf = pytest.importorskip("pymupdf")
    from scimult_desktop.ingest.pdf import PdfImporter

    path = tmp_path / "book.pdf"
    with pymupdf.open() as document:
        for n in range(3):
            document.new_page().insert_text((72, 72), f"Chapter {n} of a long book about things")
        document.save(path)
    items = list(PdfImporter(max_pages=2, ocr=False).read(path))
    assert any("only the first 2 of 3 pages" in getattr(i, "error", "") for i in items)


# ---- Zotero --------------------------------------------------------------------------
def test_a_zotero_write_cut_by_a_crash_is_rolled_back_in_the_snapshot(fresh_library, tmp_path):
    data = tmp_path / "Zotero"
    data.mkdir()
    database = data / "zotero.sqlite"
    probe.write_zotero_db(database)
    crash = ("import os, sqlite3, sys\n"
             "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
             "conn.execute('PRAGMA cache_size=1'); conn.execute('BEGIN IMMEDIATE')\n"
             "conn.execute(\"UPDATE itemDataValues SET value = 'HALF WRITTEN ' || value\")\n"
             "conn.execute('CREATE TABLE filler (x)')\n"  # more than the cache holds: pages spill to the file
             "conn.executemany('INSERT INTO filler VALUES (randomblob(4000))', [()] * 500)\n"
             "os._exit(9)\n")
    subprocess.run([sys.executable, "-c", crash, str(database)])  # exits 9 by design, mid-write
    assert database.with_name("zotero.sqlite-journal").exists()
    fresh_library.import_paths([database])
    titles = _titles(fresh_library)
    assert titles == {f"Zotero paper number {n}" for n in (1, 2, 3)}
    assert database.with_name("zotero.sqlite-journal").exists()  # Zotero's own files are never touched


def test_a_zotero_backup_named_explicitly_imports(fresh_library, tmp_path):
    data = tmp_path / "Zotero"
    data.mkdir()
    probe.write_zotero_db(data / "zotero.sqlite.bak")
    report = fresh_library.import_paths([data / "zotero.sqlite.bak"])
    assert report.added == 3, report.failed


def test_a_damaged_zotero_database_is_read_from_its_backup_and_says_so(fresh_library, tmp_path):
    data = tmp_path / "Zotero"
    data.mkdir()
    probe.write_zotero_db(data / "zotero.sqlite.bak")
    (data / "zotero.sqlite").write_bytes((data / "zotero.sqlite.bak").read_bytes()[:2048] + b"\x00" * 100)
    report = fresh_library.import_paths([data / "zotero.sqlite"])
    assert report.added == 3
    [problem] = report.failed
    assert problem.path == str(data / "zotero.sqlite")
    assert "damaged or incomplete" in problem.error and "backup zotero.sqlite.bak" in problem.error
    # The records belong to zotero.sqlite: importing it once repaired updates them, it adds nothing.
    probe.write_zotero_db(tmp_path / "repaired.sqlite")
    (data / "zotero.sqlite").write_bytes((tmp_path / "repaired.sqlite").read_bytes())
    again = fresh_library.import_paths([data / "zotero.sqlite"])
    assert (again.added, fresh_library.count_papers()) == (0, 3)


def test_a_damaged_zotero_database_without_backup_says_what_to_do(fresh_library, tmp_path):
    data = tmp_path / "Zotero"
    data.mkdir()
    probe.write_zotero_db(tmp_path / "good.sqlite")
    (data / "zotero.sqlite").write_bytes((tmp_path / "good.sqlite").read_bytes()[:2048] + b"\x00" * 100)
    [problem] = fresh_library.import_paths([data / "zotero.sqlite"]).failed
    assert "damaged or incomplete" in problem.error and "Zotero can repair it" in problem.error


# ---- biblatex xdata ------------------------------------------------------------------
def test_xdata_fields_are_inherited_and_xdata_entries_are_not_papers(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text("@xdata{acm, publisher = {ACM Press}, title = {Not a paper}}\n"
                    "@article{child, title = {A child of xdata}, xdata = {acm}}\n")
    items = list(BibtexImporter().read(path))
    assert [(i.paper.title, i.paper.venue) for i in items] == [("A child of xdata", "ACM Press")]


# ---- the real fixtures, broken -------------------------------------------------------
def _load_registered(name: str):
    """A benchmark script as a module registered in sys.modules (its dataclasses need that)."""
    import importlib.util

    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.mark.parametrize("name", ["bib_utf16le_bom", "bib_cp1252_entry_in_utf8_file", "csl_truncated",
                                  "zotero_hot_journal", "pdf_really_html", "bib_named_pipe"])
def test_broken_variants_of_real_fixtures_pass_every_check(shared_data, tmp_path, name):
    mutations = _load_registered("probe_mutations")
    outcome = mutations.run_variant(name, tmp_path)
    assert outcome.ok, (outcome.problems(), outcome.crash, outcome.cli_crash, outcome.messages)
