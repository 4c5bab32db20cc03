"""Training building blocks: config, schedule, streaming index, loss, trainable selection, init sources."""

from __future__ import annotations

import json
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from scimult_train.config import PRESETS_DIR, TrainConfig, load_config
from scimult_train.data.examples import Example, write_examples
from scimult_train.losses import contrastive_loss, text_key
from scimult_train.optim import apply_trainable, build_optimizer, linear_schedule
from scimult_train.sampling import BatchStream, ExampleIndex, TaskSchedule

TINY_DATA = PRESETS_DIR / "tiny_examples.jsonl"


def _examples(tmp_path, counts: dict[str, int], name="data.jsonl"):
    rows = [
        Example(task, f"{task} query {i}", f"{task} positive {i}", (f"{task} negative {i}",) if i % 2 else ())
        for task, n in counts.items()
        for i in range(n)
    ]
    return write_examples(tmp_path / name, rows) and tmp_path / name


# ---- config -------------------------------------------------------------------------
def test_presets_load_and_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    for preset in ("tiny", "default-minilm", "scimult-base"):
        cfg = load_config(preset=preset)
        assert cfg.name == preset and cfg.output_dir.as_posix().endswith(f"runs/{preset}")
    cfg = load_config(preset="tiny")
    assert cfg.data == [str(TINY_DATA)]
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "run.json").write_text(json.dumps({"init": "tiny-random", "data": ["d.jsonl"], "max_steps": 3}))
    monkeypatch.chdir(tmp_path)
    cfg = load_config(tmp_path / "sub" / "run.json", overrides=["eval_data=[\"e.jsonl\"]", "lr=0.5", "trainable=experts"])
    assert cfg.data == [str(tmp_path / "sub" / "d.jsonl")]  # relative to the file
    assert cfg.eval_data == [str(tmp_path / "e.jsonl")]  # --set: relative to the current folder
    assert (cfg.lr, cfg.trainable, cfg.max_steps) == (0.5, "experts", 3)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("nonsense=1", "unknown config key"),
        ("trainable=some", "trainable"),
        ("variant=dense", "variant"),
        ("task_sampling={\"poetry\": 1}", "unknown task"),
        ("keep_checkpoints=1", "keep_checkpoints"),
    ],
)
def test_bad_config_values_name_the_key(override, message):
    with pytest.raises(ValueError, match=message):
        load_config(preset="tiny", overrides=[override])


# ---- schedule and streaming index ------------------------------------------------------
def test_index_reads_examples_by_offset_grouped_by_task(tmp_path):
    path = _examples(tmp_path, {"search": 5, "classify": 3})
    index = ExampleIndex([path])
    assert index.counts == {"search": 5, "classify": 3}
    assert index.read("classify", 2).query == "classify query 2"
    assert index.read("search", 1).negatives == ("search negative 1",)
    index.close()


def test_index_names_file_and_line_of_a_bad_record(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"task": "search", "query": "q", "positive": "p"}\n{"task": "search", "query": ""}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        ExampleIndex([path])


def test_proportional_schedule_is_single_task_and_covers_each_example_once_per_epoch():
    schedule = TaskSchedule({"search": 40, "link": 20, "classify": 8}, global_batch=4, sampling="proportional", seed=3)
    assert schedule.batches_per_epoch == {"search": 10, "link": 5, "classify": 2}
    seen: dict[str, list[int]] = {}
    for position in range(schedule.steps_per_epoch):
        epoch, task, indices = schedule.locate(position)
        assert epoch == 0 and len(indices) == 4
        seen.setdefault(task, []).extend(indices.tolist())
    assert sorted(seen["search"]) == list(range(40))
    assert sorted(seen["classify"]) == list(range(8))
    order = [schedule.locate(p)[1] for p in range(schedule.steps_per_epoch)]
    next_order = [schedule.locate(p)[1] for p in range(schedule.steps_per_epoch, 2 * schedule.steps_per_epoch)]
    assert order != next_order and Counter(order) == Counter(next_order)  # reshuffled each epoch


