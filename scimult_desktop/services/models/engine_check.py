"""Whether an inference engine setting can run on this machine, asked before it is saved."""

from __future__ import annotations

from scimult_desktop.embedding import engines
from scimult_desktop.errors import ModelError


def engine_problem(engine: str) -> str | None:
    """Why `engine` cannot run here (e.g. CUDA without onnxruntime-gpu or a GPU), or None when it can."""
    try:
        engines.resolve_engine(engine)
    except ModelError as exc:
        return str(exc)
    return None
