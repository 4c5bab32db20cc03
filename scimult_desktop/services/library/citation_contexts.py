"""Citation contexts of a library: analysed at import, re-analysed on demand, read per cited paper.

`analyse_papers` runs the marker finder (`ingest.citation_contexts`) over the stored page
texts and reference lists, one paper per transaction, so a cancelled or crashed
re-analysis keeps every paper finished before it and the next run starts where it
stopped (papers are picked by `citation_context_runs`, see schema 0005). Nothing is read
from the PDFs again.
"""

from __future__ import annotations

from typing import Iterable

from scimult_desktop.domain.progress import CancelToken, ProgressCallback, ProgressTracker
from scimult_desktop.errors import Cancelled
from scimult_desktop.ingest.citation_contexts import ANALYSER_VERSION, find_citation_contexts, sentence_without_markers
from scimult_desktop.store import citation_contexts as stored
from scimult_desktop.store.database import LibraryDatabase


def analyse_papers(
    database: LibraryDatabase,
    paper_ids: Iterable[int] | None = None,
    *,
    force: bool = False,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> dict:
    """Find and store the citation contexts of papers not yet analysed (or all with `force`).

    Args:
        paper_ids: only these papers (default: the whole library).
        force: analyse again papers the current analyser already did.
        progress: one event per paper ("citation contexts").
        cancel: checked between papers; what is done stays done.

    Returns:
        {"analysed": papers analysed now, "contexts": contexts stored now, "failed": [{"paper", "error"}],
         "remaining": papers still to analyse, "papers_with_text": total}.

    Raises:
        Cancelled: when `cancel` was set (the papers analysed so far keep their contexts).
    """
    todo = stored.papers_to_analyse(database, ANALYSER_VERSION, paper_ids, force=force)
    tracker = ProgressTracker("citation contexts", len(todo), progress)
    report = {"analysed": 0, "contexts": 0, "failed": []}
    for paper_id in todo:
        if cancel is not None:
            cancel.raise_if_cancelled()
        try:
            pages, references = stored.analysis_input(database, paper_id)
            contexts = find_citation_contexts(pages, references)
            report["contexts"] += stored.replace_contexts(database, paper_id, contexts, ANALYSER_VERSION)
            report["analysed"] += 1
        except Cancelled:
            raise
        except Exception as exc:  # noqa: BLE001 - one paper's odd text must not stop the others
            report["failed"].append({"paper": paper_id, "error": f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"})
        tracker.advance(1, current=str(paper_id))
    done, total = stored.analysed_count(database, ANALYSER_VERSION)
    report["remaining"] = total - done
    report["papers_with_text"] = total
    return report


def backlog(database: LibraryDatabase) -> int:
    """Papers with page text that the current analyser has not analysed yet."""
    return len(stored.papers_to_analyse(database, ANALYSER_VERSION))


def how_cited(database: LibraryDatabase, paper_id: int, *, limit: int | None = None) -> list[dict]:
    """How library papers cite `paper_id`: sentence, citing paper, page (see `context_json`)."""
    return [context_json(row) for row in stored.contexts_citing(database, paper_id, limit=limit)]


def how_cited_many(database: LibraryDatabase, paper_ids: Iterable[int]) -> dict[int, list[dict]]:
    """`how_cited` for several papers at once."""
    return {pid: [context_json(r) for r in rows] for pid, rows in stored.contexts_citing_many(database, list(paper_ids)).items()}


def contexts_in(database: LibraryDatabase, paper_id: int) -> list[dict]:
    """Every citation found in one paper's text, in reading order."""
    return [context_json(row) for row in stored.contexts_in(database, paper_id)]


def context_json(row: dict) -> dict:
    """The public shape of one context (CLI JSON contract: add fields, never rename)."""
    return {
        "sentence": row["sentence"],
        "marker": row["marker"],
        "marker_offset": row["marker_offset"],
        "style": row["style"],
        "page": row["page"],
        "citing_paper": {
            "id": row["citing_paper_id"],
            "citekey": row["citing_citekey"],
            "title": row["citing_title"],
            "year": row["citing_year"],
            "authors": row["citing_authors"],
        },
        "cited_paper_id": row["cited_paper_id"],
        "reference": row["reference"],
        "paragraph": {"start": row["paragraph_start"], "end": row["paragraph_end"]},
    }
