"""Bookkeeping of import sources: per-record provenance, finished files, import jobs."""

from __future__ import annotations

import json
import sqlite3

from scimult_desktop.domain.records import ImportedRecord, ImportProblem
from scimult_desktop.store.clock import utc_now
from scimult_desktop.store.database import LibraryDatabase


class SourceStore:
    def __init__(self, database: LibraryDatabase) -> None:
        self.database = database
        self.conn = database.conn

    def find(self, kind: str, path: str, key: str) -> tuple[int, str] | None:
        row = self.conn.execute(
            "SELECT paper_id, content_hash FROM paper_sources WHERE source_kind = ? AND source_path = ? AND source_key = ?",
            (kind, path, key),
        ).fetchone()
        return None if row is None else (int(row[0]), str(row[1]))

    def link(self, paper_id: int, record: ImportedRecord, content_hash: str) -> None:
        self.conn.execute(
            """INSERT INTO paper_sources (paper_id, source_kind, source_path, source_key, content_hash, imported_at)
               VALUES (?, ?, ?, ?, ?, ?)
               ON CONFLICT (source_kind, source_path, source_key) DO UPDATE SET
                   paper_id = excluded.paper_id, content_hash = excluded.content_hash, imported_at = excluded.imported_at""",
            (paper_id, record.source_kind, record.source_path, record.source_key, content_hash, utc_now()),
        )

    def finished_file(self, path: str) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM source_files WHERE path = ?", (path,)).fetchone()

    def mark_file_finished(
        self, path: str, kind: str, sha256: str, size: int, records: int, problems: list[ImportProblem], job_id: int
    ) -> None:
        with self.database.transaction():
            self.conn.execute(
                """INSERT INTO source_files (path, kind, sha256, size, records, problems, job_id, finished_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (path) DO UPDATE SET kind = excluded.kind, sha256 = excluded.sha256,
                       size = excluded.size, records = excluded.records, problems = excluded.problems,
                       job_id = excluded.job_id, finished_at = excluded.finished_at""",
                (path, kind, sha256, size, records,
                 json.dumps([{"path": p.path, "error": p.error} for p in problems]), job_id, utc_now()),
            )

    def start_job(self, paths: list[str]) -> int:
        with self.database.transaction():
            # A job still "running" was killed: say so instead of leaving it ambiguous.
            self.conn.execute("UPDATE import_jobs SET status = 'interrupted' WHERE status = 'running'")
            cursor = self.conn.execute(
                "INSERT INTO import_jobs (started_at, status, paths) VALUES (?, 'running', ?)",
                (utc_now(), json.dumps(paths)),
            )
        return int(cursor.lastrowid)

    def finish_job(self, job_id: int, status: str, report: dict) -> None:
        with self.database.transaction():
            self.conn.execute(
                "UPDATE import_jobs SET status = ?, finished_at = ?, report = ? WHERE id = ?",
                (status, utc_now(), json.dumps(report), job_id),
            )
