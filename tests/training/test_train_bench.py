"""benchmarks/bench_train.py still runs (CPU, tiny shape, one timed step) and reports its figures."""

from __future__ import annotations

import json

from tests.benchmark_scripts import load_benchmark


def test_bench_train_runs_a_step_and_reports_throughput(capsys):
    bench = load_benchmark("bench_train")
    assert bench.main(["--layers", "2", "--hidden", "32", "--heads", "2", "--seq-len", "32", "--steps", "1",
                       "--warmup", "1", "--batch-size", "2", "--json", "--threads", "1"]) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert figures["steps"] == 1 and figures["samples_per_s"] > 0 and figures["tokens_per_s"] > 0
    assert figures["shape"] == "2x32, mod2:attn x3" and figures["precision"] == "fp32"
    if figures["device"] == "cpu":
        assert figures["mfu"] is None and figures["peak_rss_gib"] > 0


def test_model_flops_count_one_expert_of_bert_base():
    bench = load_benchmark("bench_train")
    from scimult_train.model.config import EncoderConfig
    from scimult_train.model.encoder import TaskAwareEncoder

    model = TaskAwareEncoder(EncoderConfig(moe_type="mod2:attn", num_experts=3))
    # BERT-base: 12 layers x 7,087,872 + the unused pooler-free encoder = 85,054,464 non-embedding parameters.
    assert bench.flops_per_token(model, 256) == 6 * 85_054_464 + 12 * 12 * 256 * 768
