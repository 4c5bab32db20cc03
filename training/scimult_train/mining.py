"""Hard-negative mining with the current model: re-embed, take top-ranked non-positives.

For every task, the candidate pool is the set of distinct positive texts of that task in
the given files (papers for search/link, label texts for classify) plus the existing hard
negatives. Each query is embedded with the task's expert, the pool is ranked, the texts
that are a positive of that query anywhere in the data are skipped, and `num_negatives`
are drawn at random from the `top_k` best-ranked rest (ANCE/TASER style: sampling from
the top keeps the very hardest, often unlabelled positives, from dominating). The output
is a JSONL file in our format with the mined texts as `negatives`.

The pool's embeddings are held in memory (n x dim float32: 1M texts at 768 dims = 3 GB).

    python -m scimult_train.mining --init BUNDLE_OR_HF_DIR --data train.jsonl --out mined.jsonl
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

from scimult_train.data.examples import Example, read_examples, write_examples
from scimult_train.model.encoder import TaskAwareEncoder


@torch.no_grad()
def mine_hard_negatives(
    model: TaskAwareEncoder,
    tokenizer,
    paths: list[str | Path],
    out_path: str | Path,
    *,
    top_k: int = 10,
    num_negatives: int = 1,
    seed: int = 0,
    batch_size: int = 64,
) -> int:
    """Write `out_path`: every example of `paths` with negatives mined by `model`; returns the count."""
    per_task: dict[str, list[Example]] = {}
    for path in paths:
        for example in read_examples(path):
            per_task.setdefault(example.task, []).append(example)
    rng = np.random.default_rng(seed)
    mined: list[Example] = []
    for task, examples in per_task.items():
        pool = list(dict.fromkeys([e.positive for e in examples] + [n for e in examples for n in e.negatives]))
        where = {text: i for i, text in enumerate(pool)}
        # Texts of one item (e.g. a label's name and its name + definition) share a positive_id:
        # all of them are positives of a query that has any of them.
        texts_of_item: dict[str, set[int]] = {}
        for e in examples:
            if e.positive_id is not None:
                texts_of_item.setdefault(e.positive_id, set()).add(where[e.positive])
        positives_of: dict[str, set[int]] = {}
        for e in examples:
            positives_of.setdefault(e.query, set()).update({where[e.positive]} | texts_of_item.get(e.positive_id, set()))
        report(f"mining {task}: embedding {len(pool):,} pool texts")
        pool_vectors = torch.from_numpy(model.encode(pool, task, "document", tokenizer=tokenizer, batch_size=batch_size))
        depth = min(len(pool), top_k + max(len(p) for p in positives_of.values()))
        for start in range(0, len(examples), 1024):
            report(f"mining {task}: queries {start:,}/{len(examples):,}")
            chunk = examples[start : start + 1024]
            queries = model.encode([e.query for e in chunk], task, "query", tokenizer=tokenizer, batch_size=batch_size)
            top = (torch.from_numpy(queries) @ pool_vectors.T).topk(depth, dim=1).indices.numpy()  # (chunk, depth)
            for example, ranked in zip(chunk, top):
                skip = positives_of[example.query]
                candidates = [int(i) for i in ranked if int(i) not in skip][:top_k]
                picked = rng.permutation(len(candidates))[:num_negatives] if candidates else []
                negatives = tuple(pool[candidates[i]] for i in sorted(picked))
                mined.append(Example(example.task, example.query, example.positive, negatives, example.positive_id))
    return write_examples(out_path, mined)


def report(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    from scimult_desktop.errors import ScimultError
    from scimult_train.config import TrainConfig
    from scimult_train.init_model import load_init

    parser = argparse.ArgumentParser(prog="python -m scimult_train.mining", description=__doc__.splitlines()[0])
    parser.add_argument("--init", required=True, help="'minilm', a HF model folder or a bundle folder with torch/ weights")
    parser.add_argument("--variant", default="moe", choices=["moe", "instruction", "vanilla"], help="architecture (default moe)")
    parser.add_argument("--data", nargs="+", required=True, help="JSONL files in our format")
    parser.add_argument("--out", required=True, type=Path, help="JSONL file to write")
    parser.add_argument("--top-k", type=int, default=10, help="draw negatives from this many top-ranked non-positives")
    parser.add_argument("--num-negatives", type=int, default=1, help="negatives per example")
    parser.add_argument("--max-length", type=int, default=256, help="tokens per text")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    try:
        torch.set_num_threads(2)
        cfg = TrainConfig(init=args.init, variant=args.variant, data=list(args.data), max_length=args.max_length,
                          moe_type="mod2:attn" if args.variant == "moe" else None)
        init = load_init(cfg)
        count = mine_hard_negatives(init.model, init.tokenizer, args.data, args.out, top_k=args.top_k,
                                    num_negatives=args.num_negatives, seed=args.seed)
    except (ScimultError, ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"{count} examples with mined negatives -> {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
