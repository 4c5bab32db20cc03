"""Opening an attachment in the desktop's viewer, saying so when that cannot happen.

`QDesktopServices.openUrl` returns False when no application is registered for the file
type (common on minimal Linux installs); silently doing nothing reads as a broken button.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QWidget


def open_in_system_viewer(parent: QWidget, path: str) -> bool:
    """Open `path` with the system's default application; on failure tell the user why and where the file is."""
    file = Path(path)
    if not file.exists():
        QMessageBox.warning(parent, "Open attachment",
                            f"The file is missing: <br><code>{html.escape(path)}</code><br>"
                            "It was moved or deleted since it was imported; importing it again from its new place re-attaches it.")
        return False
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(file))):
        return True
    QMessageBox.warning(parent, "Open attachment",
                        f"No application is registered to open “{html.escape(file.name)}”. Install a viewer for "
                        f"{html.escape(file.suffix.lstrip('.').upper() or 'this')} files (for PDFs e.g. Evince or Okular; "
                        f"then <code>xdg-mime default</code> makes it the default), or open it yourself:<br>"
                        f"<code>{html.escape(str(file))}</code>")
    return False
