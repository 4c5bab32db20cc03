"""The application API: the only layer the CLI and the GUI call.

Entry point: `open_library(path)` returns a `Library`. Imports here stay light.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library


def open_library(path: str | None = None, *, create: bool = True) -> "Library":
    """Open (creating if needed) the library at `path` (see `config.library_dir`)."""
    from scimult_desktop.services.library.facade import Library

    return Library.open(path, create=create)
