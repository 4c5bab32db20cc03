"""TaskAwareEncoder: layer rules, routing, folding, pooling, instruction variant, config JSON."""

from __future__ import annotations

import pytest
import torch

from scimult_desktop.domain.tasks import Task
from scimult_train.model.config import UNVERIFIED_INSTRUCTIONS, EncoderConfig, moe_layer_indices
from scimult_train.model.encoder import TaskAwareEncoder
from scimult_train.model.tokenizer import wordpiece_from_vocab
from scimult_train.testing import tiny_config, tiny_model, write_tiny_vocab


@pytest.mark.parametrize(
    ("rule", "layers"),
    [
        ("mod2", (1, 3, 5, 7, 9, 11)),
        ("mod3", (2, 5, 8, 11)),
        ("mod4", (3, 7, 11)),
        ("mod6", (5, 11)),
        ("mod12", (11,)),
        ("ge6mod3", (5, 8, 11)),
        ("le7mod3", (0, 3, 6)),
    ],
)
def test_layer_rules_match_reference(rule, layers):
    assert moe_layer_indices(f"{rule}:attn", 12) == layers


def test_mod2_on_six_layers_gives_1_3_5():
    assert moe_layer_indices("mod2:attn", 6) == (1, 3, 5)


def test_bad_configs_are_rejected():
    with pytest.raises(ValueError, match="layer rule"):
        EncoderConfig(moe_type="mod5:attn", num_experts=3)
    with pytest.raises(ValueError, match="neither"):
        EncoderConfig(moe_type="mod2", num_experts=3)
    with pytest.raises(ValueError, match="pooling"):
        EncoderConfig(pooling="max")


def test_expert_parameters_exist_only_in_moe_layers():
    model = TaskAwareEncoder(tiny_config(50, moe_type="mod2:attn:fwd"))
    widths = [(len(layer.attn.q), len(layer.attn.o), len(layer.ffn.inter), len(layer.ffn.norm)) for layer in model.layers]
    assert widths == [(1, 1, 1, 1), (3, 3, 3, 3), (1, 1, 1, 1), (3, 3, 3, 3)]


def _ids(vocab: int = 60):
    gen = torch.Generator().manual_seed(0)
    ids = torch.randint(5, vocab, (3, 9), generator=gen)
    mask = torch.ones_like(ids)
    mask[0, 5:] = 0
    return ids, mask


@pytest.mark.parametrize("moe_type", ["mod2:attn", "mod2:fwd", "mod3:attn:fwd"])
def test_fold_expert_reproduces_moe_forward(moe_type):
    model = tiny_model(tiny_config(60, moe_type=moe_type))
    ids, mask = _ids()
    with torch.no_grad():
        outputs = [model(ids, mask, expert=e) for e in range(3)]
        for e in range(3):
            dense = model.fold_expert(e)
            assert not dense.cfg.is_moe
            torch.testing.assert_close(dense(ids, mask), outputs[e], atol=1e-6, rtol=1e-6)
    assert (outputs[0] - outputs[2]).abs().max() > 1e-3


def test_identical_experts_share_a_fingerprint():
    same = tiny_model(tiny_config(60), distinct_experts=False)
    distinct = tiny_model(tiny_config(60), distinct_experts=True)
    assert len({same.expert_fingerprint(e) for e in range(3)}) == 1
    assert len({distinct.expert_fingerprint(e) for e in range(3)}) == 3


def test_moe_forward_requires_an_expert():
    model = tiny_model(tiny_config(60))
    ids, mask = _ids()
    with pytest.raises(ValueError, match="expert"):
        model(ids, mask)
    with pytest.raises(ValueError, match="out of range"):
        model(ids, mask, expert=3)


def test_mean_pooling_ignores_padding():
    model = tiny_model(tiny_config(60, pooling="mean"))
    ids, mask = _ids()
    padded_ids = torch.cat([ids, torch.zeros(3, 6, dtype=torch.long)], dim=1)
    padded_mask = torch.cat([mask, torch.zeros(3, 6, dtype=torch.long)], dim=1)
    with torch.no_grad():
        torch.testing.assert_close(model(ids, mask, expert=1), model(padded_ids, padded_mask, expert=1), atol=1e-5, rtol=1e-5)


def test_encode_routes_by_task_and_normalises_for_cosine(tmp_path):
    tokenizer = wordpiece_from_vocab(write_tiny_vocab(tmp_path / "vocab.txt"))
    cfg = tiny_config(tokenizer.get_vocab_size(), pooling="mean", similarity="cosine")
    model = tiny_model(cfg)
    model.tokenizer = tokenizer
    texts = ["deep learning for citation graphs [SEP] we study networks", "protein"]
    search = model.encode(texts, Task.SEARCH)
    classify = model.encode(texts, "classification")
    assert search.shape == (2, 64) and search.dtype.name == "float32"
    assert abs(float((search**2).sum(axis=1)[0]) - 1.0) < 1e-5
    assert abs(search - classify).max() > 1e-3
    # A batch of one gives the same vector as inside a padded batch.
    alone = model.encode(texts[1:], Task.SEARCH)
    assert abs(alone[0] - search[1]).max() < 1e-5


def test_instruction_variant_prefixes_texts(tmp_path):
    tokenizer = wordpiece_from_vocab(write_tiny_vocab(tmp_path / "vocab.txt"))
    instructions = {task: text + " " for task, text in UNVERIFIED_INSTRUCTIONS.items()}
    cfg = tiny_config(tokenizer.get_vocab_size(), moe_type=None, num_experts=1, instructions=instructions)
    model = tiny_model(cfg)
    model.tokenizer = tokenizer
    assert model.prepare_texts(["x"], Task.LINK) == [instructions["link"] + "x"]
    assert model.expert_for(Task.LINK) is None
    search, link = model.encode(["a paper"], Task.SEARCH), model.encode(["a paper"], Task.LINK)
    assert abs(search - link).max() > 1e-4


def test_config_json_round_trip(tmp_path):
    cfg = tiny_config(60, moe_type="mod3:fwd", pooling="mean", similarity="cosine")
    assert EncoderConfig.load(cfg.save(tmp_path / "config.json")) == cfg
    assert cfg.architecture == "bert-moe-ffn"


def test_wordpiece_tokenizer_keeps_literal_sep_and_lowercases(tmp_path):
    tokenizer = wordpiece_from_vocab(write_tiny_vocab(tmp_path / "vocab.txt"), max_length=12)
    enc = tokenizer.encode("Deep Learning [SEP] Protein Études")
    assert enc.tokens[0] == "[CLS]" and enc.tokens[-1] == "[SEP]"
    assert enc.tokens.count("[SEP]") == 2  # the literal separator stays one special token
    assert "deep" in enc.tokens and "e" in enc.tokens  # lowercased, accent stripped
    assert set(enc.type_ids) == {0}
    long = tokenizer.encode("word " * 50)
    assert len(long.ids) == 12 and long.tokens[-1] == "[SEP]"
