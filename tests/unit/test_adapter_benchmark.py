"""The adapter experiment's math (benchmarks/adapter_contexts_acm.py): its gradient and that fitting learns a map."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from tests.benchmark_scripts import load_benchmark

bench = load_benchmark("adapter_contexts_acm")


def _loss(docs, x, pos, dw):
    u = x + x @ dw
    q = u / np.linalg.norm(u, axis=1, keepdims=True)
    s = q @ docs.T / bench.TAU
    s -= s.max(1, keepdims=True)
    return float(np.mean(np.log(np.exp(s).sum(1)) - s[np.arange(len(pos)), pos]))


def test_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    docs = rng.normal(size=(30, 6)).astype(np.float64)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    x = rng.normal(size=(5, 6))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    pos = rng.integers(0, 30, size=5)
    dw = rng.normal(scale=0.1, size=(6, 6))
    analytic = bench._gradient(docs, x, pos, None, dw)
    eps = 1e-6
    for i, j in [(0, 0), (2, 5), (4, 1)]:
        step = np.zeros_like(dw)
        step[i, j] = eps
        numeric = (_loss(docs, x, pos, dw + step) - _loss(docs, x, pos, dw - step)) / (2 * eps)
        assert abs(numeric - analytic[i, j]) < 1e-5


def test_fit_learns_a_systematic_query_shift_and_improves_recall():
    rng = np.random.default_rng(1)
    dim, n_docs = 16, 1000
    docs = rng.normal(size=(n_docs, dim)).astype(np.float32)
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    mix = np.eye(dim) + rng.normal(scale=0.3, size=(dim, dim))  # queries are a distorted view of their paper
    signals, texts = [], []
    for n in range(200):
        target = int(rng.integers(0, n_docs))
        texts.append(f"q{n}")
        signals.append(SimpleNamespace(query=f"q{n}", query_paper=None, positive_paper=target, unit=f"edge:{n}", source="contexts"))
    queries = np.stack([docs[s.positive_paper] @ mix + rng.normal(scale=0.05, size=dim) for s in signals]).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    data = bench.Data(np.arange(n_docs), docs, texts, queries, signals[:150], signals[150:])
    w = bench.fit(data, data.train, lam=0.01, w_ict=0.0)
    before = bench.hits(data, data.queries, data.train, data.held_out).mean()
    after = bench.hits(data, bench.adapt(w, data.queries), data.train, data.held_out).mean()
    assert after > before + 0.1, (before, after)
