"""Convert an official SciMult checkpoint into a model bundle.

    python -m scimult_train.convert_official scimult_moe.ckpt --vocab vocab.txt --out bundles/scimult-moe

`--vocab` is BiomedBERT's vocab.txt (microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract),
which the user supplies: the released checkpoints do not carry their tokenizer.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from scimult_desktop.errors import ScimultError


def convert(ckpt: Path, vocab: Path, out: Path, name: str | None = None, *, max_length: int = 512, int8: bool = False) -> Path:
    """Load `ckpt`, build the WordPiece tokenizer from `vocab` and export a bundle to `out`.

    Returns:
        The bundle folder.
    """
    from scimult_train.export_onnx import export_bundle_atomically
    from scimult_train.model.tokenizer import wordpiece_from_vocab
    from scimult_train.official import load_official_checkpoint

    loaded = load_official_checkpoint(Path(ckpt), max_length=max_length)
    tokenizer = wordpiece_from_vocab(Path(vocab), max_length=loaded.model.cfg.max_length)
    if tokenizer.get_vocab_size() != loaded.model.cfg.vocab_size:
        raise ScimultError(
            f"{vocab}: vocabulary has {tokenizer.get_vocab_size()} tokens but {ckpt} embeds {loaded.model.cfg.vocab_size}"
        )
    params = loaded.encoder_params
    source = {
        "checkpoint": Path(ckpt).name,
        "checkpoint_sha256": loaded.sha256,
        "base_model": params.get("pretrained_model_cfg", "unknown"),
        "encoder_params": {k: params[k] for k in ("use_moe", "num_expert", "moe_type", "mean_pool") if k in params},
        "epoch": loaded.epoch if isinstance(loaded.epoch, (int, float, str)) else None,
        "licence": "see the SciMult model card (huggingface.co/yuz9yuz/SciMult)",
        "paper": "Zhang et al., Findings of EMNLP 2023 (arXiv 2305.14232)",
        "tokenizer": f"WordPiece from {Path(vocab).name} (lowercase, strip accents)",
    }
    default_name = Path(ckpt).stem.replace("_", "-")
    with tempfile.TemporaryDirectory(prefix="scimult-tok-") as tmp:
        tokenizer.save(str(Path(tmp) / "tokenizer.json"))
        return export_bundle_atomically(
            loaded.model,
            Path(tmp) / "tokenizer.json",
            Path(out),
            name=name or default_name,
            source=source,
            max_length=loaded.model.cfg.max_length,
            int8=int8,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scimult_train.convert_official", description=__doc__.splitlines()[0])
    parser.add_argument("checkpoint", type=Path, help="official SciMult .ckpt file")
    parser.add_argument("--vocab", type=Path, required=True, help="BiomedBERT vocab.txt (uncased WordPiece)")
    parser.add_argument("--out", type=Path, required=True, help="bundle folder to create (must not exist or be empty)")
    parser.add_argument("--name", default=None, help="bundle name (default: from the checkpoint file name)")
    parser.add_argument("--max-length", type=int, default=512, help="tokens per text, specials included (default 512)")
    parser.add_argument("--int8", action="store_true", help="also write int8 dynamic-quantised graphs (kept if cosine >= 0.999)")
    args = parser.parse_args(argv)
    try:
        out = convert(args.checkpoint, args.vocab, args.out, args.name, max_length=args.max_length, int8=args.int8)
    except ScimultError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
