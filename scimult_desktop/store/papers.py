"""Paper records in SQLite: insert, merge, look up, list and keyword search.

Returns domain records, never rows. Callers wrap writes in
`LibraryDatabase.transaction()`; this module never commits by itself.
"""

from __future__ import annotations

import json
import re
import sqlite3
from typing import Iterable

from scimult_desktop.domain.ids import last_name, make_citekey, normalize_arxiv_id, normalize_doi, normalize_title
from scimult_desktop.domain.records import Attachment, Paper, SearchHit
from scimult_desktop.errors import PaperNotFound
from scimult_desktop.store.clock import utc_now
from scimult_desktop.store.database import LibraryDatabase

# Fields an import may fill or refresh; user edits to any of them are kept.
MERGEABLE_FIELDS = ("title", "authors", "year", "venue", "abstract", "doi", "arxiv_id", "entry_type")

# BM25 column weights for (title, abstract, authors, full_text): a title hit
# says more about a paper than one word deep in its full text.
BM25_WEIGHTS = (10.0, 4.0, 2.0, 1.0)

# SQL condition for papers not in the trash (migration 0004_trash). Trashed papers keep
# their rows; every listing, count and ranking a user sees filters on this.
LIVE = "deleted_at IS NULL"

# Must match the tokenizer of papers_fts (migration 0001).
FTS_TOKENIZER = "porter unicode61 remove_diacritics 2"
# Longer queries keep their rarest words only (see keyword_search). On ACM-CR paragraph
# contexts (15k papers) 48 halves BM25 time at the same hybrid quality (benchmarks/eval_quality.py).
MAX_QUERY_TERMS = 48


