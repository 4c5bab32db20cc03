"""SciMult Desktop: an offline companion to a researcher's reference manager.

The package root stays light on purpose: importing it must not pull in
SQLite adapters, ONNX Runtime, FAISS, PyMuPDF, torch or Qt.
"""

from __future__ import annotations

from scimult_desktop._version import __version__

__all__ = ["__version__"]
