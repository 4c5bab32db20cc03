"""Model bundles: install, list, choose, build the default, and load an encoder.

Bundles live in `config.models_dir()/NAME` and are shared by every library;
read-only bundled models (`config.bundled_models_dirs()`: a packaged app's
`models/` folder, a model wheel) are listed too, after installed ones of the
same name. `Settings.active_model` names the one in use. Installing always goes through a
temporary folder beside the target and one atomic rename, so a half-copied or
half-converted model never appears under its name.

Converting an official SciMult checkpoint and building the default model need
torch, so they run `python -m scimult_train...` in a subprocess: the app process
never imports torch, and a missing training package gives a clear error.

Example:
    >>> info = install("~/Downloads/scimult-moe-bundle")
    >>> use(info.name)
    >>> encoder = load_encoder()
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from scimult_desktop import config
from scimult_desktop.domain.progress import ProgressCallback, ProgressEvent
from scimult_desktop.embedding.bundle import (
    BundleManifest,
    read_manifest,
    regular_files,
    stored_fingerprint,
    verify_checksums,
    write_fingerprint,
    write_manifest,
)
from scimult_desktop.errors import ModelError
from scimult_desktop.services.models import tools

if TYPE_CHECKING:
    import numpy as np

    from scimult_desktop.embedding.encoder import Encoder

DEFAULT_MODEL_NAME = "minilm-scimult-moe"
TRAIN_INSTALL_HINT = "install the training package: pip install -e training  (scimult-train; brings torch)"
CHECKPOINT_SUFFIXES = {".ckpt", ".pt", ".pth", ".bin"}
_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$")
_encoders: dict[tuple, "Encoder"] = {}
_encoders_lock = threading.Lock()


@dataclass
class ModelInfo:
    """An installed model bundle. Its JSON form is the `scimult model list --json` contract."""

    name: str
    active: bool
    dim: int
    pooling: str
    similarity: str
    tasks: list[str]
    path: str
    source: dict = field(default_factory=dict)
    # Why this default should be rebuilt (built without / from other trained weights than ship), else None.
    outdated: str | None = None
    query_adapters: list[str] = field(default_factory=list)  # tasks whose queries a fine-tuning adapter changes

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "active": self.active,
            "dim": self.dim,
            "pooling": self.pooling,
            "similarity": self.similarity,
            "tasks": self.tasks,
            "path": self.path,
            "source": self.source,
            "outdated": self.outdated,
            "query_adapters": self.query_adapters,
        }


# ---- listing and choosing ---------------------------------------------------
def list_models() -> list[ModelInfo]:
    """Every valid installed or bundled model, sorted by name (broken folders are left out)."""
    active = active_model_name()
    return [_info(folder, manifest, folder.name == active) for folder, manifest in _installed()]


def active_model_name() -> str | None:
    """The model in use: the setting when that bundle is installed, else the first installed one."""
    installed = [folder.name for folder, _ in _installed()]
    wanted = config.Settings.load().active_model
    if wanted in installed:
        return wanted
    return installed[0] if installed else None


def use(name: str) -> ModelInfo:
    """Make `name` the active model (saved in the user settings).

    Raises:
        ModelError: no bundle of that name is installed.
    """
    folder, manifest = _bundle(name)
    settings = config.Settings.load()
    settings.active_model = name
    settings.save()
    return _info(folder, manifest, True)


def model_path(name: str | None = None) -> Path:
    """The folder of `name` (default: the active model). Raises `ModelError` when absent."""
    return _bundle(name or _require_active())[0]


def model_key(name: str | None = None) -> str:
    """How vectors of this model are keyed in a library: `NAME@<12 hex of the bundle fingerprint>`.

    A rebuilt or replaced bundle gets a new key, so stale vectors are never mixed in.
    """
    folder = model_path(name)
    return f"{folder.name}@{stored_fingerprint(folder)[:12]}"


# ---- encoders -----------------------------------------------------------------
def load_encoder(name: str | None = None, engine: str | None = None) -> "Encoder":
    """The encoder of `name` (default: the active model, built first if none is installed).

    Args:
        name: an installed model name.
        engine: "auto", "onnxruntime-cpu", "onnxruntime-cuda" or "openvino"
            (default: `Settings.engine`).

    Encoders are cached per bundle version and engine: graph sessions load once per process.
    """
    from scimult_desktop.embedding.onnx_encoder import OnnxEncoder

    name = name or ensure_model()
    folder, manifest = _bundle(name)
    engine = engine or config.Settings.load().engine or "auto"
    key = (str(folder), stored_fingerprint(folder), engine)
    with _encoders_lock:
        encoder = _encoders.get(key)
        if encoder is None:
            encoder = OnnxEncoder(folder, engine=engine, manifest=manifest)
            _encoders[key] = encoder
    return encoder


def embed_texts(
    texts: list[str], task: str, *, role: str = "document", model: str | None = None, engine: str | None = None
) -> "np.ndarray":
    """Embed `texts` with `task`'s expert of `model` (default: active): float32 (n, dim)."""
    from scimult_desktop.domain.tasks import Role

    return load_encoder(model, engine).encode(texts, task, Role(role))


