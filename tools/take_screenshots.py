"""Save a screenshot of each main view of the GUI into docs/screenshots/ (offscreen, widget.grab()).

Usage:
    QT_QPA_PLATFORM=offscreen python tools/take_screenshots.py --library LIB [--out docs/screenshots]

LIB should be an imported and indexed library (e.g. the demo library after `make run`);
it is copied to a temporary folder first, so the screenshots never change it.
Uses the active model (`$SCIMULT_MODELS_DIR`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from screenshot_support import close_window, open_window, save, search_and_show_first_hit, wait_until  # noqa: E402

DRAFT = (
    "Vitamin D supplementation has been proposed to prevent fractures in older adults. "
    "Several randomised trials found that high doses of vitamin D reduce the risk of hip fracture \\cite{nosuchkey2020}. "
    "In this paper we study how statins change bone density in women after menopause.\n"
)
WRITE_SIZES = ((1024, 700), (1280, 800))  # the smallest supported window and the default one
ASKED_SENTENCE = "In this paper"  # a sentence that makes no claim: only asking gives it suggestions
BROKEN_PDF = b"%PDF-1.4\n% this is not really a PDF: the importer must report it with the reason\n"
EXTRA_BIB = """@article{demo_extra,
  title = {Dense retrieval for scientific literature with task-aware experts},
  author = {Doe, Jane and Roe, Richard},
  year = {2024},
  journal = {Journal of Examples},
  abstract = {A short example abstract about retrieval of scientific papers.}
}
"""


def write_shots(app, window, out: Path) -> None:
    """Write & cite with the docks open at each of WRITE_SIZES: suggestions for the draft, for a
    sentence asked about with the cursor, and one suggestion marked good (with its Undo)."""
    panel = window.write_panel
    asked = []
    panel.sentence_suggested.connect(asked.append)
    cursor = panel.editor.textCursor()
    cursor.setPosition(panel.editor.toPlainText().index(ASKED_SENTENCE))
    panel.editor.setTextCursor(cursor)
    panel.ask_action.trigger()
    wait_until(app, lambda: asked, what="suggestions for the asked sentence")
    stored = []
    panel.feedback_recorded.connect(stored.append)
    panel.suggestion_rows()[0].good_button.click()
    wait_until(app, lambda: stored, what="feedback stored")
    for width, height in WRITE_SIZES:
        window.resize(width, height)
        window._default_dock_sizes()  # the docks as a first launch at this size opens them
        wait_until(app, lambda: True)
        save(window, out, f"write-{width}x{height}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", required=True, help="an imported, indexed library folder (copied, not changed)")
    parser.add_argument("--out", default=str(Path(__file__).resolve().parents[1] / "docs" / "screenshots"))
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from scimult_desktop.gui.app import create_application

    app = create_application([])
    work = Path(tempfile.mkdtemp(prefix="scimult-shots-"))
    try:
        library = work / "library"
        shutil.copytree(args.library, library)
        window = open_window(app, library, work, size=(1400, 860))
        wait_until(app, lambda: not window.ops.busy(), what="the start-up warm-up")  # as a user would, a moment later

        first = window.library_panel.model.row_record(0).id
        shown, related = [], []
        window.detail_panel.details_shown.connect(shown.append)
        window.related_panel.related_shown.connect(lambda pid, n: related.append(pid))
        window.library_panel.table.selectRow(0)
        wait_until(app, lambda: shown and related, what="details and related papers")
        save(window, out, "library")

        search_and_show_first_hit(app, window, "vitamin D supplementation and fractures")
        save(window, out, "search")

        suggested = []
        window.write_panel.suggestions_shown.connect(suggested.append)
        window.show_tab(window.write_panel)
        window.write_panel.format.setCurrentIndex(window.write_panel.format.findData("natbib-citep"))
        window.write_panel.editor.setPlainText(DRAFT)
        window.write_panel.analyse_now()
        wait_until(app, lambda: suggested, what="citation suggestions")
        save(window, out, "write-and-cite")
        write_shots(app, window, out)
        window.resize(1400, 860)

        mapped = []
        window.fields_panel.map_shown.connect(mapped.append)
        window.show_tab(window.fields_panel)  # classifies on first show
        wait_until(app, lambda: mapped, timeout=300, what="the field map")
        window.session.select_paper(first)
        wait_until(app, lambda: window.fields_panel.suggestions.count() > 0, what="suggested fields")
        save(window, out, "fields")

        drops = work / "drop"
        drops.mkdir()
        (drops / "extra.bib").write_text(EXTRA_BIB, encoding="utf-8")
        (drops / "broken.pdf").write_bytes(BROKEN_PDF)
        imported, indexed = [], []
        window.import_panel.import_finished.connect(imported.append)
        window.import_panel.index_finished.connect(indexed.append)
        window.show_tab(window.import_panel)
        window.import_panel.import_paths([str(drops)])
        wait_until(app, lambda: imported and indexed, timeout=300, what="import and indexing")
        save(window, out, "import")

        from scimult_desktop.gui.dialogs.model_dialog import ModelDialog
        from scimult_desktop.gui.dialogs.settings_dialog import SettingsDialog

        dialog = ModelDialog(window.ops, window)
        dialog.show()
        wait_until(app, lambda: dialog.summary is not None, what="model summary")
        save(dialog, out, "model")
        dialog.close()
        settings_dialog = SettingsDialog(window.ops, window)
        settings_dialog.show()
        wait_until(app, lambda: settings_dialog.model.count() > 1, what="model list in settings")
        save(settings_dialog, out, "settings")
        settings_dialog.close()
        close_window(window)

        empty = open_window(app, work / "empty-library", work, size=(1100, 700))
        save(empty, out, "first-launch")
        close_window(empty)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
