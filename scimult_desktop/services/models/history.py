"""Which models were active before, so that a switch can be undone in one step.

The history is a short list of model names in the user settings (`extra["model_history"]`,
most recent last). `activate` remembers the model it replaces; `rollback` switches back to
the most recent previous model that is still installed and drops it from the history, so
repeated rollbacks walk further back. Vectors of earlier models stay in each library
(embeddings are keyed by model), so a rollback serves again at once.
"""

from __future__ import annotations

from scimult_desktop import config
from scimult_desktop.errors import ModelError
from scimult_desktop.services.models import bundles as models

HISTORY_KEY = "model_history"
HISTORY_LENGTH = 5


def history() -> list[str]:
    """Previously active model names, most recent last."""
    value = config.Settings.load().extra.get(HISTORY_KEY, [])
    return [str(name) for name in value] if isinstance(value, list) else []


def remember(previous: str | None) -> None:
    """Record that `previous` was active until now (no-op for None)."""
    if not previous:
        return
    settings = config.Settings.load()
    names = [n for n in history() if n != previous] + [previous]
    settings.extra[HISTORY_KEY] = names[-HISTORY_LENGTH:]
    settings.save()


def activate(name: str) -> models.ModelInfo:
    """Make `name` the active model, remembering the one it replaces."""
    previous = models.active_model_name()
    info = models.use(name)
    if previous != name:
        remember(previous)
    return info


def rollback() -> tuple[str | None, models.ModelInfo]:
    """Switch back to the previously active model; returns (replaced name, now active).

    Raises:
        ModelError: no earlier model is recorded, or none of them is still installed.
    """
    current = models.active_model_name()
    installed = {info.name for info in models.list_models()}
    names = history()
    while names:
        candidate = names.pop()
        if candidate in installed and candidate != current:
            info = models.use(candidate)
            _save(names)
            return current, info
    _save(names)
    raise ModelError("no earlier model to roll back to (the history of active models is empty or none of them is installed)")


def _save(names: list[str]) -> None:
    settings = config.Settings.load()
    settings.extra[HISTORY_KEY] = names
    settings.save()