def ensure_model(progress: ProgressCallback | None = None) -> str:
    """The active model's name; on first use with none installed, build the default model.

    Raises:
        ModelError: nothing is installed and the training package is not available to build one.
    """
    name = active_model_name()
    if name:
        return name
    if not training_available():
        raise ModelError(
            "no model installed: run `scimult model build-default` (needs the training package; "
            f"{TRAIN_INSTALL_HINT}) or `scimult model install BUNDLE_DIR`"
        )
    return build_default(progress=progress).name


# ---- installing -------------------------------------------------------------
def install(
    path: str | os.PathLike,
    *,
    vocab: str | os.PathLike | None = None,
    name: str | None = None,
    progress: ProgressCallback | None = None,
) -> ModelInfo:
    """Install a model bundle folder, or convert and install an official SciMult checkpoint.

    Args:
        path: a bundle folder (with bundle.json) or an official `.ckpt` file.
        vocab: the BiomedBERT vocab.txt a checkpoint needs (ignored for bundles).
        name: the name to install under (default: the manifest's name / the file's stem).

    Returns:
        The installed model. It becomes active when no other model was active.

    Raises:
        ModelError: the file is not a usable bundle or checkpoint (the message names it),
            the name is taken, or conversion needs the training package.
    """
    source = Path(path).expanduser()
    if not source.exists():
        raise ModelError(f"{source}: no such file or folder")
    if source.is_dir():
        return _install_folder(source, name, move=False)
    if source.suffix.lower() == ".onnx":
        raise ModelError(f"{source}: a single ONNX file is not a model bundle; install the bundle folder that contains bundle.json")
    if source.suffix.lower() in CHECKPOINT_SUFFIXES or _looks_like_torch_file(source):
        return _install_checkpoint(source, vocab, name, progress)
    raise ModelError(f"{source}: not a model bundle folder or an official SciMult checkpoint (.ckpt)")


def build_default(*, force: bool = False, progress: ProgressCallback | None = None) -> ModelInfo:
    """Build the default model locally (from the bundled all-MiniLM-L6-v2 weights) and install it.

    Runs `python -m scimult_train.build_default --out TMP` in a subprocess; nothing is downloaded.
    An already installed default is returned as is unless `force`, or unless it is outdated
    (`default_freshness`: built without the trained weights this version ships), which is rebuilt.

    Raises:
        ModelError: the training package is missing or the build failed.
    """
    if not training_available():
        raise ModelError(f"building the default model needs the training package: {TRAIN_INSTALL_HINT}")
    root = _models_root()
    existing = root / DEFAULT_MODEL_NAME
    info = _info(existing, read_manifest(existing), False) if existing.is_dir() and not force else None
    if info is None or info.outdated is not None:
        with tempfile.TemporaryDirectory(dir=root, prefix=".building-") as work:
            out = Path(work) / "bundle"
            _emit(progress, "rebuilding the outdated default model" if info else "building default model")
            _run_training_tool(
                ["scimult_train.build_default", "--out", str(out), "--name", DEFAULT_MODEL_NAME], "building the default model", work
            )
            info = _install_folder(out, DEFAULT_MODEL_NAME, move=True, replace=existing.is_dir())
    if active_model_name() in (None, info.name):
        return use(info.name)
    return info


