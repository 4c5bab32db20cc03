"""Streaming JSON: JSONL lines, the items of a top-level array, the members of a top-level object.

Published training files come in all three shapes (SciRepEval ships JSONL or one big
array, SPECTER ships one big object). These readers decode one value at a time from a
bounded buffer, so a corpus larger than memory streams through; every value comes with
the line it starts on, and a malformed value raises `DataFormatError("file:line: ...")`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from scimult_desktop.errors import ScimultError

CHUNK_CHARS = 1 << 20
# A single JSON value larger than this is treated as malformed rather than buffered on.
MAX_VALUE_CHARS = 256 << 20
_WHITESPACE = " \t\r\n"


class DataFormatError(ScimultError, ValueError):
    """A training-data file that does not have the expected layout (the message names file:line)."""


def where(path: str | Path, line: int) -> str:
    return f"{path}:{line}"


def iter_jsonl(path: str | Path) -> Iterator[tuple[int, object]]:
    """(line number, decoded value) for every non-blank line of a JSONL file."""
    path = Path(path)
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                raise DataFormatError(f"{where(path, number)}: not valid JSON ({exc.msg})") from None


def iter_records(path: str | Path) -> Iterator[tuple[int, object]]:
    """Values of a JSONL file, or the items of a file holding one JSON array (detected from the first character)."""
    path = Path(path)
    if _first_char(path) == "[":
        yield from _Scanner(path).array_items()
    else:
        yield from iter_jsonl(path)


def iter_object_members(path: str | Path) -> Iterator[tuple[int, str, object]]:
    """(line, key, value) for each member of a file holding one JSON object, one member in memory at a time."""
    yield from _Scanner(Path(path)).object_members()


def open_text(path: Path):
    try:
        return path.open(encoding="utf-8")
    except OSError as exc:
        raise DataFormatError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _first_char(path: Path) -> str:
    with open_text(path) as handle:
        while True:
            chunk = handle.read(4096)
            if not chunk:
                return ""
            stripped = chunk.lstrip(_WHITESPACE + "\ufeff")
            if stripped:
                return stripped[0]


class _Scanner:
    """Walks one top-level JSON array or object, decoding members with `json.JSONDecoder.raw_decode`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.handle = open_text(path)
        self.buffer = ""
        self.pos = 0
        self.line = 1  # line number at self.pos
        self.eof = False
        self.decoder = json.JSONDecoder()

    def _fill(self) -> bool:
        if self.eof:
            return False
        chunk = self.handle.read(CHUNK_CHARS)
        if not chunk:
            self.eof = True
            self.handle.close()
            return False
        # Drop what was consumed so the buffer only holds the value being decoded.
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0
        return True

    def _advance(self, end: int) -> None:
        self.line += self.buffer.count("\n", self.pos, end)
        self.pos = end

    def _skip_whitespace(self) -> str:
        """The next significant character ('' at end of file), without consuming it."""
        while True:
            while self.pos < len(self.buffer) and self.buffer[self.pos] in _WHITESPACE + "\ufeff":
                if self.buffer[self.pos] == "\n":
                    self.line += 1
                self.pos += 1
            if self.pos < len(self.buffer):
                return self.buffer[self.pos]
            if not self._fill():
                return ""

    def _expect(self, allowed: str, what: str) -> str:
        char = self._skip_whitespace()
        if not char or char not in allowed:
            found = repr(char) if char else "end of file"
            raise DataFormatError(f"{where(self.path, self.line)}: expected {what}, found {found}")
        self.pos += 1
        return char

    def _value(self):
        self._skip_whitespace()
        start_line = self.line
        while True:
            try:
                value, end = self.decoder.raw_decode(self.buffer, self.pos)
            except json.JSONDecodeError as exc:
                if len(self.buffer) - self.pos > MAX_VALUE_CHARS or not self._fill():
                    raise DataFormatError(f"{where(self.path, start_line)}: not valid JSON ({exc.msg})") from None
                continue
            # A number or literal cut at the buffer's edge decodes "successfully" but short.
            if end == len(self.buffer) and not self.eof and self._fill():
                continue
            self._advance(end)
            return start_line, value

    def array_items(self) -> Iterator[tuple[int, object]]:
        self._expect("[", "'[' (a JSON array)")
        if self._skip_whitespace() == "]":
            self.pos += 1
            return
        while True:
            yield self._value()
            if self._expect(",]", "',' or ']'") == "]":
                return

    def object_members(self) -> Iterator[tuple[int, str, object]]:
        self._expect("{", "'{' (a JSON object)")
        if self._skip_whitespace() == "}":
            self.pos += 1
            return
        while True:
            line, key = self._value()
            if not isinstance(key, str):
                raise DataFormatError(f"{where(self.path, line)}: object keys must be strings")
            self._expect(":", "':'")
            _, value = self._value()
            yield line, key, value
            if self._expect(",}", "',' or '}'") == "}":
                return
