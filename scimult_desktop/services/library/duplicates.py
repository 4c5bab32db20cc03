"""Near-duplicate detection over embeddings and metadata, proposed for the user to confirm.

Exact identity (DOI, arXiv id, title + year + first author) is handled at import.
This finds what identity rules miss: a preprint whose title changed a little on
publication, a conference and journal version, an entry typed twice with typos.
A pair is proposed when the papers' link-expert vectors are nearly identical AND
their titles are close; nothing is merged without the user's answer.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from scimult_desktop.domain.ids import normalize_title
from scimult_desktop.domain.progress import CancelToken, ProgressCallback, ProgressTracker, cancellable_batches
from scimult_desktop.domain.tasks import Task
from scimult_desktop.services.finding.semantic import SemanticBackend
from scimult_desktop.store.links import add_duplicate_proposal
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.papers import PaperStore

# Cosine of the link-expert vectors above which two records may be one work; the
# title check below keeps two different papers on one topic apart.
MIN_SIMILARITY = 0.93
MIN_TITLE_RATIO = 0.8
NEIGHBOURS = 5


def scan_near_duplicates(
    database: LibraryDatabase,
    backend: SemanticBackend,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    batch: int = 256,
) -> int:
    """Propose near-duplicate pairs across the library; returns how many new proposals were made."""
    store = PaperStore(database)
    ids = store.all_ids()
    tracker = ProgressTracker("duplicates", len(ids), progress)
    made = 0
    for chunk in cancellable_batches(ids, batch, cancel):
        vectors = backend.stored_vectors(Task.LINK, chunk)
        present = [pid for pid in chunk if pid in vectors]
        if not present:
            tracker.advance(len(chunk))
            continue
        import numpy as np

        neighbours = backend.neighbours(Task.LINK, np.stack([vectors[p] for p in present]), NEIGHBOURS + 1, ())
        candidates = [
            (pid, other, score)
            for pid, hits in zip(present, neighbours)
            for other, score in hits
            if other != pid and score >= MIN_SIMILARITY and pid < other
        ]
        made += _propose(database, store, candidates)
        tracker.advance(len(chunk))
    return made


def _propose(database: LibraryDatabase, store: PaperStore, candidates: list[tuple[int, int, float]]) -> int:
    if not candidates:
        return 0
    papers = {p.id: p for p in store.get_many({pid for c in candidates for pid in c[:2]})}
    made = 0
    with database.transaction():
        for a, b, score in candidates:
            pa, pb = papers.get(a), papers.get(b)
            if pa is None or pb is None:
                continue
            ratio = SequenceMatcher(None, normalize_title(pa.title), normalize_title(pb.title)).ratio()
            if ratio < MIN_TITLE_RATIO:
                continue
            if pa.doi and pb.doi and pa.doi == pb.doi:
                continue  # cannot happen after import matching, but never propose a record with itself
            reason = f"nearly identical content (similarity {score:.2f}) and titles ({ratio:.0%} alike)"
            made += add_duplicate_proposal(database, a, b, reason)
    return made
