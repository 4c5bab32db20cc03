"""The embedding cache: paper vectors stored per (model key, task), recomputed only when needed.

A paper needs embedding for a task when it has no vector for the model key, or
when the hash of its embedding text (`Paper.embedding_text()`) differs from the
hash stored with its vector. Work is committed in small batches, so an
interrupted run (Ctrl+C, kill, cancel) keeps every finished batch and the next
run embeds only the rest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np

from scimult_desktop.domain.progress import CancelToken, ProgressTracker, cancellable_batches
from scimult_desktop.domain.records import Paper
from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.embedding.encoder import Encoder
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.vectors import VectorStore

COMMIT_EVERY = 64  # papers per transaction: at ~6 docs/s (BERT-base, CPU) a commit every ~10 s


def text_hash(text: str) -> str:
    """Short content hash of an embedding text (128 bits of sha256)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


@dataclass
class PaperText:
    """What gets embedded for one paper, and its hash."""

    paper_id: int
    text: str
    text_hash: str


@dataclass
class TaskPlan:
    """For one task: papers to embed now, and how many are already up to date."""

    task: Task
    pending: list[PaperText]
    up_to_date: int


def paper_texts(database: LibraryDatabase) -> list[PaperText]:
    """Embedding texts of every paper in the library."""
    texts = []
    for paper_id, title, abstract in VectorStore(database).paper_texts():
        text = Paper(title=title, abstract=abstract).embedding_text()
        texts.append(PaperText(paper_id, text, text_hash(text)))
    return texts


def plan(database: LibraryDatabase, model_key: str, task: Task, texts: list[PaperText]) -> TaskPlan:
    """Which of `texts` lack an up-to-date vector for (model_key, task).

    Pending papers come longest text first: consecutive batches then have similar
    lengths (little padding) and the slow part comes early, so the ETA errs long.
    """
    stored = VectorStore(database).text_hashes(model_key, task.value)
    pending = [t for t in texts if stored.get(t.paper_id) != t.text_hash]
    pending.sort(key=lambda t: len(t.text), reverse=True)
    return TaskPlan(task, pending, len(texts) - len(pending))


def embed_pending(
    database: LibraryDatabase,
    encoder: Encoder,
    model_key: str,
    task_plan: TaskPlan,
    *,
    tracker: ProgressTracker | None = None,
    cancel: CancelToken | None = None,
    commit_every: int = COMMIT_EVERY,
    batch_size: int = 16,
    reuse_task: Task | None = None,
) -> int:
    """Embed and store the plan's pending papers, one committed transaction per batch.

    Args:
        reuse_task: a task whose vectors are identical to this task's by construction
            (same graph, same instruction); its stored vectors for the same text are
            copied instead of recomputed.

    Returns:
        How many papers were embedded.

    Raises:
        Cancelled: `cancel` was set; batches finished before stay stored.
    """
    store = VectorStore(database)
    # Read once: the source task's vectors are all stored before this task starts.
    source_hashes = store.text_hashes(model_key, reuse_task.value) if reuse_task is not None else {}
    done = 0
    for chunk in cancellable_batches(task_plan.pending, commit_every, cancel):
        vectors = np.zeros((len(chunk), encoder.dim), dtype=np.float32)
        todo = list(range(len(chunk)))
        if reuse_task is not None:
            todo = _copy_identical(store, model_key, reuse_task, source_hashes, chunk, vectors)
        if todo:
            vectors[todo] = encoder.encode([chunk[i].text for i in todo], task_plan.task, Role.DOCUMENT, batch_size)
        with database.transaction():
            store.put_many(model_key, task_plan.task.value, [t.paper_id for t in chunk], [t.text_hash for t in chunk], vectors)
        done += len(chunk)
        if tracker is not None:
            tracker.advance(len(chunk), current=task_plan.task.value)
    return done


def _copy_identical(
    store: VectorStore, model_key: str, source: Task, hashes: dict[int, str], chunk: list[PaperText], out: np.ndarray
) -> list[int]:
    """Fill `out` from `source`'s stored vectors where the text is unchanged; returns rows still to embed."""
    usable = [i for i, t in enumerate(chunk) if hashes.get(t.paper_id) == t.text_hash]
    if usable:
        ids, matrix = store.vectors(model_key, source.value, [chunk[i].paper_id for i in usable])
        row_of = {int(pid): j for j, pid in enumerate(ids)}
        for i in usable:
            j = row_of.get(chunk[i].paper_id)
            if j is not None:
                out[i] = matrix[j]
        usable = [i for i in usable if chunk[i].paper_id in row_of]
    done = set(usable)
    return [i for i in range(len(chunk)) if i not in done]
