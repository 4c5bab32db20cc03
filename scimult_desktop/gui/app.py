"""Starting the GUI: QApplication, system dark/light palette, QSettings names, `main()`."""

from __future__ import annotations

import argparse
import sys

from PySide6.QtCore import QCoreApplication, QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from scimult_desktop import __version__
from scimult_desktop.gui import platform_check
from scimult_desktop.privacy import disable_telemetry
from scimult_desktop.services.library import preferences

ORGANIZATION = "SciMult"
APPLICATION = "SciMult Desktop"


def dark_palette() -> QPalette:
    """A Fusion palette for dark system schemes (Fusion's default palette is light)."""
    palette = QPalette()
    window, base, text = QColor(45, 45, 48), QColor(30, 30, 32), QColor(225, 225, 225)
    for role, colour in (
        (QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text), (QPalette.ColorRole.Base, base),
        (QPalette.ColorRole.AlternateBase, QColor(40, 40, 43)), (QPalette.ColorRole.ToolTipBase, window),
        (QPalette.ColorRole.ToolTipText, text), (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, window),
        (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.Link, QColor(100, 160, 240)),
        (QPalette.ColorRole.Highlight, QColor(52, 110, 190)), (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
        (QPalette.ColorRole.PlaceholderText, QColor(140, 140, 140)),
    ):
        palette.setColor(role, colour)
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(120, 120, 120))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(120, 120, 120))
    return palette


def follow_system_scheme(app: QApplication) -> None:
    """Use the system's dark or light scheme now and whenever it changes."""

    def apply(scheme: Qt.ColorScheme) -> None:
        app.setPalette(dark_palette() if scheme == Qt.ColorScheme.Dark else app.style().standardPalette())

    hints = QGuiApplication.styleHints()
    apply(hints.colorScheme())
    hints.colorSchemeChanged.connect(apply)


def create_application(argv: list[str] | None = None) -> QApplication:
    """The QApplication (reused when one exists), named so QSettings finds our layout."""
    QCoreApplication.setOrganizationName(ORGANIZATION)
    QCoreApplication.setApplicationName(APPLICATION)
    QCoreApplication.setApplicationVersion(__version__)
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv[:1])
    app.setStyle("Fusion")  # the same look everywhere; the palette still follows the system
    follow_system_scheme(app)
    return app


def create_window(folder: str | None = None, *, model: str | None = None, engine: str | None = None, settings: QSettings | None = None):
    """A `MainWindow` over `folder` (default: the saved library folder), not yet shown or started."""
    from scimult_desktop.gui.main_window import MainWindow
    from scimult_desktop.gui.session import Session

    session = Session(preferences.library_folder(folder), model=model, engine=engine)
    return MainWindow(session, settings=settings)


def main(argv: list[str] | None = None) -> int:
    """`scimult-desktop [--library DIR] [--demo] [--model NAME] [--engine E]`."""
    disable_telemetry()  # first: the window's background work loads the inference libraries
    parser = argparse.ArgumentParser(prog="scimult-desktop", description="SciMult Desktop, the window.")
    parser.add_argument("--library", help="library folder (default: $SCIMULT_LIBRARY or the one in Settings)")
    parser.add_argument("--demo", action="store_true", help="import the demo library when the library is empty")
    parser.add_argument("--model", help="installed model to use (default: the active model)")
    parser.add_argument("--engine", choices=list(preferences.ENGINES), help="inference engine (default: settings)")
    parser.add_argument("--self-test", action="store_true",
                        help="open the window, import the demo library if empty, index, search once, print JSON, exit")
    parser.add_argument("--self-test-library", metavar="DIR", help="library for --self-test (default: a temporary one)")
    parser.add_argument("--quit-after", type=float, metavar="SECONDS", help=argparse.SUPPRESS)  # smoke tests
    args = parser.parse_args(argv)
    missing = platform_check.missing_platform_packages()
    if missing:  # Qt would abort the process with a misleading message
        print(platform_check.problem_line(missing), file=sys.stderr)
        return 1
    app = create_application()
    if args.self_test:
        from scimult_desktop.gui.self_test import run_self_test

        return run_self_test(app, args.self_test_library or args.library)
    window = create_window(args.library, model=args.model, engine=args.engine)
    window.show()
    window.start(demo_if_empty=args.demo)
    if args.quit_after is not None:
        from PySide6.QtCore import QTimer

        QTimer.singleShot(int(args.quit_after * 1000), window.close)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
