"""The search panel shows the matching PDF passage and its page; Settings turns passage search off."""

from __future__ import annotations

from tests.gui.conftest import make_window

PAGE_TWO = (
    "Rotation curves flatten at large radii. " * 3
    + "The outer hydrogen clouds of spiral galaxies orbit faster than their visible stars can explain, "
    "so each galaxy must sit inside a massive halo of unseen matter. " * 4
)


def add_pdf_text_and_index(folder) -> None:
    from scimult_desktop.services.library.facade import Library

    with Library.open(folder) as library:
        galaxy = library.get_paper("galaxy").id
        with library.database.transaction():
            library.database.conn.executemany(
                "INSERT INTO pages (paper_id, page, text) VALUES (?, ?, ?)",
                [(galaxy, 1, "Galaxy rotation curves and dark matter\nIntroduction text. " * 20), (galaxy, 2, PAGE_TWO)],
            )
        report = library.index()
        assert report["passages"]["enabled"] and report["passages"]["embedded"] >= 2, report


def test_search_results_show_the_passage_and_its_page(qtbot, library_copy, tmp_path):
    add_pdf_text_and_index(library_copy)
    window = make_window(qtbot, library_copy, tmp_path)
    try:
        panel = window.search_panel
        window.show_tab(panel)
        panel.mode.setCurrentIndex(panel.mode.findData("semantic"))
        with qtbot.waitSignal(panel.results_shown, timeout=30000):
            panel.query_edit.setText("outer hydrogen clouds orbit faster than visible stars")
            panel.search_now()
        items = {item.payload.paper.citekey: item for item in panel.results.items()}
        galaxy = items["galaxy"]
        assert galaxy.payload.passage is not None and galaxy.payload.passage.page == 2
        assert "Passage, page 2:" in galaxy.html and "<b>hydrogen</b>" in galaxy.html
        assert all(item.payload.passage is None for key, item in items.items() if key != "galaxy")
    finally:
        window.close()
        assert window.ops.wait(30000)


def test_settings_dialog_saves_the_passage_search_choice(qtbot, window):
    from scimult_desktop.gui.dialogs.settings_dialog import SettingsDialog
    from scimult_desktop.services.library import preferences

    dialog = SettingsDialog(window.ops)
    qtbot.addWidget(dialog)
    assert dialog.passage_search.isChecked()
    dialog.passage_search.setChecked(False)
    dialog.save()
    assert preferences.passage_search_enabled() is False
    reopened = SettingsDialog(window.ops)
    qtbot.addWidget(reopened)
    assert not reopened.passage_search.isChecked()
