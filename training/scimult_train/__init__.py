"""SciMult training side: the task-aware encoder, checkpoint loaders and ONNX bundle export.

Importable without Qt; `scimult_desktop` never imports this package. Heavy modules
(torch, onnx, onnxruntime) are imported by the submodules that need them, so
`import scimult_train` itself stays cheap.
"""

from __future__ import annotations

from scimult_train._version import __version__  # symlink to scimult_desktop/_version.py

__all__ = ["__version__"]
