import json

import pytest
from click.testing import CliRunner

from scimult_desktop.cli.main import cli
from tests.bibgen import bib_entry


def all_commands(group=cli, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield prefix + (name,), command
        if hasattr(command, "commands"):
            yield from all_commands(command, prefix + (name,))


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def bib(tmp_path):
    path = tmp_path / "refs.bib"
    path.write_text(
        bib_entry("karpukhin2020dense", "Dense Passage Retrieval for Open-Domain Question Answering",
                  author="Karpukhin, Vladimir", doi="10.18653/v1/2020.emnlp-main.550",
                  abstract="Open-domain question answering relies on efficient passage retrieval.")
        + bib_entry("lecun1998gradient", "Gradient-based learning applied to document recognition",
                    author="LeCun, Yann", year=1998, abstract="Multilayer neural networks trained with backpropagation.")
    )
    return path


@pytest.mark.parametrize("path", [p for p, _ in all_commands()], ids=lambda p: " ".join(p))
def test_every_command_has_help(runner, path):
    result = runner.invoke(cli, [*path, "--help"])
    assert result.exit_code == 0, result.output
    command = dict(all_commands())[path]
    assert (command.help or "").strip(), f"{' '.join(path)} has no help text"


def test_import_list_search_json_contract(runner, bib, tmp_path):
    lib = str(tmp_path / "lib")
    result = runner.invoke(cli, ["--library", lib, "import", str(bib), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"added": 2, "updated": 0, "skipped": 0, "failed": [], "no_text_layer": []}

    listed = json.loads(runner.invoke(cli, ["--library", lib, "list", "--json"]).stdout)
    assert [set(p) for p in listed] == [{"id", "citekey", "title", "authors", "year", "doi", "arxiv_id", "abstract", "files"}] * 2
    assert listed[0]["authors"] == ["Karpukhin, Vladimir"] and listed[0]["doi"] == "10.18653/v1/2020.emnlp-main.550"

    result = runner.invoke(cli, ["--library", lib, "search", "passage retrieval", "--mode", "keyword", "--json"])
    hits = json.loads(result.stdout)
    assert hits[0]["citekey"] == "karpukhin2020dense"
    assert set(hits[0]) == {"id", "citekey", "title", "score"}
    assert all(isinstance(h["score"], float) for h in hits)


def test_library_comes_from_the_environment_when_not_given(runner, bib, tmp_path, monkeypatch):
    monkeypatch.setenv("SCIMULT_LIBRARY", str(tmp_path / "envlib"))
    assert runner.invoke(cli, ["import", str(bib)]).exit_code == 0
    assert (tmp_path / "envlib" / "library.sqlite3").exists()


def test_show_accepts_id_citekey_and_doi(runner, bib, tmp_path):
    lib = str(tmp_path / "lib")
    runner.invoke(cli, ["--library", lib, "import", str(bib)])
    for ref in ("1", "karpukhin2020dense", "10.18653/v1/2020.emnlp-main.550"):
        shown = json.loads(runner.invoke(cli, ["--library", lib, "show", ref, "--json"]).stdout)
        assert shown["id"] == 1


def test_expected_errors_are_one_line_on_stderr_with_exit_1(runner, tmp_path):
    lib = str(tmp_path / "lib")
    result = runner.invoke(cli, ["--library", lib, "show", "no-such-paper"])
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines() == ["error: no paper with id, citation key or DOI 'no-such-paper' in this library"]
    assert "Traceback" not in result.output


def test_usage_errors_exit_2(runner, tmp_path):
    assert runner.invoke(cli, ["search"]).exit_code == 2
    assert runner.invoke(cli, ["search", "x", "--mode", "psychic"]).exit_code == 2
    assert runner.invoke(cli, ["suggest"]).exit_code == 2
    assert runner.invoke(cli, ["no-such-command"]).exit_code == 2


def test_import_of_only_broken_inputs_fails_with_exit_1_and_lists_them(runner, tmp_path):
    result = runner.invoke(cli, ["--library", str(tmp_path / "lib"), "import", str(tmp_path / "nope.bib"), "--json"])
    assert result.exit_code == 1
    assert json.loads(result.stdout)["failed"] == [{"path": str(tmp_path / "nope.bib"), "error": "no such file or folder"}]


def test_status_reports_counts_without_a_model(runner, bib, tmp_path):
    lib = str(tmp_path / "lib")
    runner.invoke(cli, ["--library", lib, "import", str(bib)])
    info = json.loads(runner.invoke(cli, ["--library", lib, "status", "--json"]).stdout)
    assert (info["papers"], info["model"], info["indexed"]) == (2, None, None)
    assert info["last_import"]["status"] == "done"


def test_finding_commands_on_an_empty_library_return_empty_lists(runner, tmp_path):
    lib = str(tmp_path / "empty")
    result = runner.invoke(cli, ["--library", lib, "classify", "--all", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == []
    assert json.loads(runner.invoke(cli, ["--library", lib, "search", "x", "--mode", "keyword", "--json"]).stdout) == []
