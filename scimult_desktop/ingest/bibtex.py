"""BibTeX / BibLaTeX import on bibtexparser 2.x.

Design choices:
- bibtexparser only splits the file and resolves @string macros; LaTeX is
  decoded here, and only for the fields shown to people (title, names, venue,
  abstract, keywords). Paths, URLs and DOIs stay raw, because LaTeX decoding
  mangles backslashes and underscores in them. Values without LaTeX markup skip
  the decoder entirely: it dominates parse time on large exports.
- An unescaped `%` is literal text in BibTeX values (ACM abstracts say "20% of
  adults"), but a comment in LaTeX, so it is escaped before decoding.
- The citation key is kept exactly as written. Entries bibtexparser rejects only
  for duplicate keys or duplicate fields are recovered (as Better BibTeX does);
  keyless entries (EndNote exports) are read too.
- crossref/xref parents fill fields the child lacks, transitively and safely
  against cycles; a container parent's title becomes the child's booktitle.
- Blocks that cannot be read are reported with file and line; the rest import.
- What a small file can expand to is bounded (a 600-byte @string "billion
  laughs" once took 1.5 GB): each value is cut at `MAX_VALUE_CHARS`, a crossref
  chain is followed `MAX_CROSSREF_DEPTH` levels, a parent's field longer than
  `MAX_INHERITED_CHARS` is not copied into its children, and all values of a
  file together may not exceed `expansion_budget(...)` characters, else the
  file fails as too large. Every cut is reported with file and line.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Iterator

from scimult_desktop.domain.ids import normalize_arxiv_id, normalize_doi, normalize_title
from scimult_desktop.domain.records import Attachment, ImportedRecord, ImportProblem, Paper
from scimult_desktop.errors import ImportFailed
from scimult_desktop.ingest.base import ImportItem
from scimult_desktop.ingest.limits import MAX_ABSTRACT_CHARS
from scimult_desktop.ingest.text_decoding import DecodedText, decode_text, what_it_is

# Characters one field or @string may expand to (the longest field kept: an abstract).
MAX_VALUE_CHARS = MAX_ABSTRACT_CHARS
# A `file` field lists paths: cut, its last path would be a wrong one; the attachment cap applies later.
MAX_FILE_FIELD_CHARS = 2_000_000
# crossref levels followed (classic BibTeX follows one; real files use two or three).
MAX_CROSSREF_DEPTH = 16
# A parent's field longer than this (a long abstract or note) is the parent's own, not its children's.
MAX_INHERITED_CHARS = 10_000
# All field values of a file together, after macros and crossref: this many times its size, at least the floor.
EXPANSION_FACTOR = 8
EXPANSION_FLOOR_CHARS = 8_000_000

# First non-empty one is the venue.
_VENUE_FIELDS = ("journal", "journaltitle", "booktitle", "eventtitle", "series", "publisher", "school", "institution",
                 "organization")
# Fields kept as columns, tags or attachments, so not repeated in `extra`.
_MAPPED_FIELDS = {"title", "author", "abstract", "doi", "year", "file", "keywords", "groups"}
# Parents that contain their children: their title is the child's booktitle, not its title.
_CONTAINER_TYPES = {"book", "mvbook", "proceedings", "mvproceedings", "collection", "mvcollection", "reference",
                    "mvreference", "periodical", "journal"}
_NOT_INHERITED = {"crossref", "xref", "xdata", "ids", "entryset", "label", "shorthand", "sortkey", "file", "keywords", "groups"}
_TITLE_FIELDS = {"title", "subtitle", "titleaddon", "shorttitle", "sorttitle", "indextitle"}
_BOOK_TITLE_MAP = {"title": "booktitle", "subtitle": "booksubtitle", "titleaddon": "booktitleaddon"}

_LATEX_MARKUP = re.compile(r"[\\{}$~]|--")
_UNESCAPED_PERCENT = re.compile(r"(?<!\\)%")
# Boxes hide their argument from pylatexenc's text conversion; their content is plain text.
_BOX_MACROS = re.compile(r"\\(?:mbox|hbox|text|textnormal|ensuremath)\s*(?=\{)")
# `@article{` directly followed by `field =`: an entry without key (EndNote exports).
_KEYLESS_ENTRY = re.compile(r"(@(?!(?:string|preamble|comment)\b)[A-Za-z]+\s*\{)(?=\s*[A-Za-z][\w-]*\s*=)", re.IGNORECASE)
_AND_SPLIT = re.compile(r"\s+and\s+", re.IGNORECASE)

_log = logging.getLogger(__name__)


class BibtexImporter:
    """Reads .bib/.bibtex/.biblatex files (see the module docstring for choices)."""

    kind = "bibtex"

    def can_import(self, path: Path) -> bool:
        return path.suffix.lower() in {".bib", ".bibtex", ".biblatex"}

    def read(self, path: Path) -> Iterator[ImportItem]:
        """Yield one record per entry with a title and one problem per unreadable block.

        Raises:
            ImportFailed: the file is unreadable, binary, empty, has no BibTeX entries, or its
                values expand beyond `expansion_budget` (too large).
        """
        decoded = read_bibtex_text(path)
        text = decoded.text
        if decoded.notes:
            yield ImportProblem(f"{path}:{decoded.line}", f"read as {decoded.encoding}: " + "; ".join(decoded.notes))
        budget = ExpansionBudget(expansion_budget(len(text)), path)
        entries, failures = parse_entries(text, path, budget)
        for line, reason in failures:
            yield ImportProblem(f"{path}:{line}", f"broken BibTeX entry skipped: {reason}")
        if not entries and not failures:
            raise ImportFailed(f"{path}: no BibTeX entries found (is it a BibTeX file? {what_it_is(text[:2048].encode())})")
        resolved, notes = resolve_crossrefs(entries, budget)
        notes = budget.notes + notes
        for line, note in notes:
            yield ImportProblem(f"{path}:{line}", note)
        source_keys: dict[str, int] = {}
        for parsed, fields in zip(entries, resolved):
            where = f"{path}:{parsed.line}"
            if parsed.entry_type == "xdata":
                continue  # biblatex field containers for other entries, never papers themselves
            try:
                record = record_from_fields(parsed.key, parsed.entry_type, fields, path)
            except Exception as exc:  # one odd entry must not stop the file
                _log.debug("entry at %s failed", where, exc_info=True)
                yield ImportProblem(where, f"entry {parsed.key!r} skipped: {exc}")
                continue
            if record is None:
                yield ImportProblem(where, f"entry {parsed.key!r} skipped: it has no title")
                continue
            record.source_key = _unique_source_key(record, source_keys)
            record.source_line = parsed.line
            yield record


class ParsedEntry:
    """One entry as split by bibtexparser: original key, type, raw field values, line."""

    __slots__ = ("key", "entry_type", "fields", "line")

    def __init__(self, key: str, entry_type: str, fields: dict[str, str], line: int) -> None:
        self.key, self.entry_type, self.fields, self.line = key, entry_type, fields, line


def read_text_any_encoding(path: Path) -> str:
    """File text in whatever encoding it was written (see `text_decoding.decode_text`).

    Raises:
        ImportFailed: the file cannot be read, is empty or is not text (the message says what it is).
    """
    return read_bibtex_text(path).text


def read_bibtex_text(path: Path) -> DecodedText:
    """`read_text_any_encoding` with what had to be mended (NULs removed, Windows-1252 bytes...)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ImportFailed(f"{path}: cannot read file ({exc.strerror or exc})") from exc
    if not raw.strip():
        raise ImportFailed(f"{path}: the file is empty")
    try:
        return decode_text(raw, "BibTeX text")
    except ValueError as exc:
        raise ImportFailed(f"{path}: binary data, {exc}") from exc


