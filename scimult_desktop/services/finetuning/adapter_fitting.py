"""The fine-tuning stage that fits the link task's query adapter into a bundle folder.

Runs between training (or copying the base bundle, for `--adapter-only`) and installing:
the bundle's own encoder embeds the library's papers (stored under `document_key`, so
installing can move them to the new model instead of embedding them again) and the
training split's link queries; `query_adapter.choose_and_fit` decides whether an adapter
helps; when it does, the matrix and its checksum go into the bundle's manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from scimult_desktop.domain.progress import CancelToken, ProgressCallback, ProgressEvent, ProgressTracker, cancellable_batches
from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.embedding.bundle import read_manifest, write_manifest
from scimult_desktop.embedding.onnx_encoder import OnnxEncoder
from scimult_desktop.hashing import sha256_file
from scimult_desktop.services.finetuning import query_adapter
from scimult_desktop.services.finetuning.query_adapter import AdapterFit, InverseCloze, Problem
from scimult_desktop.services.finetuning.signals import SignalSet
from scimult_desktop.services.models import indexing
from scimult_desktop.store.database import LibraryDatabase
from scimult_desktop.store.vectors import VectorStore

STAGE = "fitting the query adapter"
BATCH = 64  # texts per progress step


def fit_into_bundle(
    database: LibraryDatabase,
    bundle: Path,
    signals: SignalSet,
    document_key: str,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> AdapterFit:
    """Fit the link adapter for the bundle at `bundle` and write it there when it helps.

    An adapter the bundle already has (a copied fine-tuned base) stays the starting point:
    the new matrix is fitted on the queries it adapts, and the two are multiplied.
    """
    train = signals.train.get("link", [])
    if not train:
        return AdapterFit(None, None, None, None, reason="no link signals in this run")
    manifest = read_manifest(bundle)
    if manifest.similarity != "cosine":
        return AdapterFit(None, None, None, None, reason="the model scores by dot product; the adapter is fitted for cosine models only")
    encoder = OnnxEncoder(bundle, manifest=manifest)
    indexing.index_library(database, encoder, document_key, tasks=[Task.LINK], progress=progress, cancel=cancel)
    ids, documents = VectorStore(database).vectors(document_key, Task.LINK.value)
    texts = sorted({s.query for s in train})
    encode = _Encoding(encoder, progress, cancel)
    vectors = encode(texts, Role.QUERY, "the training queries")
    problem = Problem(ids, documents, dict(zip(texts, vectors)), inverse_cloze_pairs(database, encode, ids))
    check = cancel.raise_if_cancelled if cancel is not None else None
    result = query_adapter.choose_and_fit(
        problem, train, progress=lambda done, total: _emit(progress, done, total, "cross-validating"), cancel=check
    )
    if result.matrix is not None:
        existing = encoder.query_adapters.get(Task.LINK.value)
        name = query_adapter.save(bundle, result.matrix if existing is None else existing @ result.matrix)
        manifest.tasks[Task.LINK.value].query_adapter = name
        manifest.export = dict(manifest.export, checksums=dict(manifest.export.get("checksums", {}), **{name: sha256_file(bundle / name)}))
        write_manifest(bundle, manifest)
    return result


def inverse_cloze_pairs(database: LibraryDatabase, encode: Callable[..., np.ndarray], ids: np.ndarray) -> InverseCloze | None:
    """The library's abstracts as inverse-cloze pairs over the papers in `ids` (rows of the stored vectors).

    `encode(texts, role, what)` embeds with the link expert (an `_Encoding`, or any encoder's wrapper).
    """
    stored = {int(p) for p in ids}
    papers = [
        row for row in database.conn.execute("SELECT id, title, abstract FROM papers WHERE deleted_at IS NULL ORDER BY id")
        if int(row[0]) in stored
    ]
    pairs = query_adapter.inverse_cloze_texts(papers)
    if not pairs:
        return None
    row = {int(p): i for i, p in enumerate(ids)}
    return InverseCloze(
        queries=encode([p[1] for p in pairs], Role.QUERY, "abstract sentences"),
        rows=np.asarray([row[p[0]] for p in pairs]),
        ablated=encode([p[2] for p in pairs], Role.DOCUMENT, "abstracts without them"),
    )


class _Encoding:
    """Link-expert embedding in batches, with progress and cancel between batches."""

    def __init__(self, encoder, progress: ProgressCallback | None, cancel: CancelToken | None) -> None:
        self.encoder, self.progress, self.cancel = encoder, progress, cancel

    def __call__(self, texts: Sequence[str], role: Role, what: str) -> np.ndarray:
        out = np.zeros((len(texts), self.encoder.dim), np.float32)
        tracker = ProgressTracker(STAGE, len(texts), self.progress)
        for chunk in cancellable_batches(texts, BATCH, self.cancel):
            out[tracker.done : tracker.done + len(chunk)] = self.encoder.encode(list(chunk), Task.LINK, role)
            tracker.advance(len(chunk), current=f"embedding {what}")
        return out


def _emit(progress: ProgressCallback | None, done: int, total: int | None, current: str) -> None:
    if progress is not None:
        progress(ProgressEvent(STAGE, done, total, current))
