"""Citation contexts: in-text citation markers in a paper's page texts, linked to its reference list.

Pure Python over stored page texts (one visual line per text line, as PDF import stores
them) and the raw strings of the parsed reference list, so an existing library can be
re-analysed without reading its PDFs again.

Markers found:

- numeric in brackets: "[12]", "[3-5, 8]", "[3–5]", "[12; 14]";
- label in brackets when the reference list is labelled so: "[BKL09]", "[Smi19, Wu20]";
- author-year, parenthetical: "(Smith et al., 2019)", "(Smith and Lee, 2019; Wu, 2020a)",
  "(e.g., Smith, 2019, 2020)"; and narrative: "Smith et al. (2019)", "Smith and Lee [2019]";
- superscript numbers glued to a word ("networks.12", "shown1,2"), only in papers that use
  no bracket or author-year markers and have a numbered reference list, since the text
  layer keeps the digits but not that they were raised.

The reference section (from its heading on) is never read for markers, and a paragraph
that reads like a reference entry is skipped too. Each marker becomes one
`CitationContext` per reference it names, with its sentence (hyphenation undone, lines
joined), the paragraph's character span in the page text, and the page.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from scimult_desktop.ingest.text_lines import REFERENCES_HEADING_RE, join_lines

# Bumped when the analysis changes, so a re-analysis redoes papers analysed by an older one.
ANALYSER_VERSION = 2
# The most characters a reference entry's first author takes ("Maria-Francesca Rodríguez-González").
_FIRST_AUTHOR_CHARS = 60
# A "sentence" longer than this failed to split (tables, formulas): keep a window around the marker.
MAX_SENTENCE_CHARS = 600
WINDOW_CHARS = 220

_DASHES = "-–—‐‑"
_HYPHENS = _DASHES[:2]  # a hyphen or an en dash ends a line inside a word
_NUM_ITEM = rf"\d{{1,3}}(?:\s*[{_DASHES}]\s*\d{{1,3}})?"
_NUMERIC_RE = re.compile(rf"\[\s*({_NUM_ITEM}(?:\s*[,;]\s*{_NUM_ITEM})*)\s*\]")
_LABEL_BRACKET_RE = re.compile(r"\[([A-Za-z][A-Za-z0-9+\-.' ]{1,14}(?:\s*[,;]\s*[A-Za-z][A-Za-z0-9+\-.' ]{1,14})*)\]")
_YEAR = r"(?:19|20)\d{2}[a-z]?"
# One year as printed, with natbib's compressed letters: "2019", "2019a", "2019a,b" (= 2019a and 2019b).
_YEAR_RUN = r"(?:19|20)\d{2}(?:[a-z](?:,\s?[a-z](?![\w]))*)?"
_YEARS = rf"{_YEAR_RUN}(?:\s*,\s*{_YEAR_RUN})*"
# A surname: particles lower- or upper-case ("van der Berg", "Del Zanna", "Le Gouellec"), letters of any
# Latin script ("Şahin", "Nguyễn"), and the hyphens and apostrophes names carry ("Hammes‐Schiffer", "O'Neill").
_PARTICLE = r"(?:[Vv]an|[Vv]on|[Dd]e|[Dd]er|[Dd]en|[Dd]a|[Dd]i|[Dd]u|[Ll]a|[Ll]e|[Dd]el|[Dd]ella|[Dd]os|ten|ter)"
_NAME = rf"(?:{_PARTICLE}\s+)*[A-Z\u00c0-\u024f\u1e00-\u1eff][\w'’\-\u2010\u2011]+"
_AUTHORS = rf"{_NAME}(?:\s+et\s+al\.?|\s*,?\s+(?:and|&)\s+{_NAME}|(?:\s*,\s*{_NAME})*\s*,?\s+(?:and|&)\s+{_NAME})?"
_NARRATIVE_RE = re.compile(rf"\b({_AUTHORS})(?:'s|’s)?\s*[(\[]\s*({_YEARS}(?:\s*;\s*{_YEARS})*)\s*[)\]]")
# "(Smith et al., 2019; Wu, 2020a)", and ACM's bracketed form "[Smith et al. 2019; Wu 2020a]"; a review's
# list of fifteen citations runs past a thousand characters.
_PAREN_RE = re.compile(r"\(([^()]{4,2000})\)|\[([^\[\]]{4,2000})\]")
_PAREN_ITEM_RE = re.compile(
    rf"^(?:(?:e\.\s?g\.|i\.\s?e\.|see(?:\s+also)?|cf\.|for example|for instance|as in|also|and)\s*,?\s*)*"
    rf"({_AUTHORS})\s*,?\s+({_YEARS})\b"
)
# The same inside a parenthesis after other words: "(for details see Swaminathan, 2021, Lemma 4.12)".
_INNER_ITEM_RE = re.compile(rf"(?<![\w'’\-])({_AUTHORS})\s*,?\s+({_YEARS})\b")
_REFERENCE_WORD_RE = re.compile(
    rf"\b([Rr]efs?\.?|[Rr]eferences?)\s+(\d{{1,3}}(?:\s*(?:[,{_DASHES}]|and)\s*\d{{1,3}})*)(?![\d.,]*\d|\s*[\]%])")
# How many times the raised-number candidates must outnumber bracket and author-year markers to count.
_SUPERSCRIPT_MAJORITY = 5
_SUPERSCRIPT_RE = re.compile(rf"(?:(?<=[a-z)\]])|(?<=[a-z)\]][.,;:]))(\d{{1,3}}(?:[,{_DASHES}]\d{{1,3}})*)(?=[\s.,;:)]|$)")
_ABBREVIATIONS = (
    "et al", "e.g", "i.e", "fig", "figs", "eq", "eqs", "sec", "secs", "vs", "cf", "resp", "approx", "no", "nos",
    "vol", "pp", "ref", "refs", "dr", "prof", "mr", "ms", "tab", "app", "ch", "al", "ca", "viz", "st", "jr", "inc",
)
_SENTENCE_END_RE = re.compile(
    r"(?:[.!?](?:[\"”’)\]]|\s*\[\d{1,3}(?:[,–\-]\s*\d{1,3})*\])*"
    r"|(?<=[a-z)\]])[.!?]\d{1,3}(?:[,–\-]\d{1,3})*)\s+(?=[\"“(\[]?[A-Z0-9])"  # the second: "wheat.1,2 Earlier"
)
_NON_PROSE_RE = re.compile(r"©|\(c\)\s*\d{4}|permission to make digital|all rights reserved|creative commons|licen[cs]e",
                           re.IGNORECASE)


@dataclass(frozen=True)
class CitationContext:
    """One citation of one reference in the body text.

    Attributes:
        page: 1-based page of the marker.
        marker: the marker as written ("[3-5, 8]", "Smith et al. (2019)").
        style: "numeric" | "label" | "author-year" | "superscript".
        reference_index: 0-based position in the reference list, or None when not resolved.
        sentence: the citing sentence, lines joined and hyphenation undone.
        paragraph_start / paragraph_end: the paragraph's character span in the page text.
        marker_offset: where the marker starts within `sentence` (-1 when trimmed away).
    """

    page: int
    marker: str
    style: str
    reference_index: int | None
    sentence: str
    paragraph_start: int
    paragraph_end: int
    marker_offset: int = -1


@dataclass(frozen=True)
class _Paragraph:
    page: int
    start: int  # character span in the page text
    end: int
    text: str  # joined lines
    # A paragraph running on to the next page: the text from `split` on is that page's `continued`.
    split: int | None = None
    continued: "_Paragraph | None" = None

    def where(self, offset: int) -> "_Paragraph":
        """The part (this page's or the next page's) that holds `offset` of the text."""
        return self.continued if self.continued is not None and self.split is not None and offset >= self.split else self


@dataclass(frozen=True)
class _Marker:
    start: int
    end: int
    text: str
    style: str
    targets: tuple[int | None, ...]


def find_citation_contexts(pages: list[tuple[int, str]], references: list[str]) -> list[CitationContext]:
    """Every citation in the body of a paper, one context per (marker, reference) pair.

    Args:
        pages: (1-based page number, page text) in page order.
        references: raw reference strings in reference-list order.
    """
    paragraphs = body_paragraphs(pages, references)
    resolver = _ReferenceResolver(references)
    found: list[tuple[_Paragraph, _Marker]] = []
    counts = {"numeric": 0, "label": 0, "author-year": 0}
    for paragraph in paragraphs:
        for marker in _bracket_markers(paragraph.text, resolver) + _author_year_markers(paragraph.text, resolver):
            counts[marker.style] = counts.get(marker.style, 0) + 1
            found.append((paragraph, marker))
    if counts["author-year"] >= 3 and counts["numeric"] * 3 < counts["author-year"]:
        # A paper cites in one style: "[1]" in an author-year paper is code or maths ("k[1]", "x[2]").
        found = [(p, m) for p, m in found if m.style != "numeric"]
    if resolver.numbered:
        raised = [(paragraph, m) for paragraph in paragraphs for m in _superscript_markers(paragraph.text, resolver)]
        # A superscript paper may still print a few brackets ("[0, 1]", a quoted "[12]"): the raised numbers
        # count when the paper has hardly any other marker, or when they outnumber the others many times.
        others = sum(counts.values())
        if others < 2:
            found.extend(raised)
        else:
            # Digits after a one-letter word are as often an index or power the text layer flattened ("x2").
            worded = [(p, m) for p, m in raised if not re.search(r"\b[A-Za-z][.,;:]?$", p.text[:m.start])]
            if len(worded) >= _SUPERSCRIPT_MAJORITY * others and len(worded) >= 10:
                found.extend(worded)
    if resolver.numbered and counts["author-year"] < 3:
        for paragraph in paragraphs:
            found.extend((paragraph, m) for m in _reference_word_markers(paragraph.text, resolver))
    contexts: list[CitationContext] = []
    for paragraph, marker in found:
        sentence, offset = _sentence_around(paragraph.text, marker.start, marker.end)
        if not sentence or _NON_PROSE_RE.search(sentence):
            continue
        part = paragraph.where(marker.start)
        for target in dict.fromkeys(marker.targets):
            contexts.append(CitationContext(part.page, marker.text, marker.style, target, sentence,
                                            part.start, part.end, offset))
    return contexts


# ---- body text --------------------------------------------------------------------------------
def body_paragraphs(pages: list[tuple[int, str]], references: list[str] = ()) -> list[_Paragraph]:
    """Paragraphs of the body text: the reference section and reference-like paragraphs left out."""
    cut = _reference_section_start(pages)
    reference_starts = {_fold(r)[:40] for r in references if len(_fold(r)) >= 25}
    running = _running_lines(pages)
    paragraphs: list[_Paragraph] = []
    for index, (page, text) in enumerate(pages):
        if cut is not None and index > cut[0]:
            break
        limit = cut[1] if cut is not None and index == cut[0] else None
        first = True
        for paragraph in _page_paragraphs(page, text, limit, running):
            if _fold(paragraph.text)[:40] in reference_starts or _looks_like_reference_entry(paragraph.text):
                first = False
                continue
            if first and paragraphs and _runs_on(paragraphs[-1], paragraph):
                paragraphs[-1] = _join_pages(paragraphs[-1], paragraph)
            else:
                paragraphs.append(paragraph)
            first = False
    return paragraphs


_MID_SENTENCE_END_RE = re.compile(
    r"(?:[,;(]|\b(?:by|of|in|and|or|the|to|from|with|for|on|at|as|see|than|that|which|where|a|an|is|are|was|were))$")


_CAPTION_RE = re.compile(r"\b(?:Figure|Fig\.?|Table|Tab\.|Algorithm|Listing|Scheme)\s*\d", re.IGNORECASE)


def _runs_on(previous: _Paragraph, paragraph: _Paragraph) -> bool:
    """Whether a page's first paragraph continues the sentence the previous page ended in: it starts in
    lower case or with a marker or year ("(Smith", "[12]", "2019)"), or with a name ("Gelfand and ...")
    after a page that ended in a comma or a word no sentence ends with ("defined first by")."""
    if previous.continued is not None or paragraph.page != previous.page + 1:
        return False
    ended = previous.text.rstrip()
    if ended.endswith((".", "!", "?", ":")) or _looks_like_heading(paragraph.text[:80]):
        return False
    text = paragraph.text
    if text[:1].islower():
        return True
    head = text[:80]
    if _CAPTION_RE.search(head):
        return False  # a figure or table the text layer put between the pages
    if text[:1] == "[":
        return bool(re.match(r"\[\s*\d", text))
    if text[:1] == "(":
        return not re.match(r"\((?:[a-z]|[ivx]+|\d{1,2})\)", text)  # "(a)", "(ii)", "(1)" enumerate
    if text[:1].isdigit():
        return bool(re.match(r"[\d,;\s–\-]{1,20}[a-z]?[\])]", text))  # the rest of "[1,|2]", "(Smith,|2019)"
    # A name after "defined first by": prose goes on, not a figure's labels or a table's cells.
    return (text[:1].isupper() and bool(_MID_SENTENCE_END_RE.search(ended)) and len(text) >= 60
            and len(re.findall(r"\b[a-z]{2,}\b", head)) >= 2)


def _join_pages(previous: _Paragraph, paragraph: _Paragraph) -> _Paragraph:
    text = join_lines([previous.text, paragraph.text], hyphens=_HYPHENS)
    return _Paragraph(previous.page, previous.start, previous.end, text, split=len(text) - len(paragraph.text),
                      continued=paragraph)


def _reference_section_start(pages: list[tuple[int, str]]) -> tuple[int, int] | None:
    """(page index, character offset) of the last reference heading, in the second half of the paper."""
    for index in range(len(pages) - 1, -1, -1):
        text = pages[index][1]
        offset = 0
        last = None
        for line in text.split("\n"):
            if REFERENCES_HEADING_RE.match(line):
                last = offset
            offset += len(line) + 1
        if last is not None:
            return (index, last) if index >= len(pages) // 3 or len(pages) <= 2 else None
    return None


def _running_lines(pages: list[tuple[int, str]]) -> set[str]:
    """Lines printed on at least three pages (running heads and footers, venue notes)."""
    seen: dict[str, int] = {}
    for _, text in pages:
        for line in {re.sub(r"\d+", "#", line.strip()) for line in text.split("\n") if line.strip()}:
            seen[line] = seen.get(line, 0) + 1
    return {line for line, count in seen.items() if count >= 3 and len(pages) >= 3}


def _page_paragraphs(page: int, text: str, limit: int | None, running: set[str] = frozenset()) -> list[_Paragraph]:
    lines: list[tuple[int, int, str] | None] = []  # start, end, text; None: a blank line
    offset = 0
    for raw in text.split("\n"):
        start, end = offset, offset + len(raw)
        offset = end + 1
        if limit is not None and start >= limit:
            break
        stripped = raw.strip()
        if not stripped and lines and lines[-1] is not None:
            lines.append(None)  # a blank line ends a paragraph
            continue
        if stripped and not re.fullmatch(r"[\divxlc\-–\s]{1,8}", stripped.lower()) \
                and re.sub(r"\d+", "#", stripped) not in running:
            lines.append((start, end, stripped))
    if not any(lines):
        return []
    lengths = sorted(len(line[2]) for line in lines if line is not None)
    typical = lengths[len(lengths) * 3 // 4]
    paragraphs: list[_Paragraph] = []
    current: list[tuple[int, int, str]] = []
    for line in lines:
        if line is None:
            if current:
                paragraphs.append(_paragraph(page, current))
            current = []
            continue
        if current and _paragraph_break(current[-1][2], line[2], typical):
            paragraphs.append(_paragraph(page, current))
            current = []
        current.append(line)
    if current:
        paragraphs.append(_paragraph(page, current))
    return paragraphs


def _paragraph_break(previous: str, line: str, typical: int) -> bool:
    short_end = previous.rstrip().endswith((".", ":", "!", "?")) and len(previous) < 0.8 * typical
    heading = _looks_like_heading(previous) or _looks_like_heading(line)
    # "Background" alone on a line, then a capitalised line: a run-in heading.
    title_line = (len(previous) < min(40, 0.6 * typical) and not previous.endswith((".", ",", ";", "-", ":"))
                  and previous[:1].isupper() and line[:1].isupper())
    # A short line that ends no sentence, then a capitalised one: a display equation ended the paragraph
    # ("... is assumed as D = ηε̇²" + "This procedure differs ..."); not "... shown by" + "Smith et al.".
    after_display = (len(previous) < 0.7 * typical and line[:1].isupper() and len(line.split()) > 1
                     and not previous.endswith((",", ";", "-", "–", "(", "[")) and not _MID_SENTENCE_END_RE.search(previous))
    return short_end or heading or title_line or after_display


def _looks_like_heading(line: str) -> bool:
    line = line.strip()
    if len(line) > 70 or line.endswith((".", ",", ";", "-")):
        return bool(re.match(r"^(\d+(\.\d+)*\.?|[IVX]+\.)\s+[A-Z][^.]{2,60}\.?$", line)) and len(line) < 70
    return bool(re.match(r"^(\d+(\.\d+)*\.?|[IVX]+\.|[A-Z]\.)\s+[A-Z]", line)) or (line.isupper() and len(line) > 3)


def _paragraph(page: int, lines: list[tuple[int, int, str]]) -> _Paragraph:
    return _Paragraph(page, lines[0][0], lines[-1][1], join_lines([t for _, _, t in lines], hyphens=_HYPHENS))


def _looks_like_reference_entry(text: str) -> bool:
    head = text[:160]
    numbered = re.match(r"^\s*(\[\d{1,3}\]|\d{1,3}\.)\s+[A-Z\u00c0-\u017f][\w'’\-]+,?\s", head)
    return bool(numbered and re.search(r"\b(19|20)\d{2}\b", text) and len(text) < 700)


# ---- markers ----------------------------------------------------------------------------------
def _bracket_markers(text: str, resolver: "_ReferenceResolver") -> list[_Marker]:
    markers = []
    for match in _NUMERIC_RE.finditer(text):
        numbers = _expand_numbers(match.group(1))
        if not numbers or not all(1 <= n <= resolver.max_number for n in numbers):
            continue
        if _looks_like_interval(text, match):
            continue
        markers.append(_Marker(match.start(), match.end(), match.group(0), "numeric",
                               tuple(resolver.by_number(n) for n in numbers)))
    if resolver.labels:
        for match in _LABEL_BRACKET_RE.finditer(text):
            keys = [k.strip() for k in re.split(r"[,;]", match.group(1))]
            targets = [resolver.labels.get(k) for k in keys]
            if targets and all(t is not None for t in targets):
                markers.append(_Marker(match.start(), match.end(), match.group(0), "label", tuple(targets)))
    return markers


def _looks_like_interval(text: str, match: re.Match) -> bool:
    """Math or code, not a citation: "x ∈ [1, 5]", "n = [2, 3]", "a2[1]", "f(x)[1]", "amp[1]": a name glued to
    the bracket is an index (typeset citations have a space before them, which the text layer keeps)."""
    before = text[max(0, match.start() - 4):match.start()]
    glued = before[-1:]
    return before.rstrip().endswith(("∈", "=", "⊂", "⊆", "×", "≤", "<")) or glued.isalnum() or glued in ("_", ")")


def _expand_numbers(body: str) -> list[int]:
    numbers: list[int] = []
    for item in re.split(r"[,;]", body):
        bounds = [int(n) for n in re.findall(r"\d+", item)]
        if len(bounds) == 2:
            low, high = bounds
            if high < low or high - low > 50:
                return []
            numbers.extend(range(low, high + 1))
        elif bounds:
            numbers.append(bounds[0])
    return numbers


def _author_year_markers(text: str, resolver: "_ReferenceResolver") -> list[_Marker]:
    markers: list[_Marker] = []
    taken: list[tuple[int, int]] = []
    for match in _NARRATIVE_RE.finditer(text):
        names, years = match.group(1), _years(match.group(2))
        if _not_a_name(names):
            continue
        markers.append(_Marker(match.start(), match.end(), match.group(0), "author-year",
                               tuple(resolver.by_author_year(names, y) for y in years)))
        taken.append((match.start(), match.end()))
    for match in _PAREN_RE.finditer(text):
        group = 1 if match.group(1) is not None else 2
        inside = match.group(group)
        if any(s <= match.start() < e for s, e in taken) or not re.search(_YEAR, inside):
            continue
        offset = match.start(group)
        for part in re.split(r";", inside):
            lead = len(part) - len(part.lstrip())
            found = _paren_item(part.strip(), resolver)
            if found is not None:
                names, years, item_start, item_end = found
                start, end = offset + lead + item_start, offset + lead + item_end
                markers.append(_Marker(start, end, text[start:end], "author-year",
                                       tuple(resolver.by_author_year(names, y) for y in years)))
            offset += len(part) + 1
    return markers


def _paren_item(part: str, resolver: "_ReferenceResolver") -> tuple[str, list[str], int, int] | None:
    """(names, years, start, end) of the author-year citation in one ";"-separated part of a parenthesis.

    One that opens the part ("e.g., Smith et al., 2019") is a citation; one after other words
    ("for details see Smith, 2019, Lemma 2") only when the reference list has that author and year,
    since capitalised words before a year are common in prose ("in March 2019", "ICML 2019").
    """
    item = _PAREN_ITEM_RE.match(part)
    if item and not _not_a_name(item.group(1)):
        return item.group(1), _years(item.group(2)), item.start(1), item.end(2)
    for item in _INNER_ITEM_RE.finditer(part):
        names, years = item.group(1), _years(item.group(2))
        if not _not_a_name(names) and all(resolver.by_author_year(names, y) is not None for y in years):
            return names, years, item.start(1), item.end(2)
    return None


def _years(printed: str) -> list[str]:
    """The years a marker names: "2019, 2020" -> 2019, 2020; natbib's "2019a,b" -> 2019a, 2019b."""
    years: list[str] = []
    for run in re.finditer(_YEAR_RUN, printed):
        digits, letters = run.group(0)[:4], re.findall(r"[a-z]", run.group(0)[4:])
        years.extend([digits + letter for letter in letters] or [digits])
    return years


