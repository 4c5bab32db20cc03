"""SciMult training side: the task-aware encoder, checkpoint loaders and ONNX bundle export.

Importable without Qt; `scimult_desktop` never imports this package. Heavy modules
(torch, onnx, onnxruntime) are imported by the submodules that need them, so
`import scimult_train` itself stays cheap.
"""

from __future__ import annotations

__version__ = "0.1.0"