def rebuild_outdated_default(progress: ProgressCallback | None = None) -> ModelInfo | None:
    """Rebuild the default model if it is installed and outdated (`make run` does this before the
    demo); None when there is nothing to rebuild. Never trains: it applies the shipped weights."""
    if outdated_default() is None:
        return None
    return build_default(progress=progress)


def outdated_default() -> str | None:
    """Why the default model the app would use should be rebuilt (`default_freshness`), or None
    when it is current or not installed."""
    from scimult_desktop.services.models import default_freshness

    try:
        folder, manifest = _bundle(DEFAULT_MODEL_NAME)
    except ModelError:
        return None
    return default_freshness.outdated_reason(folder.name, manifest.source)


def training_available() -> bool:
    """Whether `scimult_train` and torch can run in this Python (checked without importing them)."""
    return importlib.util.find_spec("scimult_train") is not None and importlib.util.find_spec("torch") is not None


# ---- internals --------------------------------------------------------------
def _install_checkpoint(ckpt: Path, vocab, name: str | None, progress: ProgressCallback | None) -> ModelInfo:
    if vocab is None:
        raise ModelError(f"{ckpt}: converting an official checkpoint needs --vocab (the BiomedBERT vocab.txt)")
    ckpt, vocab = ckpt.absolute(), Path(vocab).expanduser().absolute()  # the converter runs in another folder
    if not vocab.is_file():
        raise ModelError(f"{vocab}: vocabulary file not found")
    if not training_available():
        raise ModelError(f"{ckpt}: converting a checkpoint needs the training package: {TRAIN_INSTALL_HINT}")
    name = _check_name(name or ckpt.stem.replace("_", "-"))
    root = _models_root()
    with tempfile.TemporaryDirectory(dir=root, prefix=".converting-") as work:
        out = Path(work) / "bundle"
        _emit(progress, f"converting {ckpt.name}")
        _run_training_tool(
            ["scimult_train.convert_official", str(ckpt), "--vocab", str(vocab), "--out", str(out), "--name", name],
            f"{ckpt}: conversion",
            work,
        )
        return _install_folder(out, name, move=True)


def _install_folder(source: Path, name: str | None, *, move: bool, replace: bool = False) -> ModelInfo:
    manifest = read_manifest(source)
    regular_files(source)  # links and pipes are refused before anything is copied
    name = _check_name(name or manifest.name)
    root = _models_root()
    target = root / name
    if target.exists() and not replace:
        raise ModelError(f"a model named {name!r} is already installed ({target}); choose another name with --name")
    staging = Path(tempfile.mkdtemp(dir=root, prefix=f".installing-{name}-"))
    try:
        staging.rmdir()
        if move:
            shutil.move(str(source), staging)
        else:
            # symlinks=True: a link swapped in after the check is copied as a link, never
            # followed, and refused below
            shutil.copytree(source, staging, symlinks=True)
        # What is checked from here on is the copy that gets installed.
        manifest = read_manifest(staging)
        checksums = verify_checksums(staging, manifest, shown_as=source)
        if manifest.name != name or manifest.export.get("checksums") != checksums:
            # Bundles from before checksums were written get them recorded now.
            manifest.name = name
            manifest.export = dict(manifest.export, checksums=checksums)
            write_manifest(staging, manifest)
        _check_loads(staging, manifest)
        write_fingerprint(staging)
        if target.exists():
            old = target.with_name(f".replaced-{name}-{os.getpid()}")
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)  # atomic: the model appears complete or not at all
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if config.Settings.load().active_model is None:
        use(name)
    return _info(target, manifest, active_model_name() == name)


