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

False negatives: with `keys` (one (id_key, text_key) int64 pair per context, see
`text_key`), a context that *is* query i's positive under another slot (same
`positive_id`, or identical text: e.g. a label shared by two papers of a classify batch)
is masked out of query i's softmax. SciMult's reference code does not mask (spec §6.8);
`mask_false_negatives` in the config turns this off to reproduce it.

Similarity: "dot" (SciMult, temperature 1) or "cosine" (vectors L2-normalised first; use
a temperature around 0.05). Scores are divided by the temperature.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from scimult_train.distributed import all_gather_with_grad, gather_plain


def text_key(text: str) -> int:
    """A stable 63-bit key of a text (the same on every rank, unlike hash()); never 0."""
    import hashlib

    value = int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little") >> 1
    return value or 1


def contrastive_loss(
    queries: torch.Tensor,
    contexts: torch.Tensor,
    valid: torch.Tensor,
    *,
    temperature: float,
    similarity: str,
    rank: int = 0,
    gather: bool = True,
    keys: torch.Tensor | None = None,
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
        valid = gather_plain(valid.to(torch.int64)).bool()  # gloo has no bool all_gather
        keys = gather_plain(keys) if keys is not None else None
    else:
        rank = 0
    scores = queries @ contexts.T / temperature  # (B, world * B * (1 + H))
    targets = rank * local_contexts + torch.arange(queries.shape[0], device=queries.device)  # own positive
    allowed = valid[None, :].expand_as(scores)  # (B, n_contexts)
    if keys is not None:
        own = keys[targets]  # (B, 2): each query's positive (id key, text key)
        same_id = (keys[None, :, 0] == own[:, None, 0]) & (own[:, None, 0] != 0)
        same_text = keys[None, :, 1] == own[:, None, 1]
        duplicate = same_id | same_text  # (B, n_contexts)
        duplicate[torch.arange(len(targets), device=targets.device), targets] = False
        allowed = allowed & ~duplicate
    scores = scores.masked_fill(~allowed, float("-inf"))
    loss = F.cross_entropy(scores, targets)
    accuracy = (scores.argmax(dim=1) == targets).float().mean().detach()
    return loss, accuracy
