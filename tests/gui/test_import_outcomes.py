"""Import outcomes the user can read: a cancelled bar says Cancelled and the unindexed papers are
counted and offered for indexing; an image-only PDF says "stored, no text layer"; failed BibTeX
entries show their line; file dialogs open in the last folder used."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QFileDialog

from tests.bibgen import bib_entry, synthetic_bib
from tests.gui.conftest import PAPERS, make_window
from tests.pdfgen import write_image_only_pdf

pytestmark = pytest.mark.gui


def _rows(panel):
    return {row.path.rsplit("/", 1)[-1]: (row.status, row.detail) for row in panel.files.rows}


def test_a_cancelled_import_says_cancelled_and_offers_to_index_what_it_stored(window, qtbot, tmp_path):
    many = tmp_path / "many"
    many.mkdir()
    for part in range(60):  # files are committed one by one: some are stored before the cancel
        (many / f"part{part:02d}.bib").write_text(synthetic_bib(60, start=part * 60), encoding="utf-8")
    panel = window.import_panel
    op = panel.import_paths([str(many)])
    qtbot.waitUntil(lambda: len(panel.files.rows) >= 3, timeout=30000)
    with qtbot.waitSignal(op.cancelled, timeout=30000):
        panel.import_progress.cancel_button.click()
    bar = panel.import_progress.bar
    assert bar.text() == "Cancelled" and bar.value() == 0
    qtbot.waitUntil(lambda: panel.index_now_button.isVisibleTo(panel), timeout=20000)
    from scimult_desktop.services.library.facade import Library

    with Library.open(window.session.folder) as library:
        stored = library.count_papers() - len(PAPERS)
    assert stored > 0
    assert f"{stored:,} stored paper" in panel.summary.text() and "not indexed yet" in panel.summary.text()
    with qtbot.waitSignal(panel.index_finished, timeout=120000) as indexed:
        panel.index_now_button.click()
    assert indexed.args[0]["embedded"] >= stored
    assert not panel.index_now_button.isVisibleTo(panel)


def test_an_image_only_pdf_and_a_broken_entry_are_reported_as_such(window, qtbot, tmp_path):
    pytest.importorskip("pymupdf")
    drop = tmp_path / "drop"
    drop.mkdir()
    write_image_only_pdf(drop / "scan.pdf", "A Scanned Report on Rivers")
    text = bib_entry("good", "A good paper on rivers") + "\n@article{broken,\n  title = {Unclosed\n\n" + bib_entry("fine", "Another paper")
    (drop / "refs.bib").write_text(text, encoding="utf-8")
    panel = window.import_panel
    panel.auto_index = False
    with qtbot.waitSignal(panel.import_finished, timeout=30000):
        panel.import_paths([str(drop)])
    rows = _rows(panel)
    assert rows["scan.pdf"][0] == "stored, no text layer"
    failed = [(path, status) for path, (status, _d) in rows.items() if status == "failed"]
    assert failed and all(":" in path.split("refs.bib", 1)[1] for path, _s in failed)  # refs.bib:LINE


def test_file_dialogs_open_in_the_last_folder_used(qtbot, library_copy, tmp_path, monkeypatch):
    papers = tmp_path / "my papers"
    papers.mkdir()
    bib = papers / "one.bib"
    bib.write_text(bib_entry("one", "One paper"), encoding="utf-8")
    asked = []
    monkeypatch.setattr(QFileDialog, "getOpenFileNames", lambda parent, title, folder, filters: asked.append(folder) or ([str(bib)], ""))
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda parent, title, folder="": asked.append(folder) or "")
    window = make_window(qtbot, library_copy, tmp_path)
    window.import_panel.auto_index = False
    with qtbot.waitSignal(window.import_panel.import_finished, timeout=30000):
        window.import_panel.choose_files()
    window.import_panel.choose_folder()
    window.close()
    assert window.ops.wait(30000)
    again = make_window(qtbot, library_copy, tmp_path)  # after a restart too
    again.import_panel.choose_files()
    assert asked[0] == "" and asked[1:] == [str(papers), str(papers)]
    again.close()
    assert again.ops.wait(30000)
