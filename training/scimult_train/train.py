"""Multi-task contrastive training of the task-aware bi-encoder, read top to bottom.

    python -m scimult_train --preset tiny                                   # CPU smoke run, seconds
    python -m scimult_train --config run.json --set max_steps=500           # one process (CPU or GPU)
    torchrun --nproc_per_node=8 -m scimult_train --preset scimult-base      # one node, 8 GPUs
    torchrun --nnodes=2 --node_rank=R --master_addr=HOST --nproc_per_node=8 -m scimult_train --config run.json
    python -m scimult_train --config run.json --resume                      # continue from out_dir/checkpoints

The recipe (spec §3): one shared encoder for queries and documents; every batch comes from
one task and is routed through that task's expert (or task instruction); InfoNCE over the
in-batch negatives of all ranks (gathered with gradient) plus each query's hard negatives;
AdamW with warmup and linear decay, gradient clipping; bf16 autocast on GPU.

Outputs in out_dir: config.json, metrics.jsonl, loss.png, tokenizer.json, checkpoints/,
and bundle/ (ONNX graphs + torch weights; `scimult model install out_dir/bundle`).
SIGINT/SIGTERM: the current step finishes, a checkpoint is saved, the exit code is 130.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from pathlib import Path

import torch
from torch import nn

from scimult_train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint, set_rng_state
from scimult_train.config import TrainConfig, config_from_json
from scimult_train.distributed import Dist, any_rank, barrier, compute_cleanup, compute_init, print0
from scimult_train.losses import contrastive_loss, text_key
from scimult_train.metrics import MetricsLog, eval_line, format_seconds, plot_metrics, progress_line
from scimult_train.sampling import BatchStream, ExampleIndex, TaskSchedule, choose_negatives

EXIT_INTERRUPTED = 130
# Changing these between a checkpoint and --resume would change the data order or the model.
RESUME_MUST_MATCH = ("init", "variant", "moe_type", "num_experts", "data", "task_sampling", "batch_size", "grad_accum", "seed")


class BiEncoderStep(nn.Module):
    """Both sides of the bi-encoder in one forward call (one DDP forward per micro-step)."""

    def __init__(self, encoder: nn.Module) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, queries: dict, contexts: dict, expert: int | None) -> tuple[torch.Tensor, torch.Tensor]:
        q = self.encoder(queries["input_ids"], queries["attention_mask"], None, expert)  # (B, dim)
        c = self.encoder(contexts["input_ids"], contexts["attention_mask"], None, expert)  # (n_contexts, dim)
        return q, c


class StopRequest:
    """SIGINT/SIGTERM: the first asks for a clean stop (checkpoint, exit 130); a second one aborts."""

    def __init__(self) -> None:
        self.requested = False
        self._previous = {}

    def __enter__(self) -> "StopRequest":
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

    def _handle(self, signum, frame) -> None:
        if self.requested:
            raise KeyboardInterrupt  # second signal: stop now (the last complete checkpoint stays valid)
        self.requested = True
        print0(f"\nstop requested ({signal.Signals(signum).name}): finishing this step and saving a checkpoint")


def tokenize(tokenizer, texts: list[str], device: torch.device) -> dict[str, torch.Tensor]:
    """(batch, seq) int64 ids and mask, padded to the longest text (the tokenizer truncates), and the token count."""
    encodings = tokenizer.encode_batch(texts)
    ids = torch.tensor([e.ids for e in encodings], dtype=torch.long)
    mask = torch.tensor([e.attention_mask for e in encodings], dtype=torch.long)
    return {
        "input_ids": ids.to(device, non_blocking=True),
        "attention_mask": mask.to(device, non_blocking=True),
        "tokens": int(mask.sum()),  # counted on the CPU: no device sync in the loop
    }


def collate(batch, model, tokenizer, num_hard_negatives: int, seed: int, device: torch.device):
    """Tokenised queries and contexts of one rank's micro-batch, where each context sits, and keys.

    Contexts are the B positives followed by up to H hard negatives per query. Slot
    `B + i*H + j` holds query i's j-th negative; `slots` lists the filled slots in order.
    `keys` is (B * (1 + H), 2): (positive_id key or 0, text key) per slot.
    """
    examples = batch.examples
    size, hard = len(examples), num_hard_negatives
    queries = model.prepare_texts([e.query for e in examples], batch.task)
    texts, slots = [e.positive for e in examples], list(range(size))
    for i, example in enumerate(examples):
        for j, negative in enumerate(choose_negatives(example, hard, seed, batch.position, i)):
            texts.append(negative)
            slots.append(size + i * hard + j)
    contexts = model.prepare_texts(texts, batch.task)
    # (id key, text key) per slot, for masking false negatives; empty slots keep (0, 0).
    keys = torch.zeros(size * (1 + hard), 2, dtype=torch.long)
    for slot, text in zip(slots, texts):
        keys[slot, 1] = text_key(text)
    for i, example in enumerate(examples):
        if example.positive_id is not None:
            keys[i, 0] = text_key("id:" + example.positive_id)
    return (
        tokenize(tokenizer, queries, device),
        tokenize(tokenizer, contexts, device),
        torch.tensor(slots, dtype=torch.long, device=device),
        keys.to(device),
    )


def run(cfg: TrainConfig, resume: bool = False) -> int:
    """Train as `cfg` says; returns the process exit code (0 done, 130 interrupted)."""
    from scimult_train.init_model import load_init
    from scimult_train.model.tokenizer import configure_lengths
    from scimult_train.optim import apply_trainable, build_optimizer, linear_schedule

    # ---- processes, devices, seeds ---------------------------------------------------
    ddp = compute_init(prefer_cuda=cfg.device != "cpu")
    if cfg.device == "cuda" and ddp.device.type != "cuda":
        raise ValueError("device 'cuda' asked for, but there is no CUDA GPU for this process")
    torch.set_num_threads(max(1, cfg.num_threads))
    out = cfg.output_dir.resolve()
    ckpt_root = out / "checkpoints"
    torch.manual_seed(cfg.seed)
    use_bf16 = cfg.precision == "bf16" or (cfg.precision == "auto" and ddp.device.type == "cuda")
    autocast = (
        torch.autocast(device_type=ddp.device.type, dtype=torch.bfloat16) if use_bf16 else contextlib.nullcontext()
    )

    # ---- resume point (read before anything is written) --------------------------------
    resume_from = latest_checkpoint(ckpt_root) if resume else None
    if resume and resume_from is None:
        print0(f"no checkpoint under {ckpt_root}: starting from the beginning")
    if resume_from is not None:
        state, meta, rng = load_checkpoint(resume_from, ddp.rank)
        saved = config_from_json(meta["config"])
        changed = [k for k in RESUME_MUST_MATCH if getattr(saved, k) != getattr(cfg, k)]
        if changed or meta["world_size"] != ddp.world_size:
            what = ", ".join(changed) or f"world size {meta['world_size']} -> {ddp.world_size}"
            raise ValueError(f"{resume_from}: cannot resume, the run changed ({what})")
    if ddp.is_main:
        out.mkdir(parents=True, exist_ok=True)
        cfg.save(out / "config.json")
    barrier()

    # ---- model and tokenizer -------------------------------------------------------------
    init = load_init(cfg)
    model = init.model
    model.gradient_checkpointing = cfg.gradient_checkpointing
    tokenizer = configure_lengths(init.tokenizer, cfg.max_length)
    if ddp.is_main:
        tokenizer.save(str(out / "tokenizer.json"))
    n_trainable, n_total = apply_trainable(model, cfg.trainable)
    model.to(ddp.device).train()
    torch.manual_seed(cfg.seed + ddp.rank)  # dropout: a different stream per rank

    # ---- data ----------------------------------------------------------------------------
    data_paths = list(cfg.data)
    if cfg.mine_hard_negatives:
        from scimult_train.mining import mine_hard_negatives

        mined = out / "mined" / "train_mined.jsonl"
        if ddp.is_main and not mined.is_file():
            print0(f"mining hard negatives with the initial model (top {cfg.mine_top_k}) -> {mined}")
            mine_hard_negatives(model, tokenizer, data_paths, mined, top_k=cfg.mine_top_k,
                                num_negatives=max(1, cfg.num_hard_negatives), seed=cfg.seed)
        barrier()
        data_paths = [str(mined)]
    # Rank 0 scans the files and caches the offsets; the other ranks then read the cache.
    if ddp.is_main:
        index = ExampleIndex(data_paths, cache_dir=out / "data_index")
    barrier()
    if not ddp.is_main:
        index = ExampleIndex(data_paths, cache_dir=out / "data_index")
    global_batch = cfg.batch_size * ddp.world_size
    schedule = TaskSchedule(index.counts, global_batch, cfg.task_sampling, cfg.seed)
    stream = BatchStream(index, schedule, ddp.rank, ddp.world_size)
    total_steps = cfg.max_steps or max(1, int(cfg.epochs * schedule.steps_per_epoch) // cfg.grad_accum)
    eval_examples = None
    if (cfg.eval_data or cfg.eval_unseen) and ddp.is_main:
        from scimult_train.evaluate import load_eval_examples, load_unseen_examples

        eval_examples = load_eval_examples(cfg.eval_data, cfg.eval_max_examples)
        eval_examples.update(load_unseen_examples(cfg.eval_unseen, cfg.eval_max_examples))

    # ---- optimiser, schedule, DDP -----------------------------------------------------------
    on_gpu = ddp.device.type == "cuda"
    if on_gpu:
        torch.backends.cuda.matmul.allow_tf32 = True  # the fp32 parts (loss, LayerNorm) on tensor cores
    optimizer = build_optimizer(
        model, cfg.lr, cfg.weight_decay, tuple(cfg.adam_betas), cfg.adam_eps, cfg.layer_decay, fused=on_gpu
    )
    scheduler = linear_schedule(optimizer, cfg.warmup_steps, total_steps)
    step, position = 0, 0
    if resume_from is not None:
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        step, position = meta["step"], meta["position"]
        if rng is not None:
            set_rng_state(rng)
        print0(f"resumed from {resume_from} at step {step}")
    bi_encoder = BiEncoderStep(model)
    if ddp.enabled:
        from torch.nn.parallel import DistributedDataParallel

        # Experts of the other tasks get no gradient in a single-task step: DDP must know.
        bi_encoder = DistributedDataParallel(
            bi_encoder,
            device_ids=[ddp.device.index] if ddp.device.type == "cuda" else None,
            find_unused_parameters=model.cfg.is_moe,
        )
    metrics = MetricsLog(out / "metrics.jsonl", resume_step=step if resume_from is not None else None) if ddp.is_main else None

    def checkpoint_now() -> None:
        training_state = {
            "model": model.state_dict(),
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
        } if ddp.is_main else None
        meta = {"step": step, "position": position, "world_size": ddp.world_size, "config": cfg.to_json()}
        save_checkpoint(ckpt_root, step, training_state, meta, rank=ddp.rank, keep=cfg.keep_checkpoints)
        if ddp.is_main:
            plot_metrics(metrics.read(), out / "loss.png")

    def evaluate_now() -> None:
        if ddp.is_main and eval_examples:
            from scimult_train.evaluate import evaluate

            results = evaluate(model, tokenizer, eval_examples)
            metrics.write({"step": step, "eval": results})
            print0(eval_line(step, results))
        barrier()

    print0(
        f"training {n_trainable:,} of {n_total:,} parameters ({cfg.trainable}) | {model.cfg.architecture} | "
        f"{ddp.world_size} process(es) on {ddp.device.type}{' bf16' if use_bf16 else ''} | "
        f"global batch {global_batch} x {cfg.grad_accum} accum | {total_steps} steps "
        f"({schedule.steps_per_epoch} batches/epoch; examples {index.counts})"
    )

    if resume_from is None:
        evaluate_now()  # the starting point, so the plot shows what training changed

    # ---- the loop ------------------------------------------------------------------------
    interrupted = False
    start_time, start_step = time.perf_counter(), step
    window_time, window_samples, window_tokens = time.perf_counter(), 0, 0
    with StopRequest() as stop:
        while step < total_steps:
            losses, accuracies, tasks = [], [], []
            for micro in range(cfg.grad_accum):
                batch = stream.batch(position)
                position += 1
                queries, contexts, slots, keys = collate(
                    batch, model, tokenizer, cfg.num_hard_negatives, cfg.seed, ddp.device
                )
                expert = model.expert_for(batch.task)
                last_micro = micro == cfg.grad_accum - 1
                # Gradients are averaged across ranks only on the last micro-step.
                sync = contextlib.nullcontext() if (last_micro or not ddp.enabled) else bi_encoder.no_sync()
                with sync:
                    with autocast:
                        q, c = bi_encoder(queries, contexts, expert)  # (B, dim), (filled slots, dim)
                    # Put the encoded contexts into their fixed slots (missing negatives stay zero and masked).
                    n_slots = len(keys)
                    placed = c.float().new_zeros(n_slots, c.shape[1]).index_copy(0, slots, c.float())
                    valid = torch.zeros(n_slots, dtype=torch.bool, device=ddp.device).index_fill(0, slots, True)
                    loss, accuracy = contrastive_loss(
                        q, placed, valid, temperature=cfg.temperature, similarity=model.cfg.similarity,
                        rank=ddp.rank, gather=cfg.gather_negatives and ddp.enabled,
                        keys=keys if cfg.mask_false_negatives else None,
                    )
                    (loss / cfg.grad_accum).backward()
                losses.append(loss.detach())
                accuracies.append(accuracy)
                tasks.append(batch.task)
                window_samples += global_batch
                window_tokens += (queries["tokens"] + contexts["tokens"]) * ddp.world_size
            grad_norm = (
                torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.requires_grad], cfg.max_grad_norm)
                if cfg.max_grad_norm > 0 else torch.tensor(0.0)
            )
            lr = optimizer.param_groups[-1]["lr"] / optimizer.param_groups[-1]["lr_mult"]
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1

            if step % cfg.log_every == 0 or step == total_steps:
                loss_value = torch.stack(losses).mean()
                if ddp.enabled:
                    torch.distributed.all_reduce(loss_value, op=torch.distributed.ReduceOp.AVG)
                now = time.perf_counter()
                elapsed = now - start_time
                record = {
                    "step": step,
                    "epoch": batch.epoch,
                    "task": tasks[-1] if len(set(tasks)) == 1 else "+".join(sorted(set(tasks))),
                    "loss": round(float(loss_value), 6),
                    "accuracy": round(float(torch.stack(accuracies).mean()), 4),
                    "lr": lr,
                    "grad_norm": round(float(grad_norm), 4),
                    "samples_per_s": round(window_samples / max(now - window_time, 1e-9), 2),
                    "tokens_per_s": round(window_tokens / max(now - window_time, 1e-9), 1),
                    "elapsed_s": round(elapsed, 2),
                    "eta_s": round(elapsed / (step - start_step) * (total_steps - step), 1),
                }
                window_time, window_samples, window_tokens = now, 0, 0
                if ddp.is_main:
                    metrics.write(record)
                    print0(progress_line(record, total_steps))
            if cfg.eval_every and step % cfg.eval_every == 0 and step < total_steps:
                evaluate_now()
            if any_rank(stop.requested, ddp.device):
                interrupted = True
                break
            if cfg.save_every and step % cfg.save_every == 0 and step < total_steps:
                checkpoint_now()

        # ---- the end: checkpoint, evaluation, plot, bundle ----------------------------------
        checkpoint_now()
        if interrupted:
            print0(f"stopped at step {step}/{total_steps}; checkpoint saved; continue with --resume")
            index.close()
            compute_cleanup()
            return EXIT_INTERRUPTED
        evaluate_now()
        if ddp.is_main:
            plot_metrics(metrics.read(), out / "loss.png")
            if cfg.export_bundle:
                export_run_bundle(model, cfg, out, init.source, metrics.read(), step)
        barrier()
    index.close()
    compute_cleanup()
    print0(f"done: {step} steps in {format_seconds(time.perf_counter() - start_time)}; outputs in {out}")
    return 0


def export_run_bundle(model, cfg: TrainConfig, out: Path, init_source: dict, records: list[dict], step: int) -> Path:
    """Export the trained model to out/bundle (replacing an older export of this run)."""
    import shutil

    from scimult_train.export_onnx import export_bundle_atomically

    bundle = out / "bundle"
    name = cfg.bundle_name or out.name
    train_lines = [r for r in records if "loss" in r]
    evals = [r for r in records if "eval" in r]
    source = {
        **init_source,
        "licence": init_source.get("licence", "see the init model"),
        "training": "scimult_train multi-task contrastive training (InfoNCE, in-batch + hard negatives)",
        "training_steps": step,
        "training_data": [Path(p).name for p in cfg.data],
        "training_final_loss": train_lines[-1]["loss"] if train_lines else None,
        "training_eval": evals[-1]["eval"] if evals else None,
        "training_config": {k: v for k, v in cfg.to_json().items() if k not in {"data", "eval_data", "out_dir"}},
    }
    print0(f"exporting the model bundle to {bundle}")
    previous = None
    if bundle.exists():
        previous = out / ".bundle-previous"
        shutil.rmtree(previous, ignore_errors=True)
        bundle.rename(previous)
    was_training = model.training
    dtype = torch.float16 if cfg.export_torch_dtype == "float16" else torch.float32
    export_bundle_atomically(
        model.cpu(), out / "tokenizer.json", bundle, name=name, source=source, max_length=cfg.max_length, torch_dtype=dtype
    )
    model.train(was_training)
    if previous is not None:
        shutil.rmtree(previous, ignore_errors=True)
    return bundle


def main(argv: list[str] | None = None) -> int:
    """`python -m scimult_train`: parse arguments, train, map errors to one line and exit codes."""
    import argparse

    from scimult_desktop.errors import ScimultError
    from scimult_train.config import load_config

    parser = argparse.ArgumentParser(
        prog="python -m scimult_train",
        description="Multi-task contrastive training of the SciMult task-aware bi-encoder.",
        epilog="Multi-process: torchrun --nproc_per_node=N -m scimult_train ... (NCCL on GPU, gloo on CPU).",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--config", type=Path, help="a JSON file with TrainConfig keys (see training/README.md)")
    source.add_argument("--preset", help="a preset from scimult_train/presets (tiny, default-minilm, scimult-base)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="override one config key (value parsed as JSON when possible); repeatable")
    parser.add_argument("--resume", action="store_true", help="continue from the newest checkpoint in out_dir")
    parser.add_argument("--print-config", action="store_true", help="print the resolved config as JSON and exit")
    args = parser.parse_args(argv)
    try:
        cfg = load_config(args.config, args.preset, args.overrides)
        if args.print_config:
            import json

            print(json.dumps(cfg.to_json(), indent=2, sort_keys=True))
            return 0
        return run(cfg, resume=args.resume)
    except (ScimultError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("error: interrupted before the checkpoint was saved (the previous one is intact)", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
