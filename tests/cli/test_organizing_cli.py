"""`scimult duplicates compare|merge`, `scimult tags …`, `scimult note`: JSON contracts and undo."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scimult_desktop.cli.main import cli
from tests.bibgen import bib_entry


@pytest.fixture
def lib(tmp_path):
    """A library holding a preprint and its published version (proposed as duplicates at import)."""
    bib = tmp_path / "refs.bib"
    bib.write_text(
        bib_entry("dpr", "Dense Passage Retrieval for Open-Domain Question Answering", author="Karpukhin, Vladimir",
                  doi="10.18653/v1/2020.emnlp-main.550", abstract="Short.", extra="  keywords = {retrieval, qa}")
        + bib_entry("dprarxiv", "Dense Passage Retrieval for Open-Domain Question Answering", author="Karpukhin, Vladimir",
                    abstract="A longer abstract from the preprint.", extra="  eprint = {2004.04906},\n  archiveprefix = {arXiv},\n  keywords = {to read}"),
        encoding="utf-8",
    )
    folder = str(tmp_path / "lib")
    result = CliRunner().invoke(cli, ["--library", folder, "import", str(bib), "--json"])
    assert json.loads(result.stdout)["added"] == 2, result.output
    return folder


def run(lib, *args, input=None):
    result = CliRunner().invoke(cli, ["--library", lib, *args], input=input)
    assert result.exit_code == 0, result.output
    return result


def test_duplicates_compare_merge_and_undo(lib):
    proposals = json.loads(run(lib, "duplicates", "--json").stdout)
    assert len(proposals) == 1
    compared = json.loads(run(lib, "duplicates", "compare", "dpr", "dprarxiv", "--json").stdout)
    assert set(compared) == {"a", "b", "fields", "suggested_keep", "reason"}
    assert {f["name"]: f["richer"] for f in compared["fields"]}["abstract"] == "b"
    assert set(compared["fields"][0]) == {"name", "label", "a", "b", "differs", "richer"}

    merged = json.loads(run(lib, "duplicates", "merge", "dpr", "dprarxiv", "--json").stdout)
    assert set(merged) == {"kept", "merged", "merged_citekey", "fields_taken", "moved", "undo_id"}
    assert merged["merged_citekey"] == "dprarxiv" and "abstract" in merged["fields_taken"]
    shown = json.loads(run(lib, "show", "dpr", "--json").stdout)
    assert shown["arxiv_id"] == "2004.04906" and shown["abstract"] == "A longer abstract from the preprint."
    assert json.loads(run(lib, "duplicates", "--json").stdout) == []
    assert sorted(t["name"] for t in json.loads(run(lib, "tags", "--json").stdout)) == ["qa", "retrieval", "to read"]

    run(lib, "undo")
    assert len(json.loads(run(lib, "list", "--json").stdout)) == 2
    assert json.loads(run(lib, "duplicates", "--json").stdout) == proposals
    assert json.loads(run(lib, "show", "dpr", "--json").stdout)["abstract"] == "Short."

    kept_as_is = json.loads(run(lib, "duplicates", "merge", "dprarxiv", "dpr", "--keep-fields", "--json").stdout)
    assert kept_as_is["fields_taken"] == []
    failed = CliRunner().invoke(cli, ["--library", lib, "duplicates", "merge", "dprarxiv", "nokey"])
    assert failed.exit_code == 1 and "nokey" in failed.output


def test_tags_edit_commands_json_and_undo(lib):
    listed = json.loads(run(lib, "tags", "--json").stdout)
    assert set(listed[0]) == {"name", "papers", "colour"}
    renamed = json.loads(run(lib, "tags", "rename", "qa", "question answering", "--json").stdout)
    assert set(renamed) == {"description", "undo_id", "papers"} and renamed["papers"] == 1
    run(lib, "tags", "colour", "retrieval", "#3366cc")
    run(lib, "tags", "merge", "to read", "retrieval", "--into", "retrieval")
    tags = {t["name"]: t for t in json.loads(run(lib, "tags", "--json").stdout)}
    assert tags["retrieval"] == {"name": "retrieval", "papers": 2, "colour": "#3366cc"} and "to read" not in tags
    run(lib, "undo")
    assert "to read" in {t["name"] for t in json.loads(run(lib, "tags", "--json").stdout)}
    bad = CliRunner().invoke(cli, ["--library", lib, "tags", "colour", "retrieval", "blue"])
    assert bad.exit_code == 1 and "#rrggbb" in bad.output
    run(lib, "tags", "delete", "retrieval", input="y\n")
    assert "retrieval" not in {t["name"] for t in json.loads(run(lib, "tags", "--json").stdout)}


def test_note_command_add_list_edit_search_delete(lib):
    added = json.loads(run(lib, "note", "dpr", "--add", "Baseline: **BM25**.", "--json").stdout)
    assert set(added) == {"id", "paper_id", "body", "format", "created_at", "updated_at"} and added["format"] == "markdown"
    run(lib, "note", "dpr", "--add", "-", "--plain", input="from stdin\n")
    listed = json.loads(run(lib, "note", "dpr", "--json").stdout)
    assert [n["body"] for n in listed] == ["Baseline: **BM25**.", "from stdin\n"] and listed[1]["format"] == "plain"
    run(lib, "note", "--edit", str(added["id"]), "--text", "Baselines: BM25 and DPR.")
    hits = json.loads(run(lib, "note", "--search", "baselines", "--json").stdout)
    assert [h["note_id"] for h in hits] == [added["id"]] and set(hits[0]) == {"note_id", "paper_id", "snippet"}
    deleted = json.loads(run(lib, "note", "--delete", str(added["id"]), "--json").stdout)
    assert deleted["deleted"] == added["id"]
    run(lib, "undo")
    assert len(json.loads(run(lib, "note", "dpr", "--json").stdout)) == 2


def test_a_merged_record_does_not_come_back_on_reimport(lib, tmp_path):
    run(lib, "duplicates", "merge", "dpr", "dprarxiv")
    again = json.loads(run(lib, "import", str(tmp_path / "refs.bib"), "--force", "--json").stdout)
    assert again["added"] == 0
    listed = json.loads(run(lib, "list", "--json").stdout)
    assert [p["citekey"] for p in listed] == ["dpr"] and listed[0]["abstract"] == "A longer abstract from the preprint."
