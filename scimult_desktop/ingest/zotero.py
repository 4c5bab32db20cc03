"""Read-only import of a Zotero library (zotero.sqlite, Zotero 5/6/7 schemas).

Design choices:
- Zotero's files are never written, nor even opened by SQLite: Zotero holds an
  exclusive lock while it runs, so `zotero.sqlite` (and its `-wal`, if any) is
  copied to a temporary folder and the copy is read. That gives one consistent
  snapshot; each record says so in `extra["zotero_snapshot"]`.
- One record per regular item of the user and group libraries: attachments,
  notes and annotations are not papers, trashed items and feed items are left
  out. Child notes go to `extra["notes"]` (as plain text), attachments to
  `Paper.files`, tags to `Paper.tags`, collections to `Paper.collections` as
  paths "Parent/Child".
- `source_key` is the Zotero item key (stable across edits), so a re-import
  updates instead of duplicating.
- Citation keys: Zotero 7's `citationKey` field, then Better BibTeX's own
  database (`better-bibtex.sqlite`), then a "Citation Key:" line in Extra.
- Zotero "related" links (dc:relation) are not citations: they are kept as item
  keys in `extra["related"]`, never turned into citation edges.
- A damaged database costs only what is damaged: text that is not UTF-8 is read
  with U+FFFD, values of the wrong type are read as text, a missing side table
  (tags, notes...) is reported and skipped, and an item that cannot be made into
  a record is reported while the others import.
"""

from __future__ import annotations

import html
import logging
import re
import shutil
import sqlite3
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from scimult_desktop.domain.ids import normalize_arxiv_id, normalize_doi
from scimult_desktop.domain.records import Attachment, ImportedRecord, ImportProblem, Paper
from scimult_desktop.errors import ImportFailed
from scimult_desktop.ingest.base import ImportItem

DATABASE_NAME = "zotero.sqlite"
# Zotero's automatic backups beside the database: zotero.sqlite.bak, zotero.sqlite.5.bak (before an upgrade)...
_BACKUP_NAME = re.compile(r"zotero\.sqlite(?:\.\d+)?\.bak(?:\.\d+)?")
# Fields that name where a work appeared, in order of preference.
_VENUE_FIELDS = ("publicationTitle", "proceedingsTitle", "bookTitle", "conferenceName", "websiteTitle", "blogTitle",
                 "forumTitle", "programTitle", "seriesTitle", "series", "university", "institution", "publisher",
                 "repository")
_SKIPPED_TYPES = {"attachment", "note", "annotation"}
# Zotero item types as BibTeX entry types (for export); unknown ones become misc.
_BIBTEX_TYPES = {
    "journalArticle": "article", "magazineArticle": "article", "newspaperArticle": "article",
    "conferencePaper": "inproceedings", "book": "book", "bookSection": "incollection", "thesis": "phdthesis",
    "report": "techreport", "manuscript": "unpublished", "preprint": "misc", "webpage": "misc", "patent": "patent",
    "dataset": "misc", "computerProgram": "software",
}
# itemAttachments.linkMode
_IMPORTED_FILE, _IMPORTED_URL, _LINKED_FILE, _LINKED_URL = 0, 1, 2, 3
_FULLTEXT_CACHE = ".zotero-ft-cache"
_MAX_FULL_TEXT = 2_000_000  # characters: keeps one huge book from bloating the library

_log = logging.getLogger(__name__)


