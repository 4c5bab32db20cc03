"""Content hashes of files, shared by import (resume by hash), bundles and training exports."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path


def update_with_file(digest: "hashlib._Hash", path: str | os.PathLike) -> None:
    """Feed a file's bytes to `digest` in 1 MiB chunks (models are hundreds of MB)."""
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's content."""
    digest = hashlib.sha256()
    update_with_file(digest, path)
    return digest.hexdigest()
