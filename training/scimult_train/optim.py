"""What trains and how fast: trainable selection, AdamW parameter groups, the LR schedule.

- `trainable`: "all"; "experts" (only the task-expert weights of the MoE layers: cheap
  specialisation of an upcycled model); "experts+top:N" (experts plus every weight of the
  top N layers).
- AdamW without weight decay on biases and LayerNorms (TASER/DPR).
- Optional layer-wise LR decay (TASER `get_layer_lrs`, spec §3.5): multiplier
  decay^(L + 2 - depth), depth 0 for embeddings and i + 1 for layer i.
- Schedule: linear warmup over `warmup_steps`, then linear decay to 0 at the last step.
"""

from __future__ import annotations

import torch

from scimult_train.model.encoder import TaskAwareEncoder


def is_expert_parameter(model: TaskAwareEncoder, name: str) -> bool:
    """Whether a parameter belongs to a task expert (a ModuleList of width > 1 in an MoE layer)."""
    parts = name.split(".")
    if len(parts) != 6 or parts[0] != "layers" or not parts[4].isdigit():
        return False
    group = getattr(getattr(model.layers[int(parts[1])], parts[2]), parts[3])
    return len(group) > 1


def apply_trainable(model: TaskAwareEncoder, trainable: str) -> tuple[int, int]:
    """Set requires_grad per `trainable`; returns (trainable, total) parameter counts.

    Raises:
        ValueError: "experts..." on a model without experts.
    """
    top = int(trainable.split(":", 1)[1]) if trainable.startswith("experts+top:") else 0
    first_top_layer = model.cfg.num_layers - top
    if trainable != "all" and not model.cfg.is_moe:
        raise ValueError(f"trainable {trainable!r} needs a model with task experts")
    for name, param in model.named_parameters():
        if trainable == "all":
            param.requires_grad_(True)
            continue
        in_top = name.startswith("layers.") and int(name.split(".")[1]) >= first_top_layer
        param.requires_grad_(is_expert_parameter(model, name) or in_top)
    counts = [p.numel() for p in model.parameters()]
    return sum(p.numel() for p in model.parameters() if p.requires_grad), sum(counts)


def _depth(name: str) -> int:
    if name.startswith("embeddings."):
        return 0
    if name.startswith("layers."):
        return int(name.split(".")[1]) + 1
    raise ValueError(f"parameter {name!r} has no known depth")


def build_optimizer(
    model: TaskAwareEncoder,
    lr: float,
    weight_decay: float,
    betas: tuple[float, float],
    eps: float,
    layer_decay: float | None,
    fused: bool = False,
) -> torch.optim.AdamW:
    """AdamW over the trainable parameters, grouped by (lr multiplier, weight decay); `fused` on GPU."""
    groups: dict[tuple[float, float], list[torch.nn.Parameter]] = {}
    top_depth = model.cfg.num_layers + 2
    for name, param in model.named_parameters():
        if not param.requires_grad:
            continue
        decay = 0.0 if (name.endswith(".bias") or ".norm" in name or name.startswith("embeddings.norm")) else weight_decay
        mult = layer_decay ** (top_depth - _depth(name)) if layer_decay else 1.0
        groups.setdefault((mult, decay), []).append(param)
    param_groups = [
        {"params": params, "lr": lr * mult, "lr_mult": mult, "weight_decay": decay}
        for (mult, decay), params in sorted(groups.items())
    ]
    # The fused CUDA kernel updates all parameters in a few launches (GPU only).
    return torch.optim.AdamW(param_groups, lr=lr, betas=betas, eps=eps, fused=fused or None)


def linear_schedule(optimizer: torch.optim.Optimizer, warmup_steps: int, total_steps: int):
    """LambdaLR: (step + 1) / warmup during warmup, then linear decay to 0 at `total_steps`."""

    def factor(step: int) -> float:
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        return max(0.0, (total_steps - step) / max(1, total_steps - warmup_steps))

    return torch.optim.lr_scheduler.LambdaLR(optimizer, factor)
