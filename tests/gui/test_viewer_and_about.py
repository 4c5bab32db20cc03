"""'Open in system viewer' says so when no viewer is registered; About shows the AGPL-3.0 notice and the documentation."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox

from tests.gui.conftest import row_of_title

pytestmark = pytest.mark.gui


@pytest.fixture
def warnings(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text, *a, **k: shown.append((title, text)))
    return shown


def _attach(window, qtbot, path):
    from scimult_desktop.domain.records import Attachment
    from scimult_desktop.services.library.facade import Library

    paper_id = row_of_title(window, "Dense passage")
    with Library.open(window.session.folder) as library:
        with library.database.transaction():
            library.papers.add_attachment(paper_id, Attachment(str(path)))
    with qtbot.waitSignal(window.detail_panel.details_shown, timeout=10000):
        window.session.select_paper(paper_id)
    assert window.detail_panel.open_button.isEnabled()


def test_no_registered_viewer_is_said_with_the_file_path(window, qtbot, tmp_path, monkeypatch, warnings):
    pdf = tmp_path / "paper.pdf"
    pdf.write_bytes(b"%PDF-1.4\n")
    _attach(window, qtbot, pdf)
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or False)
    window.detail_panel.open_button.click()
    assert opened == [str(pdf)]
    assert len(warnings) == 1
    assert "No application is registered" in warnings[0][1] and str(pdf) in warnings[0][1]

    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: True)  # a viewer exists: no message
    window.detail_panel.open_button.click()
    assert len(warnings) == 1


def test_a_missing_attachment_is_said(window, qtbot, tmp_path, monkeypatch, warnings):
    gone = tmp_path / "moved.pdf"
    _attach(window, qtbot, gone)
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: pytest.fail("nothing to open"))
    window.detail_panel.open_button.click()
    assert len(warnings) == 1 and "missing" in warnings[0][1] and str(gone) in warnings[0][1]


def test_about_shows_the_licence_and_the_documentation(window, qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "about", lambda parent, title, text: shown.append(text))
    window.show_about()
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    text = shown[0]
    assert "AGPL-3.0" in text and "GNU Affero General Public License" in text and "NO WARRANTY" in text
    assert "https://www.gnu.org/licenses/agpl-3.0.html" in text
    assert "README.md" in text and "scimult --help" in text