def test_task_rates_scale_batches_and_zero_drops_a_task():
    schedule = TaskSchedule({"search": 40, "link": 20, "classify": 8}, 4, {"search": 0.5, "link": 2, "classify": 0}, seed=0)
    assert schedule.batches_per_epoch == {"search": 5, "link": 10}
    link_indices = [i for p in range(schedule.steps_per_epoch) if schedule.locate(p)[1] == "link" for i in schedule.locate(p)[2]]
    assert Counter(Counter(link_indices).values()) == {2: 20}  # oversampled: every example twice


def test_ranks_share_the_task_and_split_the_global_batch(tmp_path):
    index = ExampleIndex([_examples(tmp_path, {"search": 16, "link": 16})])
    schedule = TaskSchedule(index.counts, global_batch=4, sampling="proportional", seed=1)
    whole = BatchStream(index, schedule, rank=0, world_size=1)
    halves = [BatchStream(index, schedule, rank=r, world_size=2) for r in range(2)]
    for position in range(6):
        full = whole.batch(position)
        parts = [h.batch(position) for h in halves]
        assert {p.task for p in parts} == {full.task}
        assert parts[0].examples + parts[1].examples == full.examples


# ---- loss ----------------------------------------------------------------------------
def test_loss_equals_a_direct_softmax_over_positives_and_hard_negatives():
    torch.manual_seed(0)
    q, c = torch.randn(3, 8), torch.randn(6, 8)  # 3 positives + 1 hard negative each
    valid = torch.tensor([True, True, True, True, False, True])  # query 1 has no hard negative
    loss, _ = contrastive_loss(q, c, valid, temperature=0.5, similarity="dot", gather=False)
    scores = q @ c.T / 0.5
    scores[:, 4] = float("-inf")
    expected = torch.stack([-(scores[i].log_softmax(0)[i]) for i in range(3)]).mean()
    assert torch.allclose(loss, expected, atol=1e-6)
    cos_loss, _ = contrastive_loss(q, c, valid, temperature=0.5, similarity="cosine", gather=False)
    scores = F.normalize(q, dim=1) @ F.normalize(c, dim=1).T / 0.5
    scores[:, 4] = float("-inf")
    expected = torch.stack([-(scores[i].log_softmax(0)[i]) for i in range(3)]).mean()
    assert torch.allclose(cos_loss, expected, atol=1e-6)


def test_false_negatives_with_the_same_positive_are_masked():
    torch.manual_seed(1)
    q, c = torch.randn(3, 8), torch.randn(3, 8)
    valid = torch.ones(3, dtype=torch.bool)
    label = text_key("biology [SEP] living things")
    keys = torch.tensor([[0, label], [0, label], [0, text_key("physics")]])  # queries 0 and 1 share their label
    masked, _ = contrastive_loss(q, c, valid, temperature=1.0, similarity="dot", gather=False, keys=keys)
    scores = q @ c.T
    scores[0, 1] = scores[1, 0] = float("-inf")
    expected = torch.stack([-(scores[i].log_softmax(0)[i]) for i in range(3)]).mean()
    assert torch.allclose(masked, expected, atol=1e-6)
    ids = torch.tensor([[text_key("id:L1"), 1], [text_key("id:L1"), 2], [0, 3]])  # same positive_id, other texts
    by_id, _ = contrastive_loss(q, c, valid, temperature=1.0, similarity="dot", gather=False, keys=ids)
    assert torch.allclose(by_id, expected, atol=1e-6)


# ---- trainable selection and optimiser ----------------------------------------------------
def test_trainable_experts_and_top_layers(tmp_path):
    from scimult_train.init_model import load_init

    model = load_init(TrainConfig(init="tiny-random", data=[str(TINY_DATA)], max_length=64)).model
    trainable, total = apply_trainable(model, "experts")
    names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert names and all(n.startswith(("layers.1.attn.", "layers.3.attn.")) and ".norm" not in n for n in names)
    assert trainable < total
    apply_trainable(model, "experts+top:1")
    names_top = {n for n, p in model.named_parameters() if p.requires_grad}
    assert names < names_top and any(n.startswith("layers.3.ffn.") for n in names_top)
    assert not any(n.startswith(("embeddings.", "layers.0.ffn")) for n in names_top)
    with pytest.raises(ValueError, match="experts"):
        TrainConfig(init="tiny-random", variant="vanilla", trainable="experts")


