"""The About box's text: version, what the app does, model and engine, licence and documentation."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import QUrl

from scimult_desktop import __version__

LICENCE_URL = "https://www.gnu.org/licenses/agpl-3.0.html"
_SOURCE_ROOT = Path(__file__).resolve().parents[3]  # a source checkout: README.md, docs/, LICENSE live here


def _local_link(relative: str) -> str | None:
    path = _SOURCE_ROOT / relative
    return QUrl.fromLocalFile(str(path)).toString() if path.is_file() else None


def about_html(summary: dict, library_folder: str) -> str:
    """Rich text for `QMessageBox.about` (its links open in the desktop's browser or viewer)."""
    readme, guide, licence = _local_link("README.md"), _local_link("docs/gui.md"), _local_link("LICENSE")
    docs = [f"<a href='{readme}'>README</a>"] if readme else []
    docs += [f"<a href='{guide}'>desktop app guide</a>"] if guide else []
    documentation = (" · ".join(docs) if docs else "the project's README.md and docs/") + "; <code>scimult --help</code> lists every command."
    return (
        f"<h3>SciMult Desktop {html.escape(__version__)}</h3>"
        "<p>Offline search, related papers, citation suggestions and field classification "
        "with a task-aware encoder. Nothing leaves your machine.</p>"
        f"<p>Model: <b>{html.escape(str(summary.get('active') or 'none installed'))}</b><br>"
        f"Engine: <b>{html.escape(str(summary.get('engine') or '—'))}</b> on {html.escape(str(summary.get('device') or '—'))}<br>"
        f"Library: {html.escape(library_folder)}</p>"
        f"<p>Documentation: {documentation}</p>"
        "<p>Copyright the SciMult Desktop authors. Free software under the "
        f"<a href='{LICENCE_URL}'>GNU Affero General Public License v3.0</a> or later (AGPL-3.0-or-later)"
        f"{f', see <a href={chr(39)}{licence}{chr(39)}>LICENSE</a>' if licence else ''}: you may share and change it "
        "under its terms; it comes with ABSOLUTELY NO WARRANTY. Third-party licences: NOTICE.</p>"
    )
