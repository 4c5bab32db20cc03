"""Real files broken the way real files break: does the import still do the right thing?

Takes real fixtures from ../shared/data (a biblatex file, a CSL-JSON export, a
Zotero data folder, born-digital PDFs), writes broken variants of them (cut off,
NUL bytes, foreign encodings, line endings, unbalanced braces, a PDF named .bib,
a locked or truncated zotero.sqlite...) and imports each one between two good
files into a library that already holds papers, through the service layer and
through `scimult import --json`. For each variant it checks:

- crash:   the import raised, or the CLI died with a traceback or printed no JSON;
- named:   when anything of the file was lost, a failure names the file and says
           what is wrong in words (no bare Python exception names);
- partial: the entries the damage did not touch still import (see `expect`);
- kept:    the papers stored before are byte-for-byte unchanged, and the good
           files on either side import;
- resume:  importing again adds nothing, and (for --kill) an import killed
           halfway and run again ends with the same papers as a clean one.

Run:  .venv/bin/python benchmarks/probe_mutations.py [--only SUBSTRING] [--kill] [--verbose]
The variant writers are also used by tests/unit/test_import_mutations.py.
"""

from __future__ import annotations

import argparse
import codecs
import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"

SEEDS = {
    "bib": "bibtex_fixtures/biber_tdata/examples.bib",
    "bib_small": "bibtex_fixtures/real_world/papis-zotero_zotero-library.bib",
    "csl": "zotero_fixtures/csl_json_samples/Pandoc-LaTeX-SCHOMD Citation Export.csl.json",
    "zotero": "zotero_fixtures/papis-zotero_current",
    "pdf": "pdf_corpus/grobid/two_pages.pdf",
}

# Python's own words for what went wrong: a researcher should not have to read these.
_JARGON = re.compile(
    r"Traceback|object has no attribute|NoneType|codec can't|\b(?:Key|Index|Type|Attribute|Value|Runtime|Recursion|"
    r"UnicodeDecode|UnicodeEncode|JSONDecode|Assertion|NotImplemented|Name|OS|FileData)Error\b|sqlite3\."
)


# ---- the variants ------------------------------------------------------------
@dataclass
class Variant:
    """One broken file: how to write it from its seed, and what a good import of it does.

    expect:
      "all"      every entry of the seed imports with the same titles (an encoding or line-ending change);
      "lose:N"   at most N of the seed's entries are lost, and any loss is reported naming the file;
      "prefix"   at least the entries that lie wholly before the damage import;
      "fail"     nothing can be read: one clear failure naming the file;
      "plus:T"   all of the seed and an injected entry titled T (checks it is decoded right).
    """

    name: str
    seed: str
    write: Callable[[Path, Path], Path]
    expect: str
    note: str = ""
    prefix_of: Callable[[bytes], bytes] | None = None  # for "prefix": the intact part of the seed


def _bytes_variant(suffix: str, change: Callable[[bytes], bytes]) -> Callable[[Path, Path], Path]:
    def write(seed: Path, folder: Path) -> Path:
        # A PDF without metadata is titled after its file name: keep the seed's, so titles compare.
        target = folder / (f"{seed.stem}{suffix}" if suffix == ".pdf" else f"broken{suffix}")
        target.write_bytes(change(seed.read_bytes()))
        return target
    return write


def _entry_starts(data: bytes) -> list[int]:
    return [m.start() for m in re.finditer(rb"(?m)^\s*@", data)]


def _middle_entry(data: bytes) -> tuple[int, int]:
    """Byte span of the entry nearest the middle of a .bib file."""
    starts = _entry_starts(data) + [len(data)]
    middle = len(starts) // 2
    return starts[middle - 1], starts[middle]


