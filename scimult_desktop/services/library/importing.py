"""Importing sources into a library: matching, merging, resumable per file.

Each record is stored in its own transaction, so a crash keeps every paper
imported before it. A file is marked finished (by content hash) only after its
last record; an unchanged finished file is not read again, and an interrupted
one is read again with its already-stored records recognised and skipped.

No input may stop an import: whatever one file raises while it is read (a
RecursionError, MemoryError, an importer bug...) becomes a `failed` entry naming
that file, and whatever one record raises while it is stored becomes one naming
that record; the other files and records go on. Records are held to the bounds
of `ingest.limits` before they are stored, and what was cut is reported.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Iterable, Iterator

from scimult_desktop.domain.progress import CancelToken, ProgressCallback, ProgressTracker
from scimult_desktop.domain.records import ImportedRecord, ImportProblem, ImportReport
from scimult_desktop.errors import Cancelled, ImportFailed, LibraryError
from scimult_desktop.hashing import sha256_file
from scimult_desktop.ingest.base import Importer
from scimult_desktop.ingest.limits import fit_record, storable_text
from scimult_desktop.ingest.registry import builtin_importers, importer_by_name, importer_for
from scimult_desktop.services.library.import_paths_check import EMPTY_FOLDER_REASON, missing_path_reason, special_file_reason
from scimult_desktop.services.library import citation_contexts
from scimult_desktop.store import links
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.papers import PaperStore
from scimult_desktop.store.sources import SourceStore


def import_paths(
    database: LibraryDatabase,
    paths: Iterable[str | os.PathLike],
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    force: bool = False,
    importers: list[Importer] | None = None,
) -> ImportReport:
    """Import files and folders (recursively) into the library.

    Args:
        paths: files (.bib, .json CSL, .pdf, zotero.sqlite) or folders to scan.
        progress: receives one event per file and per stored record.
        cancel: checked between records; on cancel the work done so far stays.
        force: read files again even when unchanged since the last import.

    Returns:
        An `ImportReport`; files and entries that failed are listed, not raised.

    Raises:
        Cancelled: when `cancel` was set (what was stored stays stored).
    """
    importers = importers or builtin_importers()
    report = ImportReport()
    papers, sources = PaperStore(database), SourceStore(database)
    files = list(_expand(paths, importers, report))
    job_id = sources.start_job([str(p) for p in files])
    tracker = ProgressTracker("import", len(files), progress)
    status = "interrupted"
    try:
        for path in files:
            if cancel:
                cancel.raise_if_cancelled()
            tracker.advance(0, current=str(path), force=True)
            _import_file(path, importers, papers, sources, report, job_id, force, cancel)
            tracker.advance(1, current=str(path))
        status = "done"
    except Cancelled:
        status = "cancelled"
        raise
    finally:
        # Links are derived data: recomputing them after a partial run is safe.
        links.match_references(database)
        links.propose_duplicates(database, report.paper_ids)
        # Citation contexts come from the stored pages and references: a paper whose
        # analysis this misses (a crash here) is picked up by `scimult contexts --rebuild`.
        citation_contexts.analyse_papers(database, report.paper_ids)
        sources.finish_job(job_id, status, report.to_json())
    return report


def _expand(paths: Iterable[str | os.PathLike], importers: list[Importer], report: ImportReport) -> Iterator[Path]:
    seen: set[Path] = set()
    for raw in paths:
        try:
            path = Path(raw).expanduser()
            if not path.exists():
                report.failed.append(_problem(str(raw), missing_path_reason(path)))
                continue
            if path.is_dir():
                candidates = sorted(
                    p for p in path.rglob("*")
                    if p.is_file() and importer_for(p, importers) and not _inside_zotero_data_dir(p, path)
                )
                if not candidates:
                    report.failed.append(_problem(str(raw), EMPTY_FOLDER_REASON))
            else:
                candidates = [path]
        except (OSError, ValueError) as exc:  # a name too long, a NUL byte, an unreadable folder
            report.failed.append(_problem(str(raw), f"cannot be read ({_describe(exc)})"))
            continue
        for candidate in candidates:
            resolved = candidate.resolve()
            if resolved not in seen:
                seen.add(resolved)
                yield resolved


def _inside_zotero_data_dir(file: Path, root: Path) -> bool:
    """Whether `file` lies in a Zotero data folder under `root` (its zotero.sqlite imports it, with metadata)."""
    if file.name == "zotero.sqlite":
        return False
    for parent in file.parents:
        if (parent / "zotero.sqlite").is_file():
            return True
        if parent == root:
            return False
    return False


def _import_file(
    path: Path,
    importers: list[Importer],
    papers: PaperStore,
    sources: SourceStore,
    report: ImportReport,
    job_id: int,
    force: bool,
    cancel: CancelToken | None,
) -> None:
    where = storable_text(str(path))
    special = special_file_reason(path)
    if special:
        report.failed.append(_problem(where, special))
        return
    importer = importer_for(path, importers) or importer_by_name(path, importers)
    if importer is None:
        report.failed.append(_problem(where, f"unsupported file type {path.suffix or '(none)'}"))
        return
    try:
        sha256, size = sha256_file(path), path.stat().st_size
    except OSError as exc:
        report.failed.append(_problem(where, f"cannot read file ({exc.strerror or exc})"))
        return
    previous = sources.finished_file(where)
    if previous and previous["sha256"] == sha256 and not force:
        report.skipped += previous["records"]
        report.failed.extend(ImportProblem(**p) for p in json.loads(previous["problems"]))
        return
    records, problems = 0, []
    try:
        for item in importer.read(path):
            if cancel:
                cancel.raise_if_cancelled()
            if isinstance(item, ImportProblem):
                problems.append(_problem(item.path, item.error))
                continue
            records += 1
            outcome = _store_one(papers, sources, item, problems)
            if outcome == "added":
                report.added += 1
            elif outcome == "updated":
                report.updated += 1
            elif outcome == "skipped":
                report.skipped += 1
            if outcome != "failed" and item.paper.id is not None:
                report.paper_ids.append(item.paper.id)
                if item.status == "no_text_layer":
                    report.no_text_layer.append(storable_text(item.source_path))
    except (Cancelled, LibraryError):
        raise
    except ImportFailed as exc:
        report.failed.extend(problems)
        report.failed.append(_problem(where, str(exc)))
        return
    except Exception as exc:  # noqa: BLE001 - whatever one file raises is that file's failure
        report.failed.extend(problems)
        report.failed.append(_problem(where, f"{where}: {_file_failure(exc)}"))
        return
    report.failed.extend(problems)
    sources.mark_file_finished(where, importer.kind, sha256, size, records, problems, job_id)


def _store_one(papers: PaperStore, sources: SourceStore, record: ImportedRecord, problems: list[ImportProblem]) -> str:
    """Fit and store one record; what goes wrong or is cut is added to `problems` ("failed" when not stored)."""
    where = storable_text(_record_place(record))
    try:
        notes = fit_record(record)
        outcome = store_record(papers, sources, record)
    except Exception as exc:  # noqa: BLE001 - one record must not stop the file
        if _library_unusable(exc):
            raise LibraryError(f"{papers.database.folder or 'library'}: cannot store imported papers ({exc})") from exc
        problems.append(_problem(where, f"entry not stored: {_describe(exc)}"))
        record.paper.id = None
        return "failed"
    if notes:
        problems.append(_problem(where, "stored, but " + "; ".join(notes)))
    return outcome


def _record_place(record: ImportedRecord) -> str:
    """`file:line#key` (the line where the source has one, as BibTeX read problems give it), else `file#key`."""
    line = f":{record.source_line}" if record.source_line else ""
    return f"{record.source_path}{line}#{record.source_key}"


def _library_unusable(exc: Exception) -> bool:
    """Whether `exc` is about the library (locked, disk full, read-only), not about the record."""
    if not isinstance(exc, sqlite3.OperationalError):
        return False
    message = str(exc).lower()
    return any(word in message for word in ("locked", "disk", "full", "readonly", "read-only", "i/o", "no such table"))


def _file_failure(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return "too large to import (ran out of memory reading it)"
    if isinstance(exc, RecursionError):
        return "too deeply nested to read"
    return f"cannot be imported ({_describe(exc)})"


def _describe(exc: BaseException) -> str:
    text = " ".join(str(exc).split())[:300]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _problem(path: str, error: str) -> ImportProblem:
    # Problems are printed and stored as JSON: no lone surrogates (from file names or JSON escapes).
    return ImportProblem(storable_text(path), storable_text(error))


def store_record(papers: PaperStore, sources: SourceStore, record: ImportedRecord) -> str:
    """Store one imported record atomically; returns "added", "updated" or "skipped"."""
    content_hash = record_hash(record)
    with papers.database.transaction():
        known = sources.find(record.source_kind, record.source_path, record.source_key)
        if known is not None:
            paper_id, old_hash = known
            record.paper.id = paper_id
            if old_hash == content_hash:
                return "skipped"
            papers.merge(paper_id, record.paper, overwrite=True, full_text=record.full_text)
            _store_related(papers, paper_id, record)
            sources.link(paper_id, record, content_hash)
            return "updated"
        paper_id = papers.find_same(record.paper)
        if paper_id is not None:
            record.paper.id = paper_id
            changed = papers.merge(paper_id, record.paper, overwrite=False, full_text=record.full_text)
            changed = _store_related(papers, paper_id, record) or changed
            sources.link(paper_id, record, content_hash)
            return "updated" if changed else "skipped"
        paper_id = papers.insert(record.paper, full_text=record.full_text, extra=record.extra)
        _store_related(papers, paper_id, record)
        sources.link(paper_id, record, content_hash)
        return "added"


def _store_related(papers: PaperStore, paper_id: int, record: ImportedRecord) -> bool:
    """Attachments, tags, collections, pages and references of a record; returns whether any were new."""
    changed = False
    conn = papers.conn
    for attachment in record.paper.files:
        if not Path(attachment.path).exists() and attachment.status == "ok":
            attachment.status = "missing"
        before = conn.total_changes
        papers.add_attachment(paper_id, attachment)
        changed = changed or conn.total_changes != before
    for tag in record.paper.tags:
        changed = papers.add_tag(paper_id, tag, "import") or changed
    for name in record.paper.collections:
        conn.execute(
            "INSERT OR IGNORE INTO collections (name, source, source_key) VALUES (?, ?, ?)",
            (name, record.source_kind, name),
        )
        cur = conn.execute(
            """INSERT OR IGNORE INTO paper_collections (paper_id, collection_id)
               SELECT ?, id FROM collections WHERE source = ? AND source_key = ?""",
            (paper_id, record.source_kind, name),
        )
        changed = changed or cur.rowcount > 0
    if record.pages:
        conn.execute("DELETE FROM pages WHERE paper_id = ?", (paper_id,))
        conn.executemany(
            "INSERT INTO pages (paper_id, page, text) VALUES (?, ?, ?)",
            [(paper_id, page.page, page.text) for page in record.pages],
        )
    if record.references:
        conn.execute("DELETE FROM paper_references WHERE citing_paper_id = ?", (paper_id,))
        conn.executemany(
            """INSERT INTO paper_references (citing_paper_id, position, raw, doi, arxiv_id, title, year)
               VALUES (?, ?, ?, ?, ?, ?, ?)""",
            [(paper_id, i, r.raw, r.doi, r.arxiv_id, r.title, r.year) for i, r in enumerate(record.references)],
        )
    return changed


def record_hash(record: ImportedRecord) -> str:
    """A hash of everything an importer said about a record: a change means "update"."""
    paper = record.paper
    payload = {
        "paper": [paper.title, paper.authors, paper.year, paper.venue, paper.abstract, paper.doi, paper.arxiv_id,
                  paper.citekey, paper.entry_type, [f.path for f in paper.files], paper.tags, paper.collections],
        "extra": record.extra,
        "full_text": hashlib.sha256((record.full_text or "").encode()).hexdigest(),
        "references": [r.raw for r in record.references],
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()
