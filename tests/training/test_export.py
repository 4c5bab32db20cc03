"""ONNX bundle export: manifest contract, per-task torch vs ONNX Runtime parity, dedupe, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from scimult_desktop.domain.tasks import Task
from scimult_desktop.embedding.bundle import GRAPH_INPUTS, GRAPH_OUTPUT, read_manifest
from scimult_desktop.errors import ModelError
from scimult_train.export_onnx import export_bundle
from scimult_train.model.config import UNVERIFIED_INSTRUCTIONS
from scimult_train.model.encoder import tokenize_batch
from scimult_train.model.tokenizer import load_tokenizer, wordpiece_from_vocab
from scimult_train.testing import build_tiny_bundle, tiny_config, tiny_model, write_tiny_vocab
from tests.training import official_layout as layout

ort = pytest.importorskip("onnxruntime")

TEXTS = [
    "graph neural networks for citation recommendation [SEP] we propose a model that learns from citations",
    "protein",
    "clinical text retrieval with transformer models [SEP] results show strong performance on patient notes and more",
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def _run_graph(path, batch) -> np.ndarray:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == list(GRAPH_INPUTS)
    assert [o.name for o in session.get_outputs()] == [GRAPH_OUTPUT]
    return session.run([GRAPH_OUTPUT], {k: batch[k].numpy() for k in GRAPH_INPUTS})[0]


@pytest.fixture
def tiny_vocab(tmp_path):
    return write_tiny_vocab(tmp_path / "vocab.txt")


@pytest.mark.parametrize(("pooling", "similarity"), [("mean", "cosine"), ("cls", "dot")])
def test_export_parity_per_task(tmp_path, tiny_vocab, pooling, similarity):
    tokenizer = wordpiece_from_vocab(tiny_vocab, max_length=128)
    tokenizer.save(str(tmp_path / "tok.json"))
    cfg = tiny_config(tokenizer.get_vocab_size(), pooling=pooling, similarity=similarity)
    model = tiny_model(cfg)
    out = export_bundle(model, tmp_path / "tok.json", tmp_path / "bundle", "t", {"licence": "test"}, 64)
    manifest = read_manifest(out)
    assert (manifest.pooling, manifest.similarity, manifest.dim, manifest.max_length) == (pooling, similarity, 64, 64)
    assert manifest.architecture == "bert-moe-attn"
    assert {t: tg.expert for t, tg in manifest.tasks.items()} == {"search": 0, "link": 1, "classify": 2}
    assert len({tg.graph for tg in manifest.tasks.values()}) == 3
    assert (out / "MODEL_CARD.md").read_text().count("test") >= 1

    bundle_tok = load_tokenizer(out / manifest.tokenizer)
    batch = tokenize_batch(bundle_tok, TEXTS, manifest.max_length)
    assert batch["input_ids"].shape[1] <= 64
    per_task = {}
    for task in Task:
        tg = manifest.task_graph(task)
        onnx_vectors = _run_graph(out / tg.graph, batch)
        with torch.no_grad():
            torch_vectors = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"], tg.expert).numpy()
        assert onnx_vectors.shape == (3, 64) and onnx_vectors.dtype == np.float32
        assert _cosines(onnx_vectors, torch_vectors).min() > 0.9999
        # Not normalised inside the graph.
        np.testing.assert_allclose(np.linalg.norm(onnx_vectors, axis=1), np.linalg.norm(torch_vectors, axis=1), rtol=1e-4)
        per_task[task] = onnx_vectors
    assert _cosines(per_task[Task.SEARCH], per_task[Task.CLASSIFY]).max() < 0.999


def test_graph_respects_padding(tmp_path):
    out = build_tiny_bundle(tmp_path / "b")
    manifest = read_manifest(out)
    tok = load_tokenizer(out / "tokenizer.json")
    alone = tokenize_batch(tok, TEXTS[1:2], manifest.max_length)
    together = tokenize_batch(tok, TEXTS, manifest.max_length)
    graph = out / manifest.task_graph("link").graph
    np.testing.assert_allclose(_run_graph(graph, alone)[0], _run_graph(graph, together)[1], atol=1e-5)


def test_identical_experts_share_one_graph(tmp_path):
    out = build_tiny_bundle(tmp_path / "b", distinct_experts=False)
    manifest = read_manifest(out)
    assert {tg.graph for tg in manifest.tasks.values()} == {"expert0.onnx"}
    assert sorted(p.name for p in out.glob("*.onnx")) == ["expert0.onnx"]
    assert manifest.export["parity_min_cosine"] > 0.9999


def test_vanilla_instruction_variant_bundle(tmp_path, tiny_vocab):
    tokenizer = wordpiece_from_vocab(tiny_vocab)
    tokenizer.save(str(tmp_path / "tok.json"))
    instructions = {task: text + " [SEP] " for task, text in UNVERIFIED_INSTRUCTIONS.items()}
    cfg = tiny_config(tokenizer.get_vocab_size(), moe_type=None, num_experts=1, instructions=instructions)
    out = export_bundle(tiny_model(cfg), tmp_path / "tok.json", tmp_path / "bundle", "instr", {}, 128)
    manifest = read_manifest(out)
    assert manifest.architecture == "bert-vanilla"
    assert {tg.graph for tg in manifest.tasks.values()} == {"model.onnx"}
    assert all(tg.expert is None for tg in manifest.tasks.values())
    assert manifest.task_graph("search").instruction == instructions["search"]


def test_export_refuses_non_empty_folder_and_long_max_length(tmp_path, tiny_vocab):
    tokenizer = wordpiece_from_vocab(tiny_vocab)
    tokenizer.save(str(tmp_path / "tok.json"))
    model = tiny_model(tiny_config(tokenizer.get_vocab_size()))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "x").write_text("x")
    with pytest.raises(ModelError, match="not empty"):
        export_bundle(model, tmp_path / "tok.json", tmp_path / "busy", "t", {}, 64)
    with pytest.raises(ModelError, match="exceeds"):
        export_bundle(model, tmp_path / "tok.json", tmp_path / "b2", "t", {}, 4096)


def test_int8_variants_are_kept_only_when_close_enough(tmp_path):
    out = build_tiny_bundle(tmp_path / "b", int8=True)
    manifest = read_manifest(out)
    cosines = manifest.export["int8_min_cosine"]
    assert set(cosines) == {"search", "link", "classify"}
    for task, tg in manifest.tasks.items():
        kept = "int8" in tg.variants
        assert kept == (cosines[task] >= manifest.export["int8_threshold"])
        if kept:
            assert (out / tg.variants["int8"]).is_file()
    kept_files = {v for tg in manifest.tasks.values() for v in tg.variants.values()}
    assert {p.name for p in out.glob("*.int8.onnx")} == kept_files


def test_convert_official_cli_end_to_end(tmp_path, tiny_vocab, capsys):
    from scimult_train.convert_official import main

    vocab_size = len(tiny_vocab.read_text().splitlines())
    sizes = dict(layout.TINY, vocab=vocab_size)
    state = layout.official_encoder_state(moe_type="mod2:attn", sizes=sizes)
    ckpt = layout.save(layout.checkpoint_dict(state, layout.encoder_params(moe_type="mod2:attn")), tmp_path / "scimult_moe.ckpt")
    assert main([str(ckpt), "--vocab", str(tiny_vocab), "--out", str(tmp_path / "bundle")]) == 0
    manifest = read_manifest(tmp_path / "bundle")
    assert manifest.name == "scimult-moe"
    assert (manifest.pooling, manifest.similarity, manifest.max_length) == ("cls", "dot", 64)
    assert len({tg.graph for tg in manifest.tasks.values()}) == 3
    assert len(manifest.source["checkpoint_sha256"]) == 64
    assert manifest.source["checkpoint_sha256"] in (tmp_path / "bundle" / "MODEL_CARD.md").read_text()
    assert manifest.export["parity_min_cosine"] > 0.9999
    json.loads((tmp_path / "bundle" / "bundle.json").read_text())

    # A vocabulary that does not fit the checkpoint is a clear error, and nothing is left behind.
    short_vocab = tmp_path / "short.txt"
    short_vocab.write_text("\n".join(tiny_vocab.read_text().splitlines()[:-3]) + "\n")
    assert main([str(ckpt), "--vocab", str(short_vocab), "--out", str(tmp_path / "b2")]) == 1
    assert "short.txt" in capsys.readouterr().err
    assert not (tmp_path / "b2").exists()
