"""Write checkpoints with exactly the official SciMult (DPR CheckpointState) layout, tiny and random.

Only tests use this. Key names follow spec §2.3: every tensor under both
`question_model.encoder.` and `ctx_model.encoder.` (the same tensor objects, as a shared
encoder saves them), `embeddings.position_ids` present, pooler present, a populated
AdamW-style optimizer_dict and a scheduler_dict.
"""

from __future__ import annotations

import sys
import types
import typing
from pathlib import Path

import torch

PREFIXES = ("question_model.encoder.", "ctx_model.encoder.")
TINY = dict(vocab=120, hidden=64, layers=4, heads=4, inter=128, positions=64)


def _linear(gen: torch.Generator, fan_out: int, fan_in: int, scale: float = 0.15) -> dict[str, torch.Tensor]:
    return {
        "weight": torch.randn(fan_out, fan_in, generator=gen) * scale,
        "bias": torch.randn(fan_out, generator=gen) * 0.05,
    }


def _norm(gen: torch.Generator, dim: int) -> dict[str, torch.Tensor]:
    return {"weight": 1.0 + 0.1 * torch.randn(dim, generator=gen), "bias": 0.1 * torch.randn(dim, generator=gen)}


def official_encoder_state(*, moe_type: str | None, num_expert: int = 3, seed: int = 0, sizes: dict = TINY) -> dict:
    """An encoder state dict named like TASER's MoEBertModel / HF BertModel (no outer prefix)."""
    gen = torch.Generator().manual_seed(seed)
    h, inter = sizes["hidden"], sizes["inter"]
    state: dict[str, torch.Tensor] = {
        "embeddings.word_embeddings.weight": torch.randn(sizes["vocab"], h, generator=gen) * 0.3,
        "embeddings.position_embeddings.weight": torch.randn(sizes["positions"], h, generator=gen) * 0.3,
        "embeddings.token_type_embeddings.weight": torch.randn(2, h, generator=gen) * 0.3,
        "embeddings.position_ids": torch.arange(sizes["positions"]).unsqueeze(0),
    }
    state.update({f"embeddings.LayerNorm.{k}": v for k, v in _norm(gen, h).items()})
    step = {"mod2": 2, "mod3": 3, "mod4": 4}[moe_type.split(":")[0]] if moe_type else None
    attn = bool(moe_type) and "attn" in moe_type
    fwd = bool(moe_type) and "fwd" in moe_type
    for layer in range(sizes["layers"]):
        p = f"encoder.layer.{layer}."
        moe = step is not None and (layer + 1) % step == 0
        if moe and attn:
            for e in range(num_expert):
                for name, key in (("query", "self.moe_query"), ("key", "self.moe_key"), ("value", "self.moe_value"), ("dense", "output.moe_dense")):
                    state.update({f"{p}attention.{key}.{e}.{k}": v for k, v in _linear(gen, h, h).items()})
        else:
            for key in ("self.query", "self.key", "self.value", "output.dense"):
                state.update({f"{p}attention.{key}.{k}": v for k, v in _linear(gen, h, h).items()})
        state.update({f"{p}attention.output.LayerNorm.{k}": v for k, v in _norm(gen, h).items()})
        if moe and fwd:
            for e in range(num_expert):
                state.update({f"{p}moe_layer.interm_layers.{e}.dense.{k}": v for k, v in _linear(gen, inter, h).items()})
                state.update({f"{p}moe_layer.output_layers.{e}.dense.{k}": v for k, v in _linear(gen, h, inter).items()})
                state.update({f"{p}moe_layer.output_layers.{e}.LayerNorm.{k}": v for k, v in _norm(gen, h).items()})
        else:
            state.update({f"{p}intermediate.dense.{k}": v for k, v in _linear(gen, inter, h).items()})
            state.update({f"{p}output.dense.{k}": v for k, v in _linear(gen, h, inter).items()})
            state.update({f"{p}output.LayerNorm.{k}": v for k, v in _norm(gen, h).items()})
    state.update({f"pooler.dense.{k}": v for k, v in _linear(gen, h, h).items()})
    return state


