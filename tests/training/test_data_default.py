"""The default model's training pairs never touch what benchmarks/eval_quality.py evaluates on."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path

import pytest

from scimult_train.data import Example
from scimult_train.data.bm25 import BM25
from scimult_train.data.default_data import (
    _marked_context,
    acm_cr_evaluation_dois,
    heldout,
    label_variants,
    mag_eval_paper_ids,
    scifact_train_examples,
)

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"shared data not found at {DATA}")


def test_bm25_ranks_and_excludes():
    index = BM25(["neural ranking models for search", "cooking pasta at home", "learning to rank with neural nets"])
    assert index.top("neural ranking", 3) == [0, 2]
    assert index.top("neural ranking", 3, exclude={0}) == [2]
    assert index.top("unseen words", 3) == []


def test_unarxive_context_marks_the_target_and_drops_markup():
    paragraph = ("Earlier work {{cite:a}} studied this. Dense retrieval {{cite:b}} and {{cite:c}} "
                 "beats BM25 on {{formula:x1}} benchmarks. Unrelated closing remark here. Far away sentence.")
    context = _marked_context(paragraph, "c")
    assert context == "Earlier work [1] studied this. Dense retrieval [2] and [3] beats BM25 on benchmarks. Unrelated closing remark here."
    assert _marked_context("No citation here.", "a") is None


def test_label_variants_cover_the_apps_label_prompts():
    assert label_variants("Physics", "Matter and energy.") == [
        "Physics", "A research paper in Physics.", "Physics: Matter and energy.", "Physics [SEP] Matter and energy."
    ]
    assert label_variants("ranking", None) == ["ranking", "A research paper in ranking."]


def test_heldout_split_is_stable_and_about_five_percent():
    keys = [f"query {i}" for i in range(4000)]
    share = sum(map(heldout, keys)) / len(keys)
    assert 0.035 < share < 0.065
    assert [heldout(k) for k in keys[:50]] == [heldout(k) for k in keys[:50]]


@pytest.mark.shared_data
@needs_data
def test_mag_hold_out_is_exactly_what_eval_quality_classifies():
    rows = [json.loads(line) for line in (DATA / "s2orc_sample" / "metadata_sample.jsonl").open(encoding="utf-8")]
    # eval_quality.eval_classify's own selection, re-applied to the rows.
    evaluated = {r["paper_id"] for r in rows if r.get("abstract") and r.get("mag_field_of_study") and len(r["mag_field_of_study"]) == 1}
    assert mag_eval_paper_ids(DATA / "s2orc_sample" / "metadata_sample.jsonl") == evaluated
    assert len(evaluated) == 405


@pytest.mark.shared_data
@needs_data
def test_acm_cr_targets_are_excluded():
    excluded = acm_cr_evaluation_dois(DATA / "acm_cr" / "topics+qrels")
    cited = {line.split()[2].lower() for line in (DATA / "acm_cr" / "topics+qrels" / "contexts.qrels").open() if line.strip()}
    assert cited <= excluded
    assert "10.1145/3343413.3377957" in excluded  # a citing paper (CHIIR 2020)


@pytest.mark.shared_data
@needs_data
def test_scifact_pairs_come_from_train_claims_only():
    root = DATA / "scifact"
    claims = {json.loads(line)["_id"]: json.loads(line)["text"] for line in (root / "queries.jsonl").open(encoding="utf-8")}

    def claim_texts(split):
        with (root / "qrels" / f"{split}.tsv").open(encoding="utf-8") as handle:
            return {" ".join(claims[row["query-id"]].split()) for row in csv.DictReader(handle, delimiter="\t")}

    examples = list(scifact_train_examples(root, random.Random(0)))
    queries = {e.query for e in examples}
    assert queries <= claim_texts("train")
    assert not queries & claim_texts("test")
    assert all(isinstance(e, Example) and e.task == "search" and e.positive not in e.negatives for e in examples)
    assert all(e.negatives for e in examples)
