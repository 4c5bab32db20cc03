"""Task and role vocabulary shared by the app and the training package.

SciMult routes each input through one attention expert per task; the integer
expert ids live only in model bundle manifests, never in app code.
"""

from __future__ import annotations

from enum import Enum


class Task(str, Enum):
    """What an embedding is for; selects the model's task expert."""

    SEARCH = "search"
    LINK = "link"  # link prediction: citations, related papers
    CLASSIFY = "classify"

    @classmethod
    def parse(cls, value: "str | Task") -> "Task":
        if isinstance(value, Task):
            return value
        aliases = {"link_prediction": "link", "citation": "link", "classification": "classify"}
        value = aliases.get(value, value)
        try:
            return cls(value)
        except ValueError:
            names = ", ".join(t.value for t in cls)
            raise ValueError(f"unknown task {value!r} (expected one of: {names})") from None


class Role(str, Enum):
    """Which side of the bi-encoder a text is on (the weights are shared)."""

    QUERY = "query"
    DOCUMENT = "document"
