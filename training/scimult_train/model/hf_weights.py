"""Map HF-BERT-named weights (plain BERT, TASER MoE names, HF MPNet) onto TaskAwareEncoder.

Handles three sources with one rule set:
- plain BERT keys (`encoder.layer.L.attention.self.query.weight`, ...): in a layer that
  has experts they initialise every expert ("upcycling", as TASER's
  `init_moe_from_pretrained_mapping` does);
- TASER attention experts (`attention.self.moe_query.e`, `attention.output.moe_dense.e`);
- TASER FFN experts (`moe_layer.interm_layers.e.dense`, `moe_layer.output_layers.e.{dense,LayerNorm}`).
- HF `MPNetModel` keys (`attention.attn.{q,k,v,o}`, `attention.LayerNorm`, the shared
  `encoder.relative_attention_bias`); its attention upcycles like BERT's.
Keys the encoder never uses (pooler, gates, projection and span heads, position_ids) are
ignored; any weight the encoder needs but the source lacks is an error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import torch

from scimult_desktop.errors import ModelError
from scimult_train.model.encoder import TaskAwareEncoder

_EMBEDDINGS = {
    "embeddings.word_embeddings": "embeddings.word",
    "embeddings.position_embeddings": "embeddings.position",
    "embeddings.token_type_embeddings": "embeddings.token_type",
    "embeddings.LayerNorm": "embeddings.norm",
}
# (pattern on the part after "encoder.layer.L.", target module, expert group or None)
_LAYER_RULES = [
    (r"attention\.self\.query", "attn.q", None),
    (r"attention\.self\.key", "attn.k", None),
    (r"attention\.self\.value", "attn.v", None),
    (r"attention\.output\.dense", "attn.o", None),
    (r"attention\.self\.moe_query\.(\d+)", "attn.q", 1),
    (r"attention\.self\.moe_key\.(\d+)", "attn.k", 1),
    (r"attention\.self\.moe_value\.(\d+)", "attn.v", 1),
    (r"attention\.output\.moe_dense\.(\d+)", "attn.o", 1),
    (r"attention\.output\.LayerNorm", "attn.norm", "shared"),
    (r"attention\.attn\.q", "attn.q", None),  # MPNet
    (r"attention\.attn\.k", "attn.k", None),
    (r"attention\.attn\.v", "attn.v", None),
    (r"attention\.attn\.o", "attn.o", None),
    (r"attention\.LayerNorm", "attn.norm", "shared"),
    (r"intermediate\.dense", "ffn.inter", None),
    (r"output\.dense", "ffn.out", None),
    (r"output\.LayerNorm", "ffn.norm", None),
    (r"moe_layer\.interm_layers\.(\d+)\.dense", "ffn.inter", 1),
    (r"moe_layer\.output_layers\.(\d+)\.dense", "ffn.out", 1),
    (r"moe_layer\.output_layers\.(\d+)\.LayerNorm", "ffn.norm", 1),
]
_TOP_LEVEL = {"encoder.relative_attention_bias.weight": "relative_attention_bias.table.weight"}  # MPNet
_IGNORED = re.compile(r"^(pooler\.|embeddings\.position_ids$|encoder\.expert_gate|.*encode_proj\.)")


def _expert_width(model: TaskAwareEncoder, layer: int, target: str) -> int:
    sub, proj = target.split(".")
    return len(getattr(getattr(model.layers[layer], sub), proj))


def map_bert_state(model: TaskAwareEncoder, source: Mapping[str, torch.Tensor], where: str) -> dict[str, torch.Tensor]:
    """Translate HF-BERT/TASER keys (already stripped of any outer prefix) to the model's keys.

    Args:
        model: the encoder to fill (its config decides which layers have experts).
        source: tensors named like HF `BertModel` / TASER `MoEBertModel` state dicts.
        where: file name for error messages.

    Returns:
        A complete state dict for `model`.

    Raises:
        ModelError: a key that cannot be placed, a shape mismatch, or missing weights.
    """
    target = model.state_dict()
    out: dict[str, torch.Tensor] = {}
    explicit: set[str] = set()  # expert-specific keys seen, which win over upcycled shared ones
    for key, tensor in source.items():
        if _IGNORED.match(key):
            continue
        if key in _TOP_LEVEL:
            if _TOP_LEVEL[key] not in target:
                raise ModelError(f"{where}: unexpected weight {key!r} for this architecture")
            out[_TOP_LEVEL[key]] = tensor
            continue
        for src, dst in _EMBEDDINGS.items():
            if key.startswith(src + "."):
                out[dst + key[len(src) :]] = tensor
                break
        else:
            match = re.match(r"encoder\.layer\.(\d+)\.(.+)\.(weight|bias)$", key)
            if not match:
                raise ModelError(f"{where}: unexpected weight {key!r} for this architecture")
            layer, rest, kind = int(match.group(1)), match.group(2), match.group(3)
            if layer >= len(model.layers):
                raise ModelError(f"{where}: weight {key!r} is beyond the model's {len(model.layers)} layers")
            for pattern, dst, group in _LAYER_RULES:
                sub = re.fullmatch(pattern, rest)
                if not sub:
                    continue
                if group == "shared":
                    out[f"layers.{layer}.{dst}.{kind}"] = tensor
                    break
                width = _expert_width(model, layer, dst)
                if group is None:
                    # A shared weight: fills expert 0, or every expert when upcycling.
                    for e in range(width):
                        name = f"layers.{layer}.{dst}.{e}.{kind}"
                        if name not in explicit:
                            out[name] = tensor
                else:
                    e = int(sub.group(1))
                    if e >= width:
                        raise ModelError(
                            f"{where}: {key!r} is expert {e}, but layer {layer} of this model has {width} expert(s)"
                        )
                    name = f"layers.{layer}.{dst}.{e}.{kind}"
                    out[name] = tensor
                    explicit.add(name)
                break
            else:
                raise ModelError(f"{where}: unexpected weight {key!r} for this architecture")
    missing = sorted(set(target) - set(out))
    if missing:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ModelError(f"{where}: {len(missing)} weight(s) missing for this architecture: {shown}")
    for name, tensor in out.items():
        if tuple(tensor.shape) != tuple(target[name].shape):
            raise ModelError(
                f"{where}: weight {name} has shape {tuple(tensor.shape)}, expected {tuple(target[name].shape)}"
            )
    return {name: tensor.detach().to(target[name].dtype).clone() for name, tensor in out.items()}


def load_bert_state(model: TaskAwareEncoder, source: Mapping[str, torch.Tensor], where: str) -> TaskAwareEncoder:
    """Fill `model` in place from HF-BERT/TASER-named tensors (see `map_bert_state`)."""
    model.load_state_dict(map_bert_state(model, source, where), strict=True)
    return model
