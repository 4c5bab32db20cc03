"""`scimult lsp`: the language server, wired on pygls. Handlers are thin; the work is in `session`.

The event loop only parses messages and builds answers: library and model work runs on
the session's worker threads and is awaited, so a slow check never delays a completion
and nothing blocks on the model. Diagnostics are recomputed `CHECK_DELAY_S` after the
last change of a document (and at once when it opens), and published only if the
document did not change meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path
from urllib.parse import unquote, urlparse

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from scimult_desktop import __version__
from scimult_desktop.errors import ScimultError
from scimult_desktop.lsp import features
from scimult_desktop.lsp.cite_context import cite_context_at, key_at
from scimult_desktop.lsp.positions import UTF16, TextPositions
from scimult_desktop.lsp.session import EditorSession, StartReport
from scimult_desktop.services.writing.citing import draft_kind

log = logging.getLogger(__name__)

CHECK_DELAY_S = 0.5
TRIGGER_CHARACTERS = ["{", ",", "@", ";"]
_LANGUAGE_KINDS = {
    "latex": "latex", "tex": "latex", "plaintex": "latex", "context": "latex",
    "markdown": "markdown", "quarto": "markdown", "rmd": "markdown", "rmarkdown": "markdown", "pandoc": "markdown",
}


class ScimultLanguageServer(LanguageServer):
    """The pygls server plus the library session and the pending diagnostics of each document."""

    def __init__(self, session: EditorSession) -> None:
        super().__init__("scimult", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.session = session
        self.pending_checks: dict[str, asyncio.Task] = {}

    # ---- helpers used by the handlers --------------------------------------------------
    def document(self, uri: str):
        return self.workspace.get_text_document(uri)

    def positions(self, text: str) -> TextPositions:
        encoding = self.workspace.position_encoding or UTF16
        return TextPositions(text, str(getattr(encoding, "value", encoding)))

    def tell(self, level: types.MessageType, message: str) -> None:
        self.window_show_message(types.ShowMessageParams(type=level, message=f"SciMult: {message}"))

    def library_missing(self) -> bool:
        return self.session.started.done() and self.session.started.result().library_error is not None

    def check_soon(self, uri: str, delay: float = CHECK_DELAY_S) -> None:
        """(Re)schedule the diagnostics of `uri`: the last change wins."""
        previous = self.pending_checks.pop(uri, None)
        if previous is not None:
            previous.cancel()
        self.pending_checks[uri] = asyncio.get_running_loop().create_task(self._check(uri, delay))

    async def _check(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        await asyncio.wrap_future(self.session.started)
        if self.library_missing():
            return
        document = self.document(uri)
        version, text, kind = document.version, document.source, document_kind(document)
        try:
            flags = await asyncio.wrap_future(self.session.check_async(text, kind))
        except ScimultError as exc:
            log.warning("checking %s: %s", uri, exc)
            return
        current = self.workspace.text_documents.get(uri)
        if current is None or current.version != version:
            return  # changed or closed meanwhile: a newer check is on its way
        self.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(
                uri=uri, version=version, diagnostics=features.diagnostics(flags, text, kind, self.positions(text))
            )
        )


def document_kind(document) -> str:
    """latex, markdown or plain, from the editor's language id, else from the file name."""
    kind = _LANGUAGE_KINDS.get((document.language_id or "").lower())
    if kind:
        return kind
    parsed = urlparse(document.uri)
    return draft_kind(Path(unquote(parsed.path))) if parsed.path else "plain"


