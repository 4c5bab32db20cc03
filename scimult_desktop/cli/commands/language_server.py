"""`scimult lsp`: the language server editors start for citation completion, hover and checks."""

from __future__ import annotations

import click


@click.command("lsp")
@click.option("--model", default=None, help="Model to rank with (default: the active model).")
@click.option("--engine", default=None, help="Inference engine (default: from settings).")
@click.option("--stdio", is_flag=True, help="Talk over stdin/stdout (the default and only transport; editors often pass it).")
@click.pass_context
def lsp_command(ctx: click.Context, model: str | None, engine: str | None, stdio: bool) -> None:
    """Language server for LaTeX, Markdown/Quarto and plain-text drafts, over stdio.

    Completes citation keys inside \\cite{...} and after Pandoc's @, ranked by the
    sentence being written; hover shows a cited paper; diagnostics flag cited keys that
    are missing or look unrelated; a code action cites a suggested paper. Reads the
    library (--library / $SCIMULT_LIBRARY) and never writes to it.
    See docs/editor-integration.md.
    """
    try:
        from scimult_desktop.lsp.server import serve_stdio
    except ImportError as exc:
        raise click.ClickException(
            f"the language server needs pygls ({exc.name} is missing): pip install 'scimult-desktop[lsp]'"
        ) from None
    serve_stdio(ctx.obj.get("library_path"), model=model, engine=engine)


COMMANDS = [lsp_command]
