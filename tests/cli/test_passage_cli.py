"""scimult index --passages/--no-passages and the "passage" field of scimult search --json (tiny real model)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from scimult_desktop.cli.main import cli
from tests.bibgen import bib_entry

BODY = ("The outer hydrogen clouds of spiral galaxies orbit faster than their visible stars can explain, "
        "so each galaxy must sit inside a massive halo of unseen matter. ") * 5


def run(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def library(tiny_bundle, tmp_path):
    from scimult_desktop.store.database import LibraryDatabase

    assert run("model", "install", str(tiny_bundle)).exit_code == 0
    bib = tmp_path / "refs.bib"
    bib.write_text(bib_entry("galaxy", "Galaxy rotation curves", abstract="Rotation curves of spiral galaxies.")
                   + bib_entry("vitd", "Vitamin D and fracture risk", abstract="A randomised trial in older adults."))
    lib = tmp_path / "lib"
    assert run("--library", str(lib), "import", str(bib)).exit_code == 0
    with LibraryDatabase(lib) as database, database.transaction():
        galaxy = database.conn.execute("SELECT id FROM papers WHERE citekey = 'galaxy'").fetchone()[0]
        database.conn.executemany("INSERT INTO pages (paper_id, page, text) VALUES (?, ?, ?)",
                                  [(galaxy, 1, "Introduction. " * 30), (galaxy, 2, BODY)])
    return str(lib)


def test_index_without_passages_then_with_them(library):
    off = run("--library", library, "index", "--no-passages", "--json")
    assert off.exit_code == 0, off.output
    assert json.loads(off.stdout)["passages"] == {"enabled": False}
    on = json.loads(run("--library", library, "index", "--json").stdout)["passages"]
    assert on["enabled"] and on["papers_split"] == 1 and on["embedded"] == on["passages"] == on["indexed"] >= 2
    again = json.loads(run("--library", library, "index", "--json").stdout)["passages"]
    assert again["embedded"] == 0 and again["already_embedded"] == on["passages"]


def test_search_json_gains_the_passage_and_keeps_every_field(library):
    assert run("--library", library, "index", "--json").exit_code == 0
    result = run("--library", library, "search", "hydrogen clouds orbit faster than visible stars",
                 "--mode", "semantic", "--json")
    assert result.exit_code == 0, result.output
    hits = {h["citekey"]: h for h in json.loads(result.stdout)}
    assert {"id", "citekey", "title", "score"} <= set(hits["galaxy"])
    passage = hits["galaxy"]["passage"]
    assert set(passage) == {"text", "page", "score"} and passage["page"] == 2 and "hydrogen clouds" in passage["text"]
    assert "passage" not in hits["vitd"]  # no PDF text, no passage
    text = run("--library", library, "search", "hydrogen clouds orbit faster than visible stars", "--mode", "semantic")
    assert "[hydrogen] [clouds] of spiral galaxies [orbit] [faster]" in text.output and "(page 2)" in text.output
