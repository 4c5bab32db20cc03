"""Ordered, named schema migrations, recorded in `_migrations`.

Each migration runs in its own transaction; applied names are never re-run.
New schema changes are appended as new functions, never edited in place.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from scimult_desktop.store.database import LibraryDatabase

Migration = Callable[["LibraryDatabase"], None]
MIGRATIONS: list[tuple[str, Migration]] = []


def migration(name: str) -> Callable[[Migration], Migration]:
    def register(fn: Migration) -> Migration:
        MIGRATIONS.append((name, fn))
        return fn

    return register


def apply_migrations(database: "LibraryDatabase") -> list[str]:
    """Apply every migration not yet recorded; returns the names applied now."""
    conn = database.conn
    conn.execute("CREATE TABLE IF NOT EXISTS _migrations (name TEXT PRIMARY KEY, applied_at TEXT NOT NULL)")
    done = {row[0] for row in conn.execute("SELECT name FROM _migrations")}
    applied = []
    for index, (name, fn) in enumerate(MIGRATIONS, start=1):
        if name in done:
            continue
        with database.transaction():
            # BEGIN IMMEDIATE holds the write lock now. Another connection opening the same
            # new library (a GUI starts several worker threads at once) may have applied this
            # migration while we waited for it, so check again under the lock.
            if conn.execute("SELECT 1 FROM _migrations WHERE name = ?", (name,)).fetchone():
                continue
            fn(database)
            conn.execute(
                "INSERT INTO _migrations (name, applied_at) VALUES (?, ?)",
                (name, datetime.now(timezone.utc).isoformat(timespec="seconds")),
            )
            conn.execute(f"PRAGMA user_version = {index}")
        applied.append(name)
    return applied


@migration("0001_initial_schema")
def _initial_schema(database: "LibraryDatabase") -> None:
    run_script(database, _INITIAL_SCHEMA)


def run_script(database: "LibraryDatabase", script: str) -> None:
    """Run SQL statements one by one inside the caller's transaction.

    `executescript` would COMMIT first and break the migration's atomicity.
    """
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            database.conn.execute(statement)
            statement = ""
    if statement.strip():
        raise ValueError(f"incomplete SQL statement in migration: {statement[:80]!r}")


_INITIAL_SCHEMA = """
CREATE TABLE papers (
    id INTEGER PRIMARY KEY,
    citekey TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    title_norm TEXT NOT NULL DEFAULT '',
    authors TEXT NOT NULL DEFAULT '[]',          -- JSON list of "Last, First"
    first_author_norm TEXT NOT NULL DEFAULT '',
    year INTEGER,
    venue TEXT,
    abstract TEXT,
    doi TEXT,                                     -- normalised, lower case
    arxiv_id TEXT,                                -- without version
    entry_type TEXT,
    full_text TEXT,
    source TEXT,                                  -- where it first came from
    extra TEXT NOT NULL DEFAULT '{}',             -- JSON: fields we keep but do not model
    user_edited TEXT NOT NULL DEFAULT '[]',       -- JSON list of fields the user changed: imports never overwrite them
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX papers_doi ON papers(doi) WHERE doi IS NOT NULL;
CREATE INDEX papers_arxiv ON papers(arxiv_id) WHERE arxiv_id IS NOT NULL;
CREATE INDEX papers_title_norm ON papers(title_norm);

-- Where each paper came from: makes re-imports incremental.
CREATE TABLE paper_sources (
    id INTEGER PRIMARY KEY,
    paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    source_kind TEXT NOT NULL,
    source_path TEXT NOT NULL,
    source_key TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    UNIQUE (source_kind, source_path, source_key)
);
CREATE INDEX paper_sources_paper ON paper_sources(paper_id);

CREATE TABLE files (
    id INTEGER PRIMARY KEY,
    paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    kind TEXT NOT NULL DEFAULT 'pdf',
    status TEXT NOT NULL DEFAULT 'ok',
    sha256 TEXT,
    size INTEGER,
    added_at TEXT NOT NULL,
    UNIQUE (paper_id, path)
);

-- Full text per page, so evidence can cite a page number.
CREATE TABLE pages (
    paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    file_id INTEGER REFERENCES files(id) ON DELETE CASCADE,
    page INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (paper_id, page)
);

CREATE TABLE collections (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    parent_id INTEGER REFERENCES collections(id) ON DELETE CASCADE,
    source TEXT,
    source_key TEXT,
    UNIQUE (source, source_key)
);
CREATE TABLE paper_collections (
    paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    PRIMARY KEY (paper_id, collection_id)
);
CREATE TABLE tags (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE paper_tags (
    paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    tag_id INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
    source TEXT NOT NULL DEFAULT 'user',        -- user | import | classifier
    PRIMARY KEY (paper_id, tag_id)
);

-- Bibliography entries of a paper; cited_paper_id is set once matched to a library paper.
CREATE TABLE paper_references (
    id INTEGER PRIMARY KEY,
    citing_paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    raw TEXT NOT NULL,
    doi TEXT,
    arxiv_id TEXT,
    title TEXT,
    year INTEGER,
    cited_paper_id INTEGER REFERENCES papers(id) ON DELETE SET NULL,
    UNIQUE (citing_paper_id, position)
);
-- Citation edges between library papers (from references, Zotero relations, user links).
CREATE TABLE citations (
    citing_paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    cited_paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    source TEXT NOT NULL,
    PRIMARY KEY (citing_paper_id, cited_paper_id)
);
CREATE INDEX citations_cited ON citations(cited_paper_id);

-- Possible duplicates (preprint vs published): proposed, never merged silently.
CREATE TABLE duplicate_candidates (
    paper_a INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    paper_b INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    reason TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'proposed',    -- proposed | confirmed | rejected
    created_at TEXT NOT NULL,
    PRIMARY KEY (paper_a, paper_b)
);

-- Model bundles known to this library; embeddings are keyed by model so two can coexist.
CREATE TABLE models (
    name TEXT PRIMARY KEY,
    bundle_path TEXT NOT NULL,
    bundle_sha256 TEXT NOT NULL,
    dim INTEGER NOT NULL,
    installed_at TEXT NOT NULL
);
CREATE TABLE embeddings (
    paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    model TEXT NOT NULL,                          -- model name + bundle hash
    task TEXT NOT NULL,                           -- search | link | classify
    text_hash TEXT NOT NULL,                      -- recompute when the text changes
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,                         -- float32, little endian
    created_at TEXT NOT NULL,
    PRIMARY KEY (paper_id, model, task)
);

CREATE TABLE label_sets (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL                          -- builtin | user | collections | tags
);
CREATE TABLE labels (
    id INTEGER PRIMARY KEY,
    label_set_id INTEGER NOT NULL REFERENCES label_sets(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    description TEXT,
    UNIQUE (label_set_id, name)
);
CREATE TABLE paper_labels (
    paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    label_id INTEGER NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    score REAL,
    status TEXT NOT NULL DEFAULT 'suggested',   -- suggested | accepted | rejected
    created_at TEXT NOT NULL,
    PRIMARY KEY (paper_id, label_id)
);

-- Signals for local fine-tuning: accepted/rejected suggestions, relevant/irrelevant results.
CREATE TABLE feedback (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    query TEXT,
    paper_id INTEGER REFERENCES papers(id) ON DELETE CASCADE,
    other_paper_id INTEGER REFERENCES papers(id) ON DELETE CASCADE,
    value REAL NOT NULL,
    created_at TEXT NOT NULL
);

-- Resumable imports: a job lists its items; finished items are not redone after a crash.
CREATE TABLE import_jobs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    status TEXT NOT NULL DEFAULT 'running',     -- running | done | cancelled | interrupted
    paths TEXT NOT NULL DEFAULT '[]',
    report TEXT
);
-- Source files fully imported, by content hash: an unchanged file is not read again,
-- and a file interrupted by a crash or cancel has no row, so it is redone.
CREATE TABLE source_files (
    path TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size INTEGER NOT NULL,
    records INTEGER NOT NULL,
    problems TEXT NOT NULL DEFAULT '[]',        -- JSON list of per-entry problems seen last time
    job_id INTEGER REFERENCES import_jobs(id) ON DELETE SET NULL,
    finished_at TEXT NOT NULL
);

-- Undo log for user-visible data changes (JSON of what to restore).
CREATE TABLE undo_log (
    id INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    undone INTEGER NOT NULL DEFAULT 0
);

-- Keyword search. External content table: the text lives once, in papers.
CREATE VIRTUAL TABLE papers_fts USING fts5(
    title, abstract, authors, full_text,
    content='papers', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER papers_fts_insert AFTER INSERT ON papers BEGIN
    INSERT INTO papers_fts(rowid, title, abstract, authors, full_text)
    VALUES (new.id, new.title, new.abstract, new.authors, new.full_text);
END;
CREATE TRIGGER papers_fts_delete AFTER DELETE ON papers BEGIN
    INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors, full_text)
    VALUES ('delete', old.id, old.title, old.abstract, old.authors, old.full_text);
END;
CREATE TRIGGER papers_fts_update AFTER UPDATE OF title, abstract, authors, full_text ON papers BEGIN
    INSERT INTO papers_fts(papers_fts, rowid, title, abstract, authors, full_text)
    VALUES ('delete', old.id, old.title, old.abstract, old.authors, old.full_text);
    INSERT INTO papers_fts(rowid, title, abstract, authors, full_text)
    VALUES (new.id, new.title, new.abstract, new.authors, new.full_text);
END;
"""


@migration("0002_watch_folders")
def _watch_folders(database: "LibraryDatabase") -> None:
    run_script(database, _WATCH_FOLDERS_SCHEMA)


# Folders whose new or changed PDFs/.bib files are imported automatically, and the
# (mtime, size) of each file last seen there, so a poll need not hash unchanged files.
_WATCH_FOLDERS_SCHEMA = """
CREATE TABLE watch_folders (
    path TEXT PRIMARY KEY,
    added_at TEXT NOT NULL,
    last_scan_at TEXT,
    last_report TEXT
);
CREATE TABLE watch_files (
    path TEXT PRIMARY KEY,
    folder TEXT NOT NULL REFERENCES watch_folders(path) ON DELETE CASCADE,
    mtime_ns INTEGER NOT NULL,
    size INTEGER NOT NULL
);
CREATE INDEX watch_files_folder ON watch_files(folder);
"""


@migration("0003_embeddings_covering_index")
def _embeddings_covering_index(database: "LibraryDatabase") -> None:
    # Per-(model, task) listings and index sync checks then read only this index,
    # never the table pages that hold the vector blobs.
    database.conn.execute(
        "CREATE INDEX IF NOT EXISTS embeddings_by_model_task ON embeddings(model, task, paper_id, text_hash, created_at)"
    )


@migration("0004_trash")
def _trash(database: "LibraryDatabase") -> None:
    # Deleting a paper moves it to the trash: the row and everything hanging off it
    # (files, tags, collections, vectors) stay until the trash is emptied, so a restore
    # or an undo loses nothing. The partial index keeps "which papers are trashed" cheap.
    run_script(database, _TRASH_SCHEMA)


_TRASH_SCHEMA = """
ALTER TABLE papers ADD COLUMN deleted_at TEXT;
CREATE INDEX papers_deleted ON papers(deleted_at) WHERE deleted_at IS NOT NULL;
"""


@migration("0007_notes_tag_colours")
def _notes_tag_colours(database: "LibraryDatabase") -> None:
    # Notes are the user's own text about a paper (several per paper, Markdown or plain);
    # notes_fts makes them findable by keyword. Tags get an optional colour (#rrggbb).
    run_script(database, _NOTES_TAG_COLOURS_SCHEMA)


_NOTES_TAG_COLOURS_SCHEMA = """
ALTER TABLE tags ADD COLUMN colour TEXT;
CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    body TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL DEFAULT 'markdown',    -- markdown | plain
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX notes_paper ON notes(paper_id);
CREATE VIRTUAL TABLE notes_fts USING fts5(
    body, content='notes', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER notes_fts_insert AFTER INSERT ON notes BEGIN
    INSERT INTO notes_fts(rowid, body) VALUES (new.id, new.body);
END;
CREATE TRIGGER notes_fts_delete AFTER DELETE ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, body) VALUES ('delete', old.id, old.body);
END;
CREATE TRIGGER notes_fts_update AFTER UPDATE OF body ON notes BEGIN
    INSERT INTO notes_fts(notes_fts, rowid, body) VALUES ('delete', old.id, old.body);
    INSERT INTO notes_fts(rowid, body) VALUES (new.id, new.body);
END;
"""


@migration("0006_passages")
def _passages(database: "LibraryDatabase") -> None:
    # Passages of a paper's PDF text, for semantic passage search. Ids never come back
    # (AUTOINCREMENT): a passage vector index keyed by id cannot confuse an old passage
    # with a new one. `passage_sources` says which page texts the passages were cut from,
    # so a re-split happens only when the pages or the splitting rules changed.
    run_script(database, _PASSAGES_SCHEMA)


_PASSAGES_SCHEMA = """
CREATE TABLE passages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    page INTEGER NOT NULL,
    text TEXT NOT NULL,
    UNIQUE (paper_id, position)
);
CREATE TABLE passage_sources (
    paper_id INTEGER PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
    pages_fingerprint TEXT NOT NULL,
    passages INTEGER NOT NULL,
    split_at TEXT NOT NULL
);
CREATE TABLE passage_embeddings (
    passage_id INTEGER NOT NULL REFERENCES passages(id) ON DELETE CASCADE,
    model TEXT NOT NULL,                          -- model key; always the search expert's vector
    text_hash TEXT NOT NULL,
    dim INTEGER NOT NULL,
    vector BLOB NOT NULL,                         -- float32, little endian
    created_at TEXT NOT NULL,
    PRIMARY KEY (passage_id, model)
);
CREATE INDEX passage_embeddings_by_model ON passage_embeddings(model, passage_id, text_hash, created_at);
"""


@migration("0005_citation_contexts")
def _citation_contexts(database: "LibraryDatabase") -> None:
    run_script(database, _CITATION_CONTEXTS_SCHEMA)


# In-text citations found in a paper's page texts (ingest.citation_contexts), one row per
# (marker, reference). The cited library paper is paper_references.cited_paper_id, read
# through the join, so a paper added later is linked without re-analysis. A paper is
# analysed once per analyser version (citation_context_runs); rewriting its pages or
# references (a re-import) forgets that run, so a re-analysis redoes exactly those papers.
_CITATION_CONTEXTS_SCHEMA = """
CREATE TABLE citation_contexts (
    id INTEGER PRIMARY KEY,
    citing_paper_id INTEGER NOT NULL REFERENCES papers(id) ON DELETE CASCADE,
    reference_id INTEGER REFERENCES paper_references(id) ON DELETE CASCADE,
    page INTEGER NOT NULL,
    marker TEXT NOT NULL,
    style TEXT NOT NULL,                          -- numeric | label | author-year | superscript
    sentence TEXT NOT NULL,
    marker_offset INTEGER NOT NULL DEFAULT -1,    -- where the marker starts in sentence
    paragraph_start INTEGER NOT NULL,             -- the paragraph's span in pages.text
    paragraph_end INTEGER NOT NULL
);
CREATE INDEX citation_contexts_citing ON citation_contexts(citing_paper_id);
CREATE INDEX citation_contexts_reference ON citation_contexts(reference_id);
CREATE TABLE citation_context_runs (
    paper_id INTEGER PRIMARY KEY REFERENCES papers(id) ON DELETE CASCADE,
    analyser_version INTEGER NOT NULL,
    contexts INTEGER NOT NULL,
    analysed_at TEXT NOT NULL
);
CREATE TRIGGER citation_context_runs_forget_references AFTER DELETE ON paper_references BEGIN
    DELETE FROM citation_context_runs WHERE paper_id = old.citing_paper_id;
END;
CREATE TRIGGER citation_context_runs_forget_pages AFTER DELETE ON pages BEGIN
    DELETE FROM citation_context_runs WHERE paper_id = old.paper_id;
END;
"""
