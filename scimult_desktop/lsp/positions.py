"""LSP positions (line, character in the negotiated encoding) <-> offsets into a Python string.

LSP counts a line's characters in UTF-16 code units unless client and server agreed on
UTF-32 or UTF-8; Python strings index code points. `TextPositions` converts both ways
with the line starts computed once per text version.
"""

from __future__ import annotations

import bisect

UTF16, UTF32, UTF8 = "utf-16", "utf-32", "utf-8"


def _units(text: str, encoding: str) -> int:
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text) + sum(1 for char in text if ord(char) > 0xFFFF)


class TextPositions:
    """Conversions for one text; build a new one when the text changes."""

    def __init__(self, text: str, encoding: str = UTF16) -> None:
        self.text = text
        self.encoding = encoding
        self.line_starts = [0]
        start = text.find("\n")
        while start >= 0:
            self.line_starts.append(start + 1)
            start = text.find("\n", start + 1)

    def offset(self, line: int, character: int) -> int:
        """The string offset of an LSP position (clamped to the line and the text)."""
        if line >= len(self.line_starts):
            return len(self.text)
        start = self.line_starts[max(0, line)]
        end = self.line_starts[line + 1] - 1 if line + 1 < len(self.line_starts) else len(self.text)
        line_text = self.text[start:end]
        if self.encoding == UTF32:
            return start + min(character, len(line_text))
        units = 0
        for i, char in enumerate(line_text):
            if units >= character:
                return start + i
            units += _units(char, self.encoding)
        return end

    def position(self, offset: int) -> tuple[int, int]:
        """(line, character) of a string offset."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.line_starts, offset) - 1
        return line, _units(self.text[self.line_starts[line]:offset], self.encoding)