def expansion_budget(text_chars: int) -> int:
    """How many characters of field values a file of `text_chars` may expand to."""
    return max(EXPANSION_FLOOR_CHARS, EXPANSION_FACTOR * text_chars)


class ExpansionBudget:
    """Counts the characters a file's values expand to; cuts long values and fails a file that grows too much.

    `notes` collects (line, message) for every value that was cut.
    """

    def __init__(self, limit: int, path: Path | str = "") -> None:
        self.limit, self.path, self.used = limit, path, 0
        self.notes: list[tuple[int, str]] = []

    def spend(self, chars: int) -> None:
        """Count `chars` more characters.

        Raises:
            ImportFailed: the file's values together exceed the limit.
        """
        self.used += chars
        if self.used > self.limit:
            raise ImportFailed(
                f"{self.path}: too large to import: its @string macros and crossref inheritance expand it to more than "
                f"{self.limit:,} characters ({EXPANSION_FACTOR} times its size, at least {EXPANSION_FLOOR_CHARS:,})"
            )


def parse_entries(
    text: str, path: Path, budget: ExpansionBudget | None = None
) -> tuple[list[ParsedEntry], list[tuple[int, str]]]:
    """Split BibTeX text into entries (macros resolved, values still LaTeX).

    Returns:
        The entries in file order, and (line, reason) for each block that failed.

    Raises:
        ImportFailed: bibtexparser gave up on the text, or the values expand beyond `budget`.
    """
    budget = budget or ExpansionBudget(expansion_budget(len(text)), path)
    import bibtexparser
    from bibtexparser.model import DuplicateBlockKeyBlock, DuplicateFieldKeyBlock, Entry, ParsingFailedBlock, String

    text = _KEYLESS_ENTRY.sub(r"\1,", text)  # same line count: reported lines stay true
    logging.getLogger("bibtexparser").setLevel(logging.ERROR)  # it logs every broken block itself
    try:
        split = bibtexparser.parse_string(text, parse_stack=[])
        blocks: list = []
        failures: list[tuple[int, str]] = []
        for block in split.blocks:
            if isinstance(block, (DuplicateBlockKeyBlock, DuplicateFieldKeyBlock)):
                entry = block.ignore_error_block
                if not isinstance(entry, Entry):
                    continue
                if isinstance(block, DuplicateFieldKeyBlock):
                    entry.fields = _first_of_each_field(entry.fields)
                blocks.append(entry)  # imported too; its source key gets a "#2" suffix
            elif isinstance(block, ParsingFailedBlock):
                line = (block.start_line or 0) + 1
                error = block.error
                message = getattr(error, "abort_reason", None) or str(error or "")
                reason = next(iter(message.strip().splitlines()), "") or type(error).__name__
                failures.append((line, reason))
            else:
                blocks.append(block)
    except Exception as exc:  # bibtexparser raises assorted errors on pathological input
        raise ImportFailed(f"{path}: cannot parse BibTeX ({exc})") from exc
    # bibtexparser 2 resolves a bare macro but not `#` concatenation: done here.
    macros = dict(_MONTHS)
    for block in blocks:
        if isinstance(block, String):
            line = (block.start_line or 0) + 1
            macros[block.key.lower()] = _bounded_value(str(block.value), macros, budget, line, f"@string {block.key!r}")
    entries = []
    for block in blocks:
        if not isinstance(block, Entry):
            continue
        fields = {}
        line = (block.start_line or 0) + 1
        for field in block.fields:
            name = field.key.lower()
            if name not in fields:
                fields[name] = _bounded_value(str(field.value), macros, budget, line,
                                              f"entry {block.key!r}: field {name!r}",
                                              MAX_FILE_FIELD_CHARS if name == "file" else MAX_VALUE_CHARS)
        entries.append(ParsedEntry(block.key, block.entry_type.lower(), fields, line))
    return entries, failures


