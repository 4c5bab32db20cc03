"""`scimult export` and `scimult watch` through the CLI."""

from __future__ import annotations

import json

from click.testing import CliRunner

from scimult_desktop.cli.main import cli


def run(library, *args):
    return CliRunner().invoke(cli, ["--library", str(library), *args], catch_exceptions=False)


def test_export_and_watch_commands(tmp_path):
    library, folder = tmp_path / "lib", tmp_path / "inbox"
    folder.mkdir()
    (folder / "refs.bib").write_text(
        "@article{Zhang2019, title = {Über {R\\&D} in Retrieval}, author = {Zhang, Wei}, year = {2019}}\n",
        encoding="utf-8")
    assert run(library, "watch", "add", str(folder)).exit_code == 0
    listed = run(library, "watch", "list", "--json")
    assert json.loads(listed.output)[0]["path"] == str(folder.resolve())
    scanned = run(library, "watch", "run", "--once", "--min-age", "0", "--json")
    assert json.loads(scanned.output)["added"] == 1

    bibtex = run(library, "export", "Zhang2019")
    assert bibtex.exit_code == 0 and "@article{Zhang2019," in bibtex.output and "R\\&D" in bibtex.output
    out = tmp_path / "all.json"
    written = run(library, "export", "--all", "--format", "csl-json", "--out", str(out))
    assert written.exit_code == 0
    assert json.loads(out.read_text(encoding="utf-8"))[0]["title"] == "Über R&D in Retrieval"

    missing = run(library, "export", "nope")
    assert missing.exit_code == 1 and "nope" in missing.output
    assert run(library, "export").exit_code == 1
    assert run(library, "watch", "remove", str(folder)).exit_code == 0
    assert run(library, "watch", "list", "--json").output.strip() == "[]"