def _not_a_name(names: str) -> bool:
    first = names.split()[0]
    return first.lower() in {"in", "see", "table", "figure", "fig", "section", "since", "from", "until", "the", "and",
                             "eq", "equation", "appendix", "chapter", "january", "february", "march", "april", "may",
                             "june", "july", "august", "september", "october", "november", "december", "summer",
                             "winter", "spring", "fall", "autumn", "version", "release", "trec", "clef", "ntcir",
                             "sigir", "in", "on", "at", "by", "for", "during", "after", "before", "year", "years"}


def _reference_word_markers(text: str, resolver: "_ReferenceResolver") -> list[_Marker]:
    """"ref. 12", "refs. 3,5", "Refs 22–25", "reference 7": the unbracketed numbers superscript styles
    (Nature's, ACS's) print when a citation is a noun."""
    markers = []
    for match in _REFERENCE_WORD_RE.finditer(text):
        numbers = _expand_numbers(match.group(2).replace("and", ","))
        if numbers and all(1 <= n <= resolver.max_number for n in numbers):
            markers.append(_Marker(match.start(), match.end(), match.group(0), "numeric",
                                   tuple(resolver.by_number(n) for n in numbers)))
    return markers


def _superscript_markers(text: str, resolver: "_ReferenceResolver") -> list[_Marker]:
    markers = []
    for match in _SUPERSCRIPT_RE.finditer(text):
        numbers = _expand_numbers(match.group(1))
        if not numbers or not all(1 <= n <= resolver.max_number for n in numbers):
            continue
        before = text[max(0, match.start() - 12):match.start()]
        if re.search(r"(\b[A-Z][a-z]?|\d|[A-Za-z]{1,2}_|\bFig\.|\bTable|\bEq\.)$", before):
            continue  # chemical formulas (CO2), numbered things, variables
        markers.append(_Marker(match.start(), match.end(), match.group(0), "superscript",
                               tuple(resolver.by_number(n) for n in numbers)))
    return markers


