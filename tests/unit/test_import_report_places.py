"""Import reports say where a failed BibTeX entry is (file, line, key) and which PDFs were stored without text."""

from __future__ import annotations

import sqlite3

import pytest

from scimult_desktop.services.library import importing
from tests.bibgen import bib_entry
from tests.pdfgen import write_image_only_pdf


def test_an_entry_that_cannot_be_stored_is_reported_with_its_line(fresh_library, tmp_path, monkeypatch):
    bib = tmp_path / "refs.bib"
    text = bib_entry("first", "A first paper") + "\n" + bib_entry("second", "A second paper", abstract="Two.")
    bib.write_text(text, encoding="utf-8")
    line = text.splitlines().index("@article{second,") + 1
    real = importing.store_record

    def failing(papers, sources, record):
        if record.source_key == "second":
            raise sqlite3.IntegrityError("CHECK constraint failed")
        return real(papers, sources, record)

    monkeypatch.setattr(importing, "store_record", failing)
    report = fresh_library.import_paths([bib])
    assert [p.path for p in report.failed] == [f"{bib}:{line}#second"]
    assert report.to_json()["failed"][0]["path"].endswith(f"refs.bib:{line}#second")


def test_an_image_only_pdf_is_listed_as_stored_without_text(fresh_library, tmp_path):
    pytest.importorskip("pymupdf")
    scan = write_image_only_pdf(tmp_path / "scan.pdf", "A Scanned Paper About Things")
    report = fresh_library.import_paths([scan])
    assert report.added == 1 and not report.failed
    assert report.no_text_layer == [str(scan.resolve())]
    assert report.to_json()["no_text_layer"] == [str(scan.resolve())]


def test_scimult_import_names_pdfs_stored_without_text(tmp_path):
    pymupdf = pytest.importorskip("pymupdf")
    from click.testing import CliRunner

    from scimult_desktop.cli.main import cli

    doc = pymupdf.open()
    doc.new_page()
    doc.set_metadata({"title": "An Old Scanned Survey"})
    scan = tmp_path / "old.pdf"
    doc.save(scan)
    result = CliRunner().invoke(cli, ["--library", str(tmp_path / "lib"), "import", str(scan)])
    assert result.exit_code == 0, result.output
    assert f"stored, no text layer (image-only PDF; OCR needs Tesseract): {scan.resolve()}" in result.output
