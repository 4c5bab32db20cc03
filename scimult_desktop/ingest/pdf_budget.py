"""How many bytes of drawing instructions a PDF page holds, measured without inflating more than a cap.

MuPDF's text extraction costs memory in proportion to the page's decoded
content: a 122 KB PDF holding 40 MiB of compressed text operators took 2.9 GB.
Content streams compress a thousandfold, so the file size says nothing; here the
streams of a page (and of the forms it draws) are inflated in chunks, counting,
and the count stops at the cap. Pages over the cap are not read (the importer
says which). Only the first 4 MiB or so of each stream is ever decoded.
"""

from __future__ import annotations

import base64
import binascii
import zlib

# Decoded content per page whose text is read, and for all pages of one PDF together.
MAX_PAGE_CONTENT_BYTES = 4 * 1024 * 1024
MAX_DOCUMENT_CONTENT_BYTES = 32 * 1024 * 1024
# Filters other than Flate and the ASCII ones are rare in content streams (LZW in pre-2000
# files); their decoded size is taken as this many times the stored size.
_UNKNOWN_FILTER_RATIO = 10
_CHUNK = 256 * 1024


def page_content_bytes(document, page, cap: int = MAX_PAGE_CONTENT_BYTES) -> int:
    """Decoded size of the page's content streams and form XObjects; stops counting once over `cap`."""
    xrefs = list(page.get_contents())
    try:
        xrefs += [item[0] for item in page.get_xobjects() if item[0] > 0]
    except Exception:  # noqa: BLE001 - damaged resources: the content streams still count
        pass
    total = 0
    for xref in dict.fromkeys(xrefs):
        total += stream_bytes(document, xref, cap - total + 1)
        if total > cap:
            break
    return total


def stream_bytes(document, xref: int, cap: int) -> int:
    """Decoded length of stream `xref`, counted up to just over `cap`."""
    try:
        raw = document.xref_stream_raw(xref) or b""
        filters = _filters(document.xref_get_key(xref, "Filter"))
    except Exception:  # noqa: BLE001 - not a stream, or unreadable: MuPDF will skip it too
        return 0
    data = raw
    for name in filters:
        if name in ("ASCII85Decode", "A85"):
            data = _ascii85(data)
        elif name in ("ASCIIHexDecode", "AHx"):
            data = _ascii_hex(data)
        elif name in ("FlateDecode", "Fl"):
            return _inflated_length(data, cap)
        else:
            return len(raw) * _UNKNOWN_FILTER_RATIO
    return len(data)


def _filters(entry: tuple[str, str]) -> list[str]:
    kind, value = entry
    if kind == "name":
        return [value.lstrip("/")]
    if kind == "array":
        return [part.lstrip("/") for part in value.strip("[]").split() if part.startswith("/")]
    return []


def _inflated_length(data: bytes, cap: int) -> int:
    inflater = zlib.decompressobj()
    size = 0
    try:
        while data and size <= cap and not inflater.eof:
            chunk = inflater.decompress(data, _CHUNK)
            tail = inflater.unconsumed_tail
            if not chunk and len(tail) >= len(data):
                break  # no progress (a stream zlib cannot go on with): count what came out
            size += len(chunk)
            data = tail
    except zlib.error:
        pass  # a damaged stream: MuPDF decodes what it can, which is no more than was counted
    return size


def _ascii85(data: bytes) -> bytes:
    text = data.strip()
    text = text[2:] if text.startswith(b"<~") else text
    text = text if text.endswith(b"~>") else text + b"~>"
    try:
        return base64.a85decode(b"<~" + text, adobe=True, ignorechars=b" \t\n\r\x0b\x0c")
    except ValueError:
        return data


def _ascii_hex(data: bytes) -> bytes:
    digits = bytes(ch for ch in data.split(b">", 1)[0] if chr(ch) in "0123456789abcdefABCDEF")
    try:
        return binascii.unhexlify(digits + b"0" * (len(digits) % 2))
    except binascii.Error:
        return data
