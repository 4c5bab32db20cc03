"""Import: per-file rows, an error row for a broken file, automatic indexing, cancel, watch folders, drops."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent

from tests.bibgen import bib_entry, synthetic_bib
from tests.gui.conftest import PAPERS

pytestmark = pytest.mark.gui


def _rows(panel):
    return {row.path.rsplit("/", 1)[-1]: (row.status, row.detail) for row in panel.files.rows}


def test_import_lists_each_file_reports_a_broken_pdf_and_indexes_by_itself(window, qtbot, tmp_path):
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "new.bib").write_text(bib_entry("fresh", "A fresh paper about retrieval", abstract="Retrieval of papers."), encoding="utf-8")
    (drop / "broken.pdf").write_bytes(b"%PDF-1.4\nnot really a pdf\n")
    panel = window.import_panel
    with qtbot.waitSignal(panel.import_finished, timeout=30000) as imported, \
         qtbot.waitSignal(panel.index_finished, timeout=60000) as indexed:
        panel.import_paths([str(drop)])
    assert imported.args[0].added == 1
    rows = _rows(panel)
    assert rows["new.bib"][0] == "done"
    status, reason = rows["broken.pdf"]
    assert status == "failed" and "broken.pdf" in reason and "PDF" in reason
    assert "1 failed" in panel.summary.text()
    assert indexed.args[0]["embedded"] >= 1  # the new paper was embedded without being asked
    qtbot.waitUntil(lambda: window.library_panel.model.rowCount() == len(PAPERS) + 1, timeout=10000)


def test_cancelling_an_import_keeps_what_was_stored(window, qtbot, tmp_path):
    big = tmp_path / "big.bib"
    big.write_text(synthetic_bib(4000), encoding="utf-8")
    panel = window.import_panel
    panel.auto_index = False
    op = panel.import_paths([str(big)])
    qtbot.waitUntil(lambda: bool(panel.files.rows) and panel.files.rows[0].status == "importing", timeout=20000)
    with qtbot.waitSignal(op.cancelled, timeout=30000):
        panel.import_progress.cancel_button.click()
    assert _rows(panel)["big.bib"][0] == "cancelled"
    assert "cancelled" in panel.summary.text().lower()
    assert not panel.import_progress.running
    qtbot.waitUntil(lambda: window.library_panel.model.rowCount() > 0, timeout=10000)
    from scimult_desktop.services.library.facade import Library

    with Library.open(window.session.folder) as library:
        stored = library.count_papers() - len(PAPERS)
    assert 0 <= stored < 4000  # stopped part-way; what was stored stays


def test_dropping_files_on_the_window_imports_them(window, qtbot, tmp_path):
    bib = tmp_path / "dropped.bib"
    bib.write_text(bib_entry("dropped", "A dropped paper on galaxies", abstract="Galaxies."), encoding="utf-8")
    window.import_panel.auto_index = False
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(bib))])
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    with qtbot.waitSignal(window.import_panel.import_finished, timeout=30000) as imported:
        window.dropEvent(event)
    assert imported.args[0].added == 1
    assert window.tabs.currentWidget() is window.import_panel


def test_watch_folder_is_listed_and_scanned(window, qtbot, tmp_path):
    folder = tmp_path / "watched"
    folder.mkdir()
    bib = folder / "w.bib"
    bib.write_text(bib_entry("watched1", "A watched paper on climate", abstract="Climate."), encoding="utf-8")
    import os
    old = bib.stat().st_mtime - 60
    os.utime(bib, (old, old))  # older than the scan's settle time
    panel = window.import_panel
    panel.auto_index = False
    with qtbot.waitSignal(panel.import_finished, timeout=30000) as imported:
        panel.add_watch_folder(str(folder))
    assert imported.args[0].added == 1
    qtbot.waitUntil(lambda: panel.watch_list.item(0).data(Qt.ItemDataRole.UserRole) == str(folder.resolve()), timeout=10000)
