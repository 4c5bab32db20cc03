"""Offsets into a text as editors count them, turned into Python string offsets (code points).

An editor script sends where its cursor is; how it counts depends on the editor: Emacs,
Python and Sublime count characters (code points), Vim and most C-based tools bytes of
UTF-8, JavaScript-based editors and Java UTF-16 code units. Before "é", "—" or an emoji
the three differ, and a cursor counted one way and read another lands in the wrong sentence.
"""

from __future__ import annotations

POSITION_UNITS = ("character", "utf-8", "utf-16")


def code_point_offset(text: str, position: int, unit: str = "character") -> int | None:
    """`position` counted in `unit` as an offset into `text`; None when it is past the end.

    A position inside a character (in the middle of its UTF-8 bytes or of a surrogate pair)
    counts as that character's start.

    Raises:
        ValueError: unknown unit.
    """
    if unit not in POSITION_UNITS:
        raise ValueError(f"unknown position unit {unit!r} (expected one of: {', '.join(POSITION_UNITS)})")
    if position < 0:
        return None
    if unit == "character":
        return position if position <= len(text) else None
    counted = 0
    for index, char in enumerate(text):
        width = len(char.encode("utf-8")) if unit == "utf-8" else (2 if ord(char) > 0xFFFF else 1)
        if counted + width > position:
            return index
        counted += width
    return len(text) if counted == position else None
