"""TaskAwareEncoder: the SciMult bi-encoder (shared query/document weights, task experts).

Design choices:
- One module serves both sides of the bi-encoder (SciMult shares all weights), so
  there is no query/document split in the weights; `Role` only matters for callers.
- `forward(..., expert=int)` takes one expert id per batch: SciMult batches are
  single-task and routing is by task, never by a learned gate.
- `fold_expert(e)` returns a plain (vanilla-architecture) encoder with expert e's
  weights in place: it reproduces the MoE model exactly for that task and is what the
  ONNX export traces.
- Output is pooled (`cls` = last-layer [CLS], no pooler; `mean` = masked mean) and not
  normalised; `encode()` L2-normalises only when `similarity == "cosine"`.

Example:
    model = TaskAwareEncoder(EncoderConfig(num_layers=4, moe_type="mod2:attn", num_experts=3))
    vectors = model.encode(["title [SEP] abstract"], Task.SEARCH, tokenizer=tok)
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.checkpoint import checkpoint

from scimult_desktop.domain.tasks import Role, Task
from scimult_train.model.config import EncoderConfig
from scimult_train.model.layers import Embeddings, EncoderLayer, RelativePositionBias


class TaskAwareEncoder(nn.Module):
    """BERT-style encoder whose chosen layers carry one attention/FFN expert per task."""

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embeddings = Embeddings(cfg)
        # MPNet: one relative position bias for all layers (not per expert: it is not attention weights).
        self.relative_attention_bias = RelativePositionBias(cfg) if cfg.relative_attention_num_buckets else None
        moe_layers = set(cfg.moe_layers)
        self.layers = nn.ModuleList(
            EncoderLayer(
                cfg,
                attn_experts=cfg.num_experts if i in moe_layers and cfg.attention_experts else 1,
                ffn_experts=cfg.num_experts if i in moe_layers and cfg.ffn_experts else 1,
            )
            for i in range(cfg.num_layers)
        )
        self.tokenizer = None  # a tokenizers.Tokenizer, set by the loaders; needed only by encode()
        self.gradient_checkpointing = False  # recompute layer activations in backward (training only)
        self.apply(self._init_weights)

    @staticmethod
    def _init_weights(module: nn.Module) -> None:
        # BERT's initialisation: N(0, 0.02) weights, zero biases, unit LayerNorm.
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, std=0.02)
        if isinstance(module, nn.Linear) and module.bias is not None:
            nn.init.zeros_(module.bias)
        if isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)

    def _check_expert(self, expert: int | None) -> int:
        if not self.cfg.is_moe:
            return 0
        if expert is None:
            raise ValueError("this encoder has task experts: pass expert= (or use encode(task=...))")
        if not 0 <= int(expert) < self.cfg.num_experts:
            raise ValueError(f"expert {expert} out of range (0..{self.cfg.num_experts - 1})")
        return int(expert)

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
        expert: int | None = None,
    ) -> torch.Tensor:
        """Pooled, un-normalised embeddings.

        Args:
            input_ids: (batch, seq) int64 token ids.
            attention_mask: (batch, seq) 1 for real tokens, 0 for padding.
            token_type_ids: (batch, seq) segment ids; zeros when None (SciMult never uses them).
            expert: the task expert for the whole batch; ignored by the vanilla architecture.

        Returns:
            (batch, hidden_size) float tensor, pooled as `cfg.pooling` says.
        """
        e = self._check_expert(expert)
        if token_type_ids is None:
            token_type_ids = torch.zeros_like(input_ids)
        hidden = self.last_hidden_state(input_ids, attention_mask, token_type_ids, e)  # (batch, seq, dim)
        return self.pool(hidden, attention_mask)  # (batch, dim)

    def last_hidden_state(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor, token_type_ids: torch.Tensor, expert: int
    ) -> torch.Tensor:
        """All token states of the last layer, (batch, seq, dim)."""
        x = self.embeddings(input_ids, token_type_ids, attention_mask)  # (batch, seq, dim)
        keep = attention_mask[:, None, None, :].to(x.dtype)  # (batch, 1, 1, seq)
        additive_mask = (1.0 - keep) * torch.finfo(x.dtype).min  # 0 where kept, very negative where padded
        if self.relative_attention_bias is not None:
            # Added once to the mask, the bias reaches every layer's scores as MPNet adds it.
            bias = self.relative_attention_bias(input_ids.shape[1], input_ids.device).to(x.dtype)  # (1, heads, seq, seq)
            additive_mask = additive_mask + bias  # (batch, heads, seq, seq)
        for layer in self.layers:
            if self.gradient_checkpointing and self.training and torch.is_grad_enabled():
                # Keep only layer inputs; recompute the rest in backward (dropout masks are replayed).
                x = checkpoint(layer, x, additive_mask, expert, use_reentrant=False)  # (batch, seq, dim)
            else:
                x = layer(x, additive_mask, expert)  # (batch, seq, dim)
        return x

    def pool(self, hidden: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.cfg.pooling == "cls":
            return hidden[:, 0]  # (batch, dim)
        mask = attention_mask.unsqueeze(-1).to(hidden.dtype)  # (batch, seq, 1)
        summed = (hidden * mask).sum(dim=1)  # (batch, dim)
        return summed / mask.sum(dim=1).clamp(min=1e-9)  # (batch, dim)

    # ---- task-level API -------------------------------------------------------------

    def expert_for(self, task: Task | str) -> int | None:
        return self.cfg.expert_for(task)

    def prepare_texts(self, texts: Sequence[str], task: Task | str) -> list[str]:
        """Texts as the model sees them: instruction prefix (instruction variant) prepended."""
        prefix = self.cfg.instruction_for(task) or ""
        return [prefix + text for text in texts]

    @torch.no_grad()
    def encode(
        self,
        texts: Sequence[str] | Mapping[str, torch.Tensor],
        task: Task | str = Task.SEARCH,
        role: Role | str = Role.DOCUMENT,
        *,
        tokenizer=None,
        batch_size: int = 32,
        normalize: bool | None = None,
    ) -> np.ndarray:
        """Embed texts (or pre-tokenised ids) for a task.

        Args:
            texts: strings ("title [SEP] abstract" for papers), or a mapping with
                `input_ids`, `attention_mask` (and optionally `token_type_ids`) tensors.
            task: selects the expert (and the instruction prefix of the instruction variant).
            role: query or document side; SciMult shares all weights and the expert between
                sides, so it does not change the result (kept for the app's Encoder signature).
            tokenizer: a `tokenizers.Tokenizer`; defaults to `self.tokenizer`.
            batch_size: texts per forward pass.
            normalize: L2-normalise; defaults to True exactly when similarity is "cosine".

        Returns:
            (n, hidden_size) float32 array.
        """
        Role(role)  # validates; both sides use the same weights and expert
        was_training = self.training
        self.eval()
        expert = self.expert_for(task)
        normalize = self.cfg.similarity == "cosine" if normalize is None else normalize
        try:
            if isinstance(texts, Mapping):
                batches = [dict(texts)]
            else:
                tok = tokenizer if tokenizer is not None else self.tokenizer
                if tok is None:
                    raise ValueError("encode() needs a tokenizer for raw texts")
                prepared = self.prepare_texts(list(texts), task)
                batches = [
                    tokenize_batch(tok, prepared[i : i + batch_size], self.cfg.max_length)
                    for i in range(0, len(prepared), batch_size)
                ]
            outputs = []
            device = next(self.parameters()).device
            for batch in batches:
                batch = {name: tensor.to(device) for name, tensor in batch.items()}
                vectors = self(batch["input_ids"], batch["attention_mask"], batch.get("token_type_ids"), expert)
                if normalize:
                    vectors = F.normalize(vectors, dim=-1)
                outputs.append(vectors.float().cpu().numpy())
            if not outputs:
                return np.zeros((0, self.cfg.hidden_size), dtype=np.float32)
            return np.concatenate(outputs).astype(np.float32)
        finally:
            self.train(was_training)

    # ---- expert folding ---------------------------------------------------------------

    def fold_expert(self, expert: int | None) -> "TaskAwareEncoder":
        """A vanilla-architecture copy carrying expert `expert`'s weights in every MoE layer.

        For the vanilla architecture this is a plain copy. The copy reproduces
        `self(..., expert=expert)` exactly.
        """
        e = self._check_expert(expert)
        dense_cfg = replace(self.cfg, moe_type=None, num_experts=1)
        dense = TaskAwareEncoder(dense_cfg)
        state = {}
        for key, value in self.state_dict().items():
            parts = key.split(".")
            # Expert lists are named layers.<i>.<attn|ffn>.<proj>.<e>.<weight|bias>
            if len(parts) == 6 and parts[0] == "layers" and parts[4].isdigit():
                width = len(getattr(getattr(self.layers[int(parts[1])], parts[2]), parts[3]))
                if width > 1:
                    if int(parts[4]) != e:
                        continue
                    parts[4] = "0"
            state[".".join(parts)] = value.clone()
        dense.load_state_dict(state, strict=True)
        dense.tokenizer = self.tokenizer
        dense.train(self.training)
        return dense

    def expert_fingerprint(self, expert: int | None) -> str:
        """sha256 of the weights one expert's forward pass uses: equal hashes, equal graphs."""
        digest = hashlib.sha256()
        for key, value in sorted(self.fold_expert(expert).state_dict().items()):
            digest.update(key.encode())
            digest.update(value.detach().cpu().contiguous().numpy().tobytes())
        return digest.hexdigest()

    def copy(self) -> "TaskAwareEncoder":
        return copy.deepcopy(self)


def tokenize_batch(tokenizer, texts: Sequence[str], max_length: int) -> dict[str, torch.Tensor]:
    """Tokenise with a `tokenizers.Tokenizer`, truncating to max_length and padding to the longest.

    Returns:
        input_ids, attention_mask, token_type_ids as (batch, seq) int64 tensors.
    """
    from tokenizers import Tokenizer

    from scimult_train.model.tokenizer import pad_token

    tok = Tokenizer.from_str(tokenizer.to_str())  # a private copy: padding/truncation settings are mutable state
    tok.enable_truncation(max_length=max_length)
    pad, pad_id = pad_token(tok)
    tok.enable_padding(pad_id=pad_id, pad_token=pad)
    encodings = tok.encode_batch(list(texts))
    ids = torch.tensor([enc.ids for enc in encodings], dtype=torch.long)  # (batch, seq)
    mask = torch.tensor([enc.attention_mask for enc in encodings], dtype=torch.long)  # (batch, seq)
    return {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