class ZoteroImporter:
    """Reads a Zotero data folder or its `zotero.sqlite` (never writing to either)."""

    kind = "zotero"

    def can_import(self, path: Path) -> bool:
        if path.is_dir():
            return (path / DATABASE_NAME).is_file()
        return path.name.lower() == DATABASE_NAME

    def claims_name(self, path: Path) -> bool:
        """Zotero's automatic backups (zotero.sqlite.bak, zotero.sqlite.5.bak...) import when named explicitly."""
        return _BACKUP_NAME.fullmatch(path.name.lower()) is not None

    def read(self, path: Path) -> Iterator[ImportItem]:
        """Yield one record per regular Zotero item.

        Raises:
            ImportFailed: no zotero.sqlite, or it is locked, corrupt or too old to read.
        """
        database = database_path(path)
        try:
            library = _read_snapshot(database, database)
        except ImportFailed as exc:
            backup = _backup_for_damaged(database, exc)
            if backup is None:
                raise
            # Records keep the damaged file's path and item keys: importing it once repaired updates them.
            try:
                library = _read_snapshot(backup, database)
            except ImportFailed:
                raise exc from exc.__cause__  # the backup is no better: report the database's own damage
            saved = datetime.fromtimestamp(backup.stat().st_mtime).strftime("%Y-%m-%d %H:%M")
            yield ImportProblem(str(database), f"the Zotero database is damaged or incomplete ({_cause(exc)}); imported "
                                               f"Zotero's automatic backup {backup.name} of {saved} instead: changes "
                                               "made after it are missing (Zotero can repair the database: Help > "
                                               "Troubleshooting)")
        yield from library


def _read_snapshot(file: Path, database: Path) -> list[ImportItem]:
    with snapshot(file) as conn:
        _log.info("reading Zotero library %s from a snapshot copy (the original is never opened)", file)
        return read_library(conn, database)


def _cause(exc: ImportFailed) -> str:
    return str(exc.__cause__ or exc)[:200]


def _backup_for_damaged(database: Path, exc: ImportFailed) -> Path | None:
    """The newest of Zotero's backups beside a database that is damaged (not merely locked or too old), if any."""
    cause = str(exc.__cause__ or "").lower()
    if not isinstance(exc.__cause__, sqlite3.DatabaseError) or not any(
            word in cause for word in ("malformed", "not a database", "corrupt")):
        return None
    backups = [p for p in database.parent.iterdir()
               if _BACKUP_NAME.fullmatch(p.name.lower()) and p.is_file() and p != database]
    return max(backups, key=lambda p: p.stat().st_mtime, default=None)


def database_path(path: Path) -> Path:
    """`zotero.sqlite` given the data folder or the file itself."""
    path = Path(path)
    database = path / DATABASE_NAME if path.is_dir() else path
    if not database.is_file():
        raise ImportFailed(f"{path}: no {DATABASE_NAME} here (expected a Zotero data folder or the file itself)")
    return database


@contextmanager
def snapshot(database: Path) -> Iterator[sqlite3.Connection]:
    """A connection to a private copy of `database` (and its WAL), removed afterwards.

    Raises:
        ImportFailed: the file cannot be copied or is not a readable SQLite database.
    """
    with tempfile.TemporaryDirectory(prefix="scimult-zotero-") as folder:
        copy = Path(folder) / DATABASE_NAME
        try:
            shutil.copyfile(database, copy)
            # A -wal holds committed changes; a -journal left by a crash holds the pages a half-done
            # write replaced: opening the copy with it rolls that write back, as Zotero would.
            for suffix in ("-wal", "-journal"):
                companion = database.with_name(database.name + suffix)
                if companion.is_file():
                    shutil.copyfile(companion, copy.with_name(copy.name + suffix))
        except OSError as exc:
            raise ImportFailed(f"{database}: cannot copy the Zotero database to read it ({exc.strerror or exc})") from exc
        try:
            conn = sqlite3.connect(copy)
            conn.row_factory = sqlite3.Row
            # Zotero writes UTF-8, but a damaged file must not stop the read at its first bad byte.
            conn.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.DatabaseError as exc:
            raise ImportFailed(f"{database}: not a readable SQLite database ({exc}){_damage_hint(database, exc)}") from exc
        try:
            yield conn
        except sqlite3.DatabaseError as exc:
            raise ImportFailed(
                f"{database}: cannot read the Zotero database ({exc}); if Zotero was writing to it, try again"
                f"{_damage_hint(database, exc)}"
            ) from exc
        finally:
            conn.close()


