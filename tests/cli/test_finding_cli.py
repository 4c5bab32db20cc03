"""search / related / suggest / classify / duplicates / undo through the CLI with a real (tiny) model.

The model is a small random SciMult-layout bundle exported to ONNX, so these tests
check the contract and the plumbing (ONNX encoder, FAISS, fusion), not ranking quality;
quality is measured by benchmarks/eval_quality.py.
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scimult_desktop.cli.main import cli
from tests.bibgen import bib_entry

HIT_KEYS = {"id", "citekey", "title", "score"}


def run(*args):
    result = CliRunner().invoke(cli, list(args))
    return result


@pytest.fixture
def library(tiny_bundle, tmp_path):
    assert run("model", "install", str(tiny_bundle)).exit_code == 0
    bib = tmp_path / "refs.bib"
    bib.write_text(
        bib_entry("dense", "dense passage retrieval for open domain question answering", abstract="dual encoders retrieve passages")
        + bib_entry("bm25", "the probabilistic relevance framework bm25 and beyond", abstract="term weighting for retrieval")
        + bib_entry("vitd", "vitamin d supplementation and fracture risk", abstract="a randomised trial in older adults")
        + bib_entry("vitd2", "vitamin d supplementation and fracture risk.", abstract="a randomised trial in older adults", year=2021)
    )
    lib = str(tmp_path / "lib")
    assert run("--library", lib, "import", str(bib)).exit_code == 0
    result = run("--library", lib, "index", "--json")
    assert result.exit_code == 0, result.output
    return lib


@pytest.mark.parametrize("mode", ["hybrid", "semantic", "keyword"])
def test_search_modes_return_the_contract(library, mode):
    result = run("--library", library, "search", "passage retrieval", "--mode", mode, "--k", "3", "--json")
    assert result.exit_code == 0, result.output
    hits = json.loads(result.stdout)
    assert 1 <= len(hits) <= 3 and all(set(h) == HIT_KEYS for h in hits)
    if mode != "semantic":
        assert "dense" in [h["citekey"] for h in hits]


def test_search_filters_and_batch_queries(library, tmp_path):
    queries = tmp_path / "queries.txt"
    queries.write_text("vitamin d\n\npassage retrieval\n")
    result = run("--library", library, "search", "--queries", str(queries), "--k", "2", "--year-from", "2021", "--json")
    assert result.exit_code == 0, result.output
    lists = json.loads(result.stdout)
    assert len(lists) == 2 and all(h["citekey"] == "vitd2" for hits in lists for h in hits)


def test_related_excludes_the_paper_itself(library):
    hits = json.loads(run("--library", library, "related", "dense", "--k", "3", "--json").stdout)
    assert len(hits) == 3 and "dense" not in [h["citekey"] for h in hits] and all(set(h) == HIT_KEYS for h in hits)


def test_suggest_text_skips_papers_already_cited(library, tmp_path):
    text = r"Dense retrieval with dual encoders \cite{dense} beats term weighting for retrieval."
    hits = json.loads(run("--library", library, "suggest", "--text", text, "--k", "3", "--json").stdout)
    assert hits and "dense" not in [h["citekey"] for h in hits] and all(set(h) == HIT_KEYS for h in hits)
    queries = tmp_path / "contexts.txt"
    queries.write_text("term weighting for retrieval\nvitamin d trial\n")
    lists = json.loads(run("--library", library, "suggest", "--queries", str(queries), "--k", "2", "--json").stdout)
    assert [len(hits) for hits in lists] == [2, 2]


def test_classify_apply_and_undo(library):
    result = run("--library", library, "classify", "vitd", "--json")
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert item["citekey"] == "vitd" and item["labels"]
    assert {"label", "score", "source"} <= set(item["labels"][0])
    scores = [label["score"] for label in item["labels"]]
    assert scores == sorted(scores, reverse=True) and all(0 <= s <= 1 for s in scores)
    top = item["labels"][0]["label"]
    assert run("--library", library, "classify", "vitd", "--apply", "--yes").exit_code == 0
    def tagged():
        result = run("--library", library, "search", "vitamin", "--mode", "keyword", "--tag", top, "--json")
        return [h["citekey"] for h in json.loads(result.stdout)]

    assert tagged() == ["vitd"]
    assert run("--library", library, "undo").exit_code == 0
    assert tagged() == []
    result = run("--library", library, "undo")
    assert "nothing to undo" in result.stderr


def test_all_papers_classify_returns_one_entry_each(library):
    items = json.loads(run("--library", library, "classify", "--all", "--labels", "arxiv", "--k", "2", "--json").stdout)
    assert len(items) == 4 and all(1 <= len(i["labels"]) <= 2 for i in items)


def test_duplicates_lists_proposals_as_json(library):
    result = run("--library", library, "duplicates", "--json")
    assert result.exit_code == 0, result.output
    proposals = json.loads(result.stdout)
    # vitd and vitd2 share title and first author but not the year: proposed, not merged.
    assert [(p["paper_a"], p["paper_b"], p["status"]) for p in proposals] == [(3, 4, "proposed")]
    assert all({"paper_a", "paper_b", "reason", "status"} <= set(p) for p in proposals)


def test_suggest_file_reports_sentences_needing_citations(library, tmp_path):
    draft = tmp_path / "draft.tex"
    draft.write_text(
        "\\documentclass{article}\n\\begin{document}\n"
        "Dense passage retrieval with dual encoders has been shown to outperform term weighting in previous studies.\n"
        "Term weighting remains a strong baseline \\cite{bm25,nokey}.\n"
        "\\end{document}\n"
    )
    result = run("--library", library, "suggest", "--file", str(draft), "--k", "2", "--json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    first = next(i for i in items if i["line"] == 3)
    assert first["cited"] == [] and len(first["suggestions"]) == 2
    assert all(set(h) == HIT_KEYS for h in first["suggestions"])
    second = next(i for i in items if i["line"] == 4)
    assert second["cited"] == ["bm25", "nokey"] and second["flags"] == ["nokey: not in the library"]
    assert second["key_flags"] == [{"key": "nokey", "problem": "missing", "message": "nokey: not in the library"}]
    text = run("--library", library, "suggest", "--file", str(draft), "--format", "pandoc")
    assert text.exit_code == 0 and "[@" in text.stdout


def test_search_on_a_library_never_indexed_embeds_what_it_needs_first(tiny_bundle, tmp_path):
    assert run("model", "install", str(tiny_bundle)).exit_code == 0
    bib = tmp_path / "refs.bib"
    bib.write_text(bib_entry("a", "graph neural networks for molecules") + bib_entry("b", "protein folding with attention"))
    lib = str(tmp_path / "fresh")
    assert run("--library", lib, "import", str(bib)).exit_code == 0
    result = run("--library", lib, "search", "protein folding", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)[0]["citekey"] == "b"
    report = json.loads(run("--library", lib, "index", "--json").stdout)
    by_task = {t["task"]: t for t in report["tasks"]}
    assert by_task["search"]["already_embedded"] == 2 and by_task["link"]["embedded"] == 2


VITAMIN = "Previous studies have found that vitamin D sufficiency is associated with lower parathyroid hormone levels."
DISTILLATION = "Knowledge distillation has been widely used to compress large neural rankers into smaller students."


def test_suggest_file_keeps_each_paragraph_to_itself(library, tmp_path):
    """The vitamin-D paragraph above must not change what the distillation sentence gets."""
    both, alone = tmp_path / "both.tex", tmp_path / "alone.tex"
    both.write_text(f"\\documentclass{{article}}\n\\begin{{document}}\n{VITAMIN}\n\n{DISTILLATION}\n\\end{{document}}\n")
    alone.write_text(f"\\documentclass{{article}}\n\\begin{{document}}\n{DISTILLATION}\n\\end{{document}}\n")
    results = {}
    for name, path in (("both", both), ("alone", alone)):
        result = run("--library", library, "suggest", "--file", str(path), "--k", "4", "--json")
        assert result.exit_code == 0, result.output
        [item] = [i for i in json.loads(result.stdout) if i["sentence"] == DISTILLATION]
        results[name] = [s["citekey"] for s in item["suggestions"]]
    assert results["both"] == results["alone"] and len(results["alone"]) == 4


def test_suggest_file_line_answers_for_any_sentence(library, tmp_path):
    draft = tmp_path / "draft.md"
    draft.write_text("# Notes\n\nWe thank the reviewers.\n\nDual encoders retrieve passages.\n")
    result = run("--library", library, "suggest", "--file", str(draft), "--line", "3", "--k", "2", "--json")
    assert result.exit_code == 0, result.output
    [item] = json.loads(result.stdout)
    assert item["sentence"] == "We thank the reviewers." and len(item["suggestions"]) == 2
    missing = run("--library", library, "suggest", "--file", str(draft), "--line", "2")
    assert missing.exit_code != 0 and "no sentence on line 2" in missing.output
    assert run("--library", library, "suggest", "--text", "x", "--line", "2").exit_code != 0


def test_classify_json_says_zero_shot_or_few_shot_and_counts_tagged_papers(library):
    [item] = json.loads(run("--library", library, "classify", "vitd", "--json").stdout)
    assert {"labels", "tags", "collections"} <= set(item)  # the earlier contract is unchanged
    assert (item["method"], item["method_note"]) == ("zero-shot", "zero-shot")
    assert set(item["few_shot"]) == {"method", "tagged_papers", "judged_papers", "knn_weight", "knn_temperature", "labels_fitted_to_library"}
    assert item["few_shot"]["tagged_papers"] == 0 and item["tags_method"] is None and item["collections_method"] is None
    from scimult_desktop.services.library.facade import Library

    opened = Library.open(library)
    try:
        ids = opened.papers.ids_by_citekey(["dense", "bm25", "vitd2"])
        with opened.database.transaction():
            opened.papers.add_tag(ids["dense"], "Computer Science", "user")
            opened.papers.add_tag(ids["bm25"], "computer science", "user")  # case-insensitive match to the label
            opened.papers.add_tag(ids["vitd2"], "to read", "user")          # not a label of the set: only an own tag
    finally:
        opened.close()
    [item] = json.loads(run("--library", library, "classify", "vitd", "--json").stdout)
    assert item["few_shot"]["tagged_papers"] == 2 and item["method"] in {"zero-shot", "few-shot"}
    assert item["tags_method"]["tagged_papers"] == 3 and {t["label"] for t in item["tags"]} <= {"Computer Science", "computer science", "to read"}
    text = run("--library", library, "classify", "vitd")
    assert text.exit_code == 0 and text.stderr.startswith("mag: ") and ("zero-shot" in text.stderr or "few-shot from 2 tagged papers" in text.stderr)
