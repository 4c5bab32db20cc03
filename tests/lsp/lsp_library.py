"""A small library for the language-server tests, and a real LSP client talking to `scimult lsp`.

The papers: a few on bone health (the drafts' sentences are written for `vitd`), unrelated
ones (galaxies, malaria), and synthetic filler from tests/bibgen.py, so that the library
is large enough (> 50 papers) for the "looks unrelated" check to speak.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path

from lsprotocol import types

from tests.bibgen import bib_entry, synthetic_bib

TOPICAL = [
    ("vitd", "Vitamin D supplementation and hip fracture risk in older adults", "Smith, Jane and Olsen, Per", 2019,
     "A randomised trial: daily vitamin D supplementation lowers hip fracture risk in adults over 65."),
    ("calcium", "Calcium intake and bone mineral density in postmenopausal women", "Garcia, Ana", 2015,
     "Dietary calcium intake is associated with higher bone mineral density after menopause."),
    ("falls", "Exercise programmes to prevent falls in elderly people", "Nakamura, Kenji and Brown, Lee", 2017,
     "Balance and strength training reduces the rate of falls among people over 70."),
    ("osteo", "Bisphosphonates for osteoporosis: a systematic review", "Okafor, Chidi", 2012,
     "Bisphosphonate therapy reduces vertebral and non-vertebral fractures in osteoporosis."),
    ("dense", "Dense passage retrieval for open domain question answering", "Karpukhin, Vladimir and Oguz, Barlas", 2020,
     "Dual encoders trained on question-passage pairs retrieve passages better than BM25."),
    ("galaxy", "Galaxy rotation curves and dark matter halos", "Rubin, Vera", 1980,
     "Spiral galaxies rotate as if massive dark matter halos surround them."),
    ("malaria", "Malaria transmission and insecticide-treated bed nets", "Lengeler, Christian", 2004,
     "Insecticide-treated bed nets reduce malaria transmission and child mortality."),
    ("zeldovich", "Zeldovich approximation for large-scale structure formation", "Zeldovich, Yakov", 1970,
     "Large-scale structure of the universe forms by gravitational instability."),
]
FILLER = 60

# Written for `vitd`: its words are in no other paper, and it means what vitd is about.
CLAIM = "Vitamin D supplementation has been shown to lower the risk of hip fractures in older adults"


def write_bib(path: Path) -> Path:
    entries = [bib_entry(key, title, author=author, year=year, abstract=abstract) for key, title, author, year, abstract in TOPICAL]
    path.write_text("".join(entries) + synthetic_bib(FILLER), encoding="utf-8")
    return path


def build_library(folder: Path, bib: Path, *, index: bool) -> Path:
    """Import (and index with the active model) into `folder`; returns the folder."""
    from scimult_desktop.services.library.facade import Library

    with Library.open(folder) as library:
        assert library.import_paths([bib]).added == len(TOPICAL) + FILLER
        if index:
            library.index()
    return folder


def server_command(library: Path | None) -> list[str]:
    """`python -m scimult_desktop [--library DIR] lsp` from this interpreter."""
    command = [sys.executable, "-m", "scimult_desktop"]
    if library is not None:
        command += ["--library", str(library)]
    return [*command, "lsp"]


@contextlib.asynccontextmanager
async def lsp_client(library: Path | None, env: dict[str, str] | None = None):
    """A pytest-lsp client (VS Code's capabilities) connected to a fresh `scimult lsp` over stdio."""
    from pytest_lsp import ClientServerConfig, client_capabilities

    config = ClientServerConfig(server_command=server_command(library), server_env={**os.environ, **(env or {})})
    client = await config.start()
    try:
        await client.initialize_session(
            types.InitializeParams(capabilities=client_capabilities("visual-studio-code"), root_uri=None)
        )
        yield client
        await asyncio.wait_for(client.shutdown_session(), 30)
    finally:
        server = getattr(client, "_server", None)  # a failed test never said exit: stop the server ourselves
        if server is not None and server.returncode is None:
            server.kill()
        await client.stop()


def open_document(client, path: Path, text: str, language: str) -> str:
    uri = path.as_uri()
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(types.TextDocumentItem(uri=uri, language_id=language, version=1, text=text))
    )
    return uri


def end_of(text: str, line: int) -> types.Position:
    return types.Position(line=line, character=len(text.split("\n")[line]))
