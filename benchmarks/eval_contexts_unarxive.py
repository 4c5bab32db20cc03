"""Citation contexts on papers the finder was not developed on: unarXive 2022 (49 arXiv papers).

Ground truth comes from the LaTeX sources: unarXive's `body_text` paragraphs carry
`{{cite:ref_id}}` spans and each paper's `bib_entries` the raw reference strings. Each
paper is rendered as the finder receives a PDF import (`store.citation_contexts.analysis_input`):
page texts with one visual line per text line (paragraphs wrapped at ~95 characters, no
blank lines, section headings on their own line, ~48 lines a page, the reference list
after a "References" heading at the end), and the raw reference strings in list order.
Every run of adjacent `{{cite:...}}` spans (separated by spaces, commas or semicolons;
one `\\cite{a,b}`) becomes one printed marker, in one of these styles:

- numeric:        "[3, 5]", "[3–7]" (sorted, runs of three or more compressed, en dash);
                  list entries "[n] raw", in the paper's bibliography order.
- numeric-compact: "[3,5]", "[3-7]" (hyphen), "Refs. [3,4]" after "in"/"see"/"of"/"from";
                  list entries "n. raw".
- superscript:    raised numbers glued to the word or punctuation before them, as the text layer
                  keeps them ("approaches.12", "networks4,8,12–14"), "ref. 7" after "in"/"see"/...;
                  list entries "n. raw".
- author-year:    natbib \\citep: "(Smith et al., 2019; Wu, 2020a)", "(Smith and Lee, 2019)",
                  one author's years merged "(Smith et al., 2019a,b)", and inside the text's own
                  parentheses without a second pair: "(see Smith et al., 2019)"; list sorted by
                  first author, a/b suffixes added to the list entry's year where needed.
- author-year-narrative: as above, but a single citation after "in/by/of/see/from/following/
                  and/to" or opening a sentence reads "Smith et al. (2019)", and a name the text
                  already spells before the citation ("Saha et al. {{cite}}") becomes the narrative marker.
- author-year-acm: ACM's "[Smith et al. 2019; Wu 2020a]" and "Smith et al. [2019]".
- author-year-intl: the narrative style, with two in five first authors renamed (in the list
                  entry and the marker) to names with particles or diacritics ("van der Berg",
                  "Müller", "O'Neill", "Dvořák", ...), capitalised at a sentence start.
- author-year-apa: APA: "(Smith & Lee, 2019)", three to five authors spelt out the first time
                  ("(Smith, Lee, & Wu, 2019)", "Smith, Lee, and Wu (2019)"), "et al." after.

The first author's surname, the author count and the year are read off `bib_entry_raw`;
a reference where they cannot be read confidently (no year, "—" ditto entries, a
collaboration) is left out of the author-year renderings (its citation is dropped from
the text and from the truth; the count is printed). `{{formula:...}}` prints as "x",
figures and tables as numbers, "REF" (a LaTeX \\ref) stays.

Truth: the set of (sentence, reference) pairs, sentences split by this script's own rule
(never inside a marker; not after "et al.", "e.g.", "Fig.", initials, ...). A predicted
context (its sentence, its linked reference) is right when its reference is cited by a
true sentence that equals its sentence, or holds it (the prediction is at least half of
it), or is held by it (the prediction spans more than one true sentence: the first
unmatched one citing that reference is taken); each true pair is matched once.
Precision and recall are over pairs, per style, pooled over papers; "exact" counts
predictions whose sentence is the true one.

Reference splitting (`--splitting`): each rendered list is laid out as PDF text lines (95
characters wide, 9 pt; "flat": every line at the margin; "hanging": continuation lines
indented 12 pt) and split by the importer's `pdf_references.split_entries`; an entry counts
when it comes back exactly (whitespace aside).

Baseline in the same run: a bare "[digits]" / "(Name et al., year)" regex over ". "
split sentences. With `--compare-to REV` the finder as committed at git revision REV runs
too, and the F1 difference per style is printed with a paired standard error over papers.

    python benchmarks/eval_contexts_unarxive.py [--compare-to HEAD~3] [--examples 8] [--style numeric]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import random
import re
import subprocess
import sys
import tempfile
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "unarxive_samples" / "2022_open_subset_sample" / "arXiv_src_2212_086.jsonl"
sys.path.insert(0, str(ROOT))

STYLES = ("numeric", "numeric-compact", "superscript", "author-year", "author-year-narrative", "author-year-acm",
          "author-year-intl", "author-year-apa")
LINE_WIDTH = 95
LINES_PER_PAGE = 48
PARTICLES = {"van", "von", "de", "der", "den", "da", "di", "du", "la", "le", "del", "dos", "ten", "ter", "bin"}
INTL_NAMES = ["van der Berg", "Müller", "de la Cruz", "O'Neill", "Østergaard", "García-Pérez", "von Neumann",
              "Dvořák", "Şahin", "D'Angelo", "Le Roux", "Nguyễn", "Björklund", "dos Santos", "Čech", "ten Brink"]
NARRATIVE_BEFORE = re.compile(r"\b(?:in|by|of|see|from|following|and|to|with|than)\s*$", re.IGNORECASE)
_YEAR_CANDIDATE = re.compile(r"(?<![\w./:\-–])((?:19|20)\d{2})([a-z]?)(?![\w]|[./\-]\d)")
_ABBREVIATIONS = {"et al", "e.g", "i.e", "fig", "figs", "eq", "eqs", "ref", "refs", "sec", "sect", "secs", "tab",
                  "vs", "cf", "resp", "approx", "no", "nos", "vol", "pp", "dr", "prof", "mr", "ms", "st", "jr", "inc",
                  "ch", "app", "thm", "prop", "lem", "def", "cor", "alg", "eqn", "eqns", "viz", "al", "ca", "etc"}


# ---- reading the references ---------------------------------------------------------------------
@dataclass
class Cited:
    """What an author-year marker prints for one reference."""
    surname: str
    second: str | None  # the second author's surname when there are exactly two
    many: bool  # three or more authors: "et al."
    year: str
    suffix: str = ""
    names: tuple[str, ...] = ()  # every author's surname, when the entry lists them all
    mentioned: bool = False  # cited before in this paper (APA spells three to five authors out the first time)


def _clean(text: str) -> str:
    text = re.sub(r"\{\{formula:[^}]*\}\}", "x", text)
    text = re.sub(r"\{\{(?:figure|table):[^}]*\}\}", "1", text)
    text = re.sub(r"\{\{[a-z]+:[^}]*\}\}", "x", text)
    text = text.replace("~", " ").replace("``", "“").replace("''", "”").replace("--", "–")
    return " ".join(text.split())


def _fold(text: str) -> str:
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^\w\s]", " ", text.lower()).split())


def _is_initials(token: str) -> bool:
    return bool(re.fullmatch(r"(?:[A-Z]\.?|[A-Z][a-z]\.)(?:-?(?:[A-Z]\.?|[A-Z][a-z]\.))*", token.replace("‐", "-")))


def _name_tokens(chunk: str) -> list[str]:
    return [t for t in re.split(r"\s+", chunk.strip()) if t]


def _surname_of_given_first(tokens: list[str]) -> str | None:
    """'T. Alazard' / 'Craig D Roberts' / 'J. van der Berg' -> surname."""
    if len(tokens) < 2 or _is_initials(tokens[-1]):
        return None
    parts = [tokens[-1]]
    for token in reversed(tokens[:-1]):
        if token in PARTICLES:
            parts.insert(0, token)
        else:
            break
    return " ".join(parts)


def read_cited(raw: str) -> Cited | None:
    """First author's surname, the second's (two authors), et al. or not, and the year; None when unsure."""
    raw = _clean(raw)
    if re.match(r"^[—–\-_]", raw) or re.search(r"collaboration|consortium|team\b", raw[:60], re.IGNORECASE):
        return None
    years = list(_YEAR_CANDIDATE.finditer(raw))
    if not years:
        return None
    paren = next((m for m in years if raw[m.start() - 1:m.start()] == "(" and raw[m.end():m.end() + 1] == ")"), None)
    year, suffix = (paren or years[0]).groups()
    # the author part ends at the year, a quote, a parenthesis, or a period after a word that is not an initial
    cut = len(raw)
    for pattern in (_YEAR_CANDIDATE, re.compile(r"[“\"(]"), re.compile(r"(?<=[a-z\u00e0-\u017f]{2})\.\s")):
        found = pattern.search(raw)
        if found:
            cut = min(cut, found.start())
    segment = raw[:cut]
    many = bool(re.search(r"\bet\s+al\b", segment))
    segment = re.sub(r"\bet\s+al\.?", "", segment)
    chunks = [c.strip() for c in re.split(r"\s*[,;]\s*|\s+(?:and|&)\s+", segment) if c.strip()]
    chunks = [re.sub(r"^(?:and|&)\s+", "", c) for c in chunks]
    if not chunks:
        return None
    first = _name_tokens(chunks[0])
    names: list[str] = []
    if len(chunks) > 1 and _is_initials(chunks[1].split()[0]) and all(not _is_initials(t) for t in first) and len(first) <= 3:
        # "Kurono, Y., Saito, M., & Kawabe, R." : surname, initials pairs
        for index, chunk in enumerate(chunks):
            tokens = _name_tokens(chunk)
            if all(_is_initials(t) for t in tokens):
                continue
            if re.search(r"\d", chunk) or len(tokens) > 3 or not (tokens[0][0].isupper() or tokens[0] in PARTICLES):
                break
            names.append(chunk)
    elif len(first) >= 2 and not _is_initials(first[0]) and _is_initials(first[-1]):
        # "Ravenhall D. G., Pethick C. J." : surname then initials
        for chunk in chunks:
            tokens = _name_tokens(chunk)
            if re.search(r"\d", chunk) or not tokens or not _is_initials(tokens[-1]):
                break
            names.append(" ".join(t for t in tokens if not _is_initials(t)))
    else:
        # "T. Alazard, O. Lazar, and Q. H. Nguyen" / "Alesia Chernikova and Alina Oprea"
        for chunk in chunks:
            tokens = _name_tokens(chunk)
            surname = _surname_of_given_first(tokens)
            if surname is None or re.search(r"\d", chunk) or len(tokens) > 5 or not surname[-1:].isalpha() \
                    or not (surname[0].isupper() or surname.split()[0] in PARTICLES or surname[0] in "'’"):
                break
            names.append(surname)
    if not names:
        return None
    surnames = [n if " " not in n or n.split()[0] in PARTICLES else n for n in names]
    first_name = surnames[0]
    head = _fold(raw[:raw.find(year) if year in raw else len(raw)])
    if not first_name[:1].isupper() and first_name.split()[0] not in PARTICLES:
        return None
    if not re.search(rf"\b{re.escape(_fold(first_name))}\b", head) or len(_fold(first_name)) < 2:
        return None
    many = many or len(surnames) >= 3
    second = surnames[1] if len(surnames) == 2 and not many else None
    names = tuple(surnames) if len(surnames) <= 5 and not re.search(r"\bet\s+al\b", raw[:cut]) else ()
    return Cited(first_name, second, many, year, suffix, names)


# ---- rendering ----------------------------------------------------------------------------------
@dataclass
class Rendered:
    paper_id: str
    pages: list[tuple[int, str]]
    references: list[str]
    ref_ids: list[str]  # reference index -> unarXive ref_id
    truth: list[tuple[str, set[str]]]  # (sentence, ref_ids it cites)
    markers: list[tuple[str, set[str]]] = field(default_factory=list)  # (marker as printed, ref_ids)
    dropped: int = 0  # citations left out (their reference could not be read for author-year)


def _group_cites(text: str, spans: list[dict]) -> list[tuple[int, int, list[str]]]:
    """Runs of adjacent cite spans: (start, end, ref_ids)."""
    groups: list[tuple[int, int, list[str]]] = []
    for span in sorted(spans, key=lambda s: s["start"]):
        if groups and re.fullmatch(r"[\s,;]*", text[groups[-1][1]:span["start"]]):
            start, _, ids = groups[-1]
            groups[-1] = (start, span["end"], ids + [span["ref_id"]])
        else:
            groups.append((span["start"], span["end"], [span["ref_id"]]))
    return groups


def _compress(numbers: list[int], dash: str, sep: str) -> str:
    numbers = sorted(set(numbers))
    parts, run = [], [numbers[0]]
    for n in numbers[1:]:
        if n == run[-1] + 1:
            run.append(n)
        else:
            parts.append(run)
            run = [n]
    parts.append(run)
    out = []
    for run in parts:
        out.append(f"{run[0]}{dash}{run[-1]}" if len(run) >= 3 else sep.join(str(n) for n in run))
    return sep.join(out)


def _author_text(cited: Cited, apa: bool = False, narrative: bool = True) -> str:
    and_ = "&" if apa and not narrative else "and"
    first_time, cited.mentioned = not cited.mentioned, True
    if apa and first_time and 3 <= len(cited.names) <= 5:
        return f"{', '.join(cited.names[:-1])}, {and_} {cited.names[-1]}"
    if cited.many:
        return f"{cited.surname} et al."
    if cited.second:
        return f"{cited.surname} {and_} {cited.second}"
    return cited.surname


def _paren_items(cites: list[Cited], acm: bool, apa: bool = False) -> str:
    """'Smith et al., 2019a,b; Wu, 2020' (natbib) or 'Smith et al. 2019a,b; Wu 2020' (ACM)."""
    items: list[tuple[str, list[tuple[str, str]]]] = []
    for cited in cites:
        author = _author_text(cited, apa, narrative=False)
        if items and items[-1][0] == author:
            items[-1][1].append((cited.year, cited.suffix))
        else:
            items.append((author, [(cited.year, cited.suffix)]))
    printed = []
    for author, years in items:
        text = years[0][0] + years[0][1]
        for (year, suffix), (previous, _) in zip(years[1:], years):
            text += f",{suffix}" if year == previous and suffix else f", {year}{suffix}"
        printed.append(f"{author}{'' if acm else ','} {text}")
    return "; ".join(printed)


def _in_open_parenthesis(before: str) -> bool:
    depth = 0
    for ch in reversed(before[-200:]):
        if ch == ")":
            depth += 1
        elif ch == "(":
            if depth == 0:
                return True
            depth -= 1
    return False


def render_paper(paper: dict, style: str) -> Rendered | None:
    bib = paper["bib_entries"]
    author_year = style.startswith("author-year")
    rng = random.Random(int(hashlib.sha1(paper["paper_id"].encode()).hexdigest()[:8], 16))
    ref_ids = list(bib)
    cited: dict[str, Cited] = {}
    raws = {rid: _clean(bib[rid]["bib_entry_raw"]) for rid in ref_ids}
    if author_year:
        for rid in ref_ids:
            entry = read_cited(bib[rid]["bib_entry_raw"])
            if entry is None:
                continue
            if style == "author-year-intl" and rng.random() < 0.4:
                new = rng.choice(INTL_NAMES)
                raws[rid] = re.sub(rf"(?<![\w]){re.escape(entry.surname)}(?![\w])", new, raws[rid], count=1)
                entry.surname = new
            cited[rid] = entry
        ref_ids = sorted(cited, key=lambda r: (_fold(cited[r].surname), cited[r].year, ref_ids.index(r)))
        labels: dict[tuple[str, str], list[str]] = {}
        for rid in ref_ids:
            labels.setdefault((_fold(cited[rid].surname), cited[rid].year), []).append(rid)
        for same in labels.values():
            suffixes = {cited[rid].suffix for rid in same}
            if len(same) > 1 and not (len(suffixes) == len(same) and "" not in suffixes):
                for letter, rid in zip("abcdefghijklmnopqrstuvwxyz", same):
                    year, old = cited[rid].year, cited[rid].suffix
                    cited[rid].suffix = letter
                    raws[rid] = re.sub(rf"(?<!\d){year}{old}(?![\w])", year + letter, raws[rid], count=1)
        references = [raws[r] for r in ref_ids]
    elif style == "numeric":
        references = [f"[{i + 1}] {raws[r]}" for i, r in enumerate(ref_ids)]
    else:
        references = [f"{i + 1}. {raws[r]}" for i, r in enumerate(ref_ids)]
    number = {rid: i + 1 for i, rid in enumerate(ref_ids)}
    rendered = Rendered(paper["paper_id"], [], references, ref_ids, [])
    lines: list[str] = []
    section = None
    for paragraph in paper["body_text"]:
        if paragraph.get("section") and paragraph["section"] != section:
            section = paragraph["section"]
            lines.append(f"{paragraph.get('sec_number') or ''} {_clean(section)}".strip())
        text, markers = _render_paragraph(paragraph, style, number, cited, rendered)
        if not text:
            continue
        rendered.markers.extend((text[s:e], ids) for s, e, ids in markers)
        rendered.truth.extend(_truth_sentences(text, markers))
        lines.extend(_wrap(text))
    lines.append("References")
    for raw in references:
        lines.extend(_wrap(raw))
    rendered.pages = [(i // LINES_PER_PAGE + 1, "\n".join(lines[i:i + LINES_PER_PAGE]))
                      for i in range(0, len(lines), LINES_PER_PAGE)]
    return rendered


def _render_paragraph(paragraph: dict, style: str, number: dict, cited: dict, rendered: Rendered):
    """The paragraph's printed text and its markers [(start, end, ref_ids)]."""
    source = paragraph["text"]
    known = [s for s in paragraph["cite_spans"] if s["ref_id"] in number]
    rendered.dropped += sum(1 for s in paragraph["cite_spans"] if s["ref_id"] not in number)
    out = ""
    markers: list[tuple[int, int, set[str]]] = []
    position = 0
    for start, end, ids in _group_cites(source, known):
        before = _clean_keep_edges(source[position:start])
        out += before
        position = end
        ids = list(dict.fromkeys(ids))
        marker, strip = _marker_text(style, ids, number, cited, out)
        if strip:
            out = out[:len(out) - strip]
        moved = ""
        if style.startswith("author-year") and re.search(r"[.,;:]\s*$", out):
            # "approaches.\cite{x} Next" prints "approaches.¹ Next" in a superscript style; an author-year
            # citation goes before the punctuation
            trimmed = out.rstrip()
            moved, out = trimmed[-1], trimmed[:-1]
        if not out.endswith((" ", "(", "[")) and out and marker and not marker.startswith(("(", " ")) \
                and not out.endswith((".", ",")) and not (style == "superscript" and marker[:1].isdigit()):
            out += " "
        if marker.startswith("(") and out and not out.endswith((" ", "(")):
            out += " "
        markers.append((len(out), len(out) + len(marker), set(ids)))
        out += marker + moved
    out += _clean_keep_edges(source[position:])
    # collapse whitespace, moving marker offsets along
    text, shift = "", []
    mapping = []
    previous_space = True
    for ch in out:
        mapping.append(len(text))
        if ch.isspace():
            if not previous_space:
                text += " "
            previous_space = True
        else:
            text += ch
            previous_space = False
    mapping.append(len(text))
    stripped = text.rstrip()
    fixed = [(mapping[s], mapping[e] if e < len(mapping) else len(text), ids) for s, e, ids in markers]
    fixed = [(s, min(e, len(stripped)), ids) for s, e, ids in fixed if e > s]
    return stripped, fixed


