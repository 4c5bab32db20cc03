"""OnnxEncoder on tiny random MoE bundles built by scimult_train (skipped without torch)."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from scimult_desktop.domain.tasks import Role, Task
from scimult_desktop.embedding.bundle import bundle_fingerprint, stored_fingerprint
from scimult_desktop.errors import ModelError

pytest.importorskip("torch")
testing = pytest.importorskip("scimult_train.testing")

TEXTS = [
    "graph neural networks for citation recommendation",
    "protein [SEP] a study of protein structure with deep learning models and attention over many sequences of data",
    "cell",
    "language model [SEP] we show results of a new approach to text retrieval using embedding of query and abstract",
    "the",
]


@pytest.fixture(scope="session")
def tiny_bundle(tmp_path_factory):
    return testing.build_tiny_bundle(tmp_path_factory.mktemp("bundles") / "tiny")


@pytest.fixture(scope="session")
def dot_bundle(tmp_path_factory):
    return testing.build_tiny_bundle(tmp_path_factory.mktemp("bundles") / "dot", pooling="cls", similarity="dot", name="tiny-dot")


def _encoder(folder, **kwargs):
    from scimult_desktop.embedding.onnx_encoder import OnnxEncoder

    return OnnxEncoder(folder, engine=kwargs.pop("engine", "onnxruntime-cpu"), **kwargs)


def test_shape_dtype_and_unit_norm_for_cosine(tiny_bundle):
    encoder = _encoder(tiny_bundle)
    vectors = encoder.encode(TEXTS, Task.SEARCH)
    assert vectors.shape == (len(TEXTS), encoder.dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert encoder.encode([], "search").shape == (0, encoder.dim)


def test_dot_bundle_is_not_normalised(dot_bundle):
    vectors = _encoder(dot_bundle).encode(TEXTS, "link")
    assert not np.allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-3)


@pytest.mark.parametrize("bundle_name", ["tiny_bundle", "dot_bundle"])
def test_order_restored_and_padding_does_not_change_results(bundle_name, request):
    encoder = _encoder(request.getfixturevalue(bundle_name))
    batched = encoder.encode(TEXTS, Task.CLASSIFY, batch_size=2)  # mixed lengths: sorted, padded, restored
    one_by_one = np.stack([encoder.encode([text], Task.CLASSIFY)[0] for text in TEXTS])
    np.testing.assert_allclose(batched, one_by_one, atol=1e-5)


def test_query_and_document_roles_share_weights(tiny_bundle):
    encoder = _encoder(tiny_bundle)
    np.testing.assert_allclose(encoder.encode_query(TEXTS, "search"), encoder.encode_document(TEXTS, "search"), atol=1e-6)


def test_task_routing_uses_different_experts(tiny_bundle, tmp_path):
    encoder = _encoder(tiny_bundle)
    search, link, classify = (encoder.encode(TEXTS, task) for task in ("search", "link", "classify"))
    assert not np.allclose(search, link, atol=1e-3)
    assert not np.allclose(link, classify, atol=1e-3)
    same = _encoder(testing.build_tiny_bundle(tmp_path / "same", distinct_experts=False))
    np.testing.assert_allclose(same.encode(TEXTS, "search"), same.encode(TEXTS, "classify"), atol=1e-6)


def test_truncation_to_max_length(tiny_bundle):
    encoder = _encoder(tiny_bundle)
    long_text = "neural " * (encoder.max_length + 50)
    vectors = encoder.encode([long_text, long_text + "protein cell gene"], "search")
    np.testing.assert_allclose(vectors[0], vectors[1], atol=1e-6)


def test_instruction_prefix_is_prepended(tiny_bundle, tmp_path):
    folder = tmp_path / "instructed"
    shutil.copytree(tiny_bundle, folder)
    manifest = json.loads((folder / "bundle.json").read_text())
    manifest["tasks"]["search"]["instruction"] = "retrieve papers for the query. "
    (folder / "bundle.json").write_text(json.dumps(manifest))
    plain, instructed = _encoder(tiny_bundle), _encoder(folder)
    np.testing.assert_allclose(
        instructed.encode(["graph search"], "search", Role.QUERY),
        plain.encode(["retrieve papers for the query. graph search"], "search", Role.QUERY),
        atol=1e-6,
    )
    np.testing.assert_allclose(instructed.encode(TEXTS, "link"), plain.encode(TEXTS, "link"), atol=1e-6)


def test_graph_sessions_are_created_lazily_per_distinct_file(tiny_bundle):
    encoder = _encoder(tiny_bundle)
    assert encoder._runners == {}
    encoder.encode(["cell"], "link")
    assert list(encoder._runners) == [encoder.manifest.tasks["link"].graph]


def test_corrupt_graph_gives_error_naming_the_file(tiny_bundle, tmp_path):
    folder = tmp_path / "broken"
    shutil.copytree(tiny_bundle, folder)
    graph = folder / json.loads((folder / "bundle.json").read_text())["tasks"]["search"]["graph"]
    graph.write_bytes(b"not an onnx graph")
    with pytest.raises(ModelError, match=graph.name):
        _encoder(folder).encode(["x"], "search")


def test_unknown_engine_and_missing_int8_variant(tiny_bundle):
    with pytest.raises(ModelError, match="unknown engine"):
        _encoder(tiny_bundle, engine="tpu")
    encoder = _encoder(tiny_bundle, precision="int8")
    if not encoder.manifest.tasks["search"].variants.get("int8"):
        with pytest.raises(ModelError, match="int8"):
            encoder.encode(["x"], "search")


def test_auto_engine_resolves_to_an_available_engine(tiny_bundle):
    from scimult_desktop.embedding.engines import ENGINES

    encoder = _encoder(tiny_bundle, engine="auto")
    assert encoder.engine in ENGINES and encoder.engine != "auto"
    assert encoder.encode(["cell"], "search").shape == (1, encoder.dim)


def test_openvino_matches_onnxruntime(tiny_bundle, dot_bundle):
    pytest.importorskip("openvino")
    for folder in (tiny_bundle, dot_bundle):
        reference = _encoder(folder).encode(TEXTS, "search")
        vectors = _encoder(folder, engine="openvino").encode(TEXTS, "search")
        cosine = (vectors * reference).sum(1) / np.linalg.norm(vectors, axis=1) / np.linalg.norm(reference, axis=1)
        assert cosine.min() >= 0.999


def test_stored_fingerprint_is_cached_and_invalidated(tiny_bundle, tmp_path):
    folder = tmp_path / "fp"
    shutil.copytree(tiny_bundle, folder)
    first = stored_fingerprint(folder)
    assert first == bundle_fingerprint(folder)
    assert (folder / "fingerprint.sha256").is_file()
    manifest = json.loads((folder / "bundle.json").read_text())
    manifest["name"] = "renamed"
    (folder / "bundle.json").write_text(json.dumps(manifest))
    assert stored_fingerprint(folder) == bundle_fingerprint(folder) != first