def test_layer_decay_and_schedule():
    from scimult_train.init_model import load_init

    model = load_init(TrainConfig(init="tiny-random", max_length=64)).model
    apply_trainable(model, "all")
    optimizer = build_optimizer(model, lr=1.0, weight_decay=0.01, betas=(0.9, 0.999), eps=1e-8, layer_decay=0.5)
    by_param = {id(p): g for g in optimizer.param_groups for p in g["params"]}
    named = dict(model.named_parameters())
    assert by_param[id(named["embeddings.word.weight"])]["lr"] == pytest.approx(0.5**6)  # 4 layers: depth 0 of 6
    assert by_param[id(named["layers.3.ffn.inter.0.weight"])]["lr"] == pytest.approx(0.5**2)
    assert by_param[id(named["layers.3.ffn.inter.0.bias"])]["weight_decay"] == 0.0
    assert by_param[id(named["layers.3.ffn.inter.0.weight"])]["weight_decay"] == 0.01
    scheduler = linear_schedule(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0), warmup_steps=2, total_steps=6)
    factors = []
    for _ in range(6):
        factors.append(scheduler.get_last_lr()[0])
        scheduler.optimizer.step()
        scheduler.step()
    assert factors == pytest.approx([0.5, 1.0, 1.0, 0.75, 0.5, 0.25])


# ---- init sources ---------------------------------------------------------------------------
def test_hf_folder_is_upcycled_into_equal_experts(tmp_path):
    """A dense HF BERT folder (written here with transformers) becomes an MoE model with identical experts."""
    transformers = pytest.importorskip("transformers")
    from scimult_train.init_model import load_init
    from scimult_train.testing import write_tiny_vocab

    (tmp_path / "hf").mkdir()
    vocab = write_tiny_vocab(tmp_path / "hf" / "vocab.txt")
    n_vocab = len(vocab.read_text().splitlines())
    hf_cfg = transformers.BertConfig(vocab_size=n_vocab, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                     intermediate_size=64, max_position_embeddings=64)
    torch.manual_seed(0)
    transformers.BertModel(hf_cfg).save_pretrained(tmp_path / "hf")
    cfg = TrainConfig(init=str(tmp_path / "hf"), data=[str(TINY_DATA)], max_length=32)
    init = load_init(cfg)
    model = init.model
    assert model.cfg.moe_layers == (1,) and (model.cfg.pooling, model.cfg.similarity) == ("cls", "dot")
    assert model.expert_fingerprint(0) == model.expert_fingerprint(2)
    ids = torch.tensor([[2, 30, 31, 3]])
    reference = transformers.BertModel.from_pretrained(tmp_path / "hf").eval()(input_ids=ids).last_hidden_state[:, 0]
    with torch.no_grad():
        ours = model.eval()(ids, torch.ones_like(ids), None, 1)
    assert torch.allclose(ours, reference, atol=1e-5)


def test_vanilla_bundle_is_upcycled_and_moe_bundle_must_match(tmp_path):
    from scimult_desktop.errors import ModelError
    from scimult_train.export_onnx import export_bundle
    from scimult_train.init_model import load_init
    from scimult_train.model.tokenizer import wordpiece_from_vocab
    from scimult_train.testing import tiny_config, tiny_model, write_tiny_vocab

    tok = wordpiece_from_vocab(write_tiny_vocab(tmp_path / "vocab.txt"))
    tok.save(str(tmp_path / "tok.json"))
    dense = tiny_model(tiny_config(tok.get_vocab_size(), moe_type=None, num_experts=1))
    export_bundle(dense, tmp_path / "tok.json", tmp_path / "vanilla", "v", {"licence": "test"}, 32, check_parity=False)
    model = load_init(TrainConfig(init=str(tmp_path / "vanilla"), max_length=32)).model
    assert model.cfg.is_moe and model.expert_fingerprint(1) == dense.expert_fingerprint(None)
    moe = tiny_model(tiny_config(tok.get_vocab_size()))
    export_bundle(moe, tmp_path / "tok.json", tmp_path / "moe", "m", {"licence": "test"}, 32, check_parity=False)
    with pytest.raises(ModelError, match="experts"):
        load_init(TrainConfig(init=str(tmp_path / "moe"), variant="vanilla", max_length=32))
    loaded = load_init(TrainConfig(init=str(tmp_path / "moe"), max_length=32)).model
    assert loaded.expert_fingerprint(2) == moe.expert_fingerprint(2)