def _clean_keep_edges(text: str) -> str:
    lead = " " if text[:1].isspace() else ""
    tail = " " if text[-1:].isspace() else ""
    body = _clean(text)
    return (lead + body + tail) if body else (lead or tail)


def _marker_text(style: str, ids: list[str], number: dict, cited: dict, before: str) -> tuple[str, int]:
    """(marker, characters to strip from the text before it)."""
    if style == "superscript":
        numbers = [number[i] for i in ids]
        body = _compress(numbers, "–", ",")
        if NARRATIVE_BEFORE.search(before.rstrip()):
            return ("refs. " if len(numbers) > 1 else "ref. ") + body, 0
        return body, len(before) - len(before.rstrip())  # raised and glued: "approaches.12", "networks12,13"
    if not style.startswith("author-year"):
        numbers = [number[i] for i in ids]
        if style == "numeric":
            return f"[{_compress(numbers, '–', ', ')}]", 0
        body = f"[{_compress(numbers, '-', ',')}]"
        if NARRATIVE_BEFORE.search(before.rstrip()) and not re.search(r"Refs?\.\s*$", before.rstrip()):
            return ("Refs. " if len(numbers) > 1 else "Ref. ") + body, 0
        return body, 0
    cites = [cited[i] for i in ids]
    acm, apa = style == "author-year-acm", style == "author-year-apa"
    narrative_style = style in ("author-year-narrative", "author-year-acm", "author-year-intl", "author-year-apa")
    trimmed = before.rstrip()
    if narrative_style and len(cites) == 1:
        one = cites[0]
        year = one.year + one.suffix
        open_, close = ("[", "]") if acm else ("(", ")")
        spelled = re.search(rf"{re.escape(one.surname)}(?:\s+et\s+al\.?|\s+and\s+[\w'’\-]+)?\s*$", trimmed)
        if spelled:
            return f"{_author_text(one, apa)} {open_}{year}{close}", len(before) - spelled.start()
        sentence_start = not trimmed or trimmed.endswith((".", "!", "?", ":"))
        if sentence_start or NARRATIVE_BEFORE.search(trimmed):
            author = _author_text(one, apa)
            if sentence_start:
                author = author[:1].upper() + author[1:]
            return f"{author} {open_}{year}{close}", 0
    items = _paren_items(cites, acm, apa)
    if acm:
        return f"[{items}]", 0
    if _in_open_parenthesis(before):
        return items, 0
    return f"({items})", 0


