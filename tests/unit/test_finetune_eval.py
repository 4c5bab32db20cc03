"""Held-out evaluation of fine-tuned models (fake encoders: the metric plumbing, not model quality)."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from scimult_desktop.domain.tasks import Role
from scimult_desktop.services.finetuning import evaluation as finetune_eval
from scimult_desktop.services.finetuning.evaluation import TaskScore, evaluate, recommend
from scimult_desktop.services.finetuning.signals import collect
from scimult_desktop.store.vectors import VectorStore
from tests.unit.test_finetune_signals import TOPICS, make_library


class TopicEncoder:
    """Knows each text's topic and paper number: an encoder that has 'learnt' the library."""

    name = "topic-oracle"
    dim = len(TOPICS) + 64
    similarity = "cosine"
    engine = "fake"

    def encode(self, texts, task, role=Role.DOCUMENT, batch_size=16):
        out = np.zeros((len(texts), self.dim), np.float32)
        for row, text in enumerate(texts):
            for t, topic in enumerate(TOPICS):
                if topic in text:
                    out[row, t] = 1.0
            number = re.search(r"\b(\d+)\b", text)
            if number:
                out[row, len(TOPICS) + int(number.group(1)) % 64] = 0.1
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-9)


class RandomEncoder(TopicEncoder):
    """A vector per distinct text, unrelated to its meaning."""

    name = "random"

    def encode(self, texts, task, role=Role.DOCUMENT, batch_size=16):
        seeds = [int.from_bytes(hashlib.sha256(t.encode()).digest()[:4], "little") for t in texts]
        out = np.stack([np.random.default_rng(s).standard_normal(self.dim).astype(np.float32) for s in seeds])
        return out / np.linalg.norm(out, axis=1, keepdims=True)


def test_each_task_gets_its_metric_over_its_held_out_signals(fresh_library):
    make_library(fresh_library, papers=64)
    signals = collect(fresh_library.database)
    good = evaluate(fresh_library.database, TopicEncoder(), "oracle@1", signals)
    bad = evaluate(fresh_library.database, RandomEncoder(), "random@1", signals)
    assert {t: s.metric for t, s in good.items()} == {"link": "recall@10", "classify": "accuracy@1", "search": "mrr@10"}
    assert len(good["link"].per_item) == len(signals.held_out["link"])
    assert len(good["search"].per_item) == len(signals.held_out["search"])
    assert len(good["classify"].per_item) == len({s.query_paper for s in signals.held_out["classify"]})
    assert good["link"].value == 1.0 and good["classify"].value == 1.0 and good["search"].value == 1.0
    for task in good:
        assert bad[task].value < good[task].value, task
    # Full-view vectors are stored under the model key (what serving needs after an accept).
    store = VectorStore(fresh_library.database)
    assert store.count("oracle@1", "link") == store.count("oracle@1", "classify") == 64
    assert store.count("oracle@1", "search") == 0  # titles are ranked against abstracts only, not stored


def test_link_ranking_skips_the_query_paper_and_its_known_citations(fresh_library, monkeypatch):
    make_library(fresh_library, papers=64)
    signals = collect(fresh_library.database, ["link"])
    # TopicEncoder makes every paper closest to itself (its own number), then its topic:
    # with a cut-off of 1, a held-out citation is found only if the citing paper is skipped.
    monkeypatch.setattr(finetune_eval, "CUTOFF", 1)
    assert evaluate(fresh_library.database, TopicEncoder(), "self@1", signals)["link"].value == 1.0


def test_rank_of_counts_only_candidates_not_skipped():
    ids = np.array([10, 11, 12, 13])
    scores = np.array([0.9, 0.8, 0.7, 0.6])
    assert finetune_eval._rank_of(ids, scores, 12, set()) == 3
    assert finetune_eval._rank_of(ids, scores, 12, {10, 11}) == 1
    assert finetune_eval._rank_of(ids, scores, 99, set()) == 5  # not a candidate: never found


def test_recommended_only_when_no_task_is_worse_beyond_noise_and_the_mean_improves():
    same = {"link": TaskScore("link", "recall@10", [1, 0, 1, 0] * 10)}
    assert not recommend(same, same)  # no change is not an improvement
    before = {
        "link": TaskScore("link", "recall@10", [0.0] * 30 + [1.0] * 10),
        "search": TaskScore("search", "mrr@10", [0.5] * 40),
    }
    better_link = {
        "link": TaskScore("link", "recall@10", [0.0] * 20 + [1.0] * 20),
        "search": TaskScore("search", "mrr@10", [0.5] * 39 + [0.25]),  # a little worse: noise
    }
    assert recommend(before, better_link)
    much_worse_search = dict(better_link, search=TaskScore("search", "mrr@10", [0.25] * 40))
    assert not recommend(before, much_worse_search)
    assert finetune_eval.MIN_NOISE > 0


def test_embedding_abstracts_for_title_queries_reports_progress_and_stops_on_cancel(fresh_library):
    import pytest

    from scimult_desktop.domain.progress import CancelToken, Cancelled

    make_library(fresh_library, papers=64)
    signals = collect(fresh_library.database, ["search"])
    events = []
    evaluate(fresh_library.database, TopicEncoder(), "oracle@1", signals, progress=events.append)
    abstracts = [e for e in events if e.current and e.current.endswith(": abstracts")]
    assert abstracts and abstracts[-1].done == abstracts[-1].total == 64
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        evaluate(fresh_library.database, TopicEncoder(), "oracle@2", signals, cancel=token)