def _damage_hint(database: Path, exc: sqlite3.DatabaseError) -> str:
    """What a researcher can do about a damaged database: Zotero keeps backups beside it."""
    message = str(exc).lower()
    if "malformed" not in message and "not a database" not in message and "corrupt" not in message:
        return ""
    hint = "; the file is damaged or incomplete (cut short by a copy or a sync?)"
    if database.name == DATABASE_NAME:
        hint += "; Zotero can repair it (Help > Troubleshooting) or restore its automatic backup"
    return hint


@dataclass
class _Item:
    item_id: int
    key: str
    type_name: str
    library_id: int
    fields: dict[str, str] = field(default_factory=dict)
    creators: list[tuple[str, str]] = field(default_factory=list)  # (creatorType, display name)
    tags: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    files: list[Attachment] = field(default_factory=list)
    full_text: str | None = None
    related: list[str] = field(default_factory=list)


def read_library(conn: sqlite3.Connection, database: Path) -> list[ImportItem]:
    """Every regular item of the snapshot as an `ImportedRecord`; an `ImportProblem` per damaged part.

    Raises:
        ImportFailed: the database is not a Zotero 5+ library.
    """
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
    if "items" not in tables or "itemData" not in tables:
        raise ImportFailed(f"{database}: not a Zotero database (no items table)")
    attachment_columns = {row[1] for row in conn.execute("PRAGMA table_info(itemAttachments)")}
    if "parentItemID" not in attachment_columns:
        raise ImportFailed(f"{database}: Zotero 4 or older database; open it once in Zotero 5 or later to upgrade it")
    types_table = "itemTypesCombined" if "itemTypesCombined" in tables else "itemTypes"
    fields_table = "fieldsCombined" if "fieldsCombined" in tables else "fields"
    data_dir = database.parent

    trashed = _ids(conn, "SELECT itemID FROM deletedItems") if "deletedItems" in tables else set()
    library_ids = _ids(conn, "SELECT libraryID FROM libraries WHERE type IN ('user', 'group')") if "libraries" in tables else None

    items: dict[int, _Item] = {}
    for row in conn.execute(
        f"SELECT i.itemID, i.key, i.libraryID, t.typeName FROM items i JOIN {types_table} t USING (itemTypeID)"
        " ORDER BY i.itemID"
    ):
        if row["typeName"] in _SKIPPED_TYPES or row["itemID"] in trashed:
            continue
        if library_ids is not None and row["libraryID"] not in library_ids:
            continue
        key = _text(row["key"]) or f"item-{row['itemID']}"
        items[row["itemID"]] = _Item(row["itemID"], key, _text(row["typeName"]) or "", row["libraryID"])
    problems: list[ImportProblem] = []
    parts = (
        ("fields", lambda: _read_fields(conn, items, fields_table)),
        ("creators", lambda: _read_creators(conn, items)),
        ("tags", lambda: _read_tags(conn, items)),
        ("collections", lambda: _read_collections(conn, items)),
        ("notes", lambda: _read_notes(conn, items, trashed)),
        ("attachments", lambda: _read_attachments(conn, items, trashed, data_dir)),
        ("related items", lambda: _read_related(conn, items, tables)),
    )
    for what, read_part in parts:
        try:
            read_part()
        except sqlite3.DatabaseError as exc:  # a damaged or missing side table: the items still import without it
            problems.append(ImportProblem(str(database), f"Zotero {what} not read ({exc}); items imported without them"))

    citekeys = better_bibtex_keys(data_dir)
    results: list[ImportItem] = list(problems)
    for item in items.values():
        try:
            record = _record(item, database, citekeys)
        except Exception as exc:  # noqa: BLE001 - one damaged item must not stop the library
            results.append(ImportProblem(f"{database}#{item.key}", f"Zotero item skipped: {type(exc).__name__}: {exc}"))
            continue
        if record is not None:
            results.append(record)
    return results