def _wrap(text: str) -> list[str]:
    lines, current = [], ""
    for word in text.split(" "):
        if current and len(current) + 1 + len(word) > LINE_WIDTH:
            lines.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    if current:
        lines.append(current)
    return lines


# ---- truth sentences ----------------------------------------------------------------------------
_END = re.compile(r"[.!?][\"”’)]*(?:\s*\[[^\]]{1,40}\])?(?=\s+[\"“(\[]?[A-Z0-9])")


def _truth_sentences(text: str, markers: list[tuple[int, int, set[str]]]) -> list[tuple[str, set[str]]]:
    bounds = [0]
    for match in _END.finditer(text):
        dot = match.start()
        if any(s <= dot < e for s, e, _ in markers):
            continue
        word = re.search(r"([A-Za-z.]+)$", text[max(0, dot - 10):dot])
        token = word.group(1).lower().strip(".") if word else ""
        if token in _ABBREVIATIONS or token.endswith("et al") or re.fullmatch(r"[a-z]", token):
            continue
        end = match.end()
        if any(s < end < e for s, e, _ in markers):
            continue
        bounds.append(end)
    for s, e, _ in markers:  # "approaches.12 Next": the raised marker ends the sentence before it
        if s > 0 and text[s - 1] in ".!?" and re.match(r"\s+[\"“(\[]?[A-Z0-9]", text[e:]) and text[s:e][:1].isdigit():
            bounds.append(e)
    bounds = sorted(set(bounds))
    bounds.append(len(text))
    sentences = []
    for left, right in zip(bounds, bounds[1:]):
        ids: set[str] = set()
        for s, e, marker_ids in markers:
            if left <= s < right:
                ids |= marker_ids
        if ids:
            sentences.append((" ".join(text[left:right].split()), ids))
    return sentences