def _check_loads(folder: Path, manifest: BundleManifest) -> None:
    """Load the tokenizer and every graph on the CPU and encode a probe text per task."""
    from scimult_desktop.embedding.onnx_encoder import OnnxEncoder

    encoder = OnnxEncoder(folder, engine="onnxruntime-cpu", manifest=manifest, threads=1)
    for task in manifest.tasks:
        vector = encoder.encode(["SciMult [SEP] probe text"], task)
        if vector.shape != (1, manifest.dim):
            raise ModelError(f"{folder}: task {task!r} returns vectors of shape {vector.shape[1:]}, manifest says dim {manifest.dim}")


def training_tool_env(**extra: str) -> dict[str, str]:
    """Environment for a `python -m scimult_train...` subprocess: telemetry off (ONNX Runtime,
    which export verifies with) and the Hugging Face libraries, should anything load them,
    offline instead of trying the hub."""
    from scimult_desktop.privacy import TELEMETRY_OFF_ENV

    return {**os.environ, **TELEMETRY_OFF_ENV, **extra}


def _run_training_tool(args: list[str], what: str, cwd: str | os.PathLike) -> None:
    """`python -P -m ARGS` in `cwd` (see `tools`: no code from the folder the app was started in)."""
    result = tools.run(tools.module_command(*args), env=training_tool_env(), cwd=cwd, capture_output=True, text=True)
    if result.returncode != 0:
        lines = [line for line in (result.stderr or result.stdout).strip().splitlines() if line.strip()]
        detail = lines[-1].removeprefix("error: ") if lines else f"exit code {result.returncode}"
        raise ModelError(f"{what} failed: {detail}")


def _model_roots() -> list[Path]:
    """Where bundles are looked up: the user's models folder first, so an installed
    model wins over a read-only bundled one of the same name."""
    return [config.models_dir(), *config.bundled_models_dirs()]


def _installed() -> list[tuple[Path, BundleManifest]]:
    found: dict[str, tuple[Path, BundleManifest]] = {}
    for root in _model_roots():
        if not root.is_dir():
            continue
        for folder in sorted(root.iterdir()):
            if folder.name.startswith(".") or not folder.is_dir() or folder.name in found:
                continue
            try:
                found[folder.name] = (folder, read_manifest(folder))
            except ModelError:
                continue  # a broken folder must not hide the others
    return [found[name] for name in sorted(found)]


def _bundle(name: str) -> tuple[Path, BundleManifest]:
    for root in _model_roots():
        folder = root / name
        if folder.is_dir():
            return folder, read_manifest(folder)
    names = ", ".join(f.name for f, _ in _installed()) or "none"
    raise ModelError(f"no model named {name!r} is installed (installed: {names})")


def _require_active() -> str:
    name = active_model_name()
    if not name:
        raise ModelError("no model installed: run `scimult model build-default` or `scimult model install BUNDLE_DIR`")
    return name


def _info(folder: Path, manifest: BundleManifest, active: bool) -> ModelInfo:
    from scimult_desktop.services.models import default_freshness

    return ModelInfo(
        name=folder.name,
        active=active,
        dim=int(manifest.dim),
        pooling=manifest.pooling,
        similarity=manifest.similarity,
        tasks=sorted(manifest.tasks),
        path=str(folder),
        source=dict(manifest.source),
        outdated=default_freshness.outdated_reason(folder.name, manifest.source),
        query_adapters=sorted(task for task, graph in manifest.tasks.items() if graph.query_adapter),
    )


def _models_root() -> Path:
    root = config.models_dir().absolute()  # paths under it are handed to tools running in other folders
    config.make_private_dir(root)
    return root


def _check_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise ModelError(f"invalid model name {name!r}: use letters, digits, '.', '_' or '-' (max 80)")
    return name


def _looks_like_torch_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(4)
    except OSError:
        return False
    return head.startswith(b"PK\x03\x04") or head[:1] == b"\x80"  # torch zip archive / raw pickle


def _emit(progress: ProgressCallback | None, stage: str) -> None:
    if progress is not None:
        progress(ProgressEvent(stage, 0, None))
