"""BERT building blocks with optional per-task experts, in plain PyTorch.

Design choices:
- Written from scratch (not transformers' BertModel) so that the reference check in
  tests/training compares two independent implementations.
- Every projection that may carry experts is an `nn.ModuleList`; a shared sublayer is
  simply a list of one. The expert is a Python int chosen per batch (routing by task,
  no gate), so a traced graph contains only the weights of that expert.
- Attention experts own Q, K, V and the attention-output dense; the attention-output
  LayerNorm stays shared (SciMult-MHAExpert). FFN experts own intermediate dense,
  output dense and output LayerNorm (TASER "fwd").
- Math is BERT's: erf GELU, post-LayerNorm, scaled dot-product attention with an
  additive mask; dropout only acts in training mode. MPNet differs only in its embeddings
  (positions, no token types) and a relative position bias, which the encoder adds to the
  additive mask, so the attention sublayer (and its experts) is the same code for both.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from scimult_train.model.config import EncoderConfig


def _linears(n: int, fan_in: int, fan_out: int) -> nn.ModuleList:
    return nn.ModuleList(nn.Linear(fan_in, fan_out) for _ in range(n))


class Embeddings(nn.Module):
    """Word + position (+ token type for BERT) embeddings, then LayerNorm and dropout.

    BERT counts positions 0..n-1. MPNet (like RoBERTa) counts real tokens from
    pad_token_id + 1 and gives padding the position pad_token_id; the count here comes from the
    attention mask rather than from comparing ids with the pad id, so it does not depend on which
    id a caller pads with (equal for right-padded inputs, which is all the app makes).
    """

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.family = cfg.family
        self.pad_token_id = cfg.pad_token_id
        self.word = nn.Embedding(cfg.vocab_size, cfg.hidden_size, padding_idx=cfg.pad_token_id)
        self.position = nn.Embedding(cfg.max_position_embeddings, cfg.hidden_size)
        self.token_type = nn.Embedding(cfg.type_vocab_size, cfg.hidden_size) if cfg.type_vocab_size > 0 else None
        self.norm = nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps)
        self.dropout = nn.Dropout(cfg.dropout)

    def forward(
        self, input_ids: torch.Tensor, token_type_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        if self.family == "mpnet":
            mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask.to(input_ids.dtype)
            positions = torch.cumsum(mask, dim=1) * mask + self.pad_token_id  # (batch, seq)
        else:
            seq = input_ids.shape[1]
            positions = torch.arange(seq, device=input_ids.device).unsqueeze(0)  # (1, seq)
        x = self.word(input_ids) + self.position(positions)  # (batch, seq, dim)
        if self.token_type is not None:
            x = x + self.token_type(token_type_ids)
        return self.dropout(self.norm(x))


class RelativePositionBias(nn.Module):
    """MPNet's relative position bias: one learned value per (bucket, head), shared by all layers.

    Buckets follow T5/MPNet: half for each direction; distances below num_buckets/4 get their
    own bucket, longer ones share log-spaced buckets up to max_distance.
    """

    def __init__(self, cfg: EncoderConfig) -> None:
        super().__init__()
        self.num_buckets = cfg.relative_attention_num_buckets
        self.max_distance = cfg.relative_attention_max_distance
        self.table = nn.Embedding(self.num_buckets, cfg.num_heads)

    def buckets(self, relative_position: torch.Tensor) -> torch.Tensor:
        half = self.num_buckets // 2
        n = -relative_position
        ret = (n < 0).to(torch.long) * half
        n = torch.abs(n)
        max_exact = half // 2
        is_small = n < max_exact
        # clamp(min=1) only keeps log() finite where is_small already chose n.
        scaled = torch.log(n.clamp(min=1).float() / max_exact) / math.log(self.max_distance / max_exact)
        large = max_exact + (scaled * (half - max_exact)).to(torch.long)
        large = torch.clamp(large, max=half - 1)
        return ret + torch.where(is_small, n, large)

    def forward(self, seq: int, device: torch.device) -> torch.Tensor:
        """(1, heads, seq, seq) additive attention bias for a sequence of `seq` tokens."""
        position = torch.arange(seq, dtype=torch.long, device=device)
        relative = position[None, :] - position[:, None]  # (seq, seq): key position - query position
        values = self.table(self.buckets(relative))  # (seq, seq, heads)
        return values.permute(2, 0, 1).unsqueeze(0)  # (1, heads, seq, seq)


class SelfAttention(nn.Module):
    """Multi-head self-attention sublayer (with residual + LayerNorm); Q/K/V/O per expert."""

    def __init__(self, cfg: EncoderConfig, num_experts: int) -> None:
        super().__init__()
        dim = cfg.hidden_size
        self.num_heads = cfg.num_heads
        self.head_dim = dim // cfg.num_heads
        self.q = _linears(num_experts, dim, dim)
        self.k = _linears(num_experts, dim, dim)
        self.v = _linears(num_experts, dim, dim)
        self.o = _linears(num_experts, dim, dim)
        self.norm = nn.LayerNorm(dim, eps=cfg.layer_norm_eps)  # shared across experts
        self.attn_dropout = nn.Dropout(cfg.dropout)
        self.out_dropout = nn.Dropout(cfg.dropout)

    @property
    def num_experts(self) -> int:
        return len(self.q)

    def _heads(self, x: torch.Tensor) -> torch.Tensor:
        batch, seq, _ = x.shape
        return x.view(batch, seq, self.num_heads, self.head_dim).transpose(1, 2)  # (batch, heads, seq, head_dim)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor, expert: int) -> torch.Tensor:
        e = expert if self.num_experts > 1 else 0
        q = self._heads(self.q[e](x))  # (batch, heads, seq, head_dim)
        k = self._heads(self.k[e](x))  # (batch, heads, seq, head_dim)
        v = self._heads(self.v[e](x))  # (batch, heads, seq, head_dim)
        if torch.onnx.is_in_onnx_export():
            # Spelled out for export: the graph stays the plain BERT attention pattern.
            scores = q @ k.transpose(-1, -2) / math.sqrt(self.head_dim)  # (batch, heads, seq, seq)
            scores = scores + additive_mask  # mask: (batch, 1, 1, seq)
            probs = self.attn_dropout(scores.softmax(dim=-1))  # (batch, heads, seq, seq)
            context = probs @ v  # (batch, heads, seq, head_dim)
        else:
            # Same math through PyTorch's fused kernels (memory-efficient attention on GPU).
            context = F.scaled_dot_product_attention(
                q, k, v, attn_mask=additive_mask.to(q.dtype), dropout_p=self.attn_dropout.p if self.training else 0.0
            )  # (batch, heads, seq, head_dim)
        context = context.transpose(1, 2).flatten(2)  # (batch, seq, dim)
        return self.norm(x + self.out_dropout(self.o[e](context)))  # (batch, seq, dim)


class FeedForward(nn.Module):
    """Intermediate dense + GELU + output dense (with residual + LayerNorm), per expert."""

    def __init__(self, cfg: EncoderConfig, num_experts: int) -> None:
        super().__init__()
        self.inter = _linears(num_experts, cfg.hidden_size, cfg.intermediate_size)
        self.out = _linears(num_experts, cfg.intermediate_size, cfg.hidden_size)
        # FFN experts own their output LayerNorm too (TASER's output_layers.e.LayerNorm).
        self.norm = nn.ModuleList(nn.LayerNorm(cfg.hidden_size, eps=cfg.layer_norm_eps) for _ in range(num_experts))
        self.dropout = nn.Dropout(cfg.dropout)

    @property
    def num_experts(self) -> int:
        return len(self.inter)

    def forward(self, x: torch.Tensor, expert: int) -> torch.Tensor:
        e = expert if self.num_experts > 1 else 0
        h = F.gelu(self.inter[e](x))  # (batch, seq, intermediate)
        return self.norm[e](x + self.dropout(self.out[e](h)))  # (batch, seq, dim)


class EncoderLayer(nn.Module):
    """One transformer layer; each sublayer is shared or expert-specific."""

    def __init__(self, cfg: EncoderConfig, attn_experts: int, ffn_experts: int) -> None:
        super().__init__()
        self.attn = SelfAttention(cfg, attn_experts)
        self.ffn = FeedForward(cfg, ffn_experts)

    def forward(self, x: torch.Tensor, additive_mask: torch.Tensor, expert: int) -> torch.Tensor:
        return self.ffn(self.attn(x, additive_mask, expert), expert)  # (batch, seq, dim)