# ---- scoring ------------------------------------------------------------------------------------
@dataclass
class Score:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    exact: int = 0

    def add(self, other: "Score") -> None:
        self.tp += other.tp
        self.fp += other.fp
        self.fn += other.fn
        self.exact += other.exact

    @property
    def f1(self) -> float:
        return 2 * self.tp / (2 * self.tp + self.fp + self.fn) if self.tp else 0.0

    def text(self) -> str:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        return f"P {p:.3f}  R {r:.3f}  F1 {self.f1:.3f}  (tp {self.tp}, fp {self.fp}, fn {self.fn}; exact {self.exact})"


def _norm(sentence: str) -> str:
    return " ".join(sentence.replace("…", " ").split())


def _key(sentence: str) -> str:
    """Sentences compared without spaces and hyphens: a line-end "high-" + "and" joins either way."""
    return re.sub(r"[\s\-‐–…]", "", sentence)


def score_paper(paper: Rendered, predicted: list[tuple[str, int | None]], misses: list | None = None) -> Score:
    """Pairs keyed by sentence text (a paragraph unarXive holds twice counts once)."""
    truth: dict[str, set[str]] = {}
    for text, ids in paper.truth:
        truth.setdefault(_key(text), set()).update(ids)
    texts = {_key(text): text for text, _ in paper.truth}
    unmatched = {(key, rid) for key, ids in truth.items() for rid in ids}
    score = Score()
    seen = set()
    for sentence, index in predicted:
        rid = paper.ref_ids[index] if index is not None and 0 <= index < len(paper.ref_ids) else None
        windowed = "…" in sentence
        key = _key(sentence)
        if (key, rid) in seen:
            continue
        seen.add((key, rid))
        candidates = [k for k, ids in truth.items() if rid in ids and (k, rid) in unmatched]
        hit = next((k for k in candidates if k == key), None)
        hit = hit or next((k for k in candidates if key in k and (windowed or len(key) * 2 >= len(k))), None)
        hit = hit or next((k for k in candidates if k in key), None)
        if hit is None:
            score.fp += 1
            if misses is not None:
                misses.append(("fp", paper.paper_id, sentence, paper.references[index] if rid else None))
            continue
        unmatched.discard((hit, rid))
        score.tp += 1
        score.exact += hit == key
    score.fn = len(unmatched)
    if misses is not None:
        for key, rid in sorted(unmatched):
            misses.append(("fn", paper.paper_id, texts[key], paper.references[paper.ref_ids.index(rid)]))
    return score


