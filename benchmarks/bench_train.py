"""Training throughput of the scimult-base shape: samples/s, tokens/s, peak memory, MFU.

The model is the paper's (BERT-base 12 x 768, 3 attention experts in the odd layers,
`mod2:attn`), random init unless --init names a local HF BERT folder. Every step is a real
training step of scimult_train: queries and contexts (1 positive + H hard negatives per
query) through BiEncoderStep, InfoNCE, backward, clipping, AdamW. Inputs are random token
ids of exactly --seq-len tokens (no padding), so tokens/step is known.

MFU = model FLOPs per second / peak dense bf16 FLOPs of the GPU. Model FLOPs per token
= 6 x (active non-embedding parameters) + 12 x layers x seq_len x hidden (attention
scores and values, forward + backward); one expert is active per step, so the count is
that of BERT-base.

    python benchmarks/bench_train.py                       # GPU: 300 steps, bf16, batch 32
    python benchmarks/bench_train.py --steps 3 --batch-size 1 --warmup 1   # CPU: a few steps so it cannot rot
    python benchmarks/bench_train.py --layers 2 --hidden 64 --heads 2 --steps 2 --json   # what the test runs
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time

import torch

# Peak dense bf16 tensor FLOPs (no sparsity) of GPUs we may meet; --peak-tflops overrides.
PEAK_BF16_TFLOPS = {"H100": 989.0, "H200": 989.0, "H800": 989.0, "GH200": 989.0, "A100": 312.0, "A800": 312.0,
                    "L40S": 362.0, "L4": 121.0, "A10": 125.0, "RTX 4090": 165.0, "RTX A6000": 155.0}


def peak_tflops(device: torch.device, override: float | None) -> float | None:
    if override:
        return override
    if device.type != "cuda":
        return None
    name = torch.cuda.get_device_name(device)
    for key, value in sorted(PEAK_BF16_TFLOPS.items(), key=lambda kv: -len(kv[0])):
        if key in name:
            return value
    return None


def flops_per_token(model, seq_len: int) -> float:
    """Training FLOPs per token for one expert's forward + backward (embedding lookups excluded)."""
    cfg = model.cfg
    dense = model.fold_expert(0 if cfg.is_moe else None)
    active = sum(p.numel() for name, p in dense.named_parameters() if not name.startswith("embeddings."))
    return 6.0 * active + 12.0 * cfg.num_layers * seq_len * cfg.hidden_size


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=None, help="timed steps (default 300 on GPU, 3 on CPU)")
    parser.add_argument("--warmup", type=int, default=None, help="untimed steps first (default 10 on GPU, 1 on CPU)")
    parser.add_argument("--batch-size", type=int, default=None, help="queries per step (default 32 on GPU, 1 on CPU)")
    parser.add_argument("--hard-negatives", type=int, default=1, help="hard negatives per query (SciMult: 1)")
    parser.add_argument("--seq-len", type=int, default=256, help="tokens per text (default 256)")
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--heads", type=int, default=12)
    parser.add_argument("--experts", type=int, default=3)
    parser.add_argument("--moe-type", default="mod2:attn")
    parser.add_argument("--init", default=None, help="a local dense BERT HF folder to upcycle (default: random init)")
    parser.add_argument("--precision", choices=["auto", "bf16", "fp32"], default="auto", help="auto: bf16 on GPU, fp32 on CPU")
    parser.add_argument("--gradient-checkpointing", action="store_true")
    parser.add_argument("--compile", action="store_true", help="torch.compile the encoder (GPU)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--peak-tflops", type=float, default=None, help="peak FLOPs of the device, for MFU")
    parser.add_argument("--json", action="store_true", help="also print one JSON line with the figures")
    args = parser.parse_args(argv)

    from scimult_train.losses import contrastive_loss
    from scimult_train.model.config import EncoderConfig
    from scimult_train.model.encoder import TaskAwareEncoder
    from scimult_train.train import BiEncoderStep

    torch.set_num_threads(args.threads)
    device = torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")
    on_gpu = device.type == "cuda"
    steps = args.steps or (300 if on_gpu else 3)
    warmup = args.warmup if args.warmup is not None else (10 if on_gpu else 1)
    batch = args.batch_size or (32 if on_gpu else 1)
    bf16 = args.precision == "bf16" or (args.precision == "auto" and on_gpu)
    if on_gpu:
        torch.backends.cuda.matmul.allow_tf32 = True

    if args.init:
        from scimult_train.init_model import load_hf_folder

        model = load_hf_folder(args.init, args.moe_type, args.experts).model
    else:
        cfg = EncoderConfig(num_layers=args.layers, hidden_size=args.hidden, num_heads=args.heads,
                            intermediate_size=4 * args.hidden, num_experts=args.experts, moe_type=args.moe_type,
                            pooling="cls", similarity="dot", max_length=max(args.seq_len, 512))
        torch.manual_seed(0)
        model = TaskAwareEncoder(cfg)
    model.gradient_checkpointing = args.gradient_checkpointing
    model.to(device).train()
    per_token = flops_per_token(model, args.seq_len)
    step_module = BiEncoderStep(torch.compile(model) if args.compile else model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-5, fused=on_gpu)
    n_contexts = batch * (1 + args.hard_negatives)
    vocab = model.cfg.vocab_size

    def one_step(expert: int) -> None:
        q = {"input_ids": torch.randint(5, vocab, (batch, args.seq_len), device=device),
             "attention_mask": torch.ones(batch, args.seq_len, dtype=torch.long, device=device)}
        c = {"input_ids": torch.randint(5, vocab, (n_contexts, args.seq_len), device=device),
             "attention_mask": torch.ones(n_contexts, args.seq_len, dtype=torch.long, device=device)}
        with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=bf16):
            queries, contexts = step_module(q, c, expert)
        valid = torch.ones(n_contexts, dtype=torch.bool, device=device)
        loss, _ = contrastive_loss(queries, contexts, valid, temperature=1.0, similarity="dot", gather=False)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 2.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    experts = list(range(args.experts)) if model.cfg.is_moe else [None]
    for i in range(warmup):
        one_step(experts[i % len(experts)])
    if on_gpu:
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for i in range(steps):
        one_step(experts[i % len(experts)])  # tasks alternate, as in multi-task training
    if on_gpu:
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start

    samples = steps * batch
    tokens = steps * (batch + n_contexts) * args.seq_len
    achieved = tokens * per_token / seconds
    peak = peak_tflops(device, args.peak_tflops)
    figures = {
        "device": torch.cuda.get_device_name(device) if on_gpu else "cpu",
        "threads": None if on_gpu else args.threads,
        "precision": "bf16" if bf16 else "fp32",
        "shape": f"{model.cfg.num_layers}x{model.cfg.hidden_size}, {model.cfg.moe_type} x{model.cfg.num_experts}",
        "parameters": sum(p.numel() for p in model.parameters()),
        "batch_size": batch,
        "hard_negatives": args.hard_negatives,
        "seq_len": args.seq_len,
        "steps": steps,
        "seconds": round(seconds, 3),
        "steps_per_s": round(steps / seconds, 3),
        "samples_per_s": round(samples / seconds, 2),
        "tokens_per_s": round(tokens / seconds, 1),
        "model_tflops_per_s": round(achieved / 1e12, 3),
        "mfu": round(achieved / (peak * 1e12), 4) if peak else None,
        "peak_gpu_memory_gib": round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if on_gpu else None,
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }
    print(f"scimult-base training step ({figures['shape']}, {figures['parameters']:,} params) on {figures['device']} "
          f"[{figures['precision']}], batch {batch} queries + {n_contexts} contexts x {args.seq_len} tokens")
    print(f"  {figures['steps_per_s']} steps/s | {figures['samples_per_s']} samples/s | {figures['tokens_per_s']:,} tokens/s")
    print(f"  {figures['model_tflops_per_s']} model TFLOP/s | MFU "
          + (f"{100 * figures['mfu']:.1f}% of {peak} TFLOP/s" if peak else "n/a (no GPU peak known; --peak-tflops)"))
    print(f"  peak GPU memory {figures['peak_gpu_memory_gib']} GiB" if on_gpu else f"  peak RSS {figures['peak_rss_gib']} GiB (CPU run)")
    if args.json:
        print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
