"""The detail pane's "How your papers cite it": citing sentences with page, and opening the citing paper."""

from __future__ import annotations

from PySide6.QtCore import Qt

from scimult_desktop.gui.panels.citing_contexts import context_html
from scimult_desktop.services.library.facade import Library
from tests import contexts_library
from tests.gui.conftest import make_window


def add_citing_papers(folder) -> dict:
    with Library.open(folder) as library:
        ids = contexts_library.build(library, citing=2)
        assert library.analyse_citation_contexts()["analysed"] == 2
    return ids


def test_detail_pane_shows_how_library_papers_cite_the_paper_and_opens_the_citing_one(qtbot, library_copy, tmp_path):
    ids = add_citing_papers(library_copy)
    window = make_window(qtbot, library_copy, tmp_path)
    section = window.detail_panel.citing_contexts
    dpr = ids["10.18653/v1/2020.emnlp-main.550"]
    with qtbot.waitSignal(window.detail_panel.details_shown, timeout=10000):
        window.session.select_paper(dpr)
    qtbot.waitUntil(lambda: section.list.count() == 4, timeout=10000)
    assert "4 sentences in 2 papers" in section.heading.text()
    first = section.list.item(0).text()
    assert "<b>[2, 3]</b>" in first and "p. 1" in first and "Neural rankers for everyone" in first
    assert "Toutanova" not in "".join(section.list.item(i).text() for i in range(section.list.count()))
    citing = section.list.item(0).data(Qt.ItemDataRole.UserRole)
    assert citing in (ids["citing0"], ids["citing1"])
    section.list.setCurrentRow(0)
    section.list.setFocus()
    with qtbot.waitSignal(window.detail_panel.details_shown, timeout=10000) as shown:
        qtbot.keyClick(section.list, Qt.Key.Key_Return)
    assert shown.args == [citing] and window.session.selected_paper == citing
    qtbot.waitUntil(lambda: section.list.count() == 0 and "No paper in your library" in section.note.text(), timeout=10000)
    window.close()
    assert window.ops.wait(30000)


def test_context_html_escapes_text_and_bolds_the_marker():
    item = {"sentence": "A <b> tag [1] here.", "marker": "[1]", "marker_offset": 10, "page": 3,
            "citing_paper": {"id": 1, "title": "T & U", "year": 2020}}
    html = context_html(item)
    assert "A &lt;b&gt; tag <b>[1]</b> here." in html and "T &amp; U (2020), p. 3" in html


def test_suggestion_card_shows_the_library_sentence(qtbot):
    from scimult_desktop.gui.widgets.suggestion_cards import SuggestionRow, library_context_html

    html = library_context_html({"sentence": "A <claim> [2].", "page": 4, "citing_paper": {"title": "T & U"}})
    assert "A &lt;claim&gt; [2]." in html and "T &amp; U, p. 4" in html
    assert library_context_html(None) == ""
    context = {"sentence": "Dense retrieval works [2].", "page": 1, "citing_paper": {"id": 3, "title": "Ours"}}
    row = SuggestionRow("a sentence", {"title": "DPR", "citekey": "dpr", "score": 0.5, "library_context": context})
    qtbot.addWidget(row)
    assert not row.library_context.isHidden() and "Dense retrieval works [2]." in row.library_context.text()
    plain = SuggestionRow("a sentence", {"title": "DPR", "citekey": "dpr", "score": 0.5})
    qtbot.addWidget(plain)
    assert plain.library_context.isHidden()


def test_a_library_from_before_contexts_is_analysed_in_the_background_at_start(qtbot, library_copy, tmp_path):
    with Library.open(library_copy) as library:
        ids = contexts_library.build(library, citing=2)  # stored as an older version would: no analysis
        assert library.citation_context_backlog() == 2
    window = make_window(qtbot, library_copy, tmp_path)
    section = window.detail_panel.citing_contexts
    with qtbot.waitSignal(window.detail_panel.details_shown, timeout=10000):
        window.session.select_paper(ids["10.18653/v1/n19-1423"])
    qtbot.waitUntil(lambda: section.list.count() == 2, timeout=20000)  # shown once the analysis has run (2 citing papers)
    assert "BERT <b>[1]</b> changed ranking" in section.list.item(0).text()
    window.close()
    assert window.ops.wait(30000)
    with Library.open(library_copy) as library:
        assert library.citation_context_backlog() == 0
