"""Indexing a library: resumable embedding, incremental re-embedding, FAISS files kept in sync."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from scimult_desktop.domain.progress import CancelToken
from scimult_desktop.domain.records import Paper
from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.errors import Cancelled
from scimult_desktop.services.models import indexing
from scimult_desktop.store.vectors import VectorStore

MODEL_KEY = "hashing@0123456789abcdef"


class HashingEncoder:
    """Test fake: deterministic unit vectors from word hashes (similar words, similar vectors)."""

    name = "hashing"
    dim = 32
    similarity = "cosine"
    engine = "fake"

    def __init__(self):
        self.calls = 0

    def encode(self, texts, task, role=Role.DOCUMENT, batch_size=16):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in f"{Task.parse(task).value} {text}".lower().split():
                digest = hashlib.sha256(word.encode()).digest()
                out[row, digest[0] % self.dim] += 1.0 if digest[1] % 2 else -1.0
        out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out

    def encode_query(self, texts, task, batch_size=16):
        return self.encode(texts, task, Role.QUERY, batch_size)

    def encode_document(self, texts, task, batch_size=16):
        return self.encode(texts, task, Role.DOCUMENT, batch_size)


@pytest.fixture
def library(fresh_library):
    with fresh_library.database.transaction():
        for i in range(40):
            fresh_library.papers.insert(Paper(title=f"paper {i} topic{i % 5}", abstract=f"words about topic{i % 5} " * (1 + i % 4)))
    indexing.forget_loaded_indexes()
    yield fresh_library
    indexing.forget_loaded_indexes()


def _index(library, **kwargs):
    return indexing.index_library(library.database, kwargs.pop("encoder", HashingEncoder()), MODEL_KEY, commit_every=8, **kwargs)


def test_first_run_embeds_everything_second_run_nothing(library):
    first = _index(library)
    assert first["embedded"] == 3 * 40 and first["already_embedded"] == 0
    assert [t["task"] for t in first["tasks"]] == ["search", "link", "classify"]
    assert all(t["indexed"] == 40 for t in first["tasks"])
    encoder = HashingEncoder()
    second = _index(library, encoder=encoder)
    assert second["embedded"] == 0 and second["already_embedded"] == 120
    assert encoder.calls == 0


def test_cancel_midway_keeps_finished_batches_and_resume_embeds_the_rest(library):
    cancel = CancelToken()
    seen = []

    class CancellingEncoder(HashingEncoder):
        def encode(self, texts, task, role=Role.DOCUMENT, batch_size=16):
            if self.calls == 1:
                cancel.cancel()  # the user presses Cancel while the second batch is being embedded
            return super().encode(texts, task, role, batch_size)

    with pytest.raises(Cancelled):
        _index(library, encoder=CancellingEncoder(), progress=seen.append, cancel=cancel)
    stored = sum(VectorStore(library.database).count(MODEL_KEY, t.value) for t in Task)
    assert stored == 16  # the two batches of 8 finished before the cancel was seen
    assert seen and seen[0].total == 120
    resumed = _index(library)
    assert resumed["embedded"] == 120 - 16
    assert resumed["already_embedded"] == 16


def test_interrupt_inside_a_batch_loses_only_that_batch(library):
    class CrashingEncoder(HashingEncoder):
        def encode(self, texts, task, role=Role.DOCUMENT, batch_size=16):
            if self.calls == 3:
                raise KeyboardInterrupt  # Ctrl+C in the middle of the fourth batch
            return super().encode(texts, task, role, batch_size)

    with pytest.raises(KeyboardInterrupt):
        _index(library, encoder=CrashingEncoder())
    assert _index(library)["embedded"] == 120 - 24


def test_changed_text_is_reembedded_and_deleted_paper_leaves_the_index(library):
    _index(library)
    paper_id = library.papers.all_ids()[0]
    with library.database.transaction():
        library.papers.edit(paper_id, abstract="an entirely new abstract")
    report = _index(library)
    assert report["embedded"] == 3
    gone = library.papers.all_ids()[1]
    with library.database.transaction():
        library.papers.delete(gone)
    hits = indexing.vector_search(library.database, HashingEncoder(), MODEL_KEY, "search", "paper topic1", k=100)
    assert gone not in [pid for pid, _ in hits] and len(hits) == 39


def test_vector_search_ranks_exact_text_first_and_excludes_ids(library):
    _index(library)
    encoder = HashingEncoder()
    paper = library.papers.get(library.papers.all_ids()[7])
    vector = encoder.encode([paper.embedding_text()], "link")[0]
    hits = indexing.vector_search(library.database, encoder, MODEL_KEY, Task.LINK, vector, k=5)
    assert hits[0][0] == paper.id and hits[0][1] == pytest.approx(1.0, abs=1e-5)
    assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    excluded = indexing.vector_search(library.database, encoder, MODEL_KEY, Task.LINK, vector, k=5, exclude_ids=[paper.id])
    assert paper.id not in [pid for pid, _ in excluded] and len(excluded) == 5


def test_index_files_persist_and_are_rebuilt_when_missing_or_corrupt(library):
    _index(library)
    faiss_path, ids_path = indexing.index_files(library.database, MODEL_KEY, "search")
    assert faiss_path.name == "0123456789ab-search.faiss" and faiss_path.is_file() and ids_path.is_file()
    encoder = HashingEncoder()
    expected = indexing.vector_search(library.database, encoder, MODEL_KEY, "search", "topic3 words", k=5)
    indexing.forget_loaded_indexes()  # as a new process would
    assert indexing.vector_search(library.database, encoder, MODEL_KEY, "search", "topic3 words", k=5) == expected
    faiss_path.write_bytes(b"corrupt")
    indexing.forget_loaded_indexes()
    assert indexing.vector_search(library.database, encoder, MODEL_KEY, "search", "topic3 words", k=5) == expected
    ids_path.unlink()
    indexing.forget_loaded_indexes()
    assert indexing.vector_search(library.database, encoder, MODEL_KEY, "search", "topic3 words", k=5) == expected
    assert ids_path.is_file()


def test_stale_index_file_is_updated_incrementally_from_the_database(library):
    _index(library, tasks=["search"])
    indexing.forget_loaded_indexes()
    # Another process adds a paper and embeds it; this process's index file is now behind.
    with library.database.transaction():
        new_id = library.papers.insert(Paper(title="brand new unusual zebra paper"))
    _index(library, tasks=["search"])
    indexing.forget_loaded_indexes()
    hits = indexing.vector_search(library.database, HashingEncoder(), MODEL_KEY, "search", "brand new unusual zebra paper", k=1)
    assert hits[0][0] == new_id


def test_library_index_end_to_end_with_a_real_bundle(library, tmp_path):
    pytest.importorskip("torch")
    testing = pytest.importorskip("scimult_train.testing")
    from scimult_desktop.services.models import bundles as models

    models.install(testing.build_tiny_bundle(tmp_path / "bundle"), name="tiny")
    report = library.index(engine="onnxruntime-cpu")
    assert report["model"] == "tiny" and report["embedded"] == 120 and report["engine"] == "onnxruntime-cpu"
    assert library.index(engine="onnxruntime-cpu")["embedded"] == 0
    vectors = library.embed(["graph search"], "search", role="query")
    assert vectors.shape == (1, models.list_models()[0].dim)
    hits = indexing.vector_search(library.database, library.encoder(), models.model_key(), "search", "graph search", k=3)
    assert len(hits) == 3


def test_tasks_sharing_one_graph_are_embedded_once_and_stored_for_each(library):
    class SharedGraphEncoder(HashingEncoder):
        texts_seen = 0

        def encode(self, texts, task, role=Role.DOCUMENT, batch_size=16):
            SharedGraphEncoder.texts_seen += len(texts)
            return super().encode(texts, Task.SEARCH, role, batch_size)  # every task: the same computation

        def embedding_identity(self, task, role=Role.DOCUMENT):
            return "expert0.onnx|"

    report = _index(library, encoder=SharedGraphEncoder())
    assert SharedGraphEncoder.texts_seen == 40
    assert [t["embedded"] for t in report["tasks"]] == [40, 40, 40]
    store = VectorStore(library.database)
    ids_s, search = store.vectors(MODEL_KEY, "search")
    ids_l, link = store.vectors(MODEL_KEY, "link")
    assert list(ids_s) == list(ids_l) and np.array_equal(search, link)
