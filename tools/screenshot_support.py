"""What every screenshot tool shares: the main window over a library with its own layout file,
waiting for the GUI to reach a state, and saving what it shows."""

from __future__ import annotations

import time
from pathlib import Path


def settle(app, rounds: int = 30) -> None:
    """Let layouts and repaints finish before a picture is taken."""
    for _ in range(rounds):
        app.processEvents()
        time.sleep(0.01)


def wait_until(app, predicate, timeout: float = 300.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.01)
    settle(app)


def open_window(app, library: Path, work: Path, size: tuple[int, int] | None = None):
    """The main window over `library`, shown at the screen's top-left and started, once its first rows are loaded.

    Its layout is kept in `work`, so a screenshot run never reads or changes the user's saved layout.
    """
    from PySide6.QtCore import QSettings

    from scimult_desktop.gui.app import create_window

    window = create_window(str(library), settings=QSettings(str(work / "layout.ini"), QSettings.Format.IniFormat))
    window.move(0, 0)
    if size is not None:
        window.resize(*size)
    window.show()
    loaded = []
    window.library_panel.rows_loaded.connect(loaded.append)
    window.start()
    wait_until(app, lambda: loaded, what="library rows")
    return window


def close_window(window) -> None:
    window.close()
    window.ops.wait(60000)


def search_and_show_first_hit(app, window, query: str) -> None:
    """Type `query` into the Search page and open the first hit's details, as a user would."""
    panel = window.search_panel
    results, shown = [], []
    panel.results_shown.connect(lambda q, n: results.append(n))
    window.detail_panel.details_shown.connect(shown.append)
    window.show_tab(panel)
    panel.query_edit.setText(query)
    wait_until(app, lambda: results, what="search results")
    panel.view.setCurrentIndex(panel.results.index(0))
    wait_until(app, lambda: shown, what="details of the first hit")


def save(widget, out: Path, name: str) -> Path:
    """The widget as it renders itself (no window frame, no menus over it)."""
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    print(f"saved {path}")
    return path


def grab_screen(app, window, out: Path, name: str) -> Path:
    """The screen area of the window (menus and dialogs over it included), as a user sees it."""
    settle(app)
    frame = window.frameGeometry()
    pixmap = app.primaryScreen().grabWindow(0, frame.x(), frame.y(), frame.width(), frame.height())
    path = out / f"{name}.png"
    pixmap.save(str(path))
    print(f"saved {path}")
    return path