# ---- linking markers to references ------------------------------------------------------------
class _ReferenceResolver:
    """Reference-list lookups: by number, by bracket label, by first author and year."""

    def __init__(self, references: list[str]) -> None:
        self.count = len(references)
        self.numbers: dict[int, int] = {}
        self.labels: dict[str, int] = {}
        for index, raw in enumerate(references):
            label = re.match(r"^\s*\[\s*([^\]]{1,24}?)\s*\]", raw)
            number = re.match(r"^\s*(\d{1,3})[.)]?\s", raw)
            if label and label.group(1).isdigit():
                self.numbers.setdefault(int(label.group(1)), index)
            elif label:
                self.labels.setdefault(label.group(1).strip(), index)
            elif number:
                self.numbers.setdefault(int(number.group(1)), index)
        self.numbered = bool(self.numbers) or (self.count > 0 and not self.labels)
        self.max_number = max([self.count, *self.numbers]) if self.count else 999
        self._heads = [_fold(raw[:200]) for raw in references]
        self._folded = [_fold(raw) for raw in references]
        self._first_authors = [_fold(_first_author(raw)) for raw in references]
        self._raws = references

    def by_number(self, number: int) -> int | None:
        if number in self.numbers:
            return self.numbers[number]
        if not self.numbers and 1 <= number <= self.count:
            return number - 1  # an unnumbered list in citation order
        return None

    def by_author_year(self, names: str, year: str) -> int | None:
        """The reference whose authors start with the marker's first surname and that has its year."""
        surnames = [_fold(n) for n in re.findall(_NAME, names) if _fold(n) not in {"et", "al", "and"}]
        if not surnames or not self.count:
            return None
        first = surnames[0].split()[-1]
        several = bool(re.search(r"\bet\s+al\b", names)) or len(surnames) > 1
        plain_year, suffix = year[:4], year[4:]
        year_re = re.compile(rf"(?<!\d){plain_year}{suffix}(?![\d])" if suffix else rf"(?<!\d){plain_year}(?!\d)")
        name_re = re.compile(rf"\b{re.escape(first)}\b")
        best: tuple[tuple, int] | None = None
        for index, text in enumerate(self._folded):
            year_at = [m.start() for m in year_re.finditer(text)]
            name_at = [m.start() for m in name_re.finditer(text)]
            if not year_at or not name_at or name_at[0] > year_at[-1]:
                continue
            # A marker names the first author. Another author's surname counts only in the entry's head, before
            # its year; the first author's also in a long entry whose year comes late ("A. Campanella, H. Okui,
            # ... eleven authors, “a long title,” in Proc. ..., 2019").
            first_author = bool(name_re.search(self._first_authors[index]))
            if not first_author and (name_at[0] > year_at[0] or year_at[0] >= len(self._heads[index])):
                continue
            year = next(at for at in year_at if at > name_at[0])
            others = all(re.search(rf"\b{re.escape(s.split()[-1])}\b", text[:year]) for s in surnames[1:])
            # The first year after the authors is the entry's own; a later one may be an erratum's or a venue's.
            own_year = _YEAR_IN_ENTRY_RE.search(text, name_at[0])
            # "Smith et al." names a paper with co-authors, "Smith" one without (two Smith 2004 papers).
            key = (not first_author, not others, several != self._has_coauthors(index, plain_year),
                   own_year is None or own_year.start() != year, name_at[0], index)
            if best is None or key < best[0]:
                best = (key, index)
        return None if best is None else best[1]

    def _has_coauthors(self, index: int, year: str) -> bool:
        raw = self._raws[index]
        before = raw[:raw.find(year)] if year in raw else raw[:120]
        return bool(re.search(r"\band\b|&|\bet al\b", before)) or before.count(",") >= 3


