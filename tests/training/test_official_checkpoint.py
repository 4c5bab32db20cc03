"""Official-layout checkpoints load into TaskAwareEncoder and match an independent BERT reference."""

from __future__ import annotations

import pickle

import pytest
import torch

from scimult_desktop.errors import ModelError
from scimult_train.official import load_official_checkpoint
from tests.training import official_layout as layout

transformers = pytest.importorskip("transformers")

HEADS = layout.TINY["heads"]  # checkpoints do not record the head count


def _reference_bert(encoder_state: dict, expert: int | None, sizes=layout.TINY):
    """transformers' BertModel (eager attention) with expert `expert` folded into its MoE layers."""
    config = transformers.BertConfig(
        vocab_size=sizes["vocab"],
        hidden_size=sizes["hidden"],
        num_hidden_layers=sizes["layers"],
        num_attention_heads=sizes["heads"],
        intermediate_size=sizes["inter"],
        max_position_embeddings=sizes["positions"],
        hidden_act="gelu",
        layer_norm_eps=1e-12,
    )
    bert = transformers.BertModel._from_config(config, attn_implementation="eager").eval()
    renames = {
        "attention.self.moe_query.{e}.": "attention.self.query.",
        "attention.self.moe_key.{e}.": "attention.self.key.",
        "attention.self.moe_value.{e}.": "attention.self.value.",
        "attention.output.moe_dense.{e}.": "attention.output.dense.",
        "moe_layer.interm_layers.{e}.dense.": "intermediate.dense.",
        "moe_layer.output_layers.{e}.dense.": "output.dense.",
        "moe_layer.output_layers.{e}.LayerNorm.": "output.LayerNorm.",
    }
    dense = {}
    for key, value in encoder_state.items():
        if key == "embeddings.position_ids":
            continue
        if "moe_" in key:
            for pattern, target in renames.items():
                chosen = pattern.format(e=expert)
                if chosen in key:
                    dense[key.replace(chosen, target)] = value
                    break
            continue  # other experts' weights are dropped
        dense[key] = value
    missing, unexpected = bert.load_state_dict(dense, strict=False)
    assert not unexpected
    assert all(name.endswith(("position_ids", "token_type_ids")) for name in missing), missing
    return bert


def _batch(vocab: int, seed: int = 1):
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (3, 11), generator=gen)
    ids[:, 0] = 2  # a [CLS]-like first token
    mask = torch.ones_like(ids)
    mask[1, 7:] = 0  # padded rows must not leak into [CLS]
    mask[2, 4:] = 0
    ids[mask == 0] = 0
    return ids, mask


def _reference_cls(bert, ids, mask):
    with torch.no_grad():
        out = bert(input_ids=ids, attention_mask=mask, token_type_ids=torch.zeros_like(ids))
    return out.last_hidden_state[:, 0]


@pytest.mark.parametrize("params_as", ["dict", "omegaconf"])
def test_moe_checkpoint_matches_reference_bert_per_expert(tmp_path, monkeypatch, params_as):
    state = layout.official_encoder_state(moe_type="mod2:attn", num_expert=3)
    params = layout.encoder_params(moe_type="mod2:attn")
    betas = (0.9, 0.999)
    if params_as == "omegaconf":
        fake = layout.install_fake_omegaconf(monkeypatch)
        params = fake.DictConfig(params)
        betas = fake.ListConfig([0.9, 0.999])
    path = layout.save(layout.checkpoint_dict(state, params, betas), tmp_path / "scimult_moe.ckpt")
    if params_as == "omegaconf":
        # The loader must not need the real classes: remove the fake modules before loading.
        monkeypatch.undo()
        with pytest.raises(pickle.UnpicklingError):
            torch.load(path, weights_only=True)

    loaded = load_official_checkpoint(path, num_heads=HEADS)
    model = loaded.model
    assert loaded.encoder_params["moe_type"] == "mod2:attn"
    assert loaded.encoder_params["num_expert"] == 3
    assert model.cfg.moe_layers == (1, 3) and model.cfg.num_experts == 3
    assert model.cfg.pooling == "cls" and model.cfg.similarity == "dot"
    assert len(loaded.sha256) == 64

    ids, mask = _batch(layout.TINY["vocab"])
    outputs = []
    for expert in range(3):
        reference = _reference_cls(_reference_bert(state, expert), ids, mask)
        with torch.no_grad():
            ours = model(ids, mask, torch.zeros_like(ids), expert=expert)
        torch.testing.assert_close(ours, reference, atol=1e-5, rtol=1e-5)
        outputs.append(ours)
    # Experts differ, so routing is observable.
    assert (outputs[0] - outputs[1]).abs().max() > 1e-3
    assert (outputs[1] - outputs[2]).abs().max() > 1e-3


