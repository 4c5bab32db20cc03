"""Screenshots of the views changed by the fixes of issue 20's defects, at 1024x700, into docs/screenshots/.

Usage (a real X server, so the xcb platform is the one shown):
    xvfb-run -s "-screen 0 1280x800x24" python tools/screenshot_defect_fixes.py [--library LIB] [--out docs/screenshots]

Without --library the demo library (300 SciFact abstracts) is imported and indexed into a
temporary folder with the active model. Views: the bulk-tagging confirmation, search falling
back to keywords, a cancelled import offering to index, the
Settings engine warning, the About box.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from screenshot_support import close_window, open_window, save, wait_until

SIZE = (1024, 700)


def build_demo_library(folder: Path) -> None:
    from scimult_desktop.services.library import browsing
    from scimult_desktop.services.library.facade import Library

    with Library.open(folder) as library:
        library.import_paths([browsing.demo_source()])
        library.index()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--library", help="an imported and indexed library (copied first)")
    parser.add_argument("--out", default="docs/screenshots")
    args = parser.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    from PySide6.QtWidgets import QDialog, QMessageBox

    from scimult_desktop.gui.app import create_application
    from scimult_desktop.gui.dialogs import bulk_tag_dialog
    from scimult_desktop.gui.dialogs.about_text import about_html
    from scimult_desktop.gui.dialogs.settings_dialog import SettingsDialog
    from scimult_desktop.embedding import engines
    from tests.bibgen import synthetic_bib

    app = create_application([])
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        library = work / "library"
        if args.library:
            shutil.copytree(args.library, library)
        else:
            build_demo_library(library)
        window = open_window(app, library, work, size=SIZE)

        # 1. Fields: the bulk-tagging confirmation over the real classifier's confidences.
        shown = []
        window.fields_panel.map_shown.connect(shown.append)
        window.show_tab(window.fields_panel)
        wait_until(app, lambda: bool(shown), what="classification")
        dialogs = []
        bulk_tag_dialog.BulkTagDialog.exec = lambda dialog: dialogs.append(dialog) or QDialog.DialogCode.Rejected
        window.fields_panel.accept_top_for_all()
        dialog = dialogs[0]
        dialog.show()
        wait_until(app, dialog.isVisible, what="the bulk-tag dialog")
        save(window, out, "fields-1024x700")
        save(dialog, out, "bulk-tag-confirmation")
        dialog.close()

        # 2. Search: the engine cannot run, so hybrid answers with keywords and says so.
        engines.cuda_available = lambda: False
        window.session.engine = "onnxruntime-cuda"
        panel = window.search_panel
        window.show_tab(panel)
        results = []
        panel.results_shown.connect(lambda query, n: results.append(n))
        panel.query_edit.setText("vitamin D and bone fractures")
        panel.search_now()
        wait_until(app, lambda: bool(results), what="search results")
        save(window, out, "search-keyword-fallback-1024x700")
        window.session.engine = None

        # 3. Settings: the engine warning.
        settings_dialog = SettingsDialog(window.ops, window)
        settings_dialog.engine.setCurrentIndex(settings_dialog.engine.findData("onnxruntime-cuda"))
        settings_dialog.show()
        wait_until(app, settings_dialog.engine_warning.isVisible, what="the engine warning")
        save(settings_dialog, out, "settings-engine-warning")
        settings_dialog.close()

        # 4. Import: cancelled part-way, with the offer to index what was stored.
        many = work / "many"
        many.mkdir()
        for part in range(40):
            (many / f"part{part:02d}.bib").write_text(synthetic_bib(50, start=part * 50), encoding="utf-8")
        importer = window.import_panel
        window.show_tab(importer)
        importer.import_paths([str(many)])
        wait_until(app, lambda: len(importer.files.rows) >= 4, what="import progress")
        importer.import_progress.cancel()
        wait_until(app, importer.index_now_button.isVisible, what="the offer to index")
        save(window, out, "import-cancelled-1024x700")

        # 5. About: licence and documentation.
        about = QMessageBox(QMessageBox.Icon.NoIcon, "About SciMult Desktop",
                            about_html({"active": "minilm-scimult-moe", "engine": "onnxruntime-cpu", "device": "CPU"},
                                       str(library)), parent=window)
        about.show()
        wait_until(app, about.isVisible, what="the About box")
        save(about, out, "about")
        about.close()

        close_window(window)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.bibgen
    sys.exit(main())
