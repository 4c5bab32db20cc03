"""Watch folders: new or changed PDFs and .bib files in them are imported automatically.

Polling, not OS notifications: each scan lists the folder and compares every
file's (mtime, size) with what the library saw last time, so only new or changed
files are handed to `import_paths` (which then skips content it already has).
No extra dependency, and it works the same on network drives. Files modified
in the last `min_age` seconds are left for the next scan (they may still be
being written). Files that disappear are forgotten; their papers stay.

Example:
    >>> lib = open_library("/tmp/demo-lib")
    >>> add_watch_folder(lib, "~/Papers")
    >>> scan_watch_folders(lib).added
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from scimult_desktop.domain.progress import CancelToken, ProgressCallback
from scimult_desktop.domain.records import ImportProblem, ImportReport
from scimult_desktop.errors import ScimultError
from scimult_desktop.services.library import importing
from scimult_desktop.store.clock import utc_now

if TYPE_CHECKING:
    from scimult_desktop.services.library.facade import Library

WATCHED_SUFFIXES = frozenset({".pdf", ".bib", ".bibtex", ".biblatex"})


@dataclass
class WatchFolder:
    """A watched folder and what its last scan did."""

    path: str
    added_at: str
    last_scan_at: str | None = None
    last_report: dict | None = None

    def to_json(self) -> dict:
        return {"path": self.path, "added_at": self.added_at, "last_scan_at": self.last_scan_at,
                "last_report": self.last_report}


def add_watch_folder(library: "Library", path: str | os.PathLike) -> WatchFolder:
    """Start watching a folder (idempotent). Raises `ScimultError` if it is not a folder."""
    folder = Path(path).expanduser().resolve()
    if not folder.is_dir():
        raise ScimultError(f"{folder}: not a folder, cannot watch it")
    with library.database.transaction() as conn:
        conn.execute("INSERT OR IGNORE INTO watch_folders (path, added_at) VALUES (?, ?)", (str(folder), utc_now()))
    return _get(library, str(folder))


def list_watch_folders(library: "Library") -> list[WatchFolder]:
    """Watched folders, in the order they were added."""
    rows = library.database.conn.execute(
        "SELECT path, added_at, last_scan_at, last_report FROM watch_folders ORDER BY added_at, path"
    )
    return [_from_row(row) for row in rows]


def remove_watch_folder(library: "Library", path: str | os.PathLike) -> None:
    """Stop watching a folder; its papers stay in the library. Raises `ScimultError` if not watched."""
    wanted = {str(Path(path).expanduser()), str(Path(path).expanduser().resolve())}
    with library.database.transaction() as conn:
        removed = 0
        for candidate in wanted:
            conn.execute("DELETE FROM watch_files WHERE folder = ?", (candidate,))
            removed += conn.execute("DELETE FROM watch_folders WHERE path = ?", (candidate,)).rowcount
    if not removed:
        raise ScimultError(f"{path}: not a watched folder (see `scimult watch list`)")


def scan_watch_folders(
    library: "Library",
    *,
    min_age: float = 2.0,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> ImportReport:
    """Import the new or changed PDFs/.bib files of every watched folder, once.

    Args:
        min_age: seconds since a file's last change before it is imported.
        progress, cancel: passed to the import.

    Returns:
        One `ImportReport` for all folders. A missing folder is reported in `failed`.
    """
    total = ImportReport()
    for folder in list_watch_folders(library):
        report = _scan_folder(library, Path(folder.path), min_age, progress, cancel)
        total.added += report.added
        total.updated += report.updated
        total.skipped += report.skipped
        total.failed.extend(report.failed)
        total.paper_ids.extend(report.paper_ids)
    return total


def run_watch_loop(
    library: "Library",
    *,
    interval: float = 30.0,
    min_age: float = 2.0,
    cancel: CancelToken | None = None,
    on_scan: Callable[[ImportReport], None] | None = None,
    max_scans: int | None = None,
) -> None:
    """Scan every `interval` seconds until `cancel` is set (or `max_scans` scans ran)."""
    scans = 0
    while True:
        report = scan_watch_folders(library, min_age=min_age, cancel=cancel)
        if on_scan:
            on_scan(report)
        scans += 1
        if max_scans is not None and scans >= max_scans:
            return
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline:
            if cancel is not None and cancel.cancelled:
                return
            time.sleep(min(0.5, max(0.0, deadline - time.monotonic())))


def _scan_folder(library: "Library", folder: Path, min_age: float,
                 progress: ProgressCallback | None, cancel: CancelToken | None) -> ImportReport:
    conn = library.database.conn
    report = ImportReport()
    if not folder.is_dir():
        report.failed.append(ImportProblem(str(folder), "watched folder is missing"))
        return report
    seen = {row[0]: (row[1], row[2]) for row in conn.execute(
        "SELECT path, mtime_ns, size FROM watch_files WHERE folder = ?", (str(folder),))}
    now_ns = time.time_ns()
    current: dict[str, tuple[int, int]] = {}
    changed: list[str] = []
    for path in _candidate_files(folder):
        try:
            stat = path.stat()
        except OSError:
            continue
        if 0 <= now_ns - stat.st_mtime_ns < min_age * 1e9:  # (a future mtime is clock skew: not young)
            continue  # still being written, perhaps: next scan
        key = str(path)
        current[key] = (stat.st_mtime_ns, stat.st_size)
        if seen.get(key) != current[key]:
            changed.append(key)
    if changed:
        report = importing.import_paths(library.database, changed, progress=progress, cancel=cancel)
    failed_paths = {problem.path for problem in report.failed}
    with library.database.transaction():
        for key in set(seen) - set(current):
            conn.execute("DELETE FROM watch_files WHERE path = ?", (key,))
        for key in changed:
            if key in failed_paths:
                continue  # a whole-file failure is retried on the next scan
            mtime_ns, size = current[key]
            conn.execute(
                """INSERT INTO watch_files (path, folder, mtime_ns, size) VALUES (?, ?, ?, ?)
                   ON CONFLICT (path) DO UPDATE SET folder = excluded.folder, mtime_ns = excluded.mtime_ns,
                       size = excluded.size""",
                (key, str(folder), mtime_ns, size),
            )
        conn.execute(
            "UPDATE watch_folders SET last_scan_at = ?, last_report = ? WHERE path = ?",
            (utc_now(), json.dumps(report.to_json(), ensure_ascii=False), str(folder)),
        )
    return report


def _candidate_files(folder: Path) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(folder):
        # Hidden folders (.git, .Trash) and Zotero data folders (imported through zotero.sqlite) are skipped.
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        if "zotero.sqlite" in names:
            dirs[:] = []
            continue
        files.extend(Path(root) / name for name in sorted(names)
                     if not name.startswith(".") and Path(name).suffix.lower() in WATCHED_SUFFIXES)
    return files


def _get(library: "Library", path: str) -> WatchFolder:
    row = library.database.conn.execute(
        "SELECT path, added_at, last_scan_at, last_report FROM watch_folders WHERE path = ?", (path,)
    ).fetchone()
    return _from_row(row)


def _from_row(row) -> WatchFolder:
    report = json.loads(row["last_report"]) if row["last_report"] else None
    return WatchFolder(row["path"], row["added_at"], row["last_scan_at"], report)
