"""Commands for the encoder: index (embed the library), model management, embed."""

from __future__ import annotations

import click

from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json
from scimult_desktop.cli.progress import StderrProgress
from scimult_desktop.domain.progress import CancelToken


@click.command("index")
@json_option
@click.pass_context
def index_command(ctx: click.Context, as_json: bool) -> None:
    """Embed every paper not embedded yet (resumable; Ctrl+C keeps what is done)."""
    progress = StderrProgress()
    try:
        result = library_from(ctx).index(progress=progress, cancel=CancelToken())
    finally:
        progress.close()
    if as_json:
        emit_json(result)
    else:
        click.echo(", ".join(f"{k}: {v}" for k, v in result.items()))


COMMANDS = [index_command]
