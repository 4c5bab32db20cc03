"""The user's choices a front end edits: library folder, model, engine, citation format.

Stored in the same settings file as everything else (`config.Settings`); the
library folder and citation format live in its `extra` map. The GUI's settings
dialog and a future `scimult config` command both go through here.
"""

from __future__ import annotations

from dataclasses import dataclass

from scimult_desktop import config
from scimult_desktop.errors import ScimultError

# Engine setting value -> what a person reads in a settings dialog.
ENGINES = {
    "auto": "Automatic (best available)",
    "onnxruntime-cpu": "CPU (ONNX Runtime)",
    "onnxruntime-cuda": "GPU (ONNX Runtime CUDA)",
    "openvino": "CPU bf16 (OpenVINO)",
}
DEFAULT_CITATION_FORMAT = "latex"


@dataclass
class Preferences:
    """What the settings dialog shows; `library_folder` None means the default folder."""

    library_folder: str | None = None
    engine: str = "auto"
    citation_format: str = DEFAULT_CITATION_FORMAT
    active_model: str | None = None


def load_preferences() -> Preferences:
    """The saved preferences (defaults for anything unset)."""
    settings = config.Settings.load()
    return Preferences(
        library_folder=settings.extra.get("library_folder"),
        engine=settings.engine or "auto",
        citation_format=settings.extra.get("citation_format", DEFAULT_CITATION_FORMAT),
        active_model=settings.active_model,
    )


def save_preferences(preferences: Preferences) -> None:
    """Save preferences. Raises `ScimultError` for an unknown engine or citation format."""
    from scimult_desktop.services.writing.citing import CITATION_STYLES

    if preferences.engine not in ENGINES:
        raise ScimultError(f"unknown engine {preferences.engine!r} (expected one of: {', '.join(ENGINES)})")
    if preferences.citation_format not in CITATION_STYLES:
        raise ScimultError(
            f"unknown citation format {preferences.citation_format!r} (expected one of: {', '.join(CITATION_STYLES)})"
        )
    settings = config.Settings.load()
    settings.engine = preferences.engine
    settings.extra = dict(settings.extra)
    if preferences.library_folder:
        settings.extra["library_folder"] = preferences.library_folder
    else:
        settings.extra.pop("library_folder", None)
    settings.extra["citation_format"] = preferences.citation_format
    settings.save()
    if preferences.active_model and preferences.active_model != settings.active_model:
        # The one way to switch models: checks the model is installed and remembers the
        # previous one for `scimult model rollback`, as `scimult model use` does.
        from scimult_desktop.services.models import history as model_history

        model_history.activate(preferences.active_model)


def library_folder(explicit: str | None = None) -> str:
    """The library folder to open: `explicit`, else $SCIMULT_LIBRARY, else the saved choice, else the default."""
    import os

    if explicit:
        return str(config.library_dir(explicit))
    if os.environ.get("SCIMULT_LIBRARY"):
        return str(config.library_dir())
    saved = load_preferences().library_folder
    return str(config.library_dir(saved))


def device_of(engine: str | None) -> str:
    """The device an engine runs on, as a person says it."""
    return "GPU (CUDA)" if engine and "cuda" in engine else "CPU"