def _text(value: object) -> str | None:
    """A column value as text: bytes decoded (bad bytes as U+FFFD), numbers written out, NULL as None."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)


def _read_fields(conn: sqlite3.Connection, items: dict[int, _Item], fields_table: str) -> None:
    for row in conn.execute(
        f"""SELECT d.itemID, f.fieldName, v.value FROM itemData d
            JOIN {fields_table} f USING (fieldID) JOIN itemDataValues v USING (valueID)"""
    ):
        item = items.get(row["itemID"])
        value = _text(row["value"])
        if item is not None and value is not None:
            item.fields[_text(row["fieldName"]) or ""] = value


def _read_creators(conn: sqlite3.Connection, items: dict[int, _Item]) -> None:
    for row in conn.execute(
        """SELECT ic.itemID, c.firstName, c.lastName, c.fieldMode, ct.creatorType FROM itemCreators ic
           JOIN creators c USING (creatorID) JOIN creatorTypes ct USING (creatorTypeID)
           ORDER BY ic.itemID, ic.orderIndex"""
    ):
        item = items.get(row["itemID"])
        if item is not None:
            item.creators.append((_text(row["creatorType"]) or "", _creator_name(row)))


def _read_tags(conn: sqlite3.Connection, items: dict[int, _Item]) -> None:
    for row in conn.execute("SELECT it.itemID, t.name FROM itemTags it JOIN tags t USING (tagID) ORDER BY t.name"):
        item = items.get(row["itemID"])
        name = _text(row["name"])
        if item is not None and name:
            item.tags.append(name)


def _read_collections(conn: sqlite3.Connection, items: dict[int, _Item]) -> None:
    paths = collection_paths(conn)
    for row in conn.execute("SELECT collectionID, itemID FROM collectionItems ORDER BY collectionID"):
        item = items.get(row["itemID"])
        if item is not None and row["collectionID"] in paths:
            item.collections.append(paths[row["collectionID"]])


def _read_notes(conn: sqlite3.Connection, items: dict[int, _Item], trashed: set[int]) -> None:
    for row in conn.execute("SELECT itemID, parentItemID, note FROM itemNotes WHERE parentItemID IS NOT NULL ORDER BY itemID"):
        item = items.get(row["parentItemID"])
        if item is not None and row["itemID"] not in trashed:
            text = note_to_text(_text(row["note"]) or "")
            if text:
                item.notes.append(text)


def _read_attachments(conn: sqlite3.Connection, items: dict[int, _Item], trashed: set[int], data_dir: Path) -> None:
    base_dir = linked_attachment_base(data_dir)
    for row in conn.execute(
        """SELECT a.itemID, a.parentItemID, a.linkMode, a.contentType, a.path, i.key FROM itemAttachments a
           JOIN items i USING (itemID) WHERE a.parentItemID IS NOT NULL ORDER BY a.itemID"""
    ):
        item = items.get(row["parentItemID"])
        if item is None or row["itemID"] in trashed:
            continue
        attachment = attachment_for(row, data_dir, base_dir)
        if attachment is None:
            continue
        item.files.append(attachment)
        if item.full_text is None and row["linkMode"] in (_IMPORTED_FILE, _IMPORTED_URL):
            item.full_text = _cached_full_text(data_dir / "storage" / (_text(row["key"]) or ""))


def _read_related(conn: sqlite3.Connection, items: dict[int, _Item], tables: set[str]) -> None:
    if "itemRelations" not in tables or "relationPredicates" not in tables:
        return
    for row in conn.execute(
        """SELECT r.itemID, r.object FROM itemRelations r JOIN relationPredicates p USING (predicateID)
           WHERE p.predicate = 'dc:relation'"""
    ):
        item = items.get(row["itemID"])
        if item is not None:
            item.related.append(str(row["object"]).rstrip("/").rsplit("/", 1)[-1])


def _ids(conn: sqlite3.Connection, sql: str) -> set:
    return {row[0] for row in conn.execute(sql) if row[0] is not None}


def _creator_name(row: sqlite3.Row) -> str:
    last, first = (_text(row["lastName"]) or "").strip(), (_text(row["firstName"]) or "").strip()
    if row["fieldMode"] == 1 or not first:
        return last or first  # a single-field (institutional) name
    return f"{last}, {first}" if last else first


def collection_paths(conn: sqlite3.Connection) -> dict[int, str]:
    """Each collection id -> "Parent/Child" path (a parent loop is cut where it closes)."""
    rows = {row[0]: (row[1], row[2]) for row in conn.execute("SELECT collectionID, collectionName, parentCollectionID FROM collections")}
    paths: dict[int, str] = {}
    for collection_id in rows:
        names, seen, current = [], set(), collection_id
        while current is not None and current in rows and current not in seen:
            seen.add(current)
            name, parent = rows[current]
            names.append((_text(name) or "").replace("/", "∕"))  # a "/" inside a name would fake a level
            current = parent
        paths[collection_id] = "/".join(reversed(names))
    return paths


_TAG_RE = re.compile(r"<[^>]+>")
_BLOCK_END_RE = re.compile(r"</(p|div|h\d|li|blockquote|pre)>|<br\s*/?>", re.IGNORECASE)


def note_to_text(note: str) -> str:
    """A Zotero note (HTML) as plain text with paragraph breaks kept."""
    text = _BLOCK_END_RE.sub("\n", note)
    text = html.unescape(_TAG_RE.sub("", text))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line)


def attachment_for(row: sqlite3.Row, data_dir: Path, base_dir: Path | None) -> Attachment | None:
    """The file of an attachment row; None for web links (nothing on disk)."""
    link_mode, stored = row["linkMode"], _text(row["path"]) or ""
    if link_mode == _LINKED_URL or not stored:
        return None
    kind = _kind(_text(row["contentType"]), stored)
    if stored.startswith("storage:"):
        return Attachment(str(data_dir / "storage" / (_text(row["key"]) or "") / stored[len("storage:"):]), kind=kind)
    if stored.startswith("attachments:"):
        relative = stored[len("attachments:"):]
        if base_dir is None:
            # The base folder lives in Zotero's prefs, which we could not find: say it is missing.
            return Attachment(stored, kind=kind, status="missing")
        return Attachment(str(base_dir / relative), kind=kind)
    return Attachment(stored, kind=kind)


def _kind(content_type: str | None, stored: str) -> str:
    if content_type == "application/pdf":
        return "pdf"
    if content_type in ("text/html", "application/xhtml+xml"):
        return "html"
    suffix = Path(stored).suffix.lower().lstrip(".")
    return suffix or "file"


def _cached_full_text(folder: Path) -> str | None:
    cache = folder / _FULLTEXT_CACHE
    try:
        text = cache.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return text[:_MAX_FULL_TEXT].strip() or None


_PREF_RE = re.compile(r'user_pref\("extensions\.zotero\.(baseAttachmentPath|dataDir)",\s*"((?:[^"\\]|\\.)*)"\);')


def linked_attachment_base(data_dir: Path) -> Path | None:
    """The "Linked Attachment Base Directory" from Zotero's prefs.js, if it can be found.

    prefs.js lives in the Zotero profile: looked for beside the data folder, and in
    the usual profile folders when their `dataDir` names this data folder.
    """
    candidates = [data_dir / "prefs.js", data_dir.parent / "prefs.js"]
    for profiles in (Path.home() / ".zotero" / "zotero", Path.home() / "Library" / "Application Support" / "Zotero" / "Profiles"):
        if profiles.is_dir():
            candidates.extend(sorted(profiles.glob("*/prefs.js")))
    for prefs in candidates:
        try:
            text = prefs.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        values = {name: value.encode().decode("unicode_escape") for name, value in _PREF_RE.findall(text)}
        if "baseAttachmentPath" not in values:
            continue
        named_dir = values.get("dataDir")
        if prefs.parent in (data_dir, data_dir.parent) or (named_dir and Path(named_dir) == data_dir):
            return Path(values["baseAttachmentPath"])
    return None


def better_bibtex_keys(data_dir: Path) -> dict[str, str]:
    """Zotero item key -> Better BibTeX citation key, from better-bibtex.sqlite (read from a copy)."""
    database = data_dir / "better-bibtex.sqlite"
    if not database.is_file():
        return {}
    try:
        with snapshot(database) as conn:
            return {str(row[0]): str(row[1]) for row in conn.execute("SELECT itemKey, citationKey FROM citationkey")}
    except (ImportFailed, sqlite3.DatabaseError) as exc:
        _log.warning("ignoring Better BibTeX keys in %s: %s", database, exc)
        return {}


_EXTRA_LINE = re.compile(r"^\s*([A-Za-z][A-Za-z -]*?)\s*:\s*(.+?)\s*$")


def parse_extra(extra: str) -> dict[str, str]:
    """`Key: value` lines of Zotero's Extra field, keys lower-cased (first one wins)."""
    values: dict[str, str] = {}
    for line in extra.splitlines():
        match = _EXTRA_LINE.match(line)
        if match:
            values.setdefault(match.group(1).lower(), match.group(2))
    return values


