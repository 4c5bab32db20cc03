"""Load the released SciMult checkpoints (`scimult_moe.ckpt`, `scimult_vanilla.ckpt`, ...).

Format (spec §2): a DPR CheckpointState dict with `model_dict`, `optimizer_dict`,
`scheduler_dict`, `offset`, `epoch`, `encoder_params`. Every weight appears under
`question_model.encoder.*` and `ctx_model.encoder.*` (one shared encoder); we read the
question side, fall back to the ctx side, drop `embeddings.position_ids`, and read the
architecture from `encoder_params` (`use_moe`, `num_expert`, `moe_type`, `mean_pool`).
Layer sizes are read from the tensors themselves, so BERT-base and tiny test models load
the same way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import torch

from scimult_desktop.errors import ModelError
from scimult_desktop.hashing import sha256_file
from scimult_train.model.config import OFFICIAL_TASK_EXPERTS, EncoderConfig
from scimult_train.model.encoder import TaskAwareEncoder
from scimult_train.model.hf_weights import load_bert_state
from scimult_train.safe_unpickle import load_checkpoint, to_plain

CHECKPOINT_KEYS = ("model_dict", "optimizer_dict", "scheduler_dict", "offset", "epoch", "encoder_params")
PREFIXES = ("question_model.encoder.", "ctx_model.encoder.")


@dataclass
class OfficialCheckpoint:
    """What was loaded: the model plus provenance for the bundle manifest."""

    model: TaskAwareEncoder
    encoder_params: dict
    path: Path
    sha256: str
    epoch: object = None




def _encoder_state(model_dict: dict, where: str) -> dict[str, torch.Tensor]:
    for prefix in PREFIXES:
        state = {k[len(prefix) :]: v for k, v in model_dict.items() if k.startswith(prefix)}
        if state:
            state.pop("embeddings.position_ids", None)
            return state
    raise ModelError(f"{where}: no encoder weights (expected keys under {' or '.join(PREFIXES)})")


def infer_config(
    state: dict[str, torch.Tensor], params: dict, where: str, max_length: int = 512, num_heads: int | None = None
) -> EncoderConfig:
    """Build the EncoderConfig from tensor shapes and `encoder_params`.

    The head count is not recorded anywhere in the checkpoint; it defaults to BERT's
    64-dimensional heads (12 for hidden 768) unless `num_heads` is given.
    """
    try:
        word = state["embeddings.word_embeddings.weight"]
        position = state["embeddings.position_embeddings.weight"]
        token_type = state["embeddings.token_type_embeddings.weight"]
    except KeyError as exc:
        raise ModelError(f"{where}: embedding weight {exc.args[0]} is missing") from None
    layer_ids = {int(m.group(1)) for k in state if (m := re.match(r"encoder\.layer\.(\d+)\.", k))}
    if not layer_ids:
        raise ModelError(f"{where}: no transformer layers found")
    inter = next((v for k, v in state.items() if re.search(r"(intermediate\.dense|interm_layers\.\d+\.dense)\.weight$", k)), None)
    if inter is None:
        raise ModelError(f"{where}: no feed-forward weights found")
    hidden = word.shape[1]
    use_moe = bool(params.get("use_moe", False))
    moe_type = params.get("moe_type") if use_moe else None
    num_experts = int(params.get("num_expert", 1)) if use_moe else 1
    if use_moe and not moe_type:
        raise ModelError(f"{where}: encoder_params has use_moe but no moe_type")
    if num_heads is None:
        num_heads = int(params.get("num_attention_heads", max(1, hidden // 64)))
    try:
        return EncoderConfig(
            vocab_size=word.shape[0],
            hidden_size=hidden,
            num_layers=max(layer_ids) + 1,
            num_heads=num_heads,
            intermediate_size=inter.shape[0],
            max_position_embeddings=position.shape[0],
            type_vocab_size=token_type.shape[0],
            num_experts=num_experts,
            moe_type=moe_type,
            pooling="mean" if params.get("mean_pool") else "cls",
            # The eval code L2-normalises exactly when it mean-pools.
            similarity="cosine" if params.get("mean_pool") else "dot",
            max_length=min(max_length, position.shape[0]),
            task_experts=dict(OFFICIAL_TASK_EXPERTS),
        )
    except ValueError as exc:
        raise ModelError(f"{where}: unsupported architecture in encoder_params ({exc})") from exc


def load_official_checkpoint(path: Path, *, max_length: int = 512, num_heads: int | None = None) -> OfficialCheckpoint:
    """Load an official SciMult checkpoint into a TaskAwareEncoder.

    Args:
        path: `scimult_moe.ckpt`, `scimult_vanilla.ckpt` or a fine-tuned variant.
        max_length: inference length (the reference uses 512).
        num_heads: attention heads; default hidden/64 (12 for BERT-base). Only tiny test
            models need it.

    Returns:
        The model (eval mode) and its provenance.

    Raises:
        ModelError: unreadable file, unexpected layout, or weights that do not fit.
    """
    path = Path(path)
    where = str(path)
    data = load_checkpoint(path)
    if not isinstance(data, dict) or "model_dict" not in data:
        raise ModelError(f"{where}: not a SciMult/DPR checkpoint (no model_dict)")
    params = to_plain(data.get("encoder_params")) or {}
    if not isinstance(params, dict):
        raise ModelError(f"{where}: encoder_params is not a mapping ({type(params).__name__})")
    state = _encoder_state(data["model_dict"], where)
    if not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ModelError(f"{where}: model_dict holds non-tensor values")
    cfg = infer_config(state, params, where, max_length, num_heads)
    model = load_bert_state(TaskAwareEncoder(cfg), state, where).eval()
    return OfficialCheckpoint(model=model, encoder_params=params, path=path, sha256=sha256_file(path), epoch=data.get("epoch"))