def _bounded_value(raw: str, macros: dict[str, str], budget: ExpansionBudget, line: int, what: str,
                   limit: int = MAX_VALUE_CHARS) -> str:
    value, full_length = resolve_value_bounded(raw, macros, limit)
    if full_length > len(value):
        budget.notes.append((line, f"{what} cut from {full_length:,} to {len(value):,} characters (too long)"))
    budget.spend(len(value))
    return value


_MONTHS = {m[:3]: m for m in ("january", "february", "march", "april", "may", "june", "july", "august",
                                "september", "october", "november", "december")}
_VALUE_PART = re.compile(r'\s*(?:(\{)|(")|([^\s#"{}]+))')
_SEPARATOR = re.compile(r"\s*(#)?")


def resolve_value(raw: str, macros: dict[str, str]) -> str:
    """A field value with its delimiters removed, macros expanded and `#` parts joined.

    An undefined macro stands for itself, as BibTeX tools show it.
    """
    return resolve_value_bounded(raw, macros, None)[0]


def resolve_value_bounded(raw: str, macros: dict[str, str], limit: int | None) -> tuple[str, int]:
    """`resolve_value` cut at `limit` characters; also returns the length it would have had uncut.

    Past the limit only lengths are added up, so a macro bomb builds nothing big.
    """
    raw = raw.strip()
    parts: list[str] = []
    built = length = 0
    pos = 0
    while pos < len(raw):
        match = _VALUE_PART.match(raw, pos)
        if not match:
            return _as_written(raw, limit)  # not the shape BibTeX allows: keep the text as written
        if match.group(1) or match.group(2):
            opener = match.start(1) if match.group(1) else match.start(2)
            end = _closing(raw, opener)
            if end < 0:
                return _as_written(raw, limit)
            part = raw[opener + 1 : end]
            pos = end + 1
        else:
            word = match.group(3)
            part = word if word.isdigit() else macros.get(word.lower(), word)
            pos = match.end()
        length += len(part)
        if limit is None or built < limit:
            parts.append(part)
            built += len(part)
        separator = _SEPARATOR.match(raw, pos)
        if separator.end() == len(raw):
            break
        if not separator.group(1):
            return _as_written(raw, limit)
        pos = separator.end()
    text = "".join(parts)
    return (text if limit is None or len(text) <= limit else text[:limit]), length


