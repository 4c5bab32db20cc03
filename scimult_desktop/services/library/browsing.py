"""Browsing a library: table rows, collections/tags with counts, one paper's details, the field map.

What a library window shows, computed once per change in a background thread and
handed to the front end as plain records (never cursors). The CLI can use the
same functions (`list_rows` is `scimult list` with the extra columns a table needs).

Example:
    >>> rows = list_rows(lib)
    >>> facets(lib).tags[:3]
    [("machine learning", 12), ...]
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from scimult_desktop.domain.records import Paper
from scimult_desktop.domain.tasks import Task
from scimult_desktop.store.labels import paper_collections, paper_tags

if TYPE_CHECKING:
    from scimult_desktop.services.finding.filters import SearchFilters
    from scimult_desktop.services.library.facade import Library

DEMO_SOURCE = Path("demo") / "scifact-demo.json"


@dataclass
class PaperRow:
    """One paper as a library table shows it."""

    id: int
    citekey: str | None
    title: str
    authors: list[str]
    year: int | None
    venue: str | None
    has_pdf: bool
    fields: list[str] = field(default_factory=list)  # tags the user accepted from the classifier
    tags: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    created_at: str | None = None  # when it entered the library (UTC ISO)
    entry_type: str | None = None  # BibTeX/CSL/Zotero item type as imported
    doi: str | None = None


@dataclass
class Facets:
    """Collections and tags of a library, each with how many papers carry it."""

    collections: list[tuple[str, int]]
    tags: list[tuple[str, int]]


@dataclass
class PaperDetails:
    """Everything the detail pane shows for one paper."""

    paper: Paper
    tags: list[str]
    collections: list[str]
    user_edited: list[str]
    cites: list[PaperRow]
    cited_by: list[PaperRow]


@dataclass
class FieldMap:
    """The library laid out in 2-D by its classification embeddings, with each paper's top field.

    `xy` is (n, 2): the first two principal components of the classify vectors.
    `suggestions[i]` are the labels (best first) suggested for paper `ids[i]`.
    """

    ids: list[int]
    titles: list[str]
    xy: np.ndarray
    fields: list[str]
    suggestions: list[list[dict]]
    counts: list[tuple[str, int]]
    label_set: str
    method_note: str = ""  # "zero-shot" or "few-shot from N tagged papers" (Library.classify)


def list_rows(library: "Library") -> list[PaperRow]:
    """Every paper of the library as a table row, by id."""
    conn = library.database.conn
    rows = {
        int(r["id"]): PaperRow(int(r["id"]), r["citekey"], r["title"], json.loads(r["authors"]), r["year"], r["venue"], False,
                               created_at=r["created_at"], entry_type=r["entry_type"], doi=r["doi"])
        for r in conn.execute(
            """SELECT id, citekey, title, authors, year, venue, created_at, entry_type, doi FROM papers
               WHERE deleted_at IS NULL ORDER BY id""")
    }
    for (pid,) in conn.execute("SELECT DISTINCT paper_id FROM files WHERE kind = 'pdf' AND status != 'missing'"):
        if pid in rows:
            rows[pid].has_pdf = True
    for pid, name, source in paper_tags(conn):
        row = rows.get(pid)
        if row is not None:
            row.tags.append(name)
            if source == "classifier":
                row.fields.append(name)
    for pid, name, _ in paper_collections(conn):
        if pid in rows:
            rows[pid].collections.append(name)
    return list(rows.values())


def facets(library: "Library") -> Facets:
    """Collections and tags with paper counts, most used first."""
    conn = library.database.conn
    collections = conn.execute(
        """SELECT c.name, count(DISTINCT pc.paper_id) FROM collections c JOIN paper_collections pc ON pc.collection_id = c.id
           JOIN papers p ON p.id = pc.paper_id AND p.deleted_at IS NULL
           GROUP BY c.name ORDER BY count(DISTINCT pc.paper_id) DESC, c.name"""
    ).fetchall()
    tags = conn.execute(
        """SELECT t.name, count(*) FROM tags t JOIN paper_tags pt ON pt.tag_id = t.id
           JOIN papers p ON p.id = pt.paper_id AND p.deleted_at IS NULL
           GROUP BY t.name ORDER BY count(*) DESC, t.name"""
    ).fetchall()
    return Facets([(r[0], int(r[1])) for r in collections], [(r[0], int(r[1])) for r in tags])


def paper_details(library: "Library", reference: str | int) -> PaperDetails:
    """One paper with its tags, collections, which fields the user edited, and its citation links.

    Raises:
        PaperNotFound: no such paper.
    """
    paper = library.get_paper(reference)
    conn = library.database.conn
    tags = [label.name for label in paper_tags(conn, paper_id=paper.id)]
    collections = [label.name for label in paper_collections(conn, paper_id=paper.id)]
    edited = conn.execute("SELECT user_edited FROM papers WHERE id = ?", (paper.id,)).fetchone()[0]
    links = library.citations_of(paper.id)  # papers in the trash are left out
    by_id = {row.id: row for row in _rows_for(library, links["cites"] + links["cited_by"])}
    return PaperDetails(
        paper=paper,
        tags=tags,
        collections=collections,
        user_edited=sorted(json.loads(edited or "[]")),
        cites=[by_id[i] for i in links["cites"] if i in by_id],
        cited_by=[by_id[i] for i in links["cited_by"] if i in by_id],
    )


def _rows_for(library: "Library", ids: list[int]) -> list[PaperRow]:
    papers = library.papers.get_many(ids)
    return [
        PaperRow(p.id, p.citekey, p.title, p.authors, p.year, p.venue, any(f.kind == "pdf" and f.status != "missing" for f in p.files))
        for p in papers
        if p.id is not None
    ]


def field_map(library: "Library", *, label_set: str = "mag", k: int = 3) -> FieldMap:
    """Classify every paper and project the classification embeddings to 2-D with PCA.

    Args:
        label_set: `mag`, `arxiv` or a label file (see `Library.classify`).
        k: suggested labels kept per paper.

    Returns:
        A `FieldMap`; empty arrays for an empty library.
    """
    results = library.classify(None, label_set=label_set, k=k)
    if not results:
        return FieldMap([], [], np.zeros((0, 2), np.float32), [], [], [], label_set)
    ids, matrix = library.paper_vectors(Task.CLASSIFY, [r["id"] for r in results])
    by_id = {r["id"]: r for r in results}
    fields = [by_id[i]["labels"][0]["label"] if by_id[i]["labels"] else "unclassified" for i in ids]
    counts: dict[str, int] = {}
    for name in fields:
        counts[name] = counts.get(name, 0) + 1
    return FieldMap(
        ids=ids,
        titles=[by_id[i]["title"] for i in ids],
        xy=pca_2d(matrix),
        fields=fields,
        suggestions=[by_id[i]["labels"] for i in ids],
        counts=sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])),
        label_set=label_set,
        method_note=results[0].get("method_note", ""),
    )


def pca_2d(matrix: np.ndarray) -> np.ndarray:
    """The first two principal components of the rows of `matrix` (float32, (n, 2)); zeros when n < 2."""
    n = matrix.shape[0]
    if n < 2:
        return np.zeros((n, 2), np.float32)
    centred = matrix.astype(np.float64) - matrix.mean(axis=0, keepdims=True)
    # Economy SVD of the (n, dim) matrix: cheap for dim 384-768 even at n = 100k.
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    components = vt[:2]
    projected = centred @ components.T
    if projected.shape[1] < 2:
        projected = np.pad(projected, ((0, 0), (0, 2 - projected.shape[1])))
    return projected.astype(np.float32)


def demo_source() -> Path:
    """The demo library's source file shipped with the app (300 SciFact abstracts)."""
    from scimult_desktop.services.finding.label_sets import resources_dir

    return resources_dir() / DEMO_SOURCE


def ids_matching(library: "Library", filters: "SearchFilters | None") -> set[int] | None:
    """Ids of the papers passing `filters` (a collection, tag, years...), or None for all papers."""
    return filters.allowed_ids(library.database) if filters is not None else None


def warm_up(library: "Library") -> str | None:
    """Load what the first semantic query needs (encoder, vector index) so the user's first search is fast.

    Does nothing when no model is installed or the library is not fully indexed (it never
    starts embedding by itself). Returns the model name when it warmed something up.
    """
    from scimult_desktop.services.models import bundles as models

    name = models.active_model_name()
    if name is None:
        return None
    encoder = library.encoder(name)
    # Loading the vector index library (a large C extension) holds the interpreter lock for a
    # while; doing it now keeps that pause out of the first indexing run after an import.
    from scimult_desktop.services.models import indexing

    indexing.FaissIndex(encoder.dim)
    for task in Task:  # the first encode of each expert compiles its graph
        encoder.encode(["warm up"], task)
    status = library.status()
    indexed = (status.get("indexed") or {}).get(Task.SEARCH.value, 0)
    if status["papers"] and indexed >= status["papers"]:
        library.search("warm up", k=1, mode="semantic")
    return name
