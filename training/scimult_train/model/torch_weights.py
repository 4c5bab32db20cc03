"""The torch weights every exported bundle carries, so training can continue from any bundle.

Layout inside a bundle folder (the app ignores it; it reads only the ONNX graphs):

    torch/encoder_config.json    EncoderConfig as JSON
    torch/model.safetensors      TaskAwareEncoder.state_dict() (our own key names)

Files are written to a temporary name, fsynced and renamed, so a half-written file never
looks complete.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from scimult_desktop.errors import ModelError
from scimult_train.model.config import EncoderConfig
from scimult_train.model.encoder import TaskAwareEncoder

TORCH_DIR = "torch"
WEIGHTS_NAME = "model.safetensors"
CONFIG_NAME = "encoder_config.json"


def save_torch_weights(model: TaskAwareEncoder, bundle_dir: Path, dtype: torch.dtype = torch.float32) -> Path:
    """Write `bundle_dir/torch/{model.safetensors, encoder_config.json}`; returns the torch folder.

    Args:
        model: the encoder to save.
        bundle_dir: the bundle folder (the `torch/` subfolder is created).
        dtype: storage precision of floating-point tensors (float16 halves the size).
    """
    from safetensors.torch import save_file

    folder = Path(bundle_dir) / TORCH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    state = {
        name: (t.detach().to(dtype) if t.is_floating_point() else t.detach()).cpu().contiguous().clone()
        for name, t in model.state_dict().items()
    }
    tmp = folder / (WEIGHTS_NAME + ".tmp")
    save_file(state, str(tmp), metadata={"format": "pt", "dtype": str(dtype).removeprefix("torch.")})
    _fsync_and_rename(tmp, folder / WEIGHTS_NAME)
    tmp = folder / (CONFIG_NAME + ".tmp")
    model.cfg.save(tmp)
    _fsync_and_rename(tmp, folder / CONFIG_NAME)
    return folder


def has_torch_weights(bundle_dir: Path) -> bool:
    folder = Path(bundle_dir) / TORCH_DIR
    return (folder / WEIGHTS_NAME).is_file() and (folder / CONFIG_NAME).is_file()


def load_torch_weights(bundle_dir: Path) -> TaskAwareEncoder:
    """The encoder stored in a bundle's `torch/` folder, in float32 and train mode.

    Raises:
        ModelError: the folder has no torch weights, or they do not fit the stored config.
    """
    from safetensors.torch import load_file

    folder = Path(bundle_dir) / TORCH_DIR
    if not has_torch_weights(bundle_dir):
        raise ModelError(
            f"{bundle_dir}: this bundle carries no torch weights ({TORCH_DIR}/{WEIGHTS_NAME} and "
            f"{TORCH_DIR}/{CONFIG_NAME}); re-export it with scimult_train to continue training from it"
        )
    try:
        cfg = EncoderConfig.load(folder / CONFIG_NAME)
    except (ValueError, TypeError) as exc:
        raise ModelError(f"{folder / CONFIG_NAME}: invalid encoder config ({exc})") from exc
    model = TaskAwareEncoder(cfg)
    state = load_file(str(folder / WEIGHTS_NAME))
    state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        first = str(exc).strip().splitlines()[0]
        raise ModelError(f"{folder / WEIGHTS_NAME}: weights do not match {CONFIG_NAME} ({first})") from exc
    return model


def _fsync_and_rename(tmp: Path, final: Path) -> None:
    from scimult_train.checkpoint import fsync_file

    fsync_file(tmp)
    os.chmod(tmp, 0o644)  # safetensors writes owner-only files; bundles are shared read-only
    os.replace(tmp, final)
