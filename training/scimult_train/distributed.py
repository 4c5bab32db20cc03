"""Process-group plumbing, kept in one place (nanochat's compute_init / compute_cleanup).

    python -m scimult_train ...                         one process (CPU or one GPU)
    torchrun --nproc_per_node=N -m scimult_train ...    N processes: NCCL on GPU, gloo on CPU

`all_gather_with_grad` is what makes in-batch negatives span ranks *with* gradient: the
backward pass sends each rank the gradient of every rank's loss with respect to its own
vectors (reduce-scatter on NCCL, all-reduce + slice on gloo), so N processes compute the
same update as one process with the global batch.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Dist:
    rank: int
    world_size: int
    local_rank: int
    device: torch.device

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def enabled(self) -> bool:
        return self.world_size > 1


def compute_init(prefer_cuda: bool = True) -> Dist:
    """Start the process group when launched by torchrun (RANK/WORLD_SIZE set); pick the device."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    # One GPU per local process; with fewer GPUs than processes every rank stays on the CPU (gloo).
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    use_cuda = prefer_cuda and torch.cuda.is_available() and torch.cuda.device_count() >= local_world
    device = torch.device("cuda", local_rank) if use_cuda else torch.device("cpu")
    if use_cuda:
        torch.cuda.set_device(device)
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo", device_id=device if use_cuda else None)
    return Dist(rank, world_size, local_rank, device)


def compute_cleanup() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def print0(*args, **kwargs) -> None:
    """Print on rank 0 only (stderr by default: stdout stays free for results)."""
    if int(os.environ.get("RANK", "0")) == 0:
        kwargs.setdefault("file", sys.stderr)
        kwargs.setdefault("flush", True)
        print(*args, **kwargs)


class _AllGatherWithGrad(torch.autograd.Function):
    """all_gather whose backward hands each rank the sum over ranks of the gradient of its slice."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor) -> torch.Tensor:
        ctx.rank, ctx.rows = dist.get_rank(), tensor.shape[0]
        parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, tensor.contiguous())
        return torch.cat(parts, dim=0)  # (world * rows, ...)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> torch.Tensor:
        grad = grad.contiguous()
        if dist.get_backend() == "nccl":
            mine = torch.empty((ctx.rows, *grad.shape[1:]), dtype=grad.dtype, device=grad.device)
            dist.reduce_scatter_tensor(mine, grad, op=dist.ReduceOp.SUM)
            return mine
        # gloo has no reduce_scatter: sum the whole gradient and keep this rank's rows.
        grad = grad.clone()
        dist.all_reduce(grad, op=dist.ReduceOp.SUM)
        return grad[ctx.rank * ctx.rows : (ctx.rank + 1) * ctx.rows]


def all_gather_with_grad(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate `tensor` from every rank along dim 0, differentiably (rank order).

    Every rank's loss depends on every rank's vectors, so the backward pass sums the
    gradients across ranks and each rank keeps the part for its own rows: with DDP's
    gradient averaging, N processes then make exactly the update of one process with the
    whole batch.
    """
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensor
    return _AllGatherWithGrad.apply(tensor)


def gather_plain(tensor: torch.Tensor) -> torch.Tensor:
    """Concatenate `tensor` from every rank along dim 0, without gradient (e.g. integer keys)."""
    if not (dist.is_available() and dist.is_initialized()) or dist.get_world_size() == 1:
        return tensor
    parts = [torch.empty_like(tensor) for _ in range(dist.get_world_size())]
    dist.all_gather(parts, tensor.contiguous())
    return torch.cat(parts, dim=0)


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when `flag` is True on at least one (e.g. a stop request)."""
    if not (dist.is_available() and dist.is_initialized()):
        return flag
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item())


def barrier() -> None:
    if dist.is_available() and dist.is_initialized():
        dist.barrier()
