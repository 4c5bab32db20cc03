"""Citation contexts as fine-tuning link signals: sentence -> cited paper, split with its citation edge."""

from __future__ import annotations

from scimult_desktop.services.finetuning import evaluation
from scimult_desktop.services.finetuning.evaluation import TaskScore
from scimult_desktop.services.finetuning.signals import Signal, collect, split
from tests import contexts_library


def test_contexts_become_link_signals_with_markers_removed(fresh_library):
    ids = contexts_library.build(fresh_library, citing=2)
    fresh_library.analyse_citation_contexts()
    signals = collect(fresh_library.database, ["link"])
    context = [s for part in (signals.train, signals.held_out) for s in part["link"] if s.source == "contexts"]
    dpr = ids["10.18653/v1/2020.emnlp-main.550"]
    queries = {(s.query, s.positive_paper) for s in context}
    assert ("Dual encoders retrieve passages far better than sparse retrieval on open-domain questions.", dpr) in queries
    assert ("We fine-tune the dual encoder of Karpukhin et al. on our logs.", dpr) in queries
    assert all("[" not in s.query for s in context)
    dpr_signal = next(s for s in context if s.positive_paper == dpr)
    assert dpr_signal.positive.startswith("Dense passage retrieval for open-domain question answering [SEP] Dense")
    assert dpr_signal.query_paper is None  # the sentence is the query, not the citing paper
    # one signal per (sentence, cited paper): the two citing papers share their sentences
    assert len(queries) == len(context)


def test_a_held_out_edge_holds_out_its_contexts():
    edge = Signal("link", "edge:1>2", "citing paper text", "cited text", 1, 2, source="citations")
    sentence = Signal("link", "edge:1>2", "a sentence citing it", "cited text", None, 2, source="contexts")
    other = [Signal("link", f"edge:{i}>{i + 1}", f"s{i}", "t", None, i + 1, source="contexts") for i in range(3, 60)]
    train, held_out = split([edge, sentence, *other])
    assert (edge in held_out) == (sentence in held_out)
    assert (edge in train) == (sentence in train)


def test_by_source_reports_each_source_with_a_paired_standard_error():
    held = [Signal("link", "u1", "q", "p", source="citations"), Signal("link", "u2", "q", "p", source="contexts"),
            Signal("link", "u3", "q2", "p", source="contexts"), Signal("link", "u4", "q3", "p", source="contexts")]
    before = TaskScore("link", "recall@10", [1.0, 0.0, 0.0, 1.0])
    after = TaskScore("link", "recall@10", [1.0, 1.0, 1.0, 1.0])
    table = evaluation.by_source(held, before, after)
    assert table["contexts"]["held_out"] == 3
    assert table["contexts"]["before"] == round(1 / 3, 4) and table["contexts"]["after"] == 1.0
    assert table["contexts"]["paired_se"] == round(((1 / 3) ** 0.5) / 3 ** 0.5, 4)
    assert table["citations"] == {"held_out": 1, "before": 1.0, "after": 1.0, "paired_se": None}
