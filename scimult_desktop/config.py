"""Where things live: the library folder, model bundles, user settings.

Resolution order for the library: `--library DIR`, else `$SCIMULT_LIBRARY`, else
the platform's user-data folder (platformdirs). Model bundles are shared by all
libraries of a user: `$SCIMULT_MODELS_DIR`, else `<user data>/models`.
Read-only bundled models (shipped with a packaged app or a model wheel) are found
by `bundled_models_dirs()`; an installed model of the same name wins.
Settings are a small JSON file: `$SCIMULT_CONFIG_DIR`, else the platform's
user-config folder.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

APP_NAME = "scimult-desktop"
SETTINGS_SCHEMA_VERSION = 1


def _user_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def _user_config_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


def library_dir(explicit: str | os.PathLike | None = None) -> Path:
    if explicit:
        return Path(explicit).expanduser()
    env = os.environ.get("SCIMULT_LIBRARY")
    if env:
        return Path(env).expanduser()
    return _user_data_dir() / "library"


def models_dir() -> Path:
    env = os.environ.get("SCIMULT_MODELS_DIR")
    # absolute: paths under it are handed to training tools that run in another folder
    return Path(env).expanduser().absolute() if env else _user_data_dir() / "models"


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600


def make_private_dir(folder: str | os.PathLike) -> Path:
    """Create `folder` and any missing parents readable by the user alone (0700).

    Libraries, models and settings are the user's own; other accounts on the machine must not
    read them. Folders that already exist keep their permissions: the user may have chosen them.
    """
    folder = Path(folder)
    missing = []
    for candidate in (folder, *folder.parents):
        if candidate.exists():
            break
        missing.append(candidate)
    for candidate in reversed(missing):
        try:
            candidate.mkdir(mode=PRIVATE_DIR_MODE)
        except FileExistsError:
            pass  # another process made it first
        else:
            os.chmod(candidate, PRIVATE_DIR_MODE)  # mkdir's mode is masked by the umask; 0700 is the intent
    if not folder.is_dir():
        raise NotADirectoryError(f"{folder}: not a folder")
    return folder


BUNDLED_MODELS_ENV = "SCIMULT_BUNDLED_MODELS"
BUNDLED_MODELS_ENTRY_POINTS = "scimult_desktop.models"


def bundled_models_dirs() -> list[Path]:
    """Read-only folders of model bundles shipped with the app, in search order.

    `$SCIMULT_BUNDLED_MODELS` (folders separated by `os.pathsep`); `models/` beside
    the executable of a frozen (PyInstaller) app; then the folder each
    `scimult_desktop.models` entry point returns (a model wheel such as
    scimult-desktop-model). Missing folders are left out.
    """
    candidates = [Path(p).expanduser() for p in os.environ.get(BUNDLED_MODELS_ENV, "").split(os.pathsep) if p]
    if getattr(sys, "frozen", False):
        candidates.append(Path(sys.executable).resolve().parent / "models")
    candidates.extend(_entry_point_models_dirs())
    return [folder for folder in candidates if folder.is_dir()]


@functools.lru_cache(maxsize=1)  # scanning installed distributions costs ~15 ms; they do not change while we run
def _entry_point_models_dirs() -> tuple[Path, ...]:
    from importlib.metadata import entry_points

    folders = []
    for entry in entry_points(group=BUNDLED_MODELS_ENTRY_POINTS):
        try:
            folders.append(Path(entry.load()()))
        except Exception:  # noqa: BLE001 - a broken model package must not stop the app
            continue
    return tuple(folders)


def config_dir() -> Path:
    env = os.environ.get("SCIMULT_CONFIG_DIR")
    return Path(env).expanduser() if env else _user_config_dir()


@dataclass
class Settings:
    """User settings. Unknown keys in the file are kept out; missing ones take defaults."""

    schema_version: int = SETTINGS_SCHEMA_VERSION
    active_model: str | None = None  # a bundle name under models_dir()
    engine: str = "auto"  # auto | onnxruntime-cpu | onnxruntime-cuda | openvino
    extra: dict = field(default_factory=dict)

    @classmethod
    def load(cls) -> "Settings":
        path = config_dir() / "settings.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            return cls()
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self) -> None:
        folder = make_private_dir(config_dir())
        # Write then rename: a crash mid-write never leaves a truncated settings file.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".settings-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2)
        os.replace(tmp, folder / "settings.json")
