"""`scimult lsp` on drafts as researchers write them, without a model (fast): keys in comments,
code, verbatim and cross references are not checked, and every range and edit is in UTF-16
code units with accented letters, dashes and emoji before it on the line."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.lsp.lsp_library import CLAIM, build_library, lsp_client, open_document, write_bib

pytestmark = pytest.mark.asyncio(loop_scope="function")
TIMEOUT_S = 60
PREFIX = "Café — naïve 🚀 "  # 🚀 is two UTF-16 code units, one Python character


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def position_of(text: str, needle: str, after: int = 0) -> types.Position:
    offset = text.index(needle, after)
    line = text.count("\n", 0, offset)
    line_start = text.rfind("\n", 0, offset) + 1
    return types.Position(line, utf16(text[line_start:offset]))


@pytest.fixture
def library(tmp_path, monkeypatch):
    monkeypatch.setenv("SCIMULT_MODELS_DIR", str(tmp_path / "no-models"))
    return build_library(tmp_path / "library", write_bib(tmp_path / "refs.bib"), index=False)


async def _settled_diagnostics(client, uri: str) -> list[types.Diagnostic]:
    async def arrived():
        while uri not in client.diagnostics:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(arrived(), TIMEOUT_S)
    await asyncio.sleep(0.3)
    return sorted(client.diagnostics[uri], key=lambda d: (d.range.start.line, d.range.start.character))


LATEX = "\n".join([
    r"\begin{document}",
    PREFIX + r"methods fail \cite{vitd, ghost-1} here. % \cite{commented_ghost}",
    r"% A whole comment line \cite{line_ghost}.",
    r"We call \verb|\cite{verb_ghost}| and 50\% \cite{ghost:2}.",
    r"\begin{verbatim}",
    r"\cite{verbatim_ghost}",
    r"\end{verbatim}",
    r"\begin{comment}",
    r"\cite{comment_env_ghost}",
    r"\end{comment}",
    r"\end{document}",
    "",
])

MARKDOWN = "\n".join([
    "---",
    "title: A draft citing @yaml_ghost",
    "---",
    PREFIX + "methods fail [@vitd; @ghost-1, p. 3]. Mail me@ghost.org.",
    "See @fig-results and `[@inline_ghost]`. <!-- [@html_ghost] -->",
    "```",
    "[@fenced_ghost]",
    "```",
    "Finally 🚀🚀 @ghost:2 said so.",
    "",
])


@pytest.mark.parametrize("language, text", [("latex", LATEX), ("markdown", MARKDOWN)])
async def test_only_keys_the_draft_really_cites_are_checked_at_their_utf16_places(library, tmp_path, language, text):
    async with lsp_client(library) as client:
        uri = open_document(client, tmp_path / ("draft.tex" if language == "latex" else "draft.md"), text, language)
        found = await _settled_diagnostics(client, uri)
    assert [d.message for d in found] == ["ghost-1: not in the library", "ghost:2: not in the library"]
    for diagnostic, key in zip(found, ("ghost-1", "ghost:2")):
        start = position_of(text, key, text.index("\n", text.index(PREFIX) - 1) if key == "ghost-1" else 0)
        assert diagnostic.range.start == start
        assert diagnostic.range.end == types.Position(start.line, start.character + len(key))


async def test_code_action_and_completion_edits_are_in_utf16_after_emoji(library, tmp_path):
    text = PREFIX + CLAIM + ".\n" + PREFIX + r"Bone health matters \cite{" + "\n"
    async with lsp_client(library) as client:
        uri = open_document(client, tmp_path / "draft.tex", text, "latex")
        actions = await asyncio.wait_for(client.text_document_code_action_async(types.CodeActionParams(
            types.TextDocumentIdentifier(uri), types.Range(types.Position(0, utf16(PREFIX) + 3), types.Position(0, utf16(PREFIX) + 3)),
            types.CodeActionContext(diagnostics=[]))), TIMEOUT_S)
        assert actions
        [edit] = actions[0].edit.changes[uri]
        assert edit.range.start == types.Position(0, utf16(PREFIX + CLAIM))

        line = text.split("\n")[1]
        result = await client.text_document_completion_async(
            types.CompletionParams(types.TextDocumentIdentifier(uri), types.Position(1, utf16(line))))
        assert result.items
        assert result.items[0].text_edit.range.start == types.Position(1, utf16(line))


async def test_keys_cited_in_table_cells_and_nocite_are_checked_too(library, tmp_path):
    text = "\n".join([
        r"\nocite{vitd,nocite_ghost}",
        r"\begin{tabular}{ll}",
        PREFIX + r"\cite{table_ghost} & 0.3 \\ % \cite{commented_ghost}",
        r"\end{tabular}",
        "",
    ])
    async with lsp_client(library) as client:
        uri = open_document(client, tmp_path / "draft.tex", text, "latex")
        found = await _settled_diagnostics(client, uri)
    assert [(d.message, d.range.start) for d in found] == [
        ("nocite_ghost: not in the library", position_of(text, "nocite_ghost")),
        ("table_ghost: not in the library", position_of(text, "table_ghost")),
    ]
