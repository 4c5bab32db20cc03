"""`scimult contexts`: listing how library papers cite a paper, and the re-analysis, through the CLI."""

from __future__ import annotations

import json

from click.testing import CliRunner

from scimult_desktop.cli.main import cli
from scimult_desktop.services.library.facade import Library
from tests import contexts_library

CONTEXT_KEYS = {"sentence", "marker", "style", "page", "citing_paper", "cited_paper_id", "reference", "paragraph"}


def run(*args):
    return CliRunner().invoke(cli, list(args))


def make_library(tmp_path) -> tuple[str, dict]:
    folder = tmp_path / "lib"
    with Library.open(folder) as library:
        ids = contexts_library.build(library, citing=2)
    return str(folder), ids


def test_rebuild_then_list_as_json(tmp_path):
    lib, ids = make_library(tmp_path)
    result = run("--library", lib, "contexts", "--rebuild", "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["analysed"] == 2 and report["remaining"] == 0 and report["failed"] == []
    result = run("--library", lib, "contexts", str(ids["10.18653/v1/2020.emnlp-main.550"]), "--json")
    assert result.exit_code == 0, result.output
    items = json.loads(result.stdout)
    assert len(items) == 4 and all(set(item) >= CONTEXT_KEYS for item in items)
    assert {item["citing_paper"]["id"] for item in items} == {ids["citing0"], ids["citing1"]}
    assert set(items[0]["citing_paper"]) >= {"id", "citekey", "title", "year", "authors"}
    assert items[0]["paragraph"]["end"] > items[0]["paragraph"]["start"]


def test_text_output_and_limit(tmp_path):
    lib, ids = make_library(tmp_path)
    assert run("--library", lib, "contexts", "--rebuild").exit_code == 0
    result = run("--library", lib, "contexts", str(ids["10.18653/v1/n19-1423"]), "--limit", "1")
    assert result.exit_code == 0, result.output
    assert "p. 1" in result.output and "Pre-trained language models such as BERT [1] changed ranking." in result.output
    assert result.output.count("BERT [1]") == 1


def test_in_lists_the_citations_of_a_papers_own_text(tmp_path):
    lib, ids = make_library(tmp_path)
    run("--library", lib, "contexts", "--rebuild")
    result = run("--library", lib, "contexts", str(ids["citing0"]), "--in", "--json")
    assert [item["marker"] for item in json.loads(result.stdout)] == ["[1]", "[2, 3]", "[2, 3]", "[2]"]


def test_bad_usage_and_unknown_paper(tmp_path):
    lib, _ = make_library(tmp_path)
    assert run("--library", lib, "contexts").exit_code == 2
    assert run("--library", lib, "contexts", "1", "--rebuild").exit_code == 2
    result = run("--library", lib, "contexts", "no-such-paper")
    assert result.exit_code == 1 and "no-such-paper" in result.output


def test_suggestion_text_output_quotes_the_library_sentence(capsys):
    from scimult_desktop.cli.output import hit_lines
    from scimult_desktop.domain.records import Paper, SearchHit

    hit = SearchHit(Paper(title="Dense passage retrieval", citekey="dpr", year=2020), 0.5, why="Dual [encoders] retrieve")
    hit.library_context = {"sentence": "Dual encoders beat BM25 [2].", "marker": "[2]", "page": 3,
                           "citing_paper": {"id": 7, "citekey": "ours", "title": "Our paper", "year": 2021},
                           "shared_words": ["dual", "encoder"]}
    hit_lines([hit])
    out = capsys.readouterr().out
    assert "cited in your library: “Dual encoders beat BM25 [2].” (Our paper, p. 3)" in out