def checkpoint_dict(encoder_state: dict, encoder_params, betas=(0.9, 0.999)) -> dict:
    """The full DPR CheckpointState dict around an encoder state."""
    model_dict = {prefix + k: v for prefix in PREFIXES for k, v in encoder_state.items()}
    params = [k for k in encoder_state if k != "embeddings.position_ids" and not k.startswith("pooler.")]
    optimizer_state = {
        i: {"step": torch.tensor(100.0), "exp_avg": torch.zeros_like(encoder_state[k]), "exp_avg_sq": torch.ones_like(encoder_state[k]) * 1e-6}
        for i, k in enumerate(params)
    }
    param_groups = [
        {"lr": 2e-5, "betas": betas, "eps": 1e-8, "weight_decay": 0.0, "lr_adapt_weight": 0.8 ** (14 - i % 15), "params": [i]}
        for i in range(len(params))
    ]
    return {
        "model_dict": model_dict,
        "optimizer_dict": {"state": optimizer_state, "param_groups": param_groups},
        "scheduler_dict": {"base_lrs": [2e-5] * len(params), "last_epoch": 1234, "_step_count": 1235, "lr_lambdas": [None] * len(params)},
        "offset": 0,
        "epoch": 3,
        "encoder_params": encoder_params,
    }


def encoder_params(*, moe_type: str | None, num_expert: int = 3, mean_pool: bool = False) -> dict:
    """A flat `encoder_params` mapping as the released checkpoints hold it (spec §2.2)."""
    return {
        "encoder_model_type": "hf_any",
        "pretrained_model_cfg": "microsoft/BiomedNLP-PubMedBERT-base-uncased-abstract",
        "pretrained_file": None,
        "projection_dim": 0,
        "sequence_length": 256,
        "dropout": 0.1,
        "shared_encoder": True,
        "use_moe": bool(moe_type),
        "num_expert": num_expert if moe_type else 1,
        "moe_type": moe_type,
        "use_infer_expert": False,
        "per_layer_gating": False,
        "mean_pool": mean_pool,
        "q_rep_method": "start_end_sum",
    }


def install_fake_omegaconf(monkeypatch) -> types.SimpleNamespace:
    """Fake `omegaconf.*` modules whose classes pickle like OmegaConf's (NEWOBJ + dict state)."""

    class ContainerMetadata:
        def __init__(self, **kw):
            self.__dict__.update(kw)

    class AnyNode:
        def __init__(self, value, parent=None):
            self._val = value
            self._parent = parent
            self._metadata = ContainerMetadata(ref_type=typing.Any, object_type=None, optional=True, key=None)

    class DictConfig:
        def __init__(self, content: dict):
            self._metadata = ContainerMetadata(ref_type=typing.Any, object_type=dict, key_type=typing.Any, element_type=typing.Any, optional=True, flags={})
            self._parent = None
            self._content = {k: AnyNode(v, self) for k, v in content.items()}

    class ListConfig:
        def __init__(self, items):
            self._metadata = ContainerMetadata(ref_type=typing.Any, object_type=list, element_type=typing.Any, optional=True)
            self._parent = None
            self._content = [AnyNode(v, self) for v in items]

    modules = {}
    for mod_name, classes in {
        "omegaconf": {},
        "omegaconf.base": {"ContainerMetadata": ContainerMetadata},
        "omegaconf.nodes": {"AnyNode": AnyNode},
        "omegaconf.dictconfig": {"DictConfig": DictConfig},
        "omegaconf.listconfig": {"ListConfig": ListConfig},
    }.items():
        module = types.ModuleType(mod_name)
        for cls_name, cls in classes.items():
            cls.__module__ = mod_name
            cls.__qualname__ = cls_name
            setattr(module, cls_name, cls)
        modules[mod_name] = module
        monkeypatch.setitem(sys.modules, mod_name, module)
    return types.SimpleNamespace(DictConfig=DictConfig, ListConfig=ListConfig)


def save(data: dict, path: Path) -> Path:
    torch.save(data, path)
    return path