_YEAR_IN_ENTRY_RE = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")


def _first_author(raw: str) -> str:
    """An entry's first author as printed: its text up to the first author separator ("A. Campanella",
    "Campanella", "Alesia Chernikova", "Ravenhall D. G."), its "[12]" or "12." label left out."""
    raw = re.sub(r"^\s*(?:\[[^\]]{1,24}\]|\(?\d{1,3}[.)]?)\s*", "", raw)
    return re.split(r"[,;&:(]|\s(?:and|et al)\b", raw, maxsplit=1)[0][:_FIRST_AUTHOR_CHARS]


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


# ---- sentences --------------------------------------------------------------------------------
def _sentence_around(text: str, start: int, end: int) -> tuple[str, int]:
    """The sentence of `text` holding the span [start, end), and the span's offset in it."""
    bounds = [0]
    for match in _SENTENCE_END_RE.finditer(text):
        if _abbreviation_before(text, match.start()):
            continue
        bounds.append(match.end())
    bounds.append(len(text))
    left = max(b for b in bounds if b <= start)
    right = min(b for b in bounds if b >= end) if any(b >= end for b in bounds) else len(text)
    sentence = text[left:right]
    offset = start - left
    stripped = sentence.strip()
    offset -= len(sentence) - len(sentence.lstrip())
    if len(stripped) > MAX_SENTENCE_CHARS:
        window_start = max(0, offset - WINDOW_CHARS)
        window_end = min(len(stripped), offset + (end - start) + WINDOW_CHARS)
        piece = stripped[window_start:window_end]
        stripped = ("… " if window_start else "") + piece.strip() + (" …" if window_end < len(stripped) else "")
        offset = offset - window_start + (2 if window_start else 0)
    return stripped, offset


def _abbreviation_before(text: str, dot: int) -> bool:
    word = re.search(r"([A-Za-z.]+)$", text[max(0, dot - 8):dot])
    if word is None:
        return False
    token = word.group(1).lower().rstrip(".")
    if token.endswith("et al") or token in _ABBREVIATIONS or re.fullmatch(r"[a-z]", token):
        return True
    return text[max(0, dot - 6):dot].lower().endswith("et al")


def sentence_without_markers(sentence: str) -> str:
    """The claim a citing sentence makes, its markers removed (the form a writer's uncited draft sentence has)."""
    text = _NUMERIC_RE.sub(" ", sentence)
    text = re.sub(r"\((?:[^()]*?\b(?:19|20)\d{2}[a-z]?\b[^()]*?)\)", " ", text)
    text = _NARRATIVE_RE.sub(lambda m: m.group(1), text)
    text = re.sub(r"\s+([.,;:])", r"\1", text)
    return " ".join(text.split())
