"""Papers as BibTeX text.

Choices:
- The key is the stored citation key, so exports are stable and match the keys
  people already cite with.
- Non-ASCII text is written as UTF-8, not LaTeX escapes: biber and BibTeX 8-bit
  engines read it, and it survives round trips exactly. LaTeX special characters
  (`& % $ # _ { } ~ ^ \\`) in plain text are escaped.
- Extra fields that came from a .bib file are LaTeX already and are written back
  as they were read; fields from other sources are plain text and get escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scimult_desktop.domain.records import Paper

# Library entry types (BibTeX, CSL or Zotero) -> BibTeX entry types.
_ENTRY_TYPES = {
    "article-journal": "article", "article-magazine": "article", "article-newspaper": "article", "article": "article",
    "paper-conference": "inproceedings", "conference": "inproceedings", "inproceedings": "inproceedings",
    "chapter": "incollection", "incollection": "incollection", "inbook": "inbook", "book": "book",
    "thesis": "phdthesis", "phdthesis": "phdthesis", "mastersthesis": "mastersthesis", "report": "techreport",
    "techreport": "techreport", "manuscript": "unpublished", "unpublished": "unpublished", "proceedings": "proceedings",
    "collection": "collection", "online": "online", "software": "software", "patent": "patent", "misc": "misc",
}
_CONFERENCE_TYPES = {"inproceedings", "incollection", "inbook"}
# Extra fields worth exporting, with the BibTeX name for Zotero/CSL spellings.
_EXTRA_FIELDS = {
    "volume": "volume", "number": "number", "issue": "number", "pages": "pages", "page": "pages",
    "publisher": "publisher", "address": "address", "place": "address", "location": "location",
    "edition": "edition", "series": "series", "month": "month", "editor": "editor", "organization": "organization",
    "school": "school", "institution": "institution", "howpublished": "howpublished", "chapter": "chapter",
    "note": "note", "isbn": "isbn", "ISBN": "isbn", "issn": "issn", "ISSN": "issn", "url": "url", "URL": "url",
    "urldate": "urldate", "accessDate": "urldate", "language": "language",
}
_VERBATIM_FIELDS = {"url", "doi", "eprint", "file", "urldate"}
_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
    "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
}
_SPECIALS_RE = re.compile(r"[\\{}&%$#_~^]")


@dataclass
class ExportItem:
    """A paper with what the exporters need beyond `Paper`: its stored extra fields."""

    paper: Paper
    extra: dict = field(default_factory=dict)
    extra_is_latex: bool = False  # True when the extra fields were read from a .bib file


def escape_latex(text: str) -> str:
    """Plain text as BibTeX-safe LaTeX (`R&D 50%` -> `R\\&D 50\\%`); non-ASCII stays UTF-8."""
    return _SPECIALS_RE.sub(lambda m: _LATEX_SPECIALS[m.group(0)], " ".join(text.split()))


def entry_type(paper: Paper) -> str:
    """The BibTeX entry type for a paper (misc when unknown)."""
    kind = (paper.entry_type or "").strip()
    return _ENTRY_TYPES.get(kind, _ENTRY_TYPES.get(kind.lower(), "misc"))


def format_entry(item: ExportItem) -> str:
    """One `@type{key, ...}` entry."""
    paper, extra = item.paper, item.extra or {}
    kind = entry_type(paper)
    raw_extra = item.extra_is_latex
    fields: list[tuple[str, str]] = [("title", escape_latex(paper.title))]
    if paper.authors:
        fields.append(("author", " and ".join(_name(a) for a in paper.authors)))
    if paper.year:
        fields.append(("year", str(paper.year)))
    if paper.venue:
        venue_field = "booktitle" if kind in _CONFERENCE_TYPES else "journal" if kind == "article" else None
        if venue_field:
            fields.append((venue_field, escape_latex(paper.venue)))
        elif kind in {"book", "techreport", "phdthesis", "mastersthesis", "misc"}:
            target = {"techreport": "institution", "phdthesis": "school", "mastersthesis": "school",
                      "misc": "howpublished"}.get(kind, "publisher")
            fields.append((target, escape_latex(paper.venue)))
    if paper.doi:
        fields.append(("doi", paper.doi))
    if paper.arxiv_id:
        fields.extend([("eprint", paper.arxiv_id), ("archiveprefix", "arXiv")])
    if paper.abstract:
        fields.append(("abstract", escape_latex(paper.abstract)))
    if paper.tags:
        fields.append(("keywords", escape_latex(", ".join(paper.tags))))
    files = [f.path for f in paper.files]
    if files:
        fields.append(("file", ";".join(":" + _escape_file_path(p) + ":" + _file_type(p) for p in files)))
    present = {name for name, _ in fields}
    for name, value in extra.items():
        target = _EXTRA_FIELDS.get(name)
        if target is None or target in present or not isinstance(value, (str, int)) or str(value).strip() == "":
            continue
        text = str(value)
        if target in _VERBATIM_FIELDS:
            text = text.replace("{", "").replace("}", "")
        elif not raw_extra or not _balanced(text):
            text = escape_latex(text)
        fields.append((target, text))
        present.add(target)
    body = ",\n".join(f"  {name} = {{{_balance_guard(value)}}}" for name, value in fields)
    return f"@{kind}{{{paper.citekey or 'paper'},\n{body}\n}}\n"


def write_bibtex(items: list[ExportItem]) -> str:
    """A whole .bib file (UTF-8 text) for `items`, in the given order."""
    header = "% Encoding: UTF-8\n% Exported by SciMult Desktop\n\n"
    return header + "\n".join(format_entry(item) for item in items)


def _name(author: str) -> str:
    # "Last, First" is read back unambiguously; a single-part name is protected
    # with braces, so "World Health Organization" is not split into first/last.
    author = " ".join(author.split())
    escaped = escape_latex(author)
    if "," in author or " " not in author:
        return escaped
    return "{" + escaped + "}"


def _escape_file_path(path: str) -> str:
    return path.replace("\\", "\\\\").replace(":", "\\:").replace(";", "\\;")


def _file_type(path: str) -> str:
    return path.rsplit(".", 1)[-1].upper() if "." in path.rsplit("/", 1)[-1] else "FILE"


def _balanced(text: str) -> bool:
    depth = 0
    for i, ch in enumerate(text):
        if ch == "{" and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and (i == 0 or text[i - 1] != "\\"):
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def _balance_guard(value: str) -> str:
    # An unbalanced brace would swallow the rest of the file: drop braces instead.
    return value if _balanced(value) else value.replace("{", "").replace("}", "")
