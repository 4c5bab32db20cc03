"""`scimult-desktop --self-test`: a deterministic end-to-end check of an installed or packaged app.

Shows the window (offscreen works), imports the demo library into the library when it is
empty, waits for the import and the automatic indexing, runs one search through the search
panel, prints one JSON line `{"papers", "results", "model", "seconds"}` and returns 0.
Any failure or the timeout prints one line on stderr and returns 1.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time

SELF_TEST_QUERY = "vitamin D supplementation and fractures"


class SelfTestFailed(Exception):
    pass


def _wait(app, predicate, deadline: float, what: str) -> None:
    while not predicate():
        if time.monotonic() > deadline:
            raise SelfTestFailed(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.005)


def run_self_test(app, library: str | None, *, timeout: float = 1800.0) -> int:
    """Run the check on `library` (a temporary folder when None); returns the exit code."""
    from PySide6.QtCore import QSettings

    from scimult_desktop.gui.app import create_window
    from scimult_desktop.privacy import disable_telemetry

    disable_telemetry()  # also when called directly, not through `scimult-desktop --self-test`

    started = time.monotonic()
    deadline = started + timeout
    with tempfile.TemporaryDirectory(prefix="scimult-self-test-") as tmp:
        settings = QSettings(f"{tmp}/layout.ini", QSettings.Format.IniFormat)
        window = create_window(library or f"{tmp}/library", settings=settings)
        try:
            window.show()
            loaded, failures = [], []
            window.library_panel.rows_loaded.connect(loaded.append)
            window.start()
            _wait(app, lambda: loaded, deadline, "the library to load")
            panel = window.import_panel
            if loaded[0] == 0:
                imported, indexed = [], []
                panel.import_finished.connect(imported.append)
                panel.index_finished.connect(indexed.append)
                window.open_demo_library()
                _wait(app, lambda: imported or "failed" in panel.import_progress.label.text(), deadline, "the demo import")
                if not imported:
                    raise SelfTestFailed(panel.import_progress.label.text())
                _wait(app, lambda: indexed or "failed" in panel.index_progress.label.text(), deadline, "indexing")
                if not indexed:
                    raise SelfTestFailed(panel.index_progress.label.text())
            _wait(app, lambda: not window.ops.busy(), deadline, "background work to finish")
            results = []
            search = window.search_panel
            search.results_shown.connect(lambda query, n: results.append(n))
            window.show_tab(search)
            search.query_edit.setText(SELF_TEST_QUERY)
            search.search_now()
            _wait(app, lambda: results or search.status.text().startswith(("error", "no ")) and not window.ops.busy(),
                  deadline, "search results")
            if not results or results[0] == 0:
                raise SelfTestFailed(f"the search returned nothing: {search.status.text()}")
            papers = window.library_panel.model.rowCount()
            print(json.dumps({"papers": papers, "results": results[0], "model": window.status_model.text().removeprefix("Model: "),
                              "seconds": round(time.monotonic() - started, 1)}))
            return 0
        except SelfTestFailed as exc:
            print(f"error: self-test failed: {exc}", file=sys.stderr)
            return 1
        finally:
            window.close()
