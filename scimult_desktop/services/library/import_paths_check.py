"""What is wrong with a path given to import that is not an ordinary file or folder, in words.

A named pipe or a device blocks, or never ends, when read: such a path is
refused before anything opens it. A symbolic link whose target is gone or that
points back to itself is "no such file" to the system; the report says which.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

EMPTY_FOLDER_REASON = "a folder with no files to import in it (.bib, CSL-JSON .json, .pdf or zotero.sqlite)"


def missing_path_reason(path: Path) -> str:
    """Why `path`, which does not exist as far as the system says, cannot be imported."""
    if not path.is_symlink():
        return "no such file or folder"
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "a symbolic link that leads back to itself (a link loop): nothing to import"
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return f"a symbolic link to {target}, which does not exist (moved or deleted?)"


def special_file_reason(path: Path) -> str | None:
    """None for a regular file; else why `path` (a pipe, socket or device) is not read."""
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None  # reading it reports the error
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return None
    if stat.S_ISFIFO(mode):
        kind = "a named pipe (FIFO)"
    elif stat.S_ISSOCK(mode):
        kind = "a socket"
    elif stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        kind = "a device"
    else:
        kind = "not a regular file"
    return f"{kind}, not a file: not read (reading it could wait forever)"
