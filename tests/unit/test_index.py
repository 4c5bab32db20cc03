"""FaissIndex against the exact NumPy oracle: add, replace, remove, search, persist, reload."""

from __future__ import annotations

import numpy as np
import pytest

from scimult_desktop.index.base import IndexFileError
from scimult_desktop.index.exact_index import ExactIndex
from scimult_desktop.index.faiss_index import FaissIndex

pytest.importorskip("faiss")
DIM = 16


def _unit(rng, n):
    vectors = rng.standard_normal((n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def _both(rng):
    ids = np.arange(1000, 1200)
    vectors = _unit(rng, len(ids))
    indexes = [FaissIndex(DIM), ExactIndex(DIM)]
    for index in indexes:
        index.add(ids, vectors)
    return indexes, ids, vectors


def test_search_matches_exact_oracle_after_incremental_changes():
    rng = np.random.default_rng(1)
    indexes, ids, _ = _both(rng)
    replacement = _unit(rng, 5)
    for index in indexes:
        assert index.remove([1003, 1004, 99999]) == 2
        index.add(ids[10:15], replacement)  # replace existing ids
    queries = _unit(rng, 7)
    (faiss_scores, faiss_ids), (exact_scores, exact_ids) = (index.search(queries, 10) for index in indexes)
    np.testing.assert_array_equal(faiss_ids, exact_ids)
    np.testing.assert_allclose(faiss_scores, exact_scores, atol=1e-5)
    assert len(indexes[0]) == len(indexes[1]) == len(ids) - 2
    assert 1003 not in set(indexes[0].ids().tolist())


def test_replaced_vector_is_found_by_its_new_value():
    rng = np.random.default_rng(2)
    (index, _), ids, _ = _both(rng)
    target = _unit(rng, 1)
    index.add([ids[0]], target)
    _, found = index.search(target, 1)
    assert found[0, 0] == ids[0]
    assert len(index) == len(ids)


def test_persist_and_reload(tmp_path):
    rng = np.random.default_rng(3)
    (index, exact), ids, _ = _both(rng)
    index.remove(ids[:50])
    path = tmp_path / "x.faiss"
    index.save(path)
    loaded = FaissIndex.load(path, DIM)
    assert sorted(loaded.ids().tolist()) == sorted(ids[50:].tolist())
    queries = _unit(rng, 3)
    np.testing.assert_array_equal(loaded.search(queries, 5)[1], index.search(queries, 5)[1])
    exact.save(tmp_path / "x.npz")
    assert len(ExactIndex.load(tmp_path / "x.npz")) == len(exact)


def test_k_larger_than_index_and_empty_index():
    index = FaissIndex(DIM)
    scores, ids = index.search(np.ones(DIM, np.float32), 3)
    assert ids.tolist() == [[-1, -1, -1]]
    index.add([7], np.ones((1, DIM), np.float32))
    scores, ids = index.search(np.ones(DIM, np.float32), 3)
    assert ids[0, 0] == 7 and (ids[0, 1:] == -1).all() and np.isinf(scores[0, 1:]).all()


def test_corrupt_missing_or_wrong_dimension_files_raise(tmp_path):
    with pytest.raises(IndexFileError, match="missing"):
        FaissIndex.load(tmp_path / "none.faiss")
    bad = tmp_path / "bad.faiss"
    bad.write_bytes(b"garbage bytes")
    with pytest.raises(IndexFileError, match="bad.faiss"):
        FaissIndex.load(bad)
    good = tmp_path / "good.faiss"
    FaissIndex(DIM).save(good)
    with pytest.raises(IndexFileError, match="dimension"):
        FaissIndex.load(good, DIM + 1)


def test_wrong_vector_dimension_is_rejected():
    with pytest.raises(ValueError):
        FaissIndex(DIM).add([1], np.ones((1, DIM + 1), np.float32))
