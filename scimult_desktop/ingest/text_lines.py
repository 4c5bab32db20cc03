"""Text-line helpers shared by the PDF readers (header, reference list, citation contexts).

Pure text processing: no I/O, standard library only.
"""

from __future__ import annotations

import re

# The heading that starts a reference list (also numbered or lettered, and in German and French).
REFERENCES_HEADING_RE = re.compile(
    r"^\s*((\d+|[IVX]+|[A-Z])\.?\s*)?(references|bibliography|literature cited|works cited|cited literature"
    r"|references and notes|literatur|référence?s)\s*:?\s*$",
    re.IGNORECASE,
)


def join_lines(lines: list[str], hyphens: str = "-") -> str:
    """Join text lines, undoing end-of-line hyphenation ("associ-" + "ated").

    Args:
        hyphens: the characters that hyphenate a word at a line end (a reader of body text
            also meets the en dash some PDFs print there).
    """
    text = ""
    for line in lines:
        line = line.strip()
        if not line:
            continue
        if text.endswith(tuple(hyphens)) and line[:1].islower() and len(text) > 1 and text[-2].isalpha():
            text = text[:-1] + line
        else:
            text = f"{text} {line}" if text else line
    return text
