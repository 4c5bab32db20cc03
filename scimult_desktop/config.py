"""Where things live: the library folder, model bundles, user settings.

Resolution order for the library: `--library DIR`, else `$SCIMULT_LIBRARY`, else
the platform's user-data folder (platformdirs). Model bundles are shared by all
libraries of a user: `$SCIMULT_MODELS_DIR`, else `<user data>/models`.
Settings are a small JSON file: `$SCIMULT_CONFIG_DIR`, else the platform's
user-config folder.
"""

from __future__ import annotations

import json
import os
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
    return Path(env).expanduser() if env else _user_data_dir() / "models"


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
        folder = config_dir()
        folder.mkdir(parents=True, exist_ok=True)
        # Write then rename: a crash mid-write never leaves a truncated settings file.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".settings-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2)
        os.replace(tmp, folder / "settings.json")