def test_ffn_expert_checkpoint_matches_reference(tmp_path):
    state = layout.official_encoder_state(moe_type="mod2:fwd", num_expert=3, seed=4)
    path = layout.save(layout.checkpoint_dict(state, layout.encoder_params(moe_type="mod2:fwd")), tmp_path / "ffn.ckpt")
    model = load_official_checkpoint(path, num_heads=HEADS).model
    assert model.cfg.ffn_experts and not model.cfg.attention_experts
    ids, mask = _batch(layout.TINY["vocab"], seed=3)
    for expert in range(3):
        with torch.no_grad():
            ours = model(ids, mask, expert=expert)
        torch.testing.assert_close(ours, _reference_cls(_reference_bert(state, expert), ids, mask), atol=1e-5, rtol=1e-5)


def test_vanilla_checkpoint_matches_reference_bert(tmp_path):
    state = layout.official_encoder_state(moe_type=None, seed=7)
    path = layout.save(layout.checkpoint_dict(state, layout.encoder_params(moe_type=None)), tmp_path / "scimult_vanilla.ckpt")
    model = load_official_checkpoint(path, num_heads=HEADS).model
    assert not model.cfg.is_moe and model.cfg.architecture == "bert-vanilla"
    ids, mask = _batch(layout.TINY["vocab"], seed=5)
    with torch.no_grad():
        ours = model(ids, mask)
    torch.testing.assert_close(ours, _reference_cls(_reference_bert(state, None), ids, mask), atol=1e-5, rtol=1e-5)


def test_mean_pool_flag_selects_mean_pooling_and_cosine(tmp_path):
    state = layout.official_encoder_state(moe_type=None, seed=2)
    params = layout.encoder_params(moe_type=None, mean_pool=True)
    model = load_official_checkpoint(layout.save(layout.checkpoint_dict(state, params), tmp_path / "m.ckpt"), num_heads=HEADS).model
    assert (model.cfg.pooling, model.cfg.similarity) == ("mean", "cosine")
    ids, mask = _batch(layout.TINY["vocab"], seed=6)
    with torch.no_grad():
        ours = model(ids, mask)
        hidden = _reference_bert(state, None)(input_ids=ids, attention_mask=mask).last_hidden_state
    m = mask.unsqueeze(-1).float()
    torch.testing.assert_close(ours, (hidden * m).sum(1) / m.sum(1), atol=1e-5, rtol=1e-5)


def test_ctx_prefix_alone_is_enough(tmp_path):
    state = layout.official_encoder_state(moe_type="mod2:attn", seed=9)
    data = layout.checkpoint_dict(state, layout.encoder_params(moe_type="mod2:attn"))
    data["model_dict"] = {k: v for k, v in data["model_dict"].items() if k.startswith("ctx_model.")}
    model = load_official_checkpoint(layout.save(data, tmp_path / "ctx.ckpt"), num_heads=HEADS).model
    ids, mask = _batch(layout.TINY["vocab"])
    with torch.no_grad():
        ours = model(ids, mask, expert=1)
    torch.testing.assert_close(ours, _reference_cls(_reference_bert(state, 1), ids, mask), atol=1e-5, rtol=1e-5)


def test_corrupt_file_gives_error_naming_it(tmp_path):
    path = tmp_path / "broken.ckpt"
    path.write_bytes(b"PK\x03\x04 this is not a checkpoint" * 10)
    with pytest.raises(ModelError, match="broken.ckpt"):
        load_official_checkpoint(path, num_heads=HEADS)


def test_missing_file_gives_error_naming_it(tmp_path):
    with pytest.raises(ModelError, match="nowhere.ckpt"):
        load_official_checkpoint(tmp_path / "nowhere.ckpt", num_heads=HEADS)


def test_wrong_checkpoint_kind_is_refused(tmp_path):
    path = layout.save({"state_dict": {"w": torch.zeros(2)}}, tmp_path / "other.ckpt")
    with pytest.raises(ModelError, match=r"other\.ckpt.*model_dict"):
        load_official_checkpoint(path, num_heads=HEADS)


def test_missing_weights_are_reported(tmp_path):
    state = layout.official_encoder_state(moe_type="mod2:attn")
    del state["encoder.layer.3.attention.self.moe_key.2.weight"]
    path = layout.save(layout.checkpoint_dict(state, layout.encoder_params(moe_type="mod2:attn")), tmp_path / "partial.ckpt")
    with pytest.raises(ModelError, match=r"partial\.ckpt.*missing.*layers\.3\.attn\.k\.2\.weight"):
        load_official_checkpoint(path, num_heads=HEADS)


class _Payload:
    """Pickles as a call to a global outside the allow-list."""

    def __reduce__(self):
        import os

        return (os.getcwd, ())


def test_disallowed_globals_are_refused_not_executed(tmp_path, monkeypatch):
    fake = layout.install_fake_omegaconf(monkeypatch)
    state = layout.official_encoder_state(moe_type=None)
    params = fake.DictConfig(layout.encoder_params(moe_type=None))
    data = layout.checkpoint_dict(state, params)
    data["extra"] = _Payload()
    path = layout.save(data, tmp_path / "evil.ckpt")
    monkeypatch.undo()
    with pytest.raises(ModelError, match=r"evil\.ckpt.*posix\.getcwd|evil\.ckpt.*os\.getcwd|evil\.ckpt.*nt\.getcwd"):
        load_official_checkpoint(path, num_heads=HEADS)