def test_index_cache_is_reused_until_a_file_changes(tmp_path, monkeypatch):
    path = _examples(tmp_path, {"search": 5, "link": 4})
    first = ExampleIndex([path], cache_dir=tmp_path / "cache")
    assert len(list((tmp_path / "cache").glob("index-*.npz"))) == 1
    monkeypatch.setattr(ExampleIndex, "_scan", lambda self: pytest.fail("scanned again"))
    cached = ExampleIndex([path], cache_dir=tmp_path / "cache")
    assert cached.counts == first.counts == {"search": 5, "link": 4}
    assert cached.read("link", 3) == first.read("link", 3)
    monkeypatch.undo()
    _examples(tmp_path, {"search": 6})  # rewritten: new size and time, new cache entry
    assert ExampleIndex([path], cache_dir=tmp_path / "cache").counts == {"search": 6}


def test_expert_matrix_is_flat_for_identical_experts_and_not_for_distinct_ones(tmp_path):
    from scimult_train.evaluate import expert_matrix
    from scimult_train.model.tokenizer import wordpiece_from_vocab
    from scimult_train.testing import tiny_config, tiny_model, write_tiny_vocab

    tok = wordpiece_from_vocab(write_tiny_vocab(tmp_path / "vocab.txt"))
    words = ["graph", "neural", "retrieval", "language", "model", "citation", "query", "science", "study", "task"]
    examples = {
        task: [Example(task, f"{words[i]} {words[(i + k) % 10]} {task}", f"{words[(i * 3 + k) % 10]} paper {i} {k}")
               for i in range(8)]
        for k, task in enumerate(("search", "link", "classify"))
    }
    same = expert_matrix(tiny_model(tiny_config(tok.get_vocab_size()), distinct_experts=False), tok, examples)
    assert set(same) == {"search", "link", "classify"}
    for row in same.values():
        assert set(row) == {"search", "link", "classify"} and len(set(row.values())) == 1
    distinct = expert_matrix(tiny_model(tiny_config(tok.get_vocab_size())), tok, examples)
    assert any(len(set(row.values())) > 1 for row in distinct.values())


def test_hybrid_check_reports_bm25_dense_and_fused_rankings(tmp_path):
    from scimult_train.evaluate import hybrid_check
    from scimult_train.model.tokenizer import wordpiece_from_vocab
    from scimult_train.testing import tiny_config, tiny_model, write_tiny_vocab

    tok = wordpiece_from_vocab(write_tiny_vocab(tmp_path / "vocab.txt"))
    words = ["graph", "neural", "retrieval", "language", "model", "citation", "query", "science", "study", "task"]
    items = [Example("link", f"{words[i]} {words[(i + 3) % 10]}", f"{words[i]} {words[(i + 3) % 10]} paper {i}") for i in range(10)]
    result = hybrid_check(tiny_model(tiny_config(tok.get_vocab_size())), tok, {"link": items})
    assert set(result["link"]) == {"bm25", "dense", "hybrid"}
    # Every query shares its two words with its own positive only: BM25 ranks it first.
    assert result["link"]["bm25"] == {"recall@10": 1.0, "mrr": 1.0}
    for metrics in result["link"].values():
        assert 0.0 <= metrics["mrr"] <= 1.0 and 0.0 <= metrics["recall@10"] <= 1.0
