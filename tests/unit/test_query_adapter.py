"""The link query adapter: its maths on synthetic vectors, its bundle file, and the encoder applying it."""

from __future__ import annotations

import json

import numpy as np
import pytest

from scimult_desktop.embedding import query_adapters
from scimult_desktop.embedding.bundle import BundleManifest, read_manifest
from scimult_desktop.errors import ModelError
from scimult_desktop.services.finetuning import query_adapter
from scimult_desktop.services.finetuning.query_adapter import InverseCloze, Problem
from scimult_desktop.services.finetuning.signals import Signal


def _unit(x):
    return (x / np.linalg.norm(x, axis=-1, keepdims=True)).astype(np.float32)


def distorted_problem(n_papers=300, dim=16, n_signals=120, seed=0, distortion=1.5):
    """Queries are their cited paper's vector seen through a fixed linear distortion plus noise:
    a linear map on the query side can undo it, so the adapter must find a gain."""
    rng = np.random.default_rng(seed)
    docs = _unit(rng.normal(size=(n_papers, dim)))
    mix = np.eye(dim) + distortion * rng.normal(size=(dim, dim)) / np.sqrt(dim)
    signals, vectors = [], {}
    for i in range(n_signals):
        target = int(rng.integers(n_papers))
        text = f"sentence {i}"
        vectors[text] = _unit(docs[target] @ mix + 0.2 * rng.normal(size=dim))
        signals.append(Signal("link", f"edge:{1000 + i}>{target}", text, "", None, target, source="contexts"))
    return Problem(np.arange(n_papers), docs, vectors), signals


def test_a_learnable_distortion_is_undone_and_cross_validation_keeps_the_adapter():
    problem, signals = distorted_problem(n_signals=200, distortion=3.0)
    train, held = signals[:100], signals[100:]
    before = query_adapter.recall_hits(problem, held, train, None).mean()
    fitted = query_adapter.choose_and_fit(problem, train)
    assert fitted.matrix is not None and fitted.cv_change > fitted.cv_se > 0
    after = query_adapter.recall_hits(problem, held, train, fitted.matrix).mean()
    assert after > before + 0.1, (before, after)
    assert [row["l2"] for row in fitted.table] == list(query_adapter.GRID)
    assert json.loads(json.dumps(fitted.to_json()))["fitted"] is True


def test_with_nothing_left_to_gain_the_adapter_is_not_kept():
    rng = np.random.default_rng(1)
    docs = _unit(rng.normal(size=(200, 16)))
    signals = [Signal("link", f"edge:{i}>{i % 200}", f"q{i}", "", None, int(rng.integers(200))) for i in range(60)]
    vectors = {s.query: docs[s.positive_paper] for s in signals}  # every query already finds its paper first
    fitted = query_adapter.choose_and_fit(Problem(np.arange(200), docs, vectors), signals)
    assert fitted.matrix is None and "no gain" in fitted.reason


def test_too_few_signals_is_said_not_fitted():
    problem, signals = distorted_problem(n_signals=10)
    fitted = query_adapter.choose_and_fit(problem, signals)
    assert fitted.matrix is None and "too few link signals" in fitted.reason


def test_inverse_cloze_pairs_and_a_sampled_candidate_set_keep_the_positives(monkeypatch):
    problem, signals = distorted_problem(n_papers=400)
    rows = np.arange(0, 400, 7)
    problem.ict = InverseCloze(problem.documents[rows], rows, problem.documents[rows])
    monkeypatch.setattr(query_adapter, "MAX_CANDIDATES", 150)
    chosen = query_adapter._candidate_rows(problem, signals)
    assert len(chosen) >= 150 and set(rows) <= set(chosen) and {s.positive_paper for s in signals} <= set(chosen)
    matrix = query_adapter.fit(problem, signals, 0.1, steps=3)
    assert matrix.shape == (16, 16) and np.all(np.isfinite(matrix))


def test_inverse_cloze_texts_take_one_long_sentence_and_leave_it_out_of_the_rest():
    abstract = "Short one. This sentence has more than eight words in it, surely. Another short. Last bit here."
    [(pid, sentence, rest)] = query_adapter.inverse_cloze_texts([(7, "A title", abstract), (8, "No abstract", None), (9, "", abstract)])
    assert pid == 7 and sentence.startswith("This sentence") and sentence not in rest and rest.startswith("A title [SEP]")