class PaperStore:
    """Reads and writes papers of one library database."""

    def __init__(self, database: LibraryDatabase) -> None:
        self.database = database
        self.conn = database.conn

    # ---- writing -------------------------------------------------------
    def insert(self, paper: Paper, *, full_text: str | None = None, extra: dict | None = None) -> int:
        now = utc_now()
        citekey = self._unique_citekey(paper.citekey or make_citekey(paper.authors, paper.year, paper.title))
        cursor = self.conn.execute(
            """INSERT INTO papers (citekey, title, title_norm, authors, first_author_norm, year, venue,
                   abstract, doi, arxiv_id, entry_type, full_text, source, extra, created_at, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)""",
            (
                citekey,
                paper.title,
                normalize_title(paper.title),
                json.dumps(paper.authors, ensure_ascii=False),
                _first_author_norm(paper.authors),
                paper.year,
                paper.venue,
                paper.abstract,
                normalize_doi(paper.doi),
                normalize_arxiv_id(paper.arxiv_id),
                paper.entry_type,
                full_text,
                paper.source,
                json.dumps(extra or {}, ensure_ascii=False),
                now,
                now,
            ),
        )
        paper_id = int(cursor.lastrowid)
        paper.id, paper.citekey = paper_id, citekey
        return paper_id

    def merge(self, paper_id: int, incoming: Paper, *, overwrite: bool, full_text: str | None = None) -> bool:
        """Bring `incoming`'s metadata into a stored paper; returns whether anything changed.

        With `overwrite` (the same source changed) non-empty incoming values replace
        stored ones; otherwise (another source of the same paper) they only fill gaps.
        Fields the user edited are never touched.
        """
        row = self._row(paper_id)
        user_edited = set(json.loads(row["user_edited"]))
        changes: dict[str, object] = {}
        for name in MERGEABLE_FIELDS:
            if name in user_edited:
                continue
            new = getattr(incoming, name)
            if name == "doi":
                new = normalize_doi(new)
            elif name == "arxiv_id":
                new = normalize_arxiv_id(new)
            if new in (None, "", []):
                continue
            old = json.loads(row["authors"]) if name == "authors" else row[name]
            if old in (None, "", []) or (overwrite and old != new):
                changes[name] = new
        if full_text and (overwrite or not row["full_text"]) and full_text != row["full_text"]:
            changes["full_text"] = full_text
        if not changes:
            return False
        if "title" in changes:
            changes["title_norm"] = normalize_title(str(changes["title"]))
        if "authors" in changes:
            authors = list(changes["authors"])  # type: ignore[arg-type]
            changes["first_author_norm"] = _first_author_norm(authors)
            changes["authors"] = json.dumps(authors, ensure_ascii=False)
        changes["updated_at"] = utc_now()
        assignments = ", ".join(f"{name} = ?" for name in changes)
        self.conn.execute(f"UPDATE papers SET {assignments} WHERE id = ?", (*changes.values(), paper_id))
        return True

    def edit(self, paper_id: int, user_edited: list[str] | None = None, **fields: object) -> None:
        """A user's edit: stored, and marked so later imports keep it.

        `user_edited`, when given, is the whole set of marked fields afterwards (undoing an
        edit puts the old set back); by default these fields join the stored set.
        """
        row = self._row(paper_id)
        if user_edited is None:
            user_edited = set(json.loads(row["user_edited"])) | set(fields)
        values = dict(fields)
        if "authors" in values:
            values["first_author_norm"] = _first_author_norm(list(values["authors"]))  # type: ignore[arg-type]
            values["authors"] = json.dumps(values["authors"], ensure_ascii=False)
        if "title" in values:
            values["title_norm"] = normalize_title(str(values["title"]))
        values["user_edited"] = json.dumps(sorted(user_edited))
        values["updated_at"] = utc_now()
        assignments = ", ".join(f"{name} = ?" for name in values)
        self.conn.execute(f"UPDATE papers SET {assignments} WHERE id = ?", (*values.values(), paper_id))

    def add_attachment(self, paper_id: int, attachment: Attachment, *, sha256: str | None = None, size: int | None = None) -> int:
        self.conn.execute(
            """INSERT INTO files (paper_id, path, kind, status, sha256, size, added_at) VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (paper_id, path) DO UPDATE SET status = excluded.status,
                   sha256 = coalesce(excluded.sha256, sha256), size = coalesce(excluded.size, size)""",
            (paper_id, attachment.path, attachment.kind, attachment.status, sha256, size, utc_now()),
        )
        row = self.conn.execute("SELECT id FROM files WHERE paper_id = ? AND path = ?", (paper_id, attachment.path)).fetchone()
        return int(row[0])

    def add_tag(self, paper_id: int, name: str, source: str) -> bool:
        """Tag a paper (creating the tag); returns whether the paper did not have it yet."""
        self.conn.execute("INSERT OR IGNORE INTO tags (name) VALUES (?)", (name,))
        cursor = self.conn.execute(
            "INSERT OR IGNORE INTO paper_tags (paper_id, tag_id, source) SELECT ?, id, ? FROM tags WHERE name = ?",
            (paper_id, source, name),
        )
        return cursor.rowcount > 0

    def delete(self, paper_id: int) -> None:
        self.conn.execute("DELETE FROM papers WHERE id = ?", (paper_id,))

    def _unique_citekey(self, wanted: str) -> str:
        # Keys from a .bib file are kept exactly; only a clash with a different
        # stored paper gets a suffix (a, b, ... as BibTeX tools do).
        key, suffix = wanted, 0
        while self.conn.execute("SELECT 1 FROM papers WHERE citekey = ?", (key,)).fetchone():
            suffix += 1
            key = wanted + _suffix(suffix)
        return key

    def _row(self, paper_id: int) -> sqlite3.Row:
        row = self.conn.execute("SELECT * FROM papers WHERE id = ?", (paper_id,)).fetchone()
        if row is None:
            raise PaperNotFound(f"no paper with id {paper_id} in this library")
        return row

    # ---- identity ------------------------------------------------------
    def find_same(self, paper: Paper) -> int | None:
        """The id of a stored paper that is the same work as `paper`, if any.

        Identity is a DOI, an arXiv id, or normalised title + year + first author.
        A preprint and its published version differ in DOI and are not matched here.
        """
        doi, arxiv_id = normalize_doi(paper.doi), normalize_arxiv_id(paper.arxiv_id)
        found = self.id_by_identifier(doi, arxiv_id)
        if found is not None:
            return found
        title_norm = normalize_title(paper.title)
        if len(title_norm) < 12:
            return None  # "Introduction" or "Editorial" says nothing about identity
        for row in self.conn.execute(
            "SELECT id, year, first_author_norm, doi, arxiv_id FROM papers WHERE title_norm = ?", (title_norm,)
        ):
            if doi and row["doi"] and row["doi"] != doi:
                continue  # two DOIs: two works (or versions) that share a title
            if (arxiv_id and not doi and row["doi"] and not row["arxiv_id"]) or (
                doi and not arxiv_id and row["arxiv_id"] and not row["doi"]
            ):
                continue  # a preprint and a published version: proposed as duplicates, never merged
            if paper.year and row["year"] and paper.year != row["year"]:
                continue
            first = _first_author_norm(paper.authors)
            if first and row["first_author_norm"] and first != row["first_author_norm"]:
                continue
            return int(row["id"])
        return None

    def id_by_identifier(self, doi: str | None, arxiv_id: str | None) -> int | None:
        """The paper with this DOI, else with this arXiv id (both already normalised)."""
        for column, value in (("doi", doi), ("arxiv_id", arxiv_id)):
            if value:
                row = self.conn.execute(f"SELECT id FROM papers WHERE {column} = ?", (value,)).fetchone()
                if row:
                    return int(row[0])
        return None

    def ids_by_citekey(self, keys: Iterable[str]) -> dict[str, int]:
        """Citation key -> paper id for the keys this library has."""
        found = {}
        for key in keys:
            row = self.conn.execute("SELECT id FROM papers WHERE citekey = ?", (key,)).fetchone()
            if row:
                found[key] = int(row[0])
        return found

    def resolve(self, reference: str) -> int:
        """The id of the paper named by an id, a citation key or a DOI."""
        reference = reference.strip()
        if reference.isdigit():
            row = self.conn.execute("SELECT id FROM papers WHERE id = ?", (int(reference),)).fetchone()
            if row:
                return int(row[0])
        by_key = self.ids_by_citekey([reference])
        if by_key:
            return by_key[reference]
        found = self.id_by_identifier(normalize_doi(reference), None)
        if found is not None:
            return found
        raise PaperNotFound(f"no paper with id, citation key or DOI {reference!r} in this library")

    # ---- reading -------------------------------------------------------
    def get(self, paper_id: int) -> Paper:
        papers = self.get_many([paper_id])
        if not papers:
            raise PaperNotFound(f"no paper with id {paper_id} in this library")
        return papers[0]

    def get_many(self, paper_ids: Iterable[int]) -> list[Paper]:
        """Papers in the order of `paper_ids` (unknown ids are left out)."""
        ids = list(paper_ids)
        if not ids:
            return []
        by_id: dict[int, Paper] = {}
        for chunk in _chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            for row in self.conn.execute(f"SELECT * FROM papers WHERE id IN ({marks})", chunk):
                by_id[row["id"]] = _paper_from_row(row)
            for row in self.conn.execute(f"SELECT * FROM files WHERE paper_id IN ({marks}) ORDER BY id", chunk):
                by_id[row["paper_id"]].files.append(Attachment(row["path"], row["kind"], row["status"], row["id"]))
        return [by_id[i] for i in ids if i in by_id]

    def list(self, *, limit: int | None = None, offset: int = 0) -> list[Paper]:
        """Papers not in the trash, by id."""
        sql = f"SELECT id FROM papers WHERE {LIVE} ORDER BY id"
        params: tuple = ()
        if limit is not None:
            sql += " LIMIT ? OFFSET ?"
            params = (limit, offset)
        return self.get_many([row[0] for row in self.conn.execute(sql, params)])

    def count(self) -> int:
        """How many papers are not in the trash."""
        return int(self.conn.execute(f"SELECT count(*) FROM papers WHERE {LIVE}").fetchone()[0])

    def all_ids(self) -> list[int]:
        """Ids of the papers not in the trash, ascending."""
        return [int(row[0]) for row in self.conn.execute(f"SELECT id FROM papers WHERE {LIVE} ORDER BY id")]

    def trashed_ids(self) -> set[int]:
        """Ids of the papers in the trash (see services/library/trash.py)."""
        return {int(row[0]) for row in self.conn.execute("SELECT id FROM papers WHERE deleted_at IS NOT NULL")}

    def full_text(self, paper_id: int) -> str | None:
        row = self.conn.execute("SELECT full_text FROM papers WHERE id = ?", (paper_id,)).fetchone()
        return None if row is None else row[0]

    # ---- keyword search --------------------------------------------------
    def keyword_search(
        self, query: str, k: int = 10, *, snippets: int | None = None, max_terms: int | None = MAX_QUERY_TERMS
    ) -> list[SearchHit]:
        """BM25-ranked full-text search over title, abstract, authors and full text.

        The query is free text: its words are matched as terms (OR), so users need
        not know FTS5 syntax and punctuation cannot cause a syntax error. A long
        text (a paragraph to find citations for) keeps only its rarest
        `MAX_QUERY_TERMS` words: common words cost time and add noise, not signal.

        Args:
            snippets: how many of the top hits get a highlighted snippet (default: all `k`);
                snippets are the costly part of an FTS5 query.
            max_terms: keep at most this many (rarest) words; None keeps all.
        """
        words = query_words(query)
        if max_terms is not None and len(words) > max_terms:
            words = self._rarest_words(words, max_terms)
        if not words:
            return []
        match = " OR ".join(f'"{w}"' for w in words)
        weights = ", ".join(str(w) for w in BM25_WEIGHTS)
        # Papers in the trash are dropped after ranking, over-fetching by their number: cheaper
        # than a per-row NOT IN test in SQL (+15% with 200 trashed; benchmarks/bench_trash_filter.py).
        trashed = self.trashed_ids()
        rows = self.conn.execute(
            f"""SELECT rowid, bm25(papers_fts, {weights}) AS rank
                FROM papers_fts WHERE papers_fts MATCH ? ORDER BY rank LIMIT ?""",
            (match, k + len(trashed)),
        ).fetchall()
        if trashed:
            rows = [row for row in rows if int(row[0]) not in trashed][:k]
        ids = [int(row[0]) for row in rows]
        snippet_ids = ids[: k if snippets is None else snippets]
        why: dict[int, str] = {}
        if snippet_ids:
            marks = ",".join("?" * len(snippet_ids))
            for rowid, snip in self.conn.execute(
                f"""SELECT rowid, snippet(papers_fts, -1, '[', ']', '…', 16) FROM papers_fts
                    WHERE papers_fts MATCH ? AND rowid IN ({marks})""",
                (match, *snippet_ids),
            ):
                why[int(rowid)] = snip
        papers = {p.id: p for p in self.get_many(ids)}
        # bm25() is lower-is-better and negative; flip it so higher scores are better.
        return [SearchHit(papers[i], round(-float(row[1]), 6), why=why.get(i)) for i, row in zip(ids, rows) if i in papers]

    def _rarest_words(self, words: list[str], keep: int) -> list[str]:
        """The `keep` words with the fewest matching papers (document frequency).

        Words are stemmed exactly as the index stems them by running them through a
        scratch FTS5 table with the same tokenizer; frequencies come from fts5vocab.
        """
        conn = self.conn
        conn.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_terms USING fts5(word, tokenize={FTS_TOKENIZER!r})")
        conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.query_terms_vocab USING fts5vocab(temp, query_terms, 'instance')")
        conn.execute("CREATE VIRTUAL TABLE IF NOT EXISTS temp.papers_fts_rows USING fts5vocab(main, papers_fts, 'row')")
        conn.execute("DELETE FROM temp.query_terms")
        conn.executemany("INSERT INTO temp.query_terms (rowid, word) VALUES (?, ?)", list(enumerate(words, start=1)))
        stem_of = {int(doc): term for term, doc in conn.execute("SELECT term, doc FROM temp.query_terms_vocab")}
        stems = sorted(set(stem_of.values()))
        frequency: dict[str, int] = {}
        for start in range(0, len(stems), 500):
            chunk = stems[start : start + 500]
            marks = ",".join("?" * len(chunk))
            frequency.update(conn.execute(f"SELECT term, doc FROM temp.papers_fts_rows WHERE term IN ({marks})", chunk).fetchall())
        # A word the library never uses cannot match; among the rest, the rarest discriminate best.
        scored = [(frequency.get(stem_of.get(i, ""), 0), i) for i in range(1, len(words) + 1)]
        ranked = sorted((f, i) for f, i in scored if f > 0)
        chosen = sorted(i for _, i in ranked[:keep])
        return [words[i - 1] for i in chosen]


_WORD_RE = re.compile(r"\w+", re.UNICODE)
_FTS_STOPWORDS = frozenset(
    "a an and are as at be by for from has have in is it its of on or that the this to was were with we our".split()
)


def query_words(text: str) -> list[str]:
    """The distinct lower-cased words of free text, stop words dropped (kept if nothing else is left)."""
    words = [w.lower() for w in _WORD_RE.findall(text)]
    terms = [w for w in words if w not in _FTS_STOPWORDS] or words
    return list(dict.fromkeys(terms))


def _suffix(n: int) -> str:
    # 1 -> a, 26 -> z, 27 -> aa
    letters = ""
    while n:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("a") + rem) + letters
    return letters


def _first_author_norm(authors: list[str]) -> str:
    return normalize_title(last_name(authors[0])) if authors else ""


def _paper_from_row(row: sqlite3.Row) -> Paper:
    return Paper(
        id=row["id"],
        citekey=row["citekey"],
        title=row["title"],
        authors=json.loads(row["authors"]),
        year=row["year"],
        venue=row["venue"],
        abstract=row["abstract"],
        doi=row["doi"],
        arxiv_id=row["arxiv_id"],
        entry_type=row["entry_type"],
        source=row["source"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def _chunks(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


