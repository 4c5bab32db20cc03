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

from scimult_desktop.domain.progress import CancelToken, ProgressTracker
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
) -> int:
    """Embed and store the plan's pending papers, one committed transaction per batch.

    Returns:
        How many papers were embedded.

    Raises:
        Cancelled: `cancel` was set; batches finished before stay stored.
    """
    store = VectorStore(database)
    done = 0
    for start in range(0, len(task_plan.pending), commit_every):
        if cancel is not None:
            cancel.raise_if_cancelled()
        chunk = task_plan.pending[start : start + commit_every]
        vectors = encoder.encode([t.text for t in chunk], task_plan.task, Role.DOCUMENT, batch_size)
        with database.transaction():
            store.put_many(model_key, task_plan.task.value, [t.paper_id for t in chunk], [t.text_hash for t in chunk], vectors)
        done += len(chunk)
        if tracker is not None:
            tracker.advance(len(chunk), current=task_plan.task.value)
    return done
