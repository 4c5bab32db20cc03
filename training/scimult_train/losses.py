"""InfoNCE over in-batch negatives (gathered across ranks, with gradient) plus hard negatives.

SciMult's loss (spec §3.3, DPR `BiEncoderNllLoss`): every query is scored against every
context of the global batch, namely all positives and all hard negatives of all queries,
and the loss is the mean of -log softmax(scores)[own positive].

Inputs (per rank):

| name        | shape              | meaning                                                  |
|-------------|--------------------|----------------------------------------------------------|
| queries     | (B, dim)           | query vectors                                            |
| contexts    | (B * (1 + H), dim) | B positives (row i belongs to query i), then B*H negatives; rows of missing negatives are zeros |
| valid       | (B * (1 + H),)     | False for the zero rows (masked out of the softmax)      |

Similarity: "dot" (SciMult, temperature 1) or "cosine" (vectors L2-normalised first; use
a temperature around 0.05). Scores are divided by the temperature.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from scimult_train.distributed import all_gather_with_grad


def contrastive_loss(
    queries: torch.Tensor,
    contexts: torch.Tensor,
    valid: torch.Tensor,
    *,
    temperature: float,
    similarity: str,
    rank: int = 0,
    gather: bool = True,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Mean InfoNCE loss of this rank's queries and their top-1 accuracy (a detached float tensor).

    With `gather`, contexts (and their validity) of every rank join the candidate set, and
    gradients flow back to the rank that produced them.
    """
    queries, contexts = queries.float(), contexts.float()  # the softmax in fp32 also under bf16 autocast
    if similarity == "cosine":
        queries = F.normalize(queries, dim=-1)
        contexts = F.normalize(contexts, dim=-1)
    local_contexts = contexts.shape[0]
    if gather:
        contexts = all_gather_with_grad(contexts)  # (world * B * (1 + H), dim)
        valid = all_gather_with_grad(valid.to(torch.float32)).bool()
    else:
        rank = 0
    scores = queries @ contexts.T / temperature  # (B, world * B * (1 + H))
    scores = scores.masked_fill(~valid[None, :], float("-inf"))
    targets = rank * local_contexts + torch.arange(queries.shape[0], device=queries.device)  # own positive
    loss = F.cross_entropy(scores, targets)
    accuracy = (scores.argmax(dim=1) == targets).float().mean().detach()
    return loss, accuracy
