"""Duplicates review (merge / keep both, undo), tag manager, notes editor, background-work indicator."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import Qt

from tests.bibgen import bib_entry
from tests.gui.conftest import PAPERS, make_window, row_of_title

pytestmark = pytest.mark.gui


def open_library(folder):
    from scimult_desktop.services.library.facade import Library

    return Library.open(folder)


@pytest.fixture
def duplicate_library(library_copy, tmp_path):
    """The seed library plus the 2019 preprint of its "Dense passage retrieval" paper (proposed as a duplicate)."""
    bib = tmp_path / "preprint.bib"
    bib.write_text(bib_entry("dense2019preprint", "Dense passage retrieval for open domain question answering",
                             author="Dense, Ann", year=2019,
                             abstract="Dual encoders retrieve passages for questions; a longer preprint abstract with details.",
                             extra="  eprint = {2004.04906},\n  archiveprefix = {arXiv},\n  keywords = {to read}"),
                   encoding="utf-8")
    with open_library(library_copy) as library:
        assert library.import_paths([bib]).added == 1
        assert len(library.duplicate_proposals()) == 1
    return library_copy


def counts(folder) -> tuple[int, int]:
    with open_library(folder) as library:
        return library.count_papers(), len(library.duplicate_proposals())


def test_duplicates_dialog_merges_with_chosen_fields_and_undo_restores(qtbot, duplicate_library, tmp_path):
    from scimult_desktop.gui.organizing import open_duplicates
    from scimult_desktop.services.library import tagging

    window = make_window(qtbot, duplicate_library, tmp_path)
    dialog = open_duplicates(window)
    qtbot.waitUntil(lambda: dialog.comparison is not None, timeout=15000)
    comparison = dialog.comparison
    assert {f.name for f in comparison.fields if f.differs} >= {"year", "abstract", "arxiv_id"}
    preprint_letter = "b" if comparison.b.paper.citekey == "dense2019preprint" else "a"
    assert dialog.chosen_values()["abstract"] == preprint_letter  # the richer (longer) abstract is ticked
    published = row_of_title(window, "Dense passage retrieval")
    letter = "a" if comparison.a.paper.id == published else "b"
    (dialog.keep_a if letter == "a" else dialog.keep_b).setChecked(True)
    dialog.choose("year", letter)  # keep the published year, take the rest as ticked (the richer values)
    preprint_id = comparison.b.paper.id if preprint_letter == "b" else comparison.a.paper.id
    with qtbot.waitSignal(window.detail_panel.details_shown, timeout=10000):
        window.session.select_paper(preprint_id)  # the window shows the record about to be merged away
    dialog.merge()
    qtbot.waitUntil(lambda: counts(duplicate_library) == (len(PAPERS), 0), timeout=15000)
    with open_library(duplicate_library) as library:
        kept = library.get_paper(published)
        assert kept.year == 2020 and kept.arxiv_id == "2004.04906" and "longer preprint abstract" in kept.abstract
        assert "to read" in [t.name for t in tagging.list_tags(library) if t.papers]  # the preprint's tag moved
    qtbot.waitUntil(lambda: dialog.empty.isVisible(), timeout=10000)  # no proposal left to review
    qtbot.waitUntil(lambda: window.session.selected_paper == published, timeout=10000)  # it follows the kept paper

    window.undo_stack.undo()  # Edit > Undo (Ctrl+Z)
    qtbot.waitUntil(lambda: counts(duplicate_library) == (len(PAPERS) + 1, 1), timeout=15000)
    with open_library(duplicate_library) as library:
        assert library.get_paper(published).year == 2020 and library.get_paper(published).arxiv_id is None
        assert library.get_paper("dense2019preprint").year == 2019
    qtbot.waitUntil(lambda: dialog.comparison is not None, timeout=15000)  # the pair is back in the dialog

    dialog.keep_both()
    qtbot.waitUntil(lambda: counts(duplicate_library) == (len(PAPERS) + 1, 0), timeout=15000)
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: counts(duplicate_library) == (len(PAPERS) + 1, 1), timeout=15000)

    dialog.scan()  # by content, with the model: the known pair is not proposed twice
    qtbot.waitUntil(lambda: dialog.scan_button.isEnabled(), timeout=60000)
    assert dialog.scan_result.text() in ("No new near-duplicates",) or dialog.scan_result.text().endswith("new by content")
    assert counts(duplicate_library)[1] >= 1
    dialog.close()
    window.close()
    assert window.ops.wait(30000)


def test_tag_manager_renames_colours_and_undoes_in_the_sidebar(window, qtbot):
    from scimult_desktop.gui.organizing import open_tags

    dialog = open_tags(window)
    qtbot.waitUntil(lambda: any(t.name == "medicine" for t in dialog.tags), timeout=10000)
    dialog.editor.rename("medicine", "health")
    qtbot.waitUntil(lambda: any(t.name == "health" and t.papers == 3 for t in dialog.tags), timeout=10000)

    def sidebar_tags() -> dict[str, object]:
        group = window.sidebar.topLevelItem(2)
        return {group.child(i).text(0): group.child(i) for i in range(group.childCount())}

    qtbot.waitUntil(lambda: "health  (3)" in sidebar_tags(), timeout=10000)
    dialog.editor.set_colour("health", "#cc3366")
    qtbot.waitUntil(lambda: any(t.colour == "#cc3366" for t in dialog.tags), timeout=10000)
    qtbot.waitUntil(lambda: not sidebar_tags()["health  (3)"].icon(0).isNull()
                    and sidebar_tags()["health  (3)"].toolTip(0) == "Colour #cc3366", timeout=10000)
    panel = window.library_panel
    vitd = next(r for r in range(panel.proxy.rowCount()) if "Vitamin D" in panel.proxy.index(r, 0).data())
    qtbot.waitUntil(lambda: window.tag_dots.dots(panel.proxy.index(vitd, 0)) == ["#cc3366"], timeout=10000)
    dialog.select("health", "retrieval")
    assert dialog.merge_button.isEnabled() and not dialog.rename_button.isEnabled()

    window.undo_stack.undo()  # the colour
    window.undo_stack.undo()  # the rename
    qtbot.waitUntil(lambda: "medicine  (3)" in sidebar_tags(), timeout=10000)
    qtbot.waitUntil(lambda: [t.colour for t in dialog.tags if t.name == "medicine"] == [None], timeout=10000)
    dialog.close()


def test_notes_editor_saves_while_typing_and_survives_reopening(qtbot, library_copy, tmp_path):
    window = make_window(qtbot, library_copy, tmp_path)
    paper_id = row_of_title(window, "Galaxy rotation")
    editor = window.detail_panel.notes_editor
    with qtbot.waitSignal(editor.notes_loaded, timeout=10000):
        window.session.select_paper(paper_id)
    editor.editor.setFocus()
    with qtbot.waitSignal(editor.note_saved, timeout=10000):  # saved after a pause, no button pressed
        qtbot.keyClicks(editor.editor, "# Dark matter")
        qtbot.keyClick(editor.editor, Qt.Key.Key_Return)
        qtbot.keyClicks(editor.editor, "Flat curves imply halos.")
    with open_library(library_copy) as library:
        from scimult_desktop.services.library import notes

        assert [n.body for n in notes.list_notes(library, paper_id)] == ["# Dark matter\nFlat curves imply halos."]
    qtbot.keyClicks(editor.editor, " Typed just before closing.")
    window.close()  # before the pause: the window's close saves it
    assert window.ops.wait(30000)

    reopened = make_window(qtbot, library_copy, tmp_path)
    editor = reopened.detail_panel.notes_editor
    with qtbot.waitSignal(editor.notes_loaded, timeout=10000):
        reopened.session.select_paper(paper_id)
    assert editor.editor.toPlainText() == "# Dark matter\nFlat curves imply halos. Typed just before closing."
    assert editor.picker.currentText() == "Dark matter"
    editor.delete_note()
    qtbot.waitUntil(lambda: editor.notes == [] and editor.editor.toPlainText() == "", timeout=10000)
    reopened.undo_stack.undo()
    qtbot.waitUntil(lambda: len(editor.notes) == 1, timeout=10000)
    reopened.close()
    assert reopened.ops.wait(30000)


def test_status_indicator_shows_running_work_with_progress_and_cancel(window, qtbot):
    from scimult_desktop.domain.progress import ProgressEvent

    status = window.background_status
    qtbot.waitUntil(lambda: status.text() == f"Ready · {len(PAPERS)} papers", timeout=10000)

    def slow(library, ctx):
        ctx.progress(ProgressEvent("test", 5, 10))
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            ctx.cancel.raise_if_cancelled()
            time.sleep(0.02)

    window.ops.run_mutation(slow, changes=set(), name="testing the indicator")
    qtbot.waitUntil(lambda: status.text() == "Testing the indicator 50% (5/10)", timeout=10000)
    assert status.bar.isVisible() and status.bar.value() == 500
    menu = status.build_menu()
    cancel = [a for a in menu.actions() if a.text().startswith("Cancel: Testing the indicator")]
    assert cancel
    cancel[0].trigger()
    qtbot.waitUntil(lambda: status.text().startswith("Ready"), timeout=10000)
    assert not status.bar.isVisible()
