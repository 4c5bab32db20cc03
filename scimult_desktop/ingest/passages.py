"""Splitting a PDF's page texts into clean passages for semantic passage search.

A passage is about 100-200 words of running text from one page: what a reader
would quote as "page 4 says ...". Works on the stored page texts (table `pages`),
so existing libraries are split without re-reading their PDFs. Left out, because
they would match queries without answering them and must never be shown as "the
matching passage":
- running headers and footers (short lines repeated at the top or bottom of pages)
  and page numbers;
- copyright and licence footers (ACM permission blocks, "© 2019 ...", arXiv stamps,
  "This content downloaded from ..." cover lines);
- the reference list: everything after the last References/Bibliography heading up
  to an appendix, and any passage that reads like bibliography entries;
- raw JSON, e-mail and URL-only lines, lines that are mostly numbers (tables).

Pure text processing: no I/O, no project imports beyond the standard library.

Example:
    >>> passages = split_passages([(1, page_one_text), (2, page_two_text)])
    >>> passages[0].page, len(passages[0].text.split())
    (1, 143)
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass
from typing import Sequence

# Bump when the splitting rules change: stored passages of an older version are redone.
SPLITTER_VERSION = 1
MIN_WORDS = 100
MAX_WORDS = 200
# A page's last passage shorter than MIN_WORDS joins the one before while the two fit in this.
MERGE_LIMIT = 250
# Shorter leftovers are layout debris (a caption fragment, a lone heading), not passages.
MIN_KEPT_WORDS = 20

_REFERENCES_HEADING = re.compile(
    r"^\s*((\d+|[IVX]+|[A-Z])\.?\s*)?(references|bibliography|literature cited|works cited|cited literature"
    r"|references and notes|reference list)\s*:?\s*$",
    re.IGNORECASE,
)
# What may follow a reference list and is body text again.
_AFTER_REFERENCES = re.compile(
    r"^\s*((appendix|appendices|supplementary (material|information)|supporting information)\b"
    r"|[A-Z]\.?\s+(appendix|proofs?)\b)",
    re.IGNORECASE,
)
_COPYRIGHT_LINE = re.compile(
    r"(©|\u24b8|c⃝|\(c\)\s*(19|20)\d\d|\bcopyright\b|all rights reserved|licensed under|creative commons"
    r"|\bcc[ -]by\b|this content downloaded from|jstor\.org/stable|terms and conditions of use"
    r"|^arxiv:\s*\d{4}\.\d{4,5}|^\s*\d{4}-\d{3}[\dx]/\$|\$\s?\d+\.00\b|\bisbn\b|\bissn\b)",
    re.IGNORECASE,
)
# Multi-line permission blocks: dropped from their first line to the line that ends them.
_PERMISSION_START = re.compile(
    r"^(permission to (make|copy)|to copy otherwise|publication rights licensed|authors? retain copyright)",
    re.IGNORECASE,
)
_PERMISSION_END = re.compile(r"(\$\s?\d+\.\d\d|\bdoi\b|https?://doi|\bisbn\b|\bfee\.?\s*$|permissions@)", re.IGNORECASE)
_PERMISSION_MAX_LINES = 12
_PAGE_NUMBER = re.compile(r"^\s*[-–—(]?\s*(page\s+)?[\divxlc]{1,5}(\s+of\s+\d+)?\s*[-–—)]?\s*$", re.IGNORECASE)
_EMAIL_OR_URL_ONLY = re.compile(r"^\s*(\S+@\S+|\{[^}]*\}@\S+|(https?://|www\.)\S+)(\s*[,;]\s*\S+@\S+)*\s*$")
_JSON_START = re.compile(r'^\s*[\[{]\s*["\[{]')
# A cover sheet added by an archive (JSTOR and the like) says who may use the file, not what it says.
_COVER_PAGE = re.compile(r"(your use of the jstor archive|jstor is a not-for-profit|this content downloaded from.*\n(?s:.*)stable url)",
                         re.IGNORECASE)
_ABSTRACT_HEADING = re.compile(r"^\s*(abstract|a b s t r a c t|summary)\b", re.IGNORECASE)
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_NOT_A_LETTER = re.compile(r"[\W\d_]+")
_YEAR = re.compile(r"\b(19|20)\d\d[a-z]?\b")
_VENUE = re.compile(
    r"\b(proceedings|proc\.|conference|journal|transactions|workshop|symposium|press|vol\.|pp\.|pages\s+\d"
    r"|arxiv preprint|in:|eds?\.|editors?|publishers?|university press)",
    re.IGNORECASE,
)
# Phrases that occur in bibliography entries and hardly ever in running text.
_REFERENCE_CUE = re.compile(r"\bIn (Proceedings|Proc\.)|\barXiv preprint\b|\bpp\.\s*\d|\bvol\.\s*\d+\s*,?\s*(no\.|pp\.)",
                            re.IGNORECASE)
_ABBREVIATIONS = ("et al.", "e.g.", "i.e.", "cf.", "fig.", "figs.", "eq.", "eqs.", "sec.", "vs.", "resp.", "approx.",
                  "no.", "ref.", "refs.", "tab.", "ch.", "dr.", "prof.", "vol.", "pp.")
_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=[\"“(\[]?[A-Z0-9])")


@dataclass(frozen=True)
class Passage:
    """A run of clean text from one page; `position` orders the passages of a paper from 0."""

    page: int
    position: int
    text: str

    @property
    def words(self) -> int:
        return len(self.text.split())


def split_passages(pages: Sequence[tuple[int, str]]) -> list[Passage]:
    """Clean passages of about MIN_WORDS-MAX_WORDS words from (page number, page text) pairs.

    Passages never cross a page. Sentences are kept whole unless one alone is
    longer than half a passage.
    """
    pages = [(int(number), text or "") for number, text in pages if not _COVER_PAGE.search(text or "")]
    lines_by_page = [(number, _page_lines(text)) for number, text in pages]
    repeated = _repeated_margin_lines(lines_by_page)
    body = _drop_references(lines_by_page)
    passages: list[Passage] = []
    for index, (number, lines) in enumerate(body):
        kept = _clean_lines(lines, repeated, first_page=index == 0)
        for text in _pack(_sentences(_join(kept))):
            if not _looks_like_references(text) and not _looks_like_json(text):
                passages.append(Passage(number, len(passages), text))
    return passages


def body_pages(pages: Sequence[tuple[int, str]]) -> list[tuple[int, str]]:
    """The page texts without archive cover pages and without the reference list (lines kept as they are).

    A cheap cut for showing evidence from papers whose passages are not stored.
    """
    kept = [(int(n), t or "") for n, t in pages if not _COVER_PAGE.search(t or "")]
    body = _drop_references([(n, t.splitlines()) for n, t in kept])
    return [(n, "\n".join(lines)) for n, lines in body]


def pages_fingerprint(pages: Sequence[tuple[int, str]]) -> str:
    """A hash of the page texts and the splitter version: unchanged means the passages are current."""
    digest = hashlib.sha256(f"v{SPLITTER_VERSION}".encode())
    for number, text in pages:
        digest.update(f"\x00{int(number)}\x00".encode())
        digest.update((text or "").encode("utf-8", "replace"))
    return digest.hexdigest()[:32]


def is_clean_text(text: str) -> bool:
    """Whether a piece of extracted text may be shown as evidence (no JSON, footer or reference-list look)."""
    plain = text.replace("[", "").replace("]", "") if not _looks_like_json(text) else text
    return not (
        _looks_like_json(text)
        or _COPYRIGHT_LINE.search(plain)
        or _PERMISSION_START.search(plain.strip())
        or _looks_like_references(plain, short=True)
    )


# ---- lines -------------------------------------------------------------------------------
def _page_lines(text: str) -> list[str]:
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def _margin_key(line: str) -> str:
    """A line as a running head reads on every page: case, digits and spacing ignored."""
    return re.sub(r"\d+", "#", line.lower()).strip()


def _repeated_margin_lines(pages: list[tuple[int, list[str]]], margin: int = 3) -> set[str]:
    """Keys of short lines that open or close at least a third of the pages (running heads and feet)."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for _number, lines in pages:
        edge = lines[:margin] + lines[-margin:]
        counts.update({_margin_key(line) for line in edge if len(line) <= 100})
    needed = max(2, -(-len(pages) // 3))
    return {key for key, n in counts.items() if n >= needed and key.strip("# ")}


def _drop_references(pages: list[tuple[int, list[str]]]) -> list[tuple[int, list[str]]]:
    """The pages without the reference list: from the last References heading up to an appendix."""
    start = None
    # A reference list sits in the back of a paper; the word alone near the front is a
    # table of contents or an archive's cover note, and cutting there would lose the paper.
    earliest = len(pages) // 3
    for page_index in range(len(pages) - 1, earliest - 1, -1):
        for line_index, line in enumerate(pages[page_index][1]):
            if _REFERENCES_HEADING.match(_unspaced(line)):
                start = (page_index, line_index)
        if start is not None:
            break
    if start is None:
        return pages
    kept: list[tuple[int, list[str]]] = []
    resumed = False
    for page_index, (number, lines) in enumerate(pages):
        if page_index < start[0] or resumed:
            kept.append((number, lines))
            continue
        before = lines[: start[1]] if page_index == start[0] else []
        after: list[str] = []
        first = start[1] + 1 if page_index == start[0] else 0
        for line_index in range(first, len(lines)):
            if len(lines[line_index]) < 60 and _AFTER_REFERENCES.match(lines[line_index]):
                after, resumed = lines[line_index:], True
                break
        kept.append((number, before + after))
    return kept


def _unspaced(line: str) -> str:
    """A letter-spaced heading ("R E F E R E N C E S") as a word."""
    return line.replace(" ", "") if re.fullmatch(r"(\S ){3,}\S", line) else line


def _clean_lines(lines: list[str], repeated: set[str], *, first_page: bool) -> list[str]:
    if first_page:
        # Title, authors and affiliations come before the abstract heading: not passage text.
        for i, line in enumerate(lines[:40]):
            if _ABSTRACT_HEADING.match(line):
                lines = lines[i:]
                break
    kept: list[str] = []
    in_permission = 0
    for i, line in enumerate(lines):
        if in_permission:
            in_permission -= 1
            if _PERMISSION_END.search(line):
                in_permission = 0
            continue
        if _PERMISSION_START.match(line):
            in_permission = _PERMISSION_MAX_LINES
            continue
        at_edge = i < 3 or i >= len(lines) - 3
        if at_edge and _margin_key(line) in repeated:
            continue
        if _PAGE_NUMBER.match(line) or _EMAIL_OR_URL_ONLY.match(line) or _COPYRIGHT_LINE.search(line):
            continue
        if _JSON_START.match(line) or _mostly_non_words(line):
            continue
        kept.append(line)
    return kept


def _mostly_non_words(line: str) -> bool:
    """Table rows, formulas and number columns: fewer than half the characters are letters."""
    letters = len(_NOT_A_LETTER.sub("", line))
    return letters < 0.5 * len(line.replace(" ", "")) or not _WORD.search(line)


def _join(lines: list[str]) -> str:
    """Lines joined into running text, undoing end-of-line hyphenation.

    "rela-" + "tion" becomes "relation"; "state-of-" + "the-art" keeps its hyphen,
    since a word already hyphenated was hyphenated on purpose.
    """
    text = ""
    for line in lines:
        if text.endswith("-") and line[:1].islower() and len(text) > 1 and text[-2].isalpha():
            last_word = text.rsplit(" ", 1)[-1]
            text = text + line if last_word.count("-") > 1 else text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return text


# ---- sentences and passages --------------------------------------------------------------
def _sentences(text: str) -> list[str]:
    pieces = _SENTENCE_BREAK.split(text)
    sentences: list[str] = []
    for piece in pieces:
        if sentences and sentences[-1].lower().endswith(_ABBREVIATIONS):
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    out: list[str] = []
    for sentence in sentences:
        words = sentence.split()
        step = MAX_WORDS // 2
        out.extend(" ".join(words[i : i + step]) for i in range(0, len(words), step))
    return [s for s in out if s.strip()]


def _pack(sentences: list[str]) -> list[str]:
    """Greedy packing: a passage closes when the next sentence would take it past MAX_WORDS."""
    passages: list[list[str]] = []
    current: list[str] = []
    count = 0
    for sentence in sentences:
        n = len(sentence.split())
        if current and count + n > MAX_WORDS:
            passages.append(current)
            current, count = [], 0
        current.append(sentence)
        count += n
    if current:
        if passages and count < MIN_WORDS and sum(len(s.split()) for s in passages[-1]) + count <= MERGE_LIMIT:
            passages[-1].extend(current)
        else:
            passages.append(current)
    texts = [" ".join(p) for p in passages]
    return [t for t in texts if len(t.split()) >= MIN_KEPT_WORDS]


def _looks_like_references(text: str, *, short: bool = False) -> bool:
    """Bibliography entries: many venue words and years per word, or lines opening like entries."""
    words = max(len(text.split()), 1)
    venues = len(_VENUE.findall(text))
    years = len(_YEAR.findall(text))
    if short:  # a snippet of one or two entries
        return bool(_REFERENCE_CUE.search(text)) or (venues >= 2 and years >= 1 and venues * 100 / words >= 5)
    return venues * 100 / words >= 3.0 and years * 100 / words >= 2.0 and venues >= 4


def _looks_like_json(text: str) -> bool:
    stripped = text.strip()
    if not _JSON_START.match(stripped):
        return False
    try:
        json.loads(stripped)
        return True
    except ValueError:
        # Cut off or embedded: quoted keys and list punctuation dominate.
        return stripped.count('"') >= 4 and (stripped.count('", "') + stripped.count('":')) >= 1