def _record(item: _Item, database: Path, citekeys: dict[str, str]) -> ImportedRecord | None:
    fields = item.fields
    title = " ".join((fields.get("title") or "").split())
    if not title:
        return None
    extra_lines = parse_extra(fields.get("extra", ""))
    authors = [name for kind, name in item.creators if kind == "author"]
    if not authors:
        authors = [name for kind, name in item.creators if kind == "editor"] or [name for _, name in item.creators]
    arxiv = normalize_arxiv_id(extra_lines.get("arxiv"))
    if not arxiv:
        for hint in (fields.get("archiveID"), fields.get("url")):
            if hint and "arxiv" in hint.lower():
                arxiv = normalize_arxiv_id(hint)
                break
    citekey = fields.get("citationKey") or citekeys.get(item.key) or extra_lines.get("citation key")
    paper = Paper(
        title=title,
        authors=authors,
        year=_year(fields.get("date")),
        venue=next((fields[name] for name in _VENUE_FIELDS if fields.get(name)), None),
        abstract=fields.get("abstractNote") or None,
        doi=normalize_doi(fields.get("DOI") or extra_lines.get("doi")),
        arxiv_id=arxiv,
        citekey=citekey or None,
        entry_type=_BIBTEX_TYPES.get(item.type_name, "misc"),
        source="zotero",
        files=item.files,
        tags=list(dict.fromkeys(item.tags)),
        collections=sorted(set(item.collections)),
    )
    extra = {
        "zotero_item_type": item.type_name,
        "zotero_library_id": item.library_id,
        "zotero_snapshot": "copy",
        "creators": [{"type": kind, "name": name} for kind, name in item.creators],
    }
    extra.update({name: value for name, value in fields.items() if name not in {"title", "abstractNote", "DOI"}})
    if item.notes:
        extra["notes"] = item.notes
    if item.related:
        extra["related"] = item.related
    return ImportedRecord(paper, "zotero", str(database), item.key, extra=extra, full_text=item.full_text)


def _year(date: str | None) -> int | None:
    # Zotero stores dates as "2013-05-00 May 2013": the SQL-like prefix comes first.
    match = re.search(r"(?<!\d)(1[5-9]\d\d|20\d\d)(?!\d)", date or "")
    return int(match.group(1)) if match else None
