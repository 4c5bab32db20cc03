"""Fine-tuning signals read from a library: sources, the held-out split, refusal, the JSONL."""

from __future__ import annotations

import json

import pytest

from scimult_desktop.domain.records import Paper
from scimult_desktop.services.finetuning import signals as finetune_signals
from scimult_desktop.services.finetuning.signals import NotEnoughSignals, Signal, collect, split, write_training_jsonl

TOPICS = ["graph neural networks", "protein folding", "dense retrieval", "clinical trials"]


def make_library(library, papers: int = 40):
    """`papers` papers in four topics: topic collections, citations inside a topic, a few tags."""
    ids = []
    with library.database.transaction():
        for i in range(papers):
            topic = TOPICS[i % len(TOPICS)]
            pid = library.papers.insert(
                Paper(
                    title=f"Study {i} of {topic}",
                    abstract=f"We report experiment number {i} about {topic} with new methods and careful analysis.",
                    year=2000 + i % 20,
                )
            )
            ids.append(pid)
        conn = library.database.conn
        for topic in TOPICS:
            conn.execute("INSERT INTO collections (name, source, source_key) VALUES (?, 'test', ?)", (topic, topic))
        for i, pid in enumerate(ids):
            conn.execute(
                "INSERT INTO paper_collections (paper_id, collection_id) SELECT ?, id FROM collections WHERE name = ?",
                (pid, TOPICS[i % len(TOPICS)]),
            )
            for j in (i + 4, i + 8):  # same topic, a later paper
                if j < len(ids):
                    conn.execute("INSERT INTO citations VALUES (?, ?, 'test')", (pid, ids[j]))
        for pid in ids[:5]:
            library.papers.add_tag(pid, "to read", "user")
            library.papers.add_tag(pid, "machine guess", "classifier")
        library.papers.add_tag(ids[0], "rare keyword", "import")
    return ids


def test_counts_per_source(fresh_library):
    ids = make_library(fresh_library)
    signals = collect(fresh_library.database)
    counts = signals.counts()
    edges = fresh_library.database.conn.execute("SELECT count(*) FROM citations").fetchone()[0]
    assert counts["link"]["train"] + counts["link"]["held_out"] == edges
    # 40 collection memberships + a user tag on 5 papers; the classifier's tags are not a
    # signal, nor is a tag on fewer than MIN_LABEL_PAPERS papers.
    assert counts["classify"]["train"] + counts["classify"]["held_out"] == len(ids) + 5
    labels = {s.label for part in (signals.train, signals.held_out) for s in part["classify"]}
    assert "to read" in labels and "machine guess" not in labels and "rare keyword" not in labels
    assert counts["search"]["train"] + counts["search"]["held_out"] == len(ids)


def test_search_positive_does_not_contain_the_title(fresh_library):
    make_library(fresh_library)
    signals = collect(fresh_library.database, ["search"])
    for signal in signals.train["search"] + signals.held_out["search"]:
        assert signal.query.lower() not in signal.positive.lower()
        assert "[SEP]" not in signal.positive and signal.view == "abstract"


def test_split_is_deterministic_by_unit_and_keeps_held_out_out_of_training(fresh_library, tmp_path):
    make_library(fresh_library)
    first, second = collect(fresh_library.database), collect(fresh_library.database)
    assert first.counts() == second.counts()
    for task in finetune_signals.TASKS:
        assert [s.unit for s in first.held_out[task]] == [s.unit for s in second.held_out[task]]
        train_units = {s.unit for s in first.train[task]}
        assert first.held_out[task] and not train_units & {s.unit for s in first.held_out[task]}
        assert 0.05 < len(first.held_out[task]) / (len(first.held_out[task]) + len(first.train[task])) < 0.45
    # Papers held out for search are held out for classify too (same unit, same hash).
    search_held = {s.query_paper for s in first.held_out["search"]}
    classify_held = {s.query_paper for s in first.held_out["classify"] if s.source == "collections"}
    assert search_held == classify_held

    path = tmp_path / "train.jsonl"
    lines = write_training_jsonl(path, first)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert lines == len(records) == sum(c["train"] for c in first.counts().values())
    held_pairs = {(s.query, s.positive) for part in first.held_out.values() for s in part}
    assert not held_pairs & {(r["query"], r["positive"]) for r in records}