# ---- finders ------------------------------------------------------------------------------------
def finder_from_module(module):
    def find(pages, references):
        return [(c.sentence, c.reference_index) for c in module.find_citation_contexts(pages, references)]
    return find


def module_at_revision(revision: str, module: str = "citation_contexts"):
    """An ingest module as committed at `revision` (for a paired before/after in one run)."""
    source = subprocess.run(["git", "show", f"{revision}:scimult_desktop/ingest/{module}.py"],
                            cwd=ROOT, capture_output=True, text=True, check=True).stdout
    path = Path(tempfile.mkdtemp()) / f"{module}_at_revision.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"{module}_at_revision", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_BARE_NUMERIC = re.compile(r"\[(\d{1,3})\]")
_BARE_AUTHOR_YEAR = re.compile(r"\(([A-Z][\w'\-]+)(?: et al\.)?, ((?:19|20)\d{2})\)")


def baseline(pages, references):
    """'[n]' (n-1 as the index) or '(Name[ et al.], year)' (first entry starting with Name) in '. '-split sentences."""
    found = []
    text = " ".join(" ".join(t for _, t in pages).split())
    text = text[:text.rfind("References")] if "References" in text else text
    for sentence in re.split(r"(?<=\.)\s+", text):
        for match in _BARE_NUMERIC.finditer(sentence):
            index = int(match.group(1)) - 1
            found.append((sentence, index if 0 <= index < len(references) else None))
        for match in _BARE_AUTHOR_YEAR.finditer(sentence):
            index = next((i for i, raw in enumerate(references) if raw.startswith(match.group(1))
                          and match.group(2) in raw), None)
            found.append((sentence, index))
    return found


