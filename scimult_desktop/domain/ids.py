"""Normalisation of paper identifiers: DOI, arXiv id, titles, citation keys."""

from __future__ import annotations

import re
import unicodedata

_DOI_RE = re.compile(r"\b(10\.\d{4,9}/[^\s\"<>{}]+)", re.IGNORECASE)
_ARXIV_NEW_RE = re.compile(r"(?<![\d.])(\d{4}\.\d{4,5})(v\d+)?(?![\d])")
_ARXIV_OLD_RE = re.compile(r"\b([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?\b", re.IGNORECASE)


def normalize_doi(value: str | None) -> str | None:
    """Return the bare, lower-cased DOI found in `value`, or None.

    Accepts `doi:` prefixes and resolver URLs; strips trailing punctuation that
    sentence text glues onto DOIs.
    """
    if not value:
        return None
    match = _DOI_RE.search(value.strip())
    if not match:
        return None
    doi = match.group(1).rstrip(".,;:)]}'\"")
    return doi.lower()


def normalize_arxiv_id(value: str | None) -> str | None:
    """Return the arXiv id without version (`2305.14232`, `hep-th/9901001`), or None."""
    if not value:
        return None
    text = value.strip()
    text = re.sub(r"(?i)^arxiv:\s*", "", text)
    match = _ARXIV_NEW_RE.search(text)
    if match:
        return match.group(1)
    match = _ARXIV_OLD_RE.search(text)
    if match:
        return match.group(1).lower()
    return None


def normalize_title(title: str | None) -> str:
    """Fold a title to a comparison key: accents removed, lower case, alphanumerics only."""
    if not title:
        return ""
    text = unicodedata.normalize("NFKD", title)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = re.sub(r"[^0-9a-z]+", " ", text.lower())
    return " ".join(text.split())


def last_name(author: str) -> str:
    """The family name of an author written as `Last, First` or `First Last`."""
    author = author.strip()
    if "," in author:
        return author.split(",", 1)[0].strip()
    parts = author.split()
    return parts[-1] if parts else ""


def make_citekey(authors: list[str], year: int | None, title: str | None) -> str:
    """A readable citation key `lastnameYEARfirstword` (Better BibTeX's default shape)."""
    name = normalize_title(last_name(authors[0])).replace(" ", "") if authors else ""
    stop = {"a", "an", "the", "on", "of", "in", "for", "and", "to", "with", "towards", "toward"}
    words = [w for w in normalize_title(title).split() if w not in stop]
    first_word = words[0] if words else ""
    key = f"{name or 'anon'}{year or ''}{first_word}"
    return key or "paper"