def test_applying_keeps_each_vector_length():
    rng = np.random.default_rng(2)
    vectors = rng.normal(size=(5, 8)).astype(np.float32) * 3
    adapted = query_adapters.apply(np.eye(8, dtype=np.float32) + 0.3 * rng.normal(size=(8, 8)).astype(np.float32), vectors)
    assert np.allclose(np.linalg.norm(adapted, axis=1), np.linalg.norm(vectors, axis=1), rtol=1e-5)


def test_a_bad_adapter_file_is_an_error_naming_it(tmp_path):
    np.save(tmp_path / "link.query_adapter.npy", np.ones((3, 4), np.float32))
    with pytest.raises(ModelError, match="link.query_adapter.npy.*finite float \\(8, 8\\)"):
        query_adapters.load(tmp_path, "link.query_adapter.npy", 8)
    (tmp_path / "broken.npy").write_bytes(b"not numpy")
    with pytest.raises(ModelError, match=r"broken.npy: unreadable query adapter \(not a matrix saved by numpy as .npy\)"):
        query_adapters.load(tmp_path, "broken.npy", 8)


def test_the_manifest_field_is_absent_unless_fitted_and_its_file_must_exist(tmp_path):
    from tests.unit.test_bundle_safety import fake_bundle

    fake_bundle(tmp_path / "b")
    manifest = read_manifest(tmp_path / "b")
    assert all("query_adapter" not in entry for entry in manifest.to_json()["tasks"].values())
    data = manifest.to_json()
    data["tasks"]["link"]["query_adapter"] = "link.query_adapter.npy"
    (tmp_path / "b" / "bundle.json").write_text(json.dumps(data))
    with pytest.raises(ModelError, match="link.query_adapter.npy is missing"):
        read_manifest(tmp_path / "b")
    np.save(tmp_path / "b" / "link.query_adapter.npy", np.eye(8, dtype=np.float32))
    assert read_manifest(tmp_path / "b").tasks["link"].query_adapter == "link.query_adapter.npy"
    assert BundleManifest.from_json(data).to_json()["tasks"]["link"]["query_adapter"] == "link.query_adapter.npy"


def _loss(docs, x, pos, dw):
    u = x + x @ dw
    q = u / np.linalg.norm(u, axis=1, keepdims=True)
    s = q @ docs.T / query_adapter.TAU
    s -= s.max(1, keepdims=True)
    return float(np.mean(np.log(np.exp(s).sum(1)) - s[np.arange(len(pos)), pos]))


def test_the_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    docs = _unit(rng.normal(size=(30, 6))).astype(np.float64)
    x = _unit(rng.normal(size=(5, 6))).astype(np.float64)
    pos = rng.integers(0, 30, size=5)
    dw = rng.normal(scale=0.1, size=(6, 6))
    analytic = query_adapter._gradient(docs, x, pos, None, dw)
    eps = 1e-6
    for i, j in [(0, 0), (2, 5), (4, 1)]:
        step = np.zeros_like(dw)
        step[i, j] = eps
        numeric = (_loss(docs, x, pos, dw + step) - _loss(docs, x, pos, dw - step)) / (2 * eps)
        assert abs(numeric - analytic[i, j]) < 1e-4


def test_cross_validation_keeps_a_citing_papers_signals_together():
    edge = Signal("link", "edge:12>40", "a sentence", "", None, 40, source="contexts")
    same_paper = Signal("link", "edge:12>41", "another sentence", "", 12, 41, source="citations")
    feedback = Signal("link", "query:abc", "typed text", "", None, 5, source="feedback")
    assert query_adapter.citing_group(edge) == query_adapter.citing_group(same_paper) == "citing:12"
    assert query_adapter.citing_group(feedback) == "query:abc"
    problem, signals = distorted_problem(n_signals=40)
    one_paper = [Signal("link", f"edge:7>{s.positive_paper}", s.query, "", None, s.positive_paper) for s in signals]
    fitted = query_adapter.choose_and_fit(problem, one_paper)  # one citing paper: nothing to cross-validate across
    assert fitted.matrix is None and "from 1 citing paper(s)" in fitted.reason
