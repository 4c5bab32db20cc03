"""The training loop end to end on CPU: outputs, learning, exact resume, crash-safe checkpoints, DDP, CLI.

Runs the `tiny` preset (random 4-layer model, made-up examples) or tiny models on real
SciFact pairs; every run takes seconds. The DDP test starts two gloo processes with torchrun.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from scimult_train import train as train_module
from scimult_train.checkpoint import latest_checkpoint, load_checkpoint, save_checkpoint
from scimult_train.config import load_config
from scimult_train.train import EXIT_INTERRUPTED, run

PROJECT_ROOT = Path(__file__).resolve().parents[2]
QUIET = {"eval_data": [], "export_bundle": False, "save_every": 0, "log_every": 1}


def tiny(tmp_path: Path, name: str, **overrides):
    # CPU even where a GPU exists: these tests compare runs bit for bit (CUDA kernels need not be deterministic).
    values = {"out_dir": str(tmp_path / name), "device": "cpu", **overrides}
    return load_config(preset="tiny", overrides=[f"{k}={json.dumps(v)}" for k, v in values.items()])


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "metrics.jsonl").read_text().splitlines()]


def losses(out: Path) -> dict[int, float]:
    return {r["step"]: r["loss"] for r in records(out) if "loss" in r}


def final_state(out: Path) -> dict:
    return load_checkpoint(latest_checkpoint(out / "checkpoints"))[0]["model"]


def _env() -> dict:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("RANK", None)
    env.pop("WORLD_SIZE", None)
    return env


# ---- the contract outputs ----------------------------------------------------------------------
def test_tiny_run_writes_metrics_plot_checkpoints_and_an_installable_bundle(tmp_path):
    import onnxruntime as ort

    from scimult_desktop.embedding.bundle import GRAPH_INPUTS, GRAPH_OUTPUT, read_manifest
    from scimult_desktop.services.models import bundles as models
    from scimult_train.model.encoder import tokenize_batch
    from scimult_train.model.tokenizer import load_tokenizer
    from scimult_train.model.torch_weights import load_torch_weights

    cfg = tiny(tmp_path, "run", max_steps=12, eval_every=6, save_every=6)
    assert run(cfg) == 0
    out = tmp_path / "run"
    lines = records(out)
    steps = [r for r in lines if "loss" in r]
    assert [r["step"] for r in steps] == [4, 8, 12]
    for key in ("step", "task", "loss", "lr", "samples_per_s", "elapsed_s", "eta_s"):
        assert all(key in r for r in steps)
    assert steps[-1]["eta_s"] == 0
    assert [r["step"] for r in lines if "eval" in r] == [0, 6, 12]
    assert set(lines[0]["eval"]) == {"search", "link", "classify"}
    assert (out / "loss.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads((out / "config.json").read_text())["max_steps"] == 12
    assert sorted(p.name for p in (out / "checkpoints").glob("step_*")) == ["step_000006", "step_000012"]

    # The bundle's torch weights are the trained weights, and its ONNX graphs match them per task.
    bundle = out / "bundle"
    manifest = read_manifest(bundle)
    model = load_torch_weights(bundle).eval()
    trained = final_state(out)
    assert all(torch.equal(model.state_dict()[k], trained[k]) for k in trained)
    texts = ["graph neural networks for citation [SEP] we learn from citations", "protein structure"]
    batch = tokenize_batch(load_tokenizer(bundle / "tokenizer.json"), texts, manifest.max_length)
    for task, graph in manifest.tasks.items():
        session = ort.InferenceSession(str(bundle / graph.graph), providers=["CPUExecutionProvider"])
        onnx_out = session.run([GRAPH_OUTPUT], {k: batch[k].numpy() for k in GRAPH_INPUTS})[0]
        with torch.no_grad():
            torch_out = model(batch["input_ids"], batch["attention_mask"], batch["token_type_ids"], graph.expert).numpy()
        np.testing.assert_allclose(onnx_out, torch_out, rtol=1e-4, atol=1e-4)
    assert len({g.graph for g in manifest.tasks.values()}) == 3  # training made the experts differ

    info = models.install(bundle, name="tiny-trained")
    assert info.name == "tiny-trained" and info.active


@pytest.mark.shared_data
def test_loss_goes_down_on_scifact_pairs(tmp_path, shared_data):
    """A tiny random model learns SciFact train claims -> cited abstracts (training split only)."""
    root = shared_data / "scifact" / "original"
    if not (root / "claims_train.jsonl").is_file():
        pytest.skip(f"{root}/claims_train.jsonl not found")
    corpus = {}
    with (root / "corpus.jsonl").open() as handle:
        for line in handle:
            doc = json.loads(line)
            corpus[doc["doc_id"]] = f"{doc['title']} [SEP] {' '.join(doc['abstract'])}"
    pairs = []
    with (root / "claims_train.jsonl").open() as handle:
        for line in handle:
            claim = json.loads(line)
            if claim["cited_doc_ids"] and claim["cited_doc_ids"][0] in corpus and len(pairs) < 64:
                pairs.append({"task": "search", "query": claim["claim"], "positive": corpus[claim["cited_doc_ids"][0]]})
    data = tmp_path / "scifact_pairs.jsonl"
    data.write_text("".join(json.dumps(p) + "\n" for p in pairs))
    cfg = tiny(tmp_path, "scifact", data=[str(data)], eval_data=[str(data)], max_steps=40, batch_size=8,
               max_length=96, lr=2e-3, log_every=4, eval_every=0, save_every=0, export_bundle=False)
    assert run(cfg) == 0
    curve = [r["loss"] for r in records(tmp_path / "scifact") if "loss" in r]
    evals = [r["eval"]["search"]["mrr"] for r in records(tmp_path / "scifact") if "eval" in r]
    assert np.mean(curve[-3:]) < 0.7 * np.mean(curve[:2]), curve
    assert evals[-1] > evals[0] + 0.2, evals


# ---- exact resume after an interruption ----------------------------------------------------------
def test_interrupt_saves_and_resume_continues_exactly(tmp_path, monkeypatch):
    reference = tiny(tmp_path, "reference", max_steps=10, **QUIET)  # dropout on: RNG state must be restored
    assert run(reference) == 0

    calls = {"n": 0}
    real_any_rank = train_module.any_rank

    def interrupt_after_step_4(flag, device):
        calls["n"] += 1
        if calls["n"] == 4:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl+C does; the loop checks the flag right after
        return real_any_rank(flag, device)

    monkeypatch.setattr(train_module, "any_rank", interrupt_after_step_4)
    interrupted = tiny(tmp_path, "interrupted", max_steps=10, **QUIET)
    assert run(interrupted) == EXIT_INTERRUPTED
    # The handler runs at the next bytecode boundary, so the loop sees the flag after step 4 or 5.
    stopped_at = load_checkpoint(latest_checkpoint(tmp_path / "interrupted" / "checkpoints"))[1]["step"]
    assert stopped_at in (4, 5)
    assert max(losses(tmp_path / "interrupted")) == stopped_at
    monkeypatch.setattr(train_module, "any_rank", real_any_rank)
    assert run(interrupted, resume=True) == 0

    expected, got = losses(tmp_path / "reference"), losses(tmp_path / "interrupted")
    assert sorted(got) == list(range(1, 11))
    after = range(stopped_at + 1, 11)
    assert [got[s] for s in after] == [expected[s] for s in after]
    ref_state, resumed_state = final_state(tmp_path / "reference"), final_state(tmp_path / "interrupted")
    assert all(torch.equal(ref_state[k], resumed_state[k]) for k in ref_state)


def test_resume_refuses_a_changed_data_order(tmp_path):
    cfg = tiny(tmp_path, "run", max_steps=2, **QUIET)
    assert run(cfg) == 0
    with pytest.raises(ValueError, match="batch_size"):
        run(tiny(tmp_path, "run", max_steps=4, batch_size=2, **QUIET), resume=True)


# ---- checkpoints survive a kill mid-save ----------------------------------------------------------
def test_failed_save_keeps_the_previous_checkpoint(tmp_path, monkeypatch):
    root = tmp_path / "checkpoints"
    save_checkpoint(root, 1, {"model": {"w": torch.ones(3)}}, {"step": 1})
    import scimult_train.checkpoint as ckpt

    real_replace = ckpt.os.replace

    def crash_on_folder_rename(src, dst):
        if Path(src).name.startswith(".tmp-"):
            raise OSError("killed")  # as if the process died between writing the files and the rename
        return real_replace(src, dst)

    monkeypatch.setattr(ckpt.os, "replace", crash_on_folder_rename)
    with pytest.raises(OSError):
        save_checkpoint(root, 2, {"model": {"w": torch.zeros(3)}}, {"step": 2})
    monkeypatch.setattr(ckpt.os, "replace", real_replace)
    found = latest_checkpoint(root)
    state, meta, _ = load_checkpoint(found)
    assert found.name == "step_000001" and meta["step"] == 1 and torch.equal(state["model"]["w"], torch.ones(3))
    save_checkpoint(root, 3, {"model": {"w": torch.full((3,), 3.0)}}, {"step": 3})
    assert not list(root.glob(".tmp-*"))  # leftovers of the failed save are cleaned


SAVE_LOOP = """
import sys, torch
from scimult_train.checkpoint import save_checkpoint
root = sys.argv[1]
step = 0
while True:
    step += 1
    state = {"model": {"w": torch.full((2_000_000,), float(step))}}
    save_checkpoint(root, step, state, {"step": step})
    print(step, flush=True)
