"""A LaTeX draft spread over files: the main file and those it reads in, in reading order.

`\\input{sections/intro}`, `\\include{..}`, `\\subfile{..}` and `\\import{dir}{file}` (and
`\\subimport`, `\\inputfrom` ...) name files relative to the main file's folder, as LaTeX
run in that folder finds them (`.tex` is added when the name has no such file). Commands
in comments or `\\iffalse` blocks read nothing in. Each file is read as a draft of its own
(its paragraphs are its own); its sentences come where the command stands, and carry the
file's path (relative to the main file's folder) in `DraftSentence.file`, with lines and
offsets in that file.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

from scimult_desktop.writing.draft import DraftError, DraftSentence, analyse_draft, read_draft_text
from scimult_desktop.writing.latex import project_latex

MAX_DEPTH = 8  # files reading in files; deeper is almost surely a loop through links
MAX_FILES = 500


def read_latex_project(path: str | os.PathLike, on_problem: Callable[[str], None] | None = None) -> list[DraftSentence]:
    """The sentences of the LaTeX draft at `path` and of every file it reads in, in reading order.

    A file read in that is missing or unreadable is reported to `on_problem` (a message naming
    it and the line that reads it in) and skipped; the rest is read.

    Raises:
        DraftError: the main file itself cannot be read.
    """
    main = Path(path)
    root = main.resolve().parent
    report = on_problem or (lambda message: None)
    seen: set[Path] = set()
    paragraphs = [0]

    def read(file: Path, text: str, name: str | None, depth: int) -> list[DraftSentence]:
        seen.add(file.resolve())
        sentences = analyse_draft(text, "latex")
        base = paragraphs[0]
        for sentence in sentences:
            sentence.file = name
            sentence.paragraph += base
        paragraphs[0] = base + 1 + max((s.paragraph - base for s in sentences), default=-1)
        inputs = project_latex(text).inputs
        if not inputs:
            return sentences
        merged: list[DraftSentence] = []
        rest = iter(sorted(sentences, key=lambda s: s.start))
        pending = next(rest, None)
        for offset, written in inputs:
            while pending is not None and pending.start < offset:
                merged.append(pending)
                pending = next(rest, None)
            merged += read_input(file, text, offset, written, depth)
        while pending is not None:
            merged.append(pending)
            pending = next(rest, None)
        return merged

    def read_input(parent: Path, text: str, offset: int, written: str, depth: int) -> list[DraftSentence]:
        where = f"{parent.name} line {text.count(chr(10), 0, offset) + 1}"
        target = _resolve(root, written)
        if target is None:
            report(f"{where}: {written} not found (looked in {root})")
            return []
        if target.resolve() in seen:
            return []  # read already (or a loop)
        if depth >= MAX_DEPTH or len(seen) >= MAX_FILES:
            report(f"{where}: {written} not read (files read in too deep or too many)")
            return []
        try:
            child_text = read_draft_text(target)
        except DraftError as exc:
            report(f"{where}: {exc}")
            return []
        return read(target, child_text, _relative(target, root), depth + 1)

    return read(main, read_draft_text(main), None, 0)


def _resolve(root: Path, written: str) -> Path | None:
    for candidate in (root / written, root / f"{written}.tex"):
        if candidate.is_file():
            return candidate
    return None


def _relative(target: Path, root: Path) -> str:
    try:
        return target.resolve().relative_to(root).as_posix()
    except ValueError:
        return str(target)
