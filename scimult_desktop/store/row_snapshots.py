"""Snapshots of rows and everything that references them, to undo a change exactly.

A change that deletes or re-points rows (merging two papers, merging or deleting tags,
deleting a note) first captures the rows it will touch: the root rows, then every row
of any table whose foreign key points at a captured row, recursively. That follows the
schema itself (`PRAGMA foreign_key_list`), so tables added by later migrations are kept
too without this module knowing them. Restoring puts every captured row back under its
old rowid: rows the change deleted are inserted again, rows it re-pointed are updated
back. The snapshot is plain JSON (blobs as base64) so it fits in `undo_log.payload`.

Callers run `capture`, the change, `mark_gone` and `created_rows` in one transaction, and
`restore` in another; this module never commits.
"""

from __future__ import annotations

import base64
import sqlite3
from typing import Iterable

from scimult_desktop.errors import ScimultError

MAX_DEPTH = 4  # papers -> files -> pages -> ... ; deeper chains do not exist in the schema


def capture(conn: sqlite3.Connection, table: str, column: str, values: Iterable[object]) -> list[dict]:
    """Rows of `table` whose `column` is in `values`, then the rows referencing them, parents first.

    Returns:
        [{"t": table, "r": rowid, "v": {column: value}}], JSON-able.
    """
    children = _children_by_parent(conn)
    captured: list[dict] = []
    seen: set[tuple[str, int]] = set()
    frontier = [(table, column, list(dict.fromkeys(values)))]
    for _depth in range(MAX_DEPTH + 1):
        next_frontier: list[tuple[str, str, list]] = []
        for name, col, keys in frontier:
            rows = _select(conn, name, col, keys)
            fresh = []
            for rowid, row in rows:
                if (name, rowid) in seen:
                    continue
                seen.add((name, rowid))
                captured.append({"t": name, "r": rowid, "v": {k: _encode(v) for k, v in row.items()}})
                fresh.append(row)
            if not fresh:
                continue
            for child, child_col, parent_col in children.get(name, ()):
                parent_values = [row[parent_col] for row in fresh if row.get(parent_col) is not None]
                if parent_values:
                    next_frontier.append((child, child_col, parent_values))
        if not next_frontier:
            break
        frontier = next_frontier
    return captured


def mark_gone(conn: sqlite3.Connection, snapshot: list[dict]) -> list[dict]:
    """Flag the captured rows the change deleted (`"gone": True`); call right after the change."""
    for item in snapshot:
        item["gone"] = conn.execute(f'SELECT 1 FROM "{item["t"]}" WHERE rowid = ?', (item["r"],)).fetchone() is None
    return snapshot


def created_rows(conn: sqlite3.Connection, snapshot: list[dict], table: str, column: str, values: Iterable[object]) -> list[dict]:
    """Rows that reference the same roots now but were not captured before: the change made them.

    A row whose rowid is the foreign key itself (`paper_id INTEGER PRIMARY KEY`) gets a new rowid
    when it is re-pointed; undo deletes it and puts the captured one back.
    """
    before = {(item["t"], item["r"]) for item in snapshot}
    return [{"t": item["t"], "r": item["r"]} for item in capture(conn, table, column, values) if (item["t"], item["r"]) not in before]


def restore(conn: sqlite3.Connection, snapshot: list[dict], created: Iterable[dict] = ()) -> None:
    """Remove the rows the change created, then put captured rows back as they were, parents first.

    A deleted row whose unique key has since been taken by a newer row (a vector computed again
    after the change) replaces that row: undo returns to the state before the change.

    Raises:
        ScimultError: a deleted row's id has since been taken by a new row (undoing would overwrite it).
    """
    for item in created:
        conn.execute(f'DELETE FROM "{item["t"]}" WHERE rowid = ?', (item["r"],))
    for item in snapshot:
        table, rowid, values = item["t"], item["r"], {k: _decode(v) for k, v in item["v"].items()}
        exists = conn.execute(f'SELECT 1 FROM "{table}" WHERE rowid = ?', (rowid,)).fetchone() is not None
        columns = list(values)
        if exists and item.get("gone"):
            raise ScimultError(f"cannot undo: row {rowid} of {table} was reused by a change made since")
        if exists:
            assignments = ", ".join(f'"{c}" = ?' for c in columns)
            conn.execute(f'UPDATE "{table}" SET {assignments} WHERE rowid = ?', (*values.values(), rowid))
        else:
            names = ", ".join(['rowid', *(f'"{c}"' for c in columns)])
            marks = ", ".join("?" * (len(columns) + 1))
            conn.execute(f'INSERT OR REPLACE INTO "{table}" ({names}) VALUES ({marks})', (rowid, *values.values()))


def referencing_columns(conn: sqlite3.Connection, table: str) -> list[tuple[str, str]]:
    """(child table, column) pairs whose single-column foreign key points at `table`."""
    return [(child, column) for child, column, _parent_col in _children_by_parent(conn).get(table, ())]


def _select(conn: sqlite3.Connection, table: str, column: str, keys: list) -> list[tuple[int, dict]]:
    found = []
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        marks = ",".join("?" * len(chunk))
        cursor = conn.execute(f'SELECT rowid AS "__rowid__", * FROM "{table}" WHERE "{column}" IN ({marks})', chunk)
        names = [d[0] for d in cursor.description]
        for row in cursor.fetchall():
            record = dict(zip(names, tuple(row)))
            rowid = int(record.pop("__rowid__"))
            found.append((rowid, record))
    return found


def _children_by_parent(conn: sqlite3.Connection) -> dict[str, list[tuple[str, str, str]]]:
    """parent table -> [(child table, child column, parent column)] for single-column foreign keys."""
    tables = [
        row[0]
        for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE 'CREATE VIRTUAL%'"
        )
    ]
    children: dict[str, list[tuple[str, str, str]]] = {}
    for table in tables:
        keys = conn.execute(f'PRAGMA foreign_key_list("{table}")').fetchall()
        multi = {k[0] for k in keys if k[1] > 0}
        for key in keys:
            if key[0] in multi:
                continue  # composite keys: none in the schema; skipping is safer than half-following
            parent, child_col, parent_col = key[2], key[3], key[4]
            if parent_col is None:
                parent_col = _primary_key(conn, parent)
            if parent_col:
                children.setdefault(parent, []).append((table, child_col, parent_col))
    return children


def _primary_key(conn: sqlite3.Connection, table: str) -> str | None:
    columns = [row for row in conn.execute(f'PRAGMA table_info("{table}")') if row[5]]
    return columns[0][1] if len(columns) == 1 else None


def _encode(value: object) -> object:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"$b64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def _decode(value: object) -> object:
    if isinstance(value, dict) and "$b64" in value:
        return base64.b64decode(value["$b64"])
    return value