# ---- reference splitting ---------------------------------------------------------------------------
def reference_lines(references: list[str], layout: str) -> list:
    """A rendered reference list as the PDF layout reader gives it: one TextLine per wrapped line."""
    import textwrap

    from scimult_desktop.ingest.pdf_layout import TextLine

    lines, y = [], 100.0
    for entry in references:
        for k, text in enumerate(textwrap.wrap(entry, LINE_WIDTH)):
            x0 = 84.0 if k and layout == "hanging" else 72.0
            lines.append(TextLine(text=text, x0=x0, y0=y, x1=x0 + 4.6 * len(text), y1=y + 9.0, size=9.0, page=1))
            y += 11.0
    return lines


def splitting(papers: list[dict], splitters: dict) -> None:
    print("\nReference splitting: entries recovered exactly (simulated PDF lines)")
    for style, layout in (("numeric", "flat"), ("numeric-compact", "flat"), ("author-year", "hanging"),
                          ("author-year", "flat")):
        rendered = [r for r in (render_paper(p, style) for p in papers) if r.references]
        total = sum(len(r.references) for r in rendered)
        for name, split in splitters.items():
            exact = 0
            for paper in rendered:
                got = {" ".join(e.split()) for e in split(reference_lines(paper.references, layout))}
                exact += sum(1 for raw in paper.references if " ".join(raw.split()) in got)
            print(f"  {style:16s} {layout:8s} {name:22s} {exact}/{total} ({exact / total:.3f})")