def _as_written(raw: str, limit: int | None) -> tuple[str, int]:
    return (raw, len(raw)) if limit is None else (raw[:limit], len(raw))


def _closing(text: str, opener: int) -> int:
    """Index of the delimiter closing the `{` or `"` at `opener` (-1 if none)."""
    depth = 0
    if text[opener] == '"':
        for i in range(opener + 1, len(text)):
            ch = text[i]
            if ch == "{":
                depth += 1
            elif ch == "}":
                depth -= 1
            elif ch == '"' and depth == 0 and text[i - 1] != "\\":
                return i
        return -1
    for i in range(opener, len(text)):
        ch = text[i]
        if ch == "{" and (i == 0 or text[i - 1] != "\\"):
            depth += 1
        elif ch == "}" and text[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return i
    return -1


def _first_of_each_field(fields: list) -> list:
    seen: set[str] = set()
    kept = []
    for field in fields:
        if field.key.lower() not in seen:
            seen.add(field.key.lower())
            kept.append(field)
    return kept


def resolve_crossrefs(
    entries: list[ParsedEntry], budget: ExpansionBudget | None = None
) -> tuple[list[dict[str, str]], list[tuple[int, str]]]:
    """Each entry's fields with missing ones inherited from its crossref/xref parent.

    Inheritance is transitive (grand-parents too, up to `MAX_CROSSREF_DEPTH`
    levels), keys match case-insensitively as in BibTeX, a missing parent is
    ignored, and a cycle stops at the entry where it closes. A container parent
    (book, proceedings...) gives its title as booktitle. A parent's field longer
    than `MAX_INHERITED_CHARS` is not inherited. Iterative: chains of any length
    cost no recursion and linear time.

    Returns:
        The fields of each entry, and (line, message) for each inheritance that was cut.
    """
    by_key: dict[str, ParsedEntry] = {}
    for parsed in entries:
        by_key.setdefault(parsed.key.lower(), parsed)
    notes: list[tuple[int, str]] = []
    too_deep: list[ParsedEntry] = []
    # id(parent) -> (parent, names of its fields too long to inherit, ids of the entries that did not get them)
    long_fields: dict[int, tuple[ParsedEntry, set[str], set[int]]] = {}
    resolved = []
    for parsed in entries:
        chain = [parsed]
        ancestor_keys: set[str] = set()  # keys above the last entry of the chain, as the cycle check of BibTeX tools
        while True:
            parent = _parent_of(chain[-1], by_key)
            if parent is None or parent.key.lower() in ancestor_keys:
                break
            if len(chain) > MAX_CROSSREF_DEPTH:
                too_deep.append(parsed)
                break
            ancestor_keys.add(chain[-1].key.lower())
            chain.append(parent)
        fields = dict(chain[-1].fields)
        for child, parent in zip(reversed(chain[:-1]), reversed(chain[1:])):
            fields = _inherit(child.fields, fields, parent, long_fields, id(parsed))
        if budget is not None and len(chain) > 1:
            budget.spend(sum(len(value) for name, value in fields.items() if name not in parsed.fields))
        resolved.append(fields)
    for parent, names, children in long_fields.values():
        listed = ", ".join(sorted(names))
        notes.append((parent.line, f"entry {parent.key!r}: {listed} longer than {MAX_INHERITED_CHARS:,} characters: "
                                   f"not copied into the {len(children):,} entries that crossref it"))
    if too_deep:
        first = too_deep[0]
        notes.append((first.line, f"crossref chain deeper than {MAX_CROSSREF_DEPTH} levels: inheritance cut for "
                                  f"{len(too_deep):,} entries (first: {first.key!r})"))
    return resolved, notes


def _parent_of(parsed: ParsedEntry, by_key: dict[str, ParsedEntry]) -> ParsedEntry | None:
    # biblatex's xdata names entries whose fields are copied in: the first one is followed like a crossref.
    xdata = (parsed.fields.get("xdata") or "").split(",")[0]
    parent_key = (parsed.fields.get("crossref") or parsed.fields.get("xref") or xdata or "").strip().lower()
    parent = by_key.get(parent_key) if parent_key else None
    return None if parent is parsed else parent


def _inherit(own: dict[str, str], inherited: dict[str, str], parent: ParsedEntry,
             long_fields: dict, entry_id: int) -> dict[str, str]:
    fields = dict(own)
    container = parent.entry_type in _CONTAINER_TYPES
    for name, value in inherited.items():
        if name in _NOT_INHERITED:
            continue
        target = name
        if container and name in _TITLE_FIELDS:
            target = _BOOK_TITLE_MAP.get(name)
            if not target:
                continue
        if target in fields:
            continue
        if len(value) > MAX_INHERITED_CHARS:
            _, names, children = long_fields.setdefault(id(parent), (parent, set(), set()))
            names.add(name)
            children.add(entry_id)
            continue
        fields[target] = value
    return fields


def record_from_fields(key: str, entry_type: str, fields: dict[str, str], path: Path) -> ImportedRecord | None:
    """An `ImportedRecord` from an entry's raw fields; None when it has no title."""
    title = latex_to_text(fields.get("title", ""))
    if not title:
        return None
    subtitle = latex_to_text(fields.get("subtitle", ""))
    if subtitle and normalize_title(subtitle) not in normalize_title(title):
        title = f"{title.rstrip('.:')}. {subtitle}"  # biblatex prints "Title. Subtitle"
    doi = normalize_doi(fields.get("doi") or _doi_url(fields.get("url")))
    arxiv = None
    if (fields.get("archiveprefix") or fields.get("eprinttype") or "").lower() == "arxiv":
        arxiv = normalize_arxiv_id(fields.get("eprint"))
    arxiv = arxiv or normalize_arxiv_id(fields.get("arxivid") or fields.get("arxiv"))
    if not arxiv:
        hint = f"{fields.get('journal', '')} {fields.get('url', '')}"
        if "arxiv" in hint.lower():
            arxiv = normalize_arxiv_id(hint)
    venue_raw = next((fields[name] for name in _VENUE_FIELDS if fields.get(name)), None)
    paper = Paper(
        title=title,
        authors=split_authors(fields.get("author") or fields.get("editor") or ""),
        year=parse_year(fields.get("year") or fields.get("date")),
        venue=latex_to_text(venue_raw) or None if venue_raw else None,
        abstract=latex_to_text(fields.get("abstract", "")) or None,
        doi=doi,
        arxiv_id=arxiv,
        citekey=key or None,
        entry_type=entry_type,
        source="bibtex",
    )
    paper.files = [Attachment(p, kind=_attachment_kind(p)) for p in parse_file_field(fields.get("file", ""), path.parent)]
    paper.tags = _split_list(latex_to_text(fields.get("keywords", "")))
    paper.collections = _split_list(latex_to_text(fields.get("groups", "")), separators=",")
    extra = {name: value for name, value in fields.items() if name not in _MAPPED_FIELDS}
    return ImportedRecord(paper, "bibtex", str(path), key, extra=extra)


def _unique_source_key(record: ImportedRecord, seen: dict[str, int]) -> str:
    # Keyless and duplicate-key entries still need a key stable across re-imports.
    key = record.source_key or "title:" + normalize_title(record.paper.title)[:80]
    count = seen.get(key, 0) + 1
    seen[key] = count
    return key if count == 1 else f"{key}#{count}"


def _doi_url(url: str | None) -> str | None:
    return url if url and "doi.org/" in url.lower() else None


def _split_list(value: str, separators: str = ";,") -> list[str]:
    items = re.split(f"[{re.escape(separators)}]", value) if value else []
    return list(dict.fromkeys(item.strip() for item in items if item.strip()))


def _attachment_kind(path: str) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    return suffix or "pdf"


# ---- LaTeX to text ---------------------------------------------------------
_converter = None


def latex_to_text(value: str) -> str:
    """LaTeX markup decoded to Unicode text on one line (`{\\"U}ber` -> `Über`, `--` -> `–`)."""
    if not value:
        return ""
    if not _LATEX_MARKUP.search(value):
        return " ".join(value.split())
    global _converter
    if _converter is None:
        from pylatexenc.latex2text import LatexNodes2Text

        _converter = LatexNodes2Text(math_mode="text", keep_braced_groups=False, strict_latex_spaces=True)
    prepared = _scripts_to_unicode(_BOX_MACROS.sub("", _UNESCAPED_PERCENT.sub(r"\\%", value)))
    try:
        text = _converter.latex_to_text(prepared)
    except Exception:  # pylatexenc gives up on some malformed markup: show it undecoded
        text = value.replace("{", "").replace("}", "")
    return " ".join(text.split())


_SUBSCRIPTS = dict(zip("0123456789+-=()aehijklmnoprstuvx", "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎ₐₑₕᵢⱼₖₗₘₙₒₚᵣₛₜᵤᵥₓ"))
_SUPERSCRIPTS = dict(zip("0123456789+-=()abcdefghijklmnoprstuvwxyz", "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ᵃᵇᶜᵈᵉᶠᵍʰⁱʲᵏˡᵐⁿᵒᵖʳˢᵗᵘᵛʷˣʸᶻ"))
_TEXT_SCRIPT = re.compile(r"\\text(sub|super)script\s*\{([^{}]*)\}")
_MATH_SEGMENT = re.compile(r"(?<!\\)\$([^$]*)(?<!\\)\$")
_MATH_SCRIPT = re.compile(r"([_^])(?:\{([^{}]*)\}|([A-Za-z0-9]))")


def _scripts_to_unicode(value: str) -> str:
    """`CdZn$_{1-x}$`, `m$^2$`, `\\textsubscript{x}` as Unicode sub/superscripts where every character has one."""

    def convert(text: str, table: dict[str, str]) -> str | None:
        text = text.replace("−", "-")
        return "".join(table[ch] for ch in text) if text and all(ch in table for ch in text) else None

    def text_script(match: re.Match) -> str:
        converted = convert(match.group(2), _SUBSCRIPTS if match.group(1) == "sub" else _SUPERSCRIPTS)
        return converted if converted is not None else match.group(2)

    def math_script(match: re.Match) -> str:
        converted = convert(match.group(2) or match.group(3) or "", _SUBSCRIPTS if match.group(1) == "_" else _SUPERSCRIPTS)
        # `{}` ends a preceding macro name (`\\alpha{}ᵢ`) and prints nothing.
        return "{}" + converted if converted is not None else match.group(0)

    def math_segment(match: re.Match) -> str:
        return "$" + _MATH_SCRIPT.sub(math_script, match.group(1)) + "$"

    value = _TEXT_SCRIPT.sub(text_script, value)
    return _MATH_SEGMENT.sub(math_segment, value) if "$" in value else value


# ---- names -----------------------------------------------------------------
def split_authors(value: str) -> list[str]:
    """`A and B and C` into display names, `Last, First` where the order is clear.

    Splits only at brace depth 0, so `{Barnes and Noble}` stays one (corporate) name.
    """
    if not value.strip():
        return []
    names = []
    for raw in _split_at_depth0(value):
        raw = raw.strip()
        if not raw or raw.lower() == "others":
            continue
        if raw.startswith("{") and raw.endswith("}") and _balanced_outer(raw):
            names.append(latex_to_text(raw))  # a corporate name: never reordered
        else:
            names.append(_last_first(latex_to_text(raw)))
    return [n for n in names if n]


def _split_at_depth0(value: str) -> list[str]:
    parts, depth, start = [], 0, 0
    masked = []
    for ch in value:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth = max(0, depth - 1)
        masked.append(ch if depth == 0 or ch in "{}" else "_")
    masked_text = "".join(masked)
    for match in _AND_SPLIT.finditer(masked_text):
        parts.append(value[start : match.start()])
        start = match.end()
    parts.append(value[start:])
    return parts


def _balanced_outer(raw: str) -> bool:
    depth = 0
    for i, ch in enumerate(raw):
        depth += ch == "{"
        depth -= ch == "}"
        if depth == 0 and i < len(raw) - 1:
            return False
    return True


def _last_first(name: str) -> str:
    if "," in name:
        return ", ".join(part.strip() for part in name.split(",", 1))
    parts = name.split()
    if len(parts) < 2:
        return name
    # Keep particles with the family name ("Ludwig van Beethoven" -> "van Beethoven, Ludwig").
    for i, part in enumerate(parts[:-1]):
        if i > 0 and part[:1].islower():
            return f"{' '.join(parts[i:])}, {' '.join(parts[:i])}"
    return f"{parts[-1]}, {' '.join(parts[:-1])}"


def parse_year(value: str | None) -> int | None:
    """The first plausible year (1500-2099) in a year or date field."""
    if not value:
        return None
    match = re.search(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)", value)
    return int(match.group(1)) if match else None


# ---- file field ------------------------------------------------------------
_FILE_SPLIT = re.compile(r"(?<!\\);")
# Calibre joins several files with ", " after the type: `:a.epub:EPUB, :b.pdf:PDF`.
_CALIBRE_SEPARATOR = re.compile(r"(:[A-Za-z0-9]{2,8}),\s*(?=:)")
_COLON_SPLIT = re.compile(r"(?<!\\):")


def parse_file_field(value: str, base: Path) -> list[str]:
    """Attachment paths from a JabRef/Zotero/Mendeley/Calibre `file` field.

    Shapes handled: `path.pdf`; `description:path:type` (JabRef, Zotero
    `Full Text:files/123/x.pdf:application/pdf`, Mendeley `:path/x.pdf:pdf`);
    several joined by `;` (Calibre: `, `); `\\:` escapes; Mendeley's
    `$\\backslash$`; Windows drive letters. Relative paths are taken relative to
    the .bib folder. Mendeley drops the leading `/` of absolute paths: when the
    relative reading does not exist but the absolute one does, that one is used.
    """
    paths: dict[str, None] = {}  # ordered, and a set for the duplicate check (a list made it quadratic)
    value = value.replace("$\\backslash$", "\\").strip()
    if not value:
        return []
    items = _FILE_SPLIT.split(_CALIBRE_SEPARATOR.sub(r"\1;", value))
    for item in filter(None, (s.strip() for s in items)):
        candidate = _path_of_file_item(item)
        if not candidate:
            continue
        candidate = candidate.replace("\\:", ":").replace("\\;", ";").replace("\\\\", "\\")
        paths.setdefault(_resolve_attachment_path(candidate, base))
    return list(paths)


def _path_of_file_item(item: str) -> str:
    parts = _COLON_SPLIT.split(item)
    if len(parts) >= 3:
        return ":".join(parts[1:-1])  # description:path:type (a drive colon stays in the path)
    if len(parts) == 2:
        first, second = parts
        if re.fullmatch(r"[A-Za-z]", first):
            return item  # a bare Windows path like C:\x.pdf
        if not first:
            return second  # `:path`
        if re.fullmatch(r"[\w+.-]{1,40}", second) and "." not in second:
            return first  # `path:PDF`
        return second  # `description:path`
    return item


def _resolve_attachment_path(candidate: str, base: Path) -> str:
    if re.match(r"^[A-Za-z]:[\\/]", candidate):
        return candidate  # Windows absolute path: kept as written
    path = Path(candidate).expanduser()
    if path.is_absolute():
        return str(path)
    relative = base / path
    if not relative.exists():
        rooted = Path("/") / path
        if rooted.exists():
            return str(rooted)
    return str(relative)
