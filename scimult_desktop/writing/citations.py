"""Citation commands in the syntax of the writer's tool.

Styles: `latex` -> `\\cite{a,b}`, `natbib-citep` -> `\\citep{a,b}`,
`natbib-citet` -> `\\citet{a,b}`, `biblatex` -> `\\autocite{a,b}`,
`pandoc` -> `[@a; @b]`, `keys` -> `a, b`.
"""

from __future__ import annotations

import re
from typing import Iterable

from scimult_desktop.errors import ScimultError

_LATEX_COMMANDS = {"latex": "cite", "natbib-citep": "citep", "natbib-citet": "citet", "biblatex": "autocite"}
CITATION_STYLES = (*_LATEX_COMMANDS, "pandoc", "keys")
_PANDOC_PLAIN_KEY = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_:.#$%&\-+?<>~/]*[A-Za-z0-9_])?")
_LATEX_BAD_KEY_CHARS = re.compile(r"[\s,{}%\\#]")


def format_citation(keys: Iterable[str], style: str = "latex") -> str:
    """A citation of `keys` (in order, duplicates dropped) in `style`.

    Args:
        keys: citation keys, e.g. `["smith2020", "doe2021"]`.
        style: one of `CITATION_STYLES`.

    Returns:
        The text to paste into the draft, e.g. `\\citep{smith2020,doe2021}`.

    Raises:
        ScimultError: unknown style, no keys, or a key LaTeX cannot cite.
    """
    if style not in CITATION_STYLES:
        raise ScimultError(f"unknown citation style {style!r} (expected one of: {', '.join(CITATION_STYLES)})")
    unique = list(dict.fromkeys(key.strip() for key in keys if key and key.strip()))
    if not unique:
        raise ScimultError("no citation keys to format")
    if style == "keys":
        return ", ".join(unique)
    if style == "pandoc":
        # pandoc wants odd keys in braces: @{key with spaces}
        return "[" + "; ".join(f"@{k}" if _PANDOC_PLAIN_KEY.fullmatch(k) else f"@{{{k}}}" for k in unique) + "]"
    for key in unique:
        if _LATEX_BAD_KEY_CHARS.search(key):
            raise ScimultError(f"citation key {key!r} cannot be used in a LaTeX \\cite command")
    return f"\\{_LATEX_COMMANDS[style]}{{{','.join(unique)}}}"
