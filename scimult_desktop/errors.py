"""Error hierarchy shared by every layer.

Front ends show `ScimultError` messages as one clear line; anything else is a bug
and keeps its traceback.
"""

from __future__ import annotations


class ScimultError(Exception):
    """An expected failure whose message is fit to show the user as is."""


class LibraryError(ScimultError):
    """The library folder or its database cannot be used."""


class PaperNotFound(ScimultError):
    """No paper matches the id, citation key or DOI that was given."""


class ImportFailed(ScimultError):
    """One source (file or entry) could not be imported; the message names it."""


class ModelError(ScimultError):
    """A model file or bundle is missing, invalid or incompatible."""


class Cancelled(ScimultError):
    """Long work stopped because the user asked it to."""

    def __init__(self) -> None:
        super().__init__("cancelled")
