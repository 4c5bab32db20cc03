"""Text that is not valid UTF-8 never crashes a command.

On POSIX, argv bytes that are not UTF-8 reach Python as lone surrogates ("\\udcff"); the
tokenizer and SQLite used to refuse them with a traceback. Each command that takes free
text must answer normally (results, or one clear error line), never with a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from scimult_desktop.cli.main import cli
from tests.bibgen import bib_entry

BAD = "\udcff\udcfe"  # what Python makes of argv bytes b"\xff\xfe"


def run(*args):
    return CliRunner().invoke(cli, list(args))


@pytest.fixture
def library(tiny_bundle, tmp_path):
    assert run("model", "install", str(tiny_bundle)).exit_code == 0
    bib = tmp_path / "refs.bib"
    bib.write_text(
        bib_entry("dense", "dense passage retrieval for open domain question answering", abstract="dual encoders retrieve passages")
        + bib_entry("bm25", "the probabilistic relevance framework bm25 and beyond", abstract="term weighting for retrieval")
    )
    lib = str(tmp_path / "lib")
    assert run("--library", lib, "import", str(bib)).exit_code == 0
    return lib


COMMANDS = [
    ("search", BAD),
    ("search", "--mode", "semantic", f"dense {BAD} retrieval"),
    ("search", "--mode", "keyword", BAD),
    ("search", "--collection", BAD, "retrieval"),
    ("search", "--tag", BAD, "retrieval"),
    ("suggest", "--text", f"dual encoders {BAD} retrieve"),
    ("related", BAD),
    ("classify", BAD),
    ("show", BAD),
    ("export", BAD),
    ("embed", "--task", "search", "--text", BAD),
]


@pytest.mark.parametrize("args", COMMANDS, ids=[" ".join(a[:3]).replace(BAD, "BAD") for a in COMMANDS])
def test_undecodable_text_gets_an_answer_not_a_traceback(library, args):
    result = run("--library", library, *args)
    assert result.exit_code in (0, 1), result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    if result.exit_code == 1:
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ")


def test_undecodable_text_search_still_finds_papers(library):
    result = run("--library", library, "search", "--mode", "semantic", f"dense {BAD} retrieval", "--json")
    assert result.exit_code == 0 and '"citekey"' in result.stdout


def test_query_and_text_files_with_undecodable_bytes(library, tmp_path):
    queries = tmp_path / "queries.txt"
    queries.write_bytes(b"dense \xff retrieval\nterm weighting\n")
    for args in (("search", "--queries", str(queries)), ("suggest", "--queries", str(queries)),
                 ("embed", "--task", "search", "--file", str(queries))):  # fmt: skip
        result = run("--library", library, *args)
        assert result.exit_code == 0, (args, result.output, result.exception)


@pytest.mark.skipif(os.name == "nt", reason="argv bytes are a POSIX matter")
def test_real_argv_bytes_through_the_installed_command(library, tmp_path):
    env = dict(os.environ, SCIMULT_LIBRARY=library)
    result = subprocess.run([sys.executable, "-m", "scimult_desktop", "search", b"dense \xff\xfe retrieval"],
                            capture_output=True, env=env, timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    assert b"Traceback" not in result.stderr and b"dense" in result.stdout
