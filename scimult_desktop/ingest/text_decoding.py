"""Bytes of a text file people made by hand or by old tools, as text; and what a file that is not text is.

Reference files travel through editors, e-mail, Windows tools and sync folders:
- a BOM says the encoding (UTF-8, UTF-16 or UTF-32); Windows tools write UTF-16
  with and without one, which is full of NUL bytes and is not binary;
- a UTF-8 file gets one entry pasted in from a Windows-1252 (Latin-1) file: each
  byte sequence that is not UTF-8 is read as Windows-1252, so the UTF-8 rest of
  the file stays right (decoding the whole file as cp1252 turned "é" into "Ã©");
- a crash or a sync tool leaves NUL bytes (zero padding at the end, a zeroed
  block inside): they are removed and counted, the text around them is kept.
A file mostly of control bytes is not text: `what_it_is` names what it looks
like (a PDF, an HTML page, a ZIP/Word file, an SQLite database...) so the error
can say so in words.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

# Share of control bytes (other than tab, newline, CR, form feed, NUL) above which a file is not text.
MAX_CONTROL_SHARE = 0.05
# Starts of files that are never text, whatever their other bytes.
_BINARY_MAGIC = (b"SQLite format 3\x00", b"PK\x03\x04", b"\x1f\x8b", b"\x89PNG", b"\xff\xd8\xff", b"GIF8",
                 b"\xd0\xcf\x11\xe0")

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_CONTROL = bytes(b for b in range(32) if b not in (0, 9, 10, 12, 13)) + b"\x7f"


@dataclass
class DecodedText:
    """The text, the encoding it was read in, and what had to be mended (for the import report)."""

    text: str
    encoding: str
    notes: list[str]
    line: int = 1  # where the first mended spot is (1-based), for a report that names the line


def _cp1252_fallback(error: UnicodeDecodeError) -> tuple[str, int]:
    bad = error.object[error.start : error.end]
    return bad.decode("cp1252", errors="replace").replace("\ufffd", "") or "\ufffd", error.end


codecs.register_error("scimult-cp1252", _cp1252_fallback)


def _utf16_without_bom(raw: bytes) -> str | None:
    """'utf-16-le'/'utf-16-be' when `raw` looks like BOM-less UTF-16 of mostly ASCII text (NULs on one side)."""
    sample = raw[:4096]
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    if odd.count(0) > 0.7 * len(odd) and even.count(0) < 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) > 0.7 * len(even) and odd.count(0) < 0.1 * len(odd):
        return "utf-16-be"
    return None


def decode_text(raw: bytes, what: str = "text") -> DecodedText:
    """`raw` as text (see the module docstring).

    Raises:
        ValueError: `raw` is not text; the message says what it looks like instead (`what_it_is`).
    """
    for bom, encoding in _BOMS:
        if raw.startswith(bom):
            text = raw[len(bom) :].decode(encoding, errors="replace")
            return _mended(text, encoding, raw)
    utf16 = _utf16_without_bom(raw)
    if utf16:
        return _mended(raw.decode(utf16, errors="replace"), utf16 + " (no BOM)", raw)
    nuls = raw.count(0)
    body = raw.replace(b"\x00", b"")
    if not body.strip() or raw.startswith(_BINARY_MAGIC) or b"%PDF-" in raw[:1024] or _control_share(body) > MAX_CONTROL_SHARE:
        raise ValueError(f"not a {what} file: {what_it_is(raw)}")
    line = raw.count(b"\n", 0, raw.index(0)) + 1 if nuls else 1
    try:
        text, encoding = body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as error:
        text = body.decode("utf-8", errors="scimult-cp1252")
        if _valid_utf8_share(body) < 0.5:
            # A whole file in a legacy encoding is ordinary (old .bib files): read quietly.
            return DecodedText(text, "windows-1252", [f"{nuls:,} NUL bytes removed"] if nuls else [], line)
        notes = ["bytes that are not UTF-8 read as Windows-1252 (Latin-1)"]
        if nuls:
            notes.append(f"{nuls:,} NUL bytes removed")
        first = body.count(b"\n", 0, error.start) + 1
        return DecodedText(text, "mixed UTF-8 and Windows-1252", notes, min(first, line) if nuls else first)
    return DecodedText(text, encoding, [f"{nuls:,} NUL bytes removed"] if nuls else [], line)


def _mended(text: str, encoding: str, raw: bytes) -> DecodedText:
    notes = []
    spots = [i for i in (text.find("\ufffd"), text.find("\x00")) if i >= 0]
    line = text.count("\n", 0, min(spots)) + 1 if spots else 1
    if "\ufffd" in text:
        notes.append(f"{text.count(chr(0xFFFD)):,} characters that are not valid {encoding} replaced by \ufffd")
    if "\x00" in text:
        notes.append(f"{text.count(chr(0)):,} NUL characters removed")
        text = text.replace("\x00", "")
    return DecodedText(text, encoding, notes, line)


def _control_share(data: bytes) -> float:
    sample = data[:65536]
    if not sample:
        return 0.0
    return (len(sample) - len(sample.translate(None, _CONTROL))) / len(sample)


def _valid_utf8_share(data: bytes) -> float:
    non_ascii = sum(1 for b in data[:65536] if b >= 0x80)
    if not non_ascii:
        return 1.0
    recovered = data[:65536].decode("utf-8", errors="ignore")
    valid = sum(len(ch.encode("utf-8")) for ch in recovered if ord(ch) >= 0x80)
    return valid / non_ascii


def what_it_is(raw: bytes) -> str:
    """A few words on what a file's first bytes say it is (for an error message)."""
    head = raw[:2048]
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if not raw.strip(b" \t\r\n\x00"):
        return "the file holds only zero bytes" if raw.count(0) else "the file is empty"
    if b"%PDF-" in head[:1024]:
        return "it is a PDF file"
    if stripped.startswith((b"<!doctype html", b"<html")) or b"<html" in stripped[:512]:
        return "it is an HTML web page (perhaps a download that returned a login or error page)"
    if stripped.startswith(b"<?xml") or stripped.startswith(b"<rdf:rdf"):
        return "it is an XML file"
    if head.startswith(b"SQLite format 3\x00"):
        return "it is an SQLite database"
    if head.startswith(b"PK\x03\x04"):
        return "it is a ZIP archive (or a Word/OpenDocument file)"
    if head.startswith(b"\x1f\x8b"):
        return "it is gzip-compressed"
    if head.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "it is an image"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "it is an old Microsoft Office document"
    if head.lstrip().startswith((b"{", b"[")):
        return "it is a JSON file"
    if head.lstrip().startswith(b"@"):
        return "it is a BibTeX file"
    if head.startswith(b"TY  - "):
        return "it is a RIS file"
    return "it holds binary data"
