"""benchmarks/eval_quality.py --compare: the verdict and the paired standard errors of its table."""

from __future__ import annotations

import math

from tests.benchmark_scripts import load_benchmark


def test_table_gives_the_paired_standard_error_and_a_strict_verdict():
    eq = load_benchmark("eval_quality")
    before = [0.2, 0.4, 0.6, 0.8]
    after = [0.3, 0.4, 0.7, 0.8]  # differences 10, 0, 10, 0 points: mean 5, sd 5.77, SE 2.89
    assert math.isclose(eq.paired_standard_error(before, after), 5.7735 / 2, rel_tol=1e-3)
    results = {
        "old": {"scifact": {"semantic": {"ndcg@10": 50.0, "per_query": before}, "hybrid": {"ndcg@10": 60.0, "per_query": before}}},
        "new": {"scifact": {"semantic": {"ndcg@10": 55.0, "per_query": after}, "hybrid": {"ndcg@10": 60.0, "per_query": after}}},
    }
    table, better = eq.comparison_table("old", "new", results)
    assert "| SciFact nDCG@10, semantic (search expert) | 50.0 | 55.0 | +5.0 | 2.9 |" in table
    assert better is False  # a tie is not a win
    assert eq.without_per_query(results)["new"]["scifact"]["semantic"] == {"ndcg@10": 55.0}