"""


def test_sigkill_at_random_moments_leaves_a_loadable_checkpoint(tmp_path):
    root = tmp_path / "checkpoints"
    rng = np.random.default_rng(0)
    for attempt in range(3):
        proc = subprocess.Popen([sys.executable, "-c", SAVE_LOOP, str(root)], stdout=subprocess.PIPE, env=_env(), text=True)
        proc.stdout.readline()  # one complete save, then kill somewhere inside a later one
        time.sleep(float(rng.uniform(0.0, 0.4)))
        proc.kill()
        proc.wait()
        found = latest_checkpoint(root)
        state, meta, _ = load_checkpoint(found)
        assert torch.all(state["model"]["w"] == float(meta["step"])), attempt


# ---- DDP ----------------------------------------------------------------------------------------
def test_two_gloo_processes_equal_one_process_with_the_same_global_batch(tmp_path):
    common = dict(max_steps=6, dropout=0.0, device="cpu", **QUIET)  # no dropout: ranks draw different masks than one process
    assert run(tiny(tmp_path, "one", batch_size=4, **common)) == 0
    overrides = [f"{k}={json.dumps(v)}" for k, v in dict(out_dir=str(tmp_path / "two"), batch_size=2, **common).items()]
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "scimult_train", "--preset", "tiny", *[a for o in overrides for a in ("--set", o)]]
    result = subprocess.run(command, capture_output=True, text=True, env=_env(), timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    one, two = losses(tmp_path / "one"), losses(tmp_path / "two")
    assert sorted(two) == list(range(1, 7))
    np.testing.assert_allclose([two[s] for s in sorted(two)], [one[s] for s in sorted(one)], rtol=1e-5)
    state_one, state_two = final_state(tmp_path / "one"), final_state(tmp_path / "two")
    for key in state_one:
        torch.testing.assert_close(state_two[key], state_one[key], rtol=1e-3, atol=1e-4)  # Adam: g/sqrt(v) amplifies float noise


# ---- the app's CLI ----------------------------------------------------------------------------------
def test_scimult_train_runs_the_tiny_preset_and_the_result_installs(tmp_path):
    out = tmp_path / "cli-run"
    result = subprocess.run(
        [sys.executable, "-m", "scimult_desktop", "train", "--preset", "tiny", "--set", f"out_dir={out}", "--set", "max_steps=4",
         "--set", "device=cpu"],
        capture_output=True, text=True, env=_env(), timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert "ETA" in result.stderr and (out / "bundle" / "torch" / "model.safetensors").is_file()
    installed = subprocess.run([sys.executable, "-m", "scimult_desktop", "model", "install", str(out / "bundle")],
                               capture_output=True, text=True, env=_env(), timeout=300)
    assert installed.returncode == 0, installed.stderr
    assert "installed" in installed.stdout


def test_ctrl_c_on_scimult_train_saves_a_checkpoint_and_exits_130(tmp_path):
    out = tmp_path / "cli-stop"
    proc = subprocess.Popen(
        [sys.executable, "-m", "scimult_desktop", "train", "--preset", "tiny", "--set", f"out_dir={out}",
         "--set", "max_steps=100000", "--set", "log_every=1", "--set", "eval_data=[]", "--set", "save_every=0"],
        stderr=subprocess.PIPE, text=True, env=_env(),
        # A shell starts background jobs with SIGINT ignored, and Python then keeps ignoring it:
        # give the command a terminal's default Ctrl+C whatever way the test run was started.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    for line in proc.stderr:
        if line.startswith("step "):
            break
    proc.send_signal(signal.SIGINT)
    try:
        _, rest = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            subprocess.run(["pkill", "-f", f"out_dir={out}"], check=False)
    assert proc.returncode == EXIT_INTERRUPTED, rest[-2000:]
    assert "checkpoint saved" in rest
    assert latest_checkpoint(out / "checkpoints") is not None


def test_scimult_train_without_the_training_package_says_so(monkeypatch):
    from click.testing import CliRunner

    from scimult_desktop.cli.main import cli
    from scimult_desktop.services.models import bundles as models

    monkeypatch.setattr(models, "training_available", lambda: False)
    result = CliRunner().invoke(cli, ["train", "--preset", "tiny"])
    assert result.exit_code == 1
    assert result.output.strip().count("\n") == 0 and "pip install -e training" in result.output


# ---- variants and memory/precision options ---------------------------------------------------------
@pytest.mark.parametrize(
    "overrides",
    [
        {"variant": "instruction"},
        {"variant": "vanilla", "grad_accum": 2},
        {"precision": "bf16", "trainable": "experts+top:1"},
    ],
    ids=["instruction", "vanilla-accum", "bf16-experts"],
)
def test_variants_and_options_train(tmp_path, overrides):
    cfg = tiny(tmp_path, "run", max_steps=3, **{**QUIET, **overrides})
    assert run(cfg) == 0
    assert sorted(losses(tmp_path / "run")) == [1, 2, 3]
    saved = final_state(tmp_path / "run")
    if overrides.get("variant") in ("instruction", "vanilla"):
        assert "layers.1.attn.q.0.weight" in saved and "layers.1.attn.q.1.weight" not in saved  # no experts
    if overrides.get("trainable"):
        from scimult_train.init_model import load_init

        start = load_init(cfg).model.state_dict()
        assert torch.equal(start["embeddings.word.weight"], saved["embeddings.word.weight"])  # frozen
        assert not torch.equal(start["layers.1.attn.q.0.weight"], saved["layers.1.attn.q.0.weight"])  # an expert trained


def test_gradient_checkpointing_changes_memory_not_results(tmp_path):
    plain = tiny(tmp_path, "plain", max_steps=3, **QUIET)
    recomputed = tiny(tmp_path, "recomputed", max_steps=3, gradient_checkpointing=True, **QUIET)
    assert run(plain) == 0 and run(recomputed) == 0
    # Dropout stays on: checkpointing replays the same masks in the recomputation.
    np.testing.assert_allclose(list(losses(tmp_path / "recomputed").values()), list(losses(tmp_path / "plain").values()), rtol=1e-5)


def test_mined_negatives_are_top_ranked_non_positives(tmp_path):
    from scimult_train.data.examples import read_examples
    from scimult_train.init_model import load_init
    from scimult_train.mining import mine_hard_negatives

    cfg = tiny(tmp_path, "mine", max_steps=2, mine_hard_negatives=True, mine_top_k=3, **QUIET)
    init = load_init(cfg)
    out = tmp_path / "mined.jsonl"
    assert mine_hard_negatives(init.model, init.tokenizer, cfg.data, out, top_k=3, num_negatives=1, seed=0) == 48
    mined = list(read_examples(out))
    originals = list(read_examples(cfg.data[0]))
    assert [(e.task, e.query, e.positive) for e in mined] == [(e.task, e.query, e.positive) for e in originals]
    assert all(len(e.negatives) == 1 and e.negatives[0] != e.positive for e in mined)
    for example in mined[::8]:
        # It is among the 3 best-scored non-positive candidates of the same task.
        pool = list(dict.fromkeys([e.positive for e in originals if e.task == example.task]
                                  + [n for e in originals if e.task == example.task for n in e.negatives]))
        q = init.model.encode([example.query], example.task, "query")
        scores = (init.model.encode(pool, example.task, "document") @ q.T)[:, 0]
        ranked = [pool[i] for i in np.argsort(-scores) if pool[i] != example.positive]
        assert example.negatives[0] in ranked[:3]
    # The run option mines into out_dir/mined/ and trains on it.
    assert run(cfg) == 0 and (tmp_path / "mine" / "mined" / "train_mined.jsonl").is_file()


def test_mining_keeps_positive_ids_and_never_mines_another_text_of_the_own_item(tmp_path):
    from scimult_train.data.examples import Example, read_examples, write_examples
    from scimult_train.init_model import load_init
    from scimult_train.mining import mine_hard_negatives

    cfg = tiny(tmp_path, "variants", max_steps=1, **QUIET)
    init = load_init(cfg)
    labels = ["graph theory", "retrieval", "language", "citation analysis", "science study"]
    examples = []
    for i in range(20):
        label = labels[i % 5]
        # Each paper names its label once by name and once by name + definition (two texts, one item).
        text = f"paper {i} about {label} and more {label}"
        examples.append(Example("classify", text, label, (), f"label:{label}"))
        examples.append(Example("classify", text + " too", f"{label} [SEP] the field of {label}", (), f"label:{label}"))
    data = write_examples(tmp_path / "labels.jsonl", examples) and tmp_path / "labels.jsonl"
    out = tmp_path / "mined.jsonl"
    mine_hard_negatives(init.model, init.tokenizer, [data], out, top_k=9, num_negatives=1, seed=0)
    mined = list(read_examples(out))
    assert [e.positive_id for e in mined] == [e.positive_id for e in examples]
    for example in mined:
        label = example.positive_id.removeprefix("label:")
        assert example.negatives and not example.negatives[0].startswith(label)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU (this checks the bf16 autocast path)")
def test_tiny_run_on_gpu_with_bf16_autocast(tmp_path, capfd):
    cfg = tiny(tmp_path, "gpu", device="cuda", max_steps=12, **QUIET)
    assert run(cfg) == 0
    assert "on cuda bf16" in capfd.readouterr().err
    curve = list(losses(tmp_path / "gpu").values())
    assert len(curve) == 12 and np.all(np.isfinite(curve))


def test_scimult_base_preset_upcycles_a_dense_hf_folder_and_trains(tmp_path):
    """The paper's preset on a tiny dense BERT folder: upcycled experts, layer decay, [CLS] + dot, 2 steps."""
    from safetensors.torch import save_file

    from scimult_train.testing import write_tiny_vocab
    from tests.training.official_layout import TINY, official_encoder_state

    hf = tmp_path / "tiny-bert"
    hf.mkdir()
    vocab = write_tiny_vocab(hf / "vocab.txt")
    sizes = {**TINY, "vocab": len(vocab.read_text().splitlines())}
    state = official_encoder_state(moe_type=None, sizes=sizes)
    save_file({"bert." + k: v.contiguous() for k, v in state.items() if "position_ids" not in k}, str(hf / "model.safetensors"))
    (hf / "config.json").write_text(json.dumps({
        "model_type": "bert", "vocab_size": sizes["vocab"], "hidden_size": sizes["hidden"], "num_hidden_layers": sizes["layers"],
        "num_attention_heads": sizes["heads"], "intermediate_size": sizes["inter"], "max_position_embeddings": sizes["positions"],
        "type_vocab_size": 2, "hidden_act": "gelu", "layer_norm_eps": 1e-12,
    }))
    values = {"init": str(hf), "data": [str(Path(load_config(preset="tiny").data[0]))], "eval_data": [], "max_steps": 2,
              "warmup_steps": 1, "batch_size": 4, "max_length": 64, "export_bundle": False, "device": "cpu",
              "num_threads": 1, "log_every": 1, "out_dir": str(tmp_path / "base")}
    cfg = load_config(preset="scimult-base", overrides=[f"{k}={json.dumps(v)}" for k, v in values.items()])
    assert (cfg.layer_decay, cfg.temperature, cfg.moe_type) == (0.8, 1.0, "mod2:attn")
    assert run(cfg) == 0
    trained = final_state(tmp_path / "base")
    # Experts in layers 1 and 3 started as copies of the dense weights (upcycling); exactly the
    # experts of the tasks drawn in these 2 steps have moved, the others got no gradient.
    assert "layers.1.attn.q.2.weight" in trained and "layers.2.attn.q.1.weight" not in trained
    drawn = {r["task"] for r in records(tmp_path / "base") if "loss" in r}
    dense = state["encoder.layer.1.attention.self.query.weight"]
    for task, expert in {"search": 0, "link": 1, "classify": 2}.items():
        moved = not torch.equal(trained[f"layers.1.attn.q.{expert}.weight"], dense)
        assert moved == (task in drawn), (task, drawn)