def test_a_unit_keeps_its_side_when_the_library_grows():
    signals = [Signal("link", f"edge:{i}>{i + 1}", f"q{i}", f"p{i}") for i in range(200)]
    _, held_small = split(signals[:100])
    _, held_large = split(signals)
    assert {s.unit for s in held_small} == {s.unit for s in held_large if int(s.unit[5:].split(">")[0]) < 100}


def test_tiny_sets_still_get_both_sides():
    train, held = split([Signal("link", f"edge:{i}>9", "q", "p") for i in range(2)])
    assert len(train) == 1 and len(held) == 1


def test_too_few_examples_is_refused_with_the_minimum(fresh_library):
    make_library(fresh_library, papers=12)
    signals = collect(fresh_library.database, ["link"])
    with pytest.raises(NotEnoughSignals, match=r"link: only \d+ example\(s\).*at least 30 per task"):
        signals.check_enough()
    signals.check_enough(minimum=5)


def test_feedback_accepted_become_examples_and_rejected_hard_negatives(fresh_library):
    ids = make_library(fresh_library)
    lib = fresh_library
    lib.record_feedback("suggest", 1.0, query="message passing on graphs", paper=ids[0])
    lib.record_feedback("suggest", 0.0, query="message passing on graphs", paper=ids[1])
    lib.record_feedback("search", -1.0, query="nobody accepted anything here", paper=ids[2])
    lib.record_feedback("classify", 1.0, query="favourites", paper=ids[3])
    signals = collect(lib.database)
    every = [s for part in (signals.train, signals.held_out) for items in part.values() for s in items]
    [suggestion] = [s for s in every if s.source == "feedback" and s.task == "link"]
    assert suggestion.query == "message passing on graphs" and suggestion.positive_paper == ids[0]
    assert suggestion.negatives == (lib.papers.get(ids[1]).embedding_text(),)
    assert json.loads(suggestion.to_jsonl())["negatives"] == list(suggestion.negatives)
    [label] = [s for s in every if s.source == "feedback" and s.task == "classify"]
    assert label.label == "favourites" and label.unit == f"paper:{ids[3]}"
    assert signals.ignored == {"rejections without an accepted answer for the same query": 1}


def test_texts_match_what_the_index_embeds(fresh_library):
    ids = make_library(fresh_library)
    signals = collect(fresh_library.database, ["link"])
    edge = (signals.train["link"] + signals.held_out["link"])[0]
    assert edge.query == fresh_library.papers.get(edge.query_paper).embedding_text()
    assert edge.positive == fresh_library.papers.get(edge.positive_paper).embedding_text()
    assert edge.query_paper in ids


def test_unknown_task_is_a_clear_error():
    with pytest.raises(Exception, match="unknown fine-tuning task"):
        finetune_signals.parse_tasks("link,tagging")
    assert finetune_signals.parse_tasks(None) == ["link", "classify", "search"]


def test_positive_id_groups_the_positives_of_one_query(fresh_library):
    make_library(fresh_library)
    signals = collect(fresh_library.database, ["link"])
    edges = signals.train["link"] + signals.held_out["link"]
    by_citing: dict[int, set[str]] = {}
    for edge in edges:
        by_citing.setdefault(edge.query_paper, set()).add(json.loads(edge.to_jsonl())["positive_id"])
    # Two citations of one paper share a key (neither is the other's in-batch negative);
    # citations of different papers do not.
    assert all(len(keys) == 1 for keys in by_citing.values())
    assert len({next(iter(keys)) for keys in by_citing.values()}) == len(by_citing)


def test_papers_in_the_trash_give_no_signals(fresh_library):
    from scimult_desktop.services.library.trash import restore_papers, trash_papers

    ids = make_library(fresh_library)
    trashed = set(ids[:4])
    trash_papers(fresh_library, sorted(trashed))

    def papers_in(signal_set):
        return {pid for part in (signal_set.train, signal_set.held_out) for rows in part.values()
                for s in rows for pid in (s.query_paper, s.positive_paper) if pid is not None}

    assert not papers_in(collect(fresh_library.database)) & trashed
    restore_papers(fresh_library, sorted(trashed))
    assert papers_in(collect(fresh_library.database)) & trashed
