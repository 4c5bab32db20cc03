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
    passage_search: bool = True  # embed PDF passages and rank search by them (off for very large libraries)
    csl_style: str = "apa"  # "Copy citation" / `scimult cite` (services/writing/csl_citations.py)


def load_preferences() -> Preferences:
    """The saved preferences (defaults for anything unset)."""
    settings = config.Settings.load()
    return Preferences(
        library_folder=settings.extra.get("library_folder"),
        engine=settings.engine or "auto",
        citation_format=settings.extra.get("citation_format", DEFAULT_CITATION_FORMAT),
        active_model=settings.active_model,
        passage_search=bool(settings.extra.get("passage_search", True)),
        csl_style=settings.extra.get("csl_style", "apa"),
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
    _check_csl_style(preferences.csl_style)
    settings = config.Settings.load()
    settings.engine = preferences.engine
    settings.extra = dict(settings.extra)
    if preferences.library_folder:
        settings.extra["library_folder"] = preferences.library_folder
    else:
        settings.extra.pop("library_folder", None)
    settings.extra["citation_format"] = preferences.citation_format
    settings.extra["passage_search"] = bool(preferences.passage_search)
    settings.extra["csl_style"] = preferences.csl_style
    settings.save()
    if preferences.active_model and preferences.active_model != settings.active_model:
        # The one way to switch models: checks the model is installed and remembers the
        # previous one for `scimult model rollback`, as `scimult model use` does.
        from scimult_desktop.services.models import history as model_history

        model_history.activate(preferences.active_model)


def _check_csl_style(name: str) -> None:
    from scimult_desktop.services.writing import csl_citations

    if csl_citations.styles_installed():
        csl_citations.resolve_style(name)  # raises for an unknown style, naming it


def passage_search_enabled() -> bool:
    """Whether indexing embeds PDF passages and search ranks by them (setting `passage_search`, default on)."""
    return load_preferences().passage_search


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
