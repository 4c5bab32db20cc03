"""Opening a library database: WAL, foreign keys, migrations, transactions.

A library is a folder holding `library.sqlite3`, an `indexes/` folder for vector
indexes and a `files/` folder for attachments the library owns. Every write
runs inside `transaction()`, so a crash at any point leaves the last committed
state (SQLite's WAL journal makes the commit itself atomic).
"""

from __future__ import annotations

import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import sqlite_utils

from scimult_desktop.config import PRIVATE_FILE_MODE, make_private_dir
from scimult_desktop.errors import LibraryError
from scimult_desktop.store.migrations import apply_migrations

DATABASE_NAME = "library.sqlite3"
BUSY_TIMEOUT_S = 30


class LibraryDatabase:
    """A connection to one library's database, migrated to the current schema.

    One instance per thread: SQLite connections must not be shared across threads.
    """

    def __init__(self, path: Path | str | None, *, create: bool = True) -> None:
        if path is None or str(path) == ":memory:":
            self.folder = None
            conn = sqlite3.connect(":memory:", isolation_level=None)
        else:
            self.folder = Path(path)
            db_path = self.folder / DATABASE_NAME
            if not db_path.exists() and not create:
                raise LibraryError(f"{self.folder}: no library here (missing {DATABASE_NAME})")
            try:
                make_private_dir(self.folder)
                _create_private_file(db_path)
                conn = sqlite3.connect(db_path, isolation_level=None, timeout=BUSY_TIMEOUT_S)
            except (OSError, sqlite3.Error) as exc:
                raise LibraryError(f"{db_path}: cannot open library database ({exc})") from exc
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction
        # is exactly what `transaction()` wraps and nothing else.
        conn.row_factory = sqlite3.Row
        self.conn = conn
        self.db = sqlite_utils.Database(conn)
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            if self.folder is not None:
                _enable_wal(self.db)
                # NORMAL is durable against application crashes in WAL mode; only a
                # power loss can drop the very last commits, never corrupt the file.
                conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_S * 1000}")
            apply_migrations(self)
        except sqlite3.DatabaseError as exc:
            conn.close()
            where = self.folder / DATABASE_NAME if self.folder else ":memory:"
            raise LibraryError(f"{where}: not a usable library database ({exc})") from exc

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """Run the block atomically: all of its writes commit, or none do."""
        if self.conn.in_transaction:
            # Nested use joins the outer transaction (savepoints would also work,
            # but no caller needs partial rollback).
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        else:
            self.conn.execute("COMMIT")

    def execute(self, sql: str, params: tuple | dict = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)

    @property
    def index_folder(self) -> Path | None:
        return None if self.folder is None else self.folder / "indexes"

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "LibraryDatabase":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _create_private_file(path: Path) -> None:
    """Create an empty database file readable by the user alone (0600) unless it exists.

    SQLite gives its -wal and -shm files the main file's permissions, so they follow.
    An empty file is a valid empty database.
    """
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
    except FileExistsError:
        return
    os.close(fd)


def _enable_wal(db: sqlite_utils.Database) -> None:
    """Switch a library to WAL (kept in the file, so only its first opening switches it).

    Switching needs the database to itself and SQLite answers "locked" at once instead of
    waiting, so threads or processes opening the same new library together retry here, for
    as long as the busy timeout would have waited.
    """
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    delay = 0.005
    while True:
        try:
            db.enable_wal()  # a no-op when the file is already in WAL mode
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(delay)
            delay = min(delay * 2, 0.25)