def build_server(library_path: str | os.PathLike | None = None, *, model: str | None = None, engine: str | None = None) -> ScimultLanguageServer:
    """The language server for the library at `library_path` (None: `$SCIMULT_LIBRARY`, else the default)."""
    server = ScimultLanguageServer(EditorSession(library_path, model=model, engine=engine))

    @server.feature(types.INITIALIZED)
    def initialized(ls: ScimultLanguageServer, params: types.InitializedParams) -> None:
        loop = asyncio.get_running_loop()
        ls.session.start().add_done_callback(lambda done: loop.call_soon_threadsafe(_announce, ls, done.result()))

    @server.feature(types.SHUTDOWN)
    async def shutdown(ls: ScimultLanguageServer, params: None) -> None:
        for task in ls.pending_checks.values():
            task.cancel()
        await asyncio.to_thread(ls.session.close)  # a check under way finishes first

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: ScimultLanguageServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.check_soon(params.text_document.uri, delay=0)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: ScimultLanguageServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.check_soon(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: ScimultLanguageServer, params: types.DidCloseTextDocumentParams) -> None:
        pending = ls.pending_checks.pop(params.text_document.uri, None)
        if pending is not None:
            pending.cancel()
        ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(types.TEXT_DOCUMENT_COMPLETION, types.CompletionOptions(trigger_characters=TRIGGER_CHARACTERS))
    async def completion(ls: ScimultLanguageServer, params: types.CompletionParams) -> types.CompletionList | None:
        document = ls.document(params.text_document.uri)
        text, kind = document.source, document_kind(document)
        positions = ls.positions(text)
        context = cite_context_at(text, positions.offset(params.position.line, params.position.character), kind)
        if context is None:
            return None
        await asyncio.wrap_future(ls.session.started)  # the first completion may wait for the model
        if ls.library_missing():
            return types.CompletionList(is_incomplete=False, items=[])
        try:
            candidates = await asyncio.wrap_future(ls.session.complete_async(text, kind, context))
        except ScimultError as exc:
            log.warning("completion: %s", exc)
            return types.CompletionList(is_incomplete=True, items=[])
        return features.completion_list(candidates, context, positions)

    @server.feature(types.TEXT_DOCUMENT_HOVER)
    async def hover(ls: ScimultLanguageServer, params: types.HoverParams) -> types.Hover | None:
        document = ls.document(params.text_document.uri)
        text, kind = document.source, document_kind(document)
        positions = ls.positions(text)
        cited = key_at(text, positions.offset(params.position.line, params.position.character), kind)
        if cited is None or ls.library_missing():
            return None
        try:
            paper = await asyncio.wrap_future(ls.session.describe_async(cited.key))
        except ScimultError as exc:
            log.warning("hover: %s", exc)
            return None
        if paper is None:
            return types.Hover(
                contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=f"`{cited.key}`: not in the library"),
                range=features.lsp_range(positions, cited.start, cited.end),
            )
        return features.hover(paper, cited, positions)

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(code_action_kinds=[types.CodeActionKind.QuickFix])
    )
    async def code_action(ls: ScimultLanguageServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
        if ls.library_missing():
            return None
        document = ls.document(params.text_document.uri)
        text, kind = document.source, document_kind(document)
        positions = ls.positions(text)
        offset = positions.offset(params.range.start.line, params.range.start.character)
        try:
            suggestion = await asyncio.wrap_future(ls.session.suggest_here_async(text, kind, offset))
        except ScimultError as exc:
            log.warning("code action: %s", exc)
            return None
        if suggestion is None or not suggestion.papers:
            return None
        return features.code_actions(params.text_document.uri, text, kind, suggestion, positions)

    return server


def _announce(ls: ScimultLanguageServer, report: StartReport) -> None:
    """Tell the user what does not work and why, then check the open documents with the model."""
    if report.library_error is not None:
        ls.tell(types.MessageType.Error, f"{report.library_error}. Citation completion, hover and checks are off; "
                "import papers with `scimult import` (or start the server with --library DIR) and restart it.")
        return
    if report.model_error is not None:
        ls.tell(types.MessageType.Warning, f"{report.model_error}. Until then completion ranks by words only and "
                "checks flag only keys missing from the library.")
    for note in report.notes:
        ls.tell(types.MessageType.Info, note)
    for uri in list(ls.workspace.text_documents):
        ls.check_soon(uri, delay=0)


def serve_stdio(library_path: str | os.PathLike | None = None, *, model: str | None = None, engine: str | None = None) -> None:
    """Run the language server on stdin/stdout until the editor says exit."""
    build_server(library_path, model=model, engine=engine).start_io()
