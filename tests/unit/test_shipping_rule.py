"""benchmarks/shipping_rule.py: a trained default ships when the mean change is positive and no
number drops by more than 2 paired standard errors (issue 17's rule, replacing 'win everywhere')."""

from __future__ import annotations

from tests.benchmark_scripts import load_benchmark


def test_a_small_drop_within_noise_passes_when_the_mean_improves():
    rule = load_benchmark("shipping_rule")
    passes, why = rule.verdict([("a", 50.0, 55.0, 1.0), ("b", 44.0, 43.3, 0.5)])  # -0.7 < 2 x 0.5
    assert passes and "mean change +2.15" in why


def test_a_drop_beyond_two_standard_errors_or_a_negative_mean_fails():
    rule = load_benchmark("shipping_rule")
    assert rule.verdict([("a", 50.0, 60.0, 1.0), ("b", 44.0, 41.0, 1.0)])[0] is False  # -3 > 2 x 1
    assert "b -3.0 (SE 1.0)" in rule.verdict([("a", 50.0, 60.0, 1.0), ("b", 44.0, 41.0, 1.0)])[1]
    assert rule.verdict([("a", 50.0, 50.5, 1.0), ("b", 44.0, 43.0, 1.0)])[0] is False  # mean -0.25
    assert rule.verdict([])[0] is False


def test_rows_follow_the_compared_paths_of_eval_quality():
    rule = load_benchmark("shipping_rule")
    eq = load_benchmark("eval_quality")
    results = {
        "old": {"scifact": {"semantic": {"ndcg@10": 50.0, "per_query": [0.2, 0.4]}}},
        "new": {"scifact": {"semantic": {"ndcg@10": 55.0, "per_query": [0.3, 0.4]}}},
    }
    rows = rule.compared_rows("old", "new", results, eq.COMPARED, eq.PER_QUERY, eq.paired_standard_error)
    assert [(label, old, new) for label, old, new, _ in rows] == [("SciFact nDCG@10, semantic (search expert)", 50.0, 55.0)]
    assert "pass" in rule.shipping_verdict("old", "new", results, eq.COMPARED, eq.PER_QUERY, eq.paired_standard_error)