# ---- main ---------------------------------------------------------------------------------------
def load_papers() -> list[dict]:
    with DATA.open(encoding="utf-8") as handle:
        papers = [json.loads(line) for line in handle]
    return [p for p in papers if any(para["cite_spans"] for para in p["body_text"]) and p["bib_entries"]]


def _paired_se(differences: list[float]) -> float:
    n = len(differences)
    if n < 2:
        return 0.0
    mean = sum(differences) / n
    return math.sqrt(sum((d - mean) ** 2 for d in differences) / (n - 1) / n)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare-to", help="git revision of the finder to run as 'before' in the same process")
    parser.add_argument("--examples", type=int, default=0, help="print this many missed/wrong pairs per style")
    parser.add_argument("--style", action="append", choices=STYLES, help="only these styles")
    parser.add_argument("--splitting", action="store_true", help="also measure reference-list splitting")
    args = parser.parse_args(argv)
    if not DATA.is_file():
        print(f"skipped: {DATA} not found (the unarXive sample lives beside the project in ../shared)",
              file=sys.stderr)
        return 0
    from scimult_desktop.ingest import citation_contexts

    finders = {"bare regex": baseline}
    if args.compare_to:
        finders[f"scimult@{args.compare_to}"] = finder_from_module(module_at_revision(args.compare_to))
    finders["scimult"] = finder_from_module(citation_contexts)
    papers = load_papers()
    print(f"unarXive 2022 sample: {len(papers)} papers with citations; sentence-level (sentence, reference) pairs")
    rng = random.Random(7)
    for style in args.style or STYLES:
        rendered = [r for r in (render_paper(p, style) for p in papers) if r is not None and r.truth]
        pairs = sum(len({(_key(text), rid) for text, ids in r.truth for rid in ids}) for r in rendered)
        dropped = sum(r.dropped for r in rendered)
        print(f"\n{style}: {len(rendered)} papers, {pairs} true pairs"
              + (f", {dropped} citations dropped (reference not readable as author + year)" if dropped else ""))
        per_paper: dict[str, list[Score]] = {}
        misses: list = []
        for name, finder in finders.items():
            total = Score()
            for paper in rendered:
                score = score_paper(paper, finder(paper.pages, paper.references),
                                    misses if name == "scimult" else None)
                per_paper.setdefault(name, []).append(score)
                total.add(score)
            print(f"  {name:22s} {total.text()}")
        names = list(finders)
        for before in names[:-1]:
            diffs = [a.f1 - b.f1 for a, b in zip(per_paper["scimult"], per_paper[before])]
            print(f"  scimult - {before}: mean per-paper F1 {sum(diffs) / len(diffs):+.3f} "
                  f"(paired SE {_paired_se(diffs):.3f}, {len(diffs)} papers)")
        if args.examples and misses:
            for kind, paper_id, sentence, reference in rng.sample(misses, min(args.examples, len(misses))):
                print(f"    {kind} {paper_id}: {sentence[:300]!r}\n        ref: {(reference or '-')[:120]!r}")
    if args.splitting:
        from scimult_desktop.ingest import pdf_references

        splitters = {}
        if args.compare_to:
            splitters[f"importer@{args.compare_to}"] = module_at_revision(args.compare_to, "pdf_references").split_entries
        splitters["importer"] = pdf_references.split_entries
        splitting(papers, splitters)
    return 0


if __name__ == "__main__":
    sys.exit(main())
