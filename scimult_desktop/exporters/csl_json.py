"""Papers as CSL-JSON (the format of Zotero, pandoc and citeproc).

The item `id` and `citation-key` are the stored citation key; text is Unicode
(no LaTeX: callers pass extra fields already decoded). An arXiv id is given as the arxiv.org URL when no other URL is known.
"""

from __future__ import annotations

import json

from scimult_desktop.exporters.bibtex import ExportItem

# Library entry types (BibTeX, CSL or Zotero) -> CSL types.
_CSL_TYPES = {
    "article": "article-journal", "inproceedings": "paper-conference", "conference": "paper-conference",
    "incollection": "chapter", "inbook": "chapter", "book": "book", "phdthesis": "thesis",
    "mastersthesis": "thesis", "techreport": "report", "unpublished": "manuscript", "proceedings": "book",
    "collection": "book", "online": "webpage", "software": "software", "patent": "patent", "misc": "article",
}
_CSL_NATIVE = {"article-journal", "paper-conference", "chapter", "book", "thesis", "report", "manuscript", "webpage",
               "software", "patent", "article", "dataset", "article-magazine", "article-newspaper", "speech"}
# Extra fields copied into CSL variables.
_EXTRA_VARIABLES = {
    "volume": "volume", "number": "issue", "issue": "issue", "pages": "page", "page": "page",
    "publisher": "publisher", "address": "publisher-place", "place": "publisher-place", "isbn": "ISBN",
    "ISBN": "ISBN", "issn": "ISSN", "ISSN": "ISSN", "url": "URL", "URL": "URL", "language": "language",
    "edition": "edition",
}


def csl_item(item: ExportItem) -> dict:
    """One CSL-JSON item."""
    paper, extra = item.paper, item.extra or {}
    kind = (paper.entry_type or "").strip()
    csl: dict = {
        "id": paper.citekey,
        "citation-key": paper.citekey,
        # BibTeX names first: BibTeX's "article" is CSL's "article-journal".
        "type": _CSL_TYPES.get(kind.lower()) or (kind if kind in _CSL_NATIVE else "article"),
        "title": paper.title,
    }
    if paper.authors:
        csl["author"] = [_csl_name(a) for a in paper.authors]
    if paper.year:
        csl["issued"] = {"date-parts": [[paper.year]]}
    if paper.venue:
        csl["container-title"] = paper.venue
    if paper.abstract:
        csl["abstract"] = paper.abstract
    if paper.doi:
        csl["DOI"] = paper.doi
    if paper.tags:
        csl["keyword"] = ", ".join(paper.tags)
    for name, value in extra.items():
        variable = _EXTRA_VARIABLES.get(name)
        if variable and variable not in csl and isinstance(value, (str, int)) and str(value).strip():
            csl[variable] = str(value)
    if paper.arxiv_id:
        csl["number"] = f"arXiv:{paper.arxiv_id}"
        csl.setdefault("URL", f"https://arxiv.org/abs/{paper.arxiv_id}")
    return csl


def write_csl_json(items: list[ExportItem]) -> str:
    """A CSL-JSON document (a list of items), UTF-8 text with non-ASCII kept."""
    return json.dumps([csl_item(item) for item in items], ensure_ascii=False, indent=2) + "\n"


def _csl_name(author: str) -> dict:
    if "," in author:
        family, given = (part.strip() for part in author.split(",", 1))
        return {"family": family, "given": given} if given else {"family": family}
    return {"literal": author}
