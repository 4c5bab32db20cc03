"""Opening the library a command works on."""

from __future__ import annotations

import click

from scimult_desktop.cli.progress import StderrProgress
from scimult_desktop.services import open_library
from scimult_desktop.services.library.facade import Library


def library_from(ctx: click.Context, create: bool = True) -> Library:
    library = open_library(ctx.obj.get("library_path"), create=create)
    progress = StderrProgress()
    library.background_progress = progress
    ctx.call_on_close(library.close)
    ctx.call_on_close(progress.close)
    return library


json_option = click.option("--json", "as_json", is_flag=True, help="Print machine-readable JSON on stdout.")