def _cut_mid_entry(data: bytes) -> bytes:
    start, end = _middle_entry(data)
    return data[: (start + end) // 2]


def _prefix_before_cut(data: bytes) -> bytes:
    start, _ = _middle_entry(data)
    return data[:start]


def _insert_mid_entry(blob: bytes) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        start, end = _middle_entry(data)
        at = data.index(b",", start, end) + 1 if b"," in data[start:end] else (start + end) // 2
        return data[:at] + blob + data[at:]
    return change


def _garbage(n: int) -> bytes:
    return bytes(random.Random(7).randrange(256) for _ in range(n))


def _replace_in_middle_entry(old: bytes, new: bytes, count: int = 1) -> Callable[[bytes], bytes]:
    """Replace `count` occurrences of `old` in the middle entry (-1: only the last one, e.g. its closing brace)."""
    def change(data: bytes) -> bytes:
        start, end = _middle_entry(data)
        entry = data[start:end]
        if old not in entry:
            return data
        if count == -1:
            head, _, tail = entry.rpartition(old)
            changed = head + new + tail
        else:
            changed = entry.replace(old, new, count)
        return data[:start] + changed + data[end:]
    return change


LATIN1_TITLE = "Über die Müller-Lyer Täuschung: Gödel, Erdős? Señor Façade"
ACCENTS_TITLE = "Über Gödel's café: naïve Erdős–Rényi ßtraße"


def _append_latin1_entry(data: bytes) -> bytes:
    title = LATIN1_TITLE.replace("ő", "o")  # cp1252 has no ő
    entry = f"\n@article{{latin1entry,\n  title = {{{title}}},\n  author = {{Müller, Jürgen}},\n  year = {{1999}}\n}}\n"
    start, _ = _middle_entry(data)
    return data[:start] + entry.encode("cp1252") + data[start:]


def _append_accents_entry(data: bytes) -> bytes:
    entry = ("\n@article{accents,\n  title = {{\\\"U}ber G{\\\"o}del's caf\\'{e}: na\\\"{\\i}ve Erd\\H{o}s--R\\'enyi "
             "{\\ss}tra{\\ss}e},\n  author = {M{\\\"u}ller, J{\\\"u}rgen and {\\AA}berg, {\\O}le and \\v{S}koda, "
             "\\c{C}elik},\n  year = {2001}\n}\n")
    return data + entry.encode("ascii")


def _with_prologue(prologue: str) -> Callable[[bytes], bytes]:
    return lambda data: prologue.encode() + data


def _with_epilogue(epilogue: str) -> Callable[[bytes], bytes]:
    return lambda data: data + epilogue.encode()


_MACROS_AND_FRIENDS = """@preamble{ "\\newcommand{\\noopsort}[1]{} " # "\\newcommand{\\singleletter}[1]{#1}" }
@comment{ jabref-meta: databaseType:biblatex; {a {nested} group in a comment} }
@string{ acm = "Association for Computing Machinery" }
@string{ tods = {ACM Trans.} # " Database Syst." }
@xdata{ acmxdata, publisher = acm, location = {New York} }
@proceedings{ procx, title = {Proceedings of the Mutation Workshop}, year = 2020, publisher = acm }
@inproceedings{ childx, title = {A child inherits its proceedings}, author = {Doe, Jane}, crossref = {procx},
  month = jan # "~" # feb, pages = {1--10} }
@article{ xdatachild, title = {An entry taking its publisher from an xdata entry}, xdata = {acmxdata},
  journal = tods, month = dec }
"""

_UNKNOWN_TYPES = """@dataset{ unknowntype1, title = {A data set of unknown type}, author = {Roe, Richard}, year = {2021} }
@Software{ unknowntype2, title = {Some software}, year = 2020 }
@whatever{ unknowntype3, title = {An entry of a type nobody knows}, year = {2019} }
"""


def _huge_abstract(data: bytes) -> bytes:
    abstract = ("Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 60_000)[:3_000_000]
    return data + f"\n@article{{hugeabstract, title = {{An entry with a 3 MB abstract}}, abstract = {{{abstract}}}}}\n".encode()


def _deep_braces(depth: int) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        return data + ("\n@article{deepbraces, title = {" + "{" * depth + "Deep" + "}" * depth + "}, year = 2000}\n").encode()
    return change


def _duplicate_middle_entry(data: bytes) -> bytes:
    start, end = _middle_entry(data)
    entry = data[start:end]
    twin = re.sub(rb"(?i)(title\s*=\s*[{\"])", rb"\1Second copy of ", entry, count=1)
    return data[:end] + b"\n" + twin + data[end:]


def _html_page(_: bytes) -> bytes:
    return (b"<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>\n"
            b"<form action='/login'>@ your institution</form></body></html>\n")


def _line_endings(kind: str) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        lines = data.replace(b"\r\n", b"\n").split(b"\n")
        if kind == "crlf":
            return b"\r\n".join(lines)
        if kind == "cr":
            return b"\r".join(lines)
        ends = [b"\r\n", b"\r", b"\n"]
        return b"".join(line + ends[i % 3] for i, line in enumerate(lines))
    return change


def _to_utf16(data: bytes, bom: bool = True, big_endian: bool = False) -> bytes:
    text = data.decode("utf-8-sig")
    if bom:
        return codecs.BOM_UTF16_BE + text.encode("utf-16-be") if big_endian else codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    return text.encode("utf-16-be" if big_endian else "utf-16-le")


# ---- special files -------------------------------------------------------------
def _directory(seed: Path, folder: Path) -> Path:
    target = folder / "folder.bib"
    target.mkdir()
    return target


def _symlink_loop(seed: Path, folder: Path) -> Path:
    one, two = folder / "loop.bib", folder / "loop2.bib"
    one.symlink_to(two)
    two.symlink_to(one)
    return one


def _dangling_symlink(seed: Path, folder: Path) -> Path:
    link = folder / "moved.bib"
    link.symlink_to(folder / "gone" / "library.bib")
    return link


def _fifo(seed: Path, folder: Path) -> Path:
    target = folder / "pipe.bib"
    os.mkfifo(target)
    return target


def _unreadable(seed: Path, folder: Path) -> Path:
    target = folder / "secret.bib"
    target.write_bytes(seed.read_bytes())
    target.chmod(0)
    return target


def _pdf_named_bib(seed: Path, folder: Path) -> Path:
    target = folder / "really-a-pdf.bib"
    target.write_bytes((SHARED_DATA / SEEDS["pdf"]).read_bytes())
    return target


# ---- CSL-JSON ------------------------------------------------------------------
def _json_rewrap(shape: str) -> Callable[[bytes], bytes]:
    def change(data: bytes) -> bytes:
        items = json.loads(data.decode("utf-8-sig"))
        if shape == "object":
            return json.dumps({"items": items}).encode()
        if shape == "single":
            return json.dumps(items[0]).encode()
        if shape == "strings":
            return json.dumps([item.get("title", "x") for item in items]).encode()
        if shape == "jsonl":
            return "\n".join(json.dumps(item) for item in items).encode()
        if shape == "title_late":
            # A valid CSL-JSON list whose first "title" lies past the first 4 KB (a long abstract first).
            first = {"abstract": "A long abstract. " * 400, **{k: v for k, v in items[0].items() if k != "abstract"}}
            return json.dumps([first] + items[1:]).encode()
        raise KeyError(shape)
    return change


def _json_cut(data: bytes) -> bytes:
    text = data.decode("utf-8-sig")
    items = json.loads(text)
    # Cut in the middle of the last item: every item before it is intact.
    whole = json.dumps(items, indent=2)
    last = json.dumps(items[-1], indent=2)
    return whole[: len(whole) - len(last) // 2 - 4].encode()


def _json_cut_prefix(data: bytes) -> bytes:
    items = json.loads(data.decode("utf-8-sig"))
    return json.dumps(items[:-1], indent=2).encode()


def _json_pretty(data: bytes) -> bytes:
    return json.dumps(json.loads(data.decode("utf-8-sig")), indent=2, ensure_ascii=False).encode()


# ---- Zotero --------------------------------------------------------------------
def _zotero_copy(seed: Path, folder: Path) -> Path:
    target = folder / "Zotero"
    target.mkdir()
    (target / "zotero.sqlite").write_bytes((seed / "zotero.sqlite").read_bytes())
    return target / "zotero.sqlite"


def _zotero_truncated(fraction: float) -> Callable[[Path, Path], Path]:
    def write(seed: Path, folder: Path) -> Path:
        path = _zotero_copy(seed, folder)
        data = path.read_bytes()
        path.write_bytes(data[: int(len(data) * fraction)])
        return path
    return write


def _zotero_truncated_with_backup(seed: Path, folder: Path) -> Path:
    """Zotero keeps zotero.sqlite.bak beside the database: a damaged database can be read from it."""
    path = _zotero_truncated(0.5)(seed, folder)
    (path.parent / "zotero.sqlite.bak").write_bytes((seed / "zotero.sqlite").read_bytes())
    return path


def _zotero_with(change: Callable[[sqlite3.Connection], None]) -> Callable[[Path, Path], Path]:
    def write(seed: Path, folder: Path) -> Path:
        path = _zotero_copy(seed, folder)
        conn = sqlite3.connect(path)
        change(conn)
        conn.commit()
        conn.close()
        return path
    return write


def _zotero_future_schema(conn: sqlite3.Connection) -> None:
    """A Zotero newer than we know: the version says so, a table is renamed, an extra column and table appear."""
    conn.execute("UPDATE version SET version = version + 1000 WHERE schema IN ('userdata', 'system')")
    conn.execute("ALTER TABLE itemNotes RENAME TO itemNotesV2")
    conn.execute("ALTER TABLE items ADD COLUMN futureFlag INT DEFAULT 0")
    conn.execute("CREATE TABLE itemEmbeddings (itemID INT, vector BLOB)")


def _zotero_old_schema(conn: sqlite3.Connection) -> None:
    for (trigger,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        conn.execute(f'DROP TRIGGER "{trigger}"')
    conn.execute("CREATE TABLE itemAttachments2 AS SELECT itemID, linkMode, contentType, path FROM itemAttachments")
    conn.execute("DROP TABLE itemAttachments")
    conn.execute("ALTER TABLE itemAttachments2 RENAME TO itemAttachments")


def _zotero_locked(seed: Path, folder: Path) -> Path:
    """A library Zotero holds open: an exclusive lock, a write in progress, pages only in its WAL."""
    path = _zotero_copy(seed, folder)
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("UPDATE itemDataValues SET value = value")  # committed pages that live only in the WAL
    conn.commit()
    conn.close()
    return path


def _zotero_hot_journal(seed: Path, folder: Path) -> Path:
    """Zotero killed mid-write in rollback-journal mode: a half-written database beside its -journal."""
    path = _zotero_copy(seed, folder)
    script = (
        "import os, sqlite3, sys\n"
        "conn = sqlite3.connect(sys.argv[1], isolation_level=None)\n"
        "conn.execute('PRAGMA journal_mode=DELETE'); conn.execute('PRAGMA cache_size=1')\n"
        "conn.execute('BEGIN IMMEDIATE')\n"
        "conn.execute(\"UPDATE itemDataValues SET value = 'HALF WRITTEN ' || value\")\n"
        "conn.execute('DELETE FROM items')\n"
        "os._exit(9)\n"
    )
    subprocess.run([sys.executable, "-c", script, str(path)], check=False)
    return path


# ---- PDF -----------------------------------------------------------------------
def _pdf_truncated(fraction: float) -> Callable[[bytes], bytes]:
    return lambda data: data[: int(len(data) * fraction)]


def _pdf_encrypted(seed: Path, folder: Path) -> Path:
    import pymupdf

    target = folder / "encrypted.pdf"
    with pymupdf.open(seed) as document:
        document.save(target, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner")
    return target


def _pdf_zero_pages(seed: Path, folder: Path) -> Path:
    target = folder / "zero-pages.pdf"
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 3\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size 3 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    target.write_bytes(bytes(out))
    return target


def _pdf_huge(pages: int) -> Callable[[Path, Path], Path]:
    def write(seed: Path, folder: Path) -> Path:
        import pymupdf

        target = folder / seed.name
        with pymupdf.open(seed) as source, pymupdf.open() as document:
            for _ in range(pages // max(1, source.page_count)):
                document.insert_pdf(source)
            document.save(target, garbage=0)
        return target
    return write


def _pdf_html(_: bytes) -> bytes:
    return (b"<!DOCTYPE html><html><head><title>Access denied</title></head>"
            b"<body><p>Please log in to download this article.</p></body></html>\n")


VARIANTS: list[Variant] = [
    # BibTeX / biblatex
    Variant("bib_truncated_mid_entry", "bib", _bytes_variant(".bib", _cut_mid_entry), "prefix", prefix_of=_prefix_before_cut),
    Variant("bib_truncated_mid_file", "bib", _bytes_variant(".bib", lambda d: d[: len(d) // 3]), "prefix",
            prefix_of=lambda d: d[: max([s for s in _entry_starts(d) if s <= len(d) // 3] or [0])]),
    Variant("bib_nul_bytes_in_entry", "bib", _bytes_variant(".bib", _insert_mid_entry(b"\x00" * 16)), "lose:1"),
    Variant("bib_nul_padding_at_end", "bib", _bytes_variant(".bib", lambda d: d + b"\x00" * 4096), "all",
            "a file preallocated by a sync tool or cut short by a crash ends in zeros"),
    Variant("bib_binary_garbage_in_middle", "bib", _bytes_variant(".bib", _insert_mid_entry(_garbage(512))), "lose:2"),
    Variant("bib_utf8_bom", "bib", _bytes_variant(".bib", lambda d: codecs.BOM_UTF8 + d), "all"),
    Variant("bib_utf16le_bom", "bib", _bytes_variant(".bib", _to_utf16), "all"),
    Variant("bib_utf16be_bom", "bib", _bytes_variant(".bib", lambda d: _to_utf16(d, big_endian=True)), "all"),
    Variant("bib_utf16le_no_bom", "bib", _bytes_variant(".bib", lambda d: _to_utf16(d, bom=False)), "all"),
    Variant("bib_cp1252_entry_in_utf8_file", "bib", _bytes_variant(".bib", _append_latin1_entry),
            "plus:" + LATIN1_TITLE.replace("ő", "o")),
    Variant("bib_crlf", "bib", _bytes_variant(".bib", _line_endings("crlf")), "all"),
    Variant("bib_cr_only", "bib", _bytes_variant(".bib", _line_endings("cr")), "all"),
    Variant("bib_mixed_line_endings", "bib", _bytes_variant(".bib", _line_endings("mixed")), "all"),
    Variant("bib_unbalanced_open_brace", "bib", _bytes_variant(".bib", _replace_in_middle_entry(b"title = {", b"title = {{")),
            "lose:1"),
    Variant("bib_missing_closing_brace", "bib", _bytes_variant(".bib", _replace_in_middle_entry(b"}", b"", -1)), "lose:2"),
    Variant("bib_unbalanced_quote", "bib", _bytes_variant(".bib", _replace_in_middle_entry(b"{", b'"', 2)), "lose:1"),
    Variant("bib_duplicate_citation_key", "bib", _bytes_variant(".bib", _duplicate_middle_entry), "lose:0"),
    Variant("bib_string_preamble_comment_crossref_xdata", "bib_small",
            _bytes_variant(".bib", _with_prologue(_MACROS_AND_FRIENDS)), "lose:0"),
    Variant("bib_unknown_entry_types", "bib_small", _bytes_variant(".bib", _with_epilogue(_UNKNOWN_TYPES)), "lose:0"),
    Variant("bib_huge_abstract_3mb", "bib_small", _bytes_variant(".bib", _huge_abstract), "lose:0"),
    Variant("bib_deep_braces_5000", "bib_small", _bytes_variant(".bib", _deep_braces(5000)), "lose:0"),
    Variant("bib_latex_accents", "bib_small", _bytes_variant(".bib", _append_accents_entry), "plus:" + ACCENTS_TITLE),
    Variant("bib_empty_file", "bib", _bytes_variant(".bib", lambda d: b""), "fail"),
    Variant("bib_whitespace_only", "bib", _bytes_variant(".bib", lambda d: b"\n\n  \r\n\t\n"), "fail"),
    Variant("bib_directory_named_bib", "bib", _directory, "fail"),
    Variant("bib_symlink_loop", "bib", _symlink_loop, "fail"),
    Variant("bib_dangling_symlink", "bib", _dangling_symlink, "fail"),
    Variant("bib_named_pipe", "bib", _fifo, "fail", "a FIFO blocks whoever reads it"),
    Variant("bib_unreadable_permissions", "bib", _unreadable, "fail", "only meaningful when not run as root"),
    Variant("bib_really_a_pdf", "bib", _pdf_named_bib, "fail"),
    Variant("bib_really_html", "bib", _bytes_variant(".bib", _html_page), "fail"),
    # CSL-JSON
    Variant("csl_object_wrapping_items", "csl", _bytes_variant(".json", _json_rewrap("object")), "fail"),
    Variant("csl_single_item_object", "csl", _bytes_variant(".json", _json_rewrap("single")), "fail"),
    Variant("csl_list_of_strings", "csl", _bytes_variant(".json", _json_rewrap("strings")), "fail"),
    Variant("csl_json_lines", "csl", _bytes_variant(".json", _json_rewrap("jsonl")), "fail"),
    Variant("csl_title_after_4kb", "csl", _bytes_variant(".json", _json_rewrap("title_late")), "all"),
    Variant("csl_truncated", "csl", _bytes_variant(".json", _json_cut), "prefix", prefix_of=_json_cut_prefix),
    Variant("csl_utf8_bom", "csl", _bytes_variant(".json", lambda d: codecs.BOM_UTF8 + d), "all"),
    Variant("csl_utf16_bom", "csl", _bytes_variant(".json", _to_utf16), "all"),
    Variant("csl_crlf_pretty", "csl", _bytes_variant(".json", lambda d: _line_endings("crlf")(_json_pretty(d))), "all"),
    Variant("csl_empty_file", "csl", _bytes_variant(".json", lambda d: b""), "fail"),
    Variant("csl_nul_bytes", "csl", _bytes_variant(".json", lambda d: d[: len(d) // 2] + b"\x00" * 64 + d[len(d) // 2:]),
            "lose:99"),
    # Zotero
    Variant("zotero_locked_wal", "zotero", _zotero_locked, "all"),
    Variant("zotero_hot_journal", "zotero", _zotero_hot_journal, "all",
            "Zotero killed mid-write: the -journal must be rolled back, else half-written values import"),
    Variant("zotero_truncated_half", "zotero", _zotero_truncated(0.5), "lose:99"),
    Variant("zotero_truncated_90pct", "zotero", _zotero_truncated(0.9), "lose:99"),
    Variant("zotero_truncated_with_backup", "zotero", _zotero_truncated_with_backup, "all"),
    Variant("zotero_future_schema", "zotero", _zotero_with(_zotero_future_schema), "all"),
    Variant("zotero_zotero4_schema", "zotero", _zotero_with(_zotero_old_schema), "fail"),
    Variant("zotero_not_sqlite", "zotero", lambda s, f: _zotero_text(f), "fail"),
    # PDF
    Variant("pdf_truncated_half", "pdf", _bytes_variant(".pdf", _pdf_truncated(0.5)), "lose:1"),
    Variant("pdf_truncated_header_only", "pdf", _bytes_variant(".pdf", lambda d: d[:1024]), "fail"),
    Variant("pdf_encrypted", "pdf", _pdf_encrypted, "fail"),
    Variant("pdf_zero_pages", "pdf", _pdf_zero_pages, "fail"),
    Variant("pdf_huge_1000_pages", "pdf", _pdf_huge(1000), "all"),
    Variant("pdf_really_html", "pdf", _bytes_variant(".pdf", _pdf_html), "fail"),
    Variant("pdf_all_zero_bytes", "pdf", _bytes_variant(".pdf", lambda d: b"\x00" * len(d)), "fail"),
    Variant("pdf_empty", "pdf", _bytes_variant(".pdf", lambda d: b""), "fail"),
]


def _zotero_text(folder: Path) -> Path:
    target = folder / "Zotero"
    target.mkdir()
    (target / "zotero.sqlite").write_text("this was a zotero database once\n")
    return target / "zotero.sqlite"


def variant(name: str) -> Variant:
    return next(v for v in VARIANTS if v.name == name)


def seed_path(seed: str) -> Path:
    return SHARED_DATA / SEEDS[seed]


def write_variant(name: str, folder: Path) -> Path:
    """Write variant `name` of its real seed under `folder`; returns the path to import."""
    folder.mkdir(parents=True, exist_ok=True)
    chosen = variant(name)
    return chosen.write(seed_path(chosen.seed), folder)


# ---- running one -------------------------------------------------------------
def good_bib(path: Path, prefix: str, n: int = 3) -> Path:
    path.write_text("".join(f"@article{{{prefix}{i}, title = {{Good paper {prefix} number {i}}}, author = {{Doe, Jane}},"
                            f" year = {{2019}}, doi = {{10.7777/{prefix}.{i}}}}}\n" for i in range(n)))
    return path


def _papers_rows(library, ids: list[int]) -> list[tuple]:
    marks = ",".join("?" * len(ids))
    return [tuple(row) for row in library.database.conn.execute(
        f"SELECT * FROM papers WHERE id IN ({marks}) ORDER BY id", ids)]


def _titles_from(library, path: Path) -> list[str]:
    where = str(path.resolve()) if not path.is_symlink() else str(path)
    rows = library.database.conn.execute(
        """SELECT p.title FROM papers p WHERE p.id IN
           (SELECT paper_id FROM paper_sources WHERE source_path = ? OR source_path LIKE ?)""",
        (where, where + "%"))
    return sorted(r[0] for r in rows)


class _Hung(BaseException):
    """Raised by the alarm: a BaseException, so the import's own `except Exception` cannot swallow it."""


@dataclass
class Outcome:
    name: str
    crash: str = ""
    cli_crash: str = ""
    records: int = 0
    expected: str = ""
    partial_ok: bool = True
    named: bool = True
    clear: bool = True
    kept: bool = True
    rest: bool = True
    resume: bool = True
    kill_resume: str = "-"
    seconds: float = 0.0
    messages: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (not self.crash and not self.cli_crash and self.partial_ok and self.named and self.clear and self.kept
                and self.rest and self.resume and self.kill_resume in ("-", "ok"))

    def problems(self) -> str:
        bad = [label for label, good in (
            ("crash", not self.crash), ("cli", not self.cli_crash), ("partial", self.partial_ok),
            ("named", self.named), ("clear", self.clear), ("kept", self.kept), ("rest", self.rest),
            ("resume", self.resume), ("kill", self.kill_resume in ("-", "ok"))) if not good]
        return ",".join(bad) or "ok"


def seed_titles(seed_file: Path, work: Path) -> list[str]:
    """Titles the importer gets from `seed_file` alone (what an undamaged import gives)."""
    from scimult_desktop.services.library.facade import Library

    with Library.open(work) as library:
        library.import_paths([seed_file])
        return _titles_from(library, seed_file)


def _expected_titles(chosen: Variant, seed: Path, folder: Path) -> list[str] | None:
    if chosen.expect == "fail":
        return []
    if chosen.expect == "prefix":
        prefix = folder / ("prefix" + (seed.suffix or ".bib"))
        prefix.write_bytes(chosen.prefix_of(seed.read_bytes()))
        return seed_titles(prefix, folder / "prefix-lib")
    if seed.is_dir():
        seed = seed / "zotero.sqlite"
    return seed_titles(seed, folder / "seed-lib")


def run_variant(name: str, root: Path, kill: bool = False) -> Outcome:
    from scimult_desktop.services.library.facade import Library

    chosen = variant(name)
    outcome = Outcome(name)
    folder = root / name
    folder.mkdir(parents=True)
    seed = seed_path(chosen.seed)
    expected = _expected_titles(chosen, seed, folder)
    (folder / "case").mkdir()
    broken = chosen.write(seed, folder / "case")
    earlier, before, after = good_bib(folder / "earlier.bib", "earlier"), good_bib(folder / "a.bib", "abib"), good_bib(
        folder / "b.bib", "bbib")
    start = time.perf_counter()
    with Library.open(folder / "lib") as library:
        library.import_paths([earlier])
        earlier_ids = [p.id for p in library.list_papers()]
        stored = _papers_rows(library, earlier_ids)
        try:
            report = library.import_paths([before, broken, after])
        except _Hung:
            raise
        except BaseException as exc:  # noqa: BLE001 - what the probe is looking for
            outcome.crash = f"{type(exc).__name__}: {str(exc)[:200]}"
            report = None
        outcome.seconds = time.perf_counter() - start
        outcome.kept = _papers_rows(library, earlier_ids) == stored
        keys = {p.citekey for p in library.list_papers()}
        outcome.rest = {f"abib{i}" for i in range(3)} | {f"bbib{i}" for i in range(3)} <= keys
        titles = _titles_from(library, broken)
        outcome.records = len(titles)
        count = library.count_papers()
        if report is not None:
            mine = [p for p in report.failed if broken.name in p.path or broken.parent.name in p.path]
            outcome.messages = [f"{p.path}: {p.error}" for p in mine][:4]
            outcome.clear = not any(_JARGON.search(p.error) for p in mine)
            outcome.partial_ok, lost = _judge(chosen, expected, titles)
            outcome.named = bool(mine) if lost or chosen.expect == "fail" else True
            outcome.expected = f"{len(expected)}" if expected is not None else "?"
            try:
                again = library.import_paths([before, broken, after])
                outcome.resume = again.added == 0 and library.count_papers() == count
            except _Hung:
                raise
            except BaseException as exc:  # noqa: BLE001
                outcome.resume = False
                outcome.crash = outcome.crash or f"on re-import {type(exc).__name__}: {exc}"
    outcome.cli_crash = _cli_run(folder, [before, broken, after])
    if kill and outcome.records > 1:
        outcome.kill_resume = _kill_and_resume(folder, [before, broken, after], count)
    return outcome


def _judge(chosen: Variant, expected: list[str] | None, titles: list[str]) -> tuple[bool, bool]:
    """(whether the entries that should import did, whether anything of the seed was lost)."""
    expected = expected or []
    missing = len(set(expected) - set(titles))
    lost = missing > 0 or chosen.expect == "fail"
    kind, _, arg = chosen.expect.partition(":")
    if kind == "all":
        return set(expected) <= set(titles), lost
    if kind == "prefix":
        return missing == 0, lost
    if kind == "lose":
        return missing <= int(arg), lost
    if kind == "plus":
        return missing == 0 and arg in titles, lost
    return not titles, lost


def _cli_run(folder: Path, paths: list[Path]) -> str:
    """'' when `scimult import --json` printed its JSON report and no traceback, else what went wrong."""
    from click.testing import CliRunner

    from scimult_desktop.cli.main import cli

    result = CliRunner().invoke(cli, ["--library", str(folder / "cli-lib"), "import", *map(str, paths), "--json"])
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        return f"{type(result.exception).__name__}: {str(result.exception)[:160]}"
    if "Traceback" in result.output:
        return "traceback printed"
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return f"no JSON on stdout: {result.stdout[:120]!r}"
    if not {"added", "updated", "skipped", "failed", "no_text_layer"} <= set(report):
        return "JSON report lacks fields"
    return ""


_KILLED_CHILD = r"""
import json, os, sys
from scimult_desktop.services.library.facade import Library
stop_after = int(sys.argv[3])
seen = [0]
def progress(event):
    if getattr(event, "stage", "") == "import" and getattr(event, "done", 0) >= 0:
        seen[0] += 1
        if seen[0] >= stop_after:
            os._exit(9)
from scimult_desktop.services.library import importing
store = importing.store_record
def killing_store(*args, **kwargs):
    result = store(*args, **kwargs)
    seen[0] += 1
    if seen[0] >= stop_after:
        os._exit(9)
    return result
importing.store_record = killing_store
library = Library.open(sys.argv[1])
library.import_paths(json.loads(sys.argv[2]))
print("finished without being killed")
"""


def _kill_and_resume(folder: Path, paths: list[Path], clean_count: int) -> str:
    """Kill an import after half its records (SIGKILL-like `os._exit`), import again: same papers, no duplicates."""
    from scimult_desktop.services.library.facade import Library

    library_folder = folder / "killed-lib"
    with Library.open(library_folder) as library:
        library.import_paths([folder / "earlier.bib"])
    env = dict(os.environ, PYTHONPATH=str(PROJECT_ROOT), SCIMULT_NO_OCR="1")
    child = subprocess.run([sys.executable, "-c", _KILLED_CHILD, str(library_folder), json.dumps([str(p) for p in paths]),
                            str(max(2, (clean_count - 5) // 2))], capture_output=True, text=True, env=env, timeout=600)
    if "finished without being killed" in child.stdout:
        return "not killed"
    with Library.open(library_folder) as library:
        library.import_paths(paths)
        count = library.count_papers()
        integrity = library.database.conn.execute("PRAGMA integrity_check").fetchone()[0]
    if integrity != "ok":
        return f"integrity {integrity}"
    return "ok" if count == clean_count else f"{count} papers after resume, {clean_count} in a clean import"


def _on_alarm(signum, frame) -> None:
    raise _Hung()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="run only variants whose name contains this")
    parser.add_argument("--kill", action="store_true", help="also kill each import halfway and resume it")
    parser.add_argument("--verbose", action="store_true", help="print the failure messages of every variant")
    parser.add_argument("--timeout", type=int, default=120, help="seconds one variant may take")
    parser.add_argument("--json", dest="json_out", default="", help="write the outcomes to this JSON file")
    args = parser.parse_args()
    if not SHARED_DATA.is_dir():
        sys.exit(f"real fixtures not found at {SHARED_DATA}")
    os.environ.setdefault("SCIMULT_NO_OCR", "1")
    signal.signal(signal.SIGALRM, _on_alarm)
    if os.geteuid() == 0:
        print("note: running as root, so 'bib_unreadable_permissions' cannot be unreadable")
    rows = []
    print(f"{'variant':46} {'records':>8} {'expect':>7} {'s':>6}  result")
    with tempfile.TemporaryDirectory(prefix="scimult-mutations-") as tmp:
        for chosen in VARIANTS:
            if args.only not in chosen.name:
                continue
            if chosen.name == "bib_unreadable_permissions" and os.geteuid() == 0:
                continue
            signal.alarm(args.timeout)
            try:
                outcome = run_variant(chosen.name, Path(tmp), kill=args.kill)
            except _Hung:
                outcome = Outcome(chosen.name, crash=f"hung: no answer in {args.timeout} s")
            except Exception as exc:  # noqa: BLE001 - a variant the harness could not build
                print(f"{chosen.name:46} harness error: {type(exc).__name__}: {exc}")
                continue
            finally:
                signal.alarm(0)
            rows.append(outcome)
            print(f"{outcome.name:46} {outcome.records:8} {outcome.expected + ' ' + chosen.expect.split(':')[0]:>12}"
                  f" {outcome.seconds:6.1f}  {outcome.problems()}  {outcome.crash or outcome.cli_crash}"
                  f"{'' if outcome.kill_resume in ('-', 'ok') else ' kill: ' + outcome.kill_resume}", flush=True)
            if args.verbose or not outcome.ok:
                for message in outcome.messages:
                    print(f"      {message[:220]}")
    print(f"variants: {len(rows)}, all checks passed: {sum(r.ok for r in rows)}, "
          f"crashes: {sum(bool(r.crash or r.cli_crash) for r in rows)}")
    if args.json_out:
        Path(args.json_out).write_text(json.dumps([{**r.__dict__, "ok": r.ok} for r in rows], indent=1))


if __name__ == "__main__":
    main()
