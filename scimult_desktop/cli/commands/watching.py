"""`scimult watch`: folders whose new or changed PDFs/.bib files are imported automatically."""

from __future__ import annotations

import click

from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json
from scimult_desktop.domain.progress import CancelToken
from scimult_desktop.domain.records import ImportReport
from scimult_desktop.services.library.watching import (
    add_watch_folder,
    list_watch_folders,
    remove_watch_folder,
    run_watch_loop,
    scan_watch_folders,
)


@click.group("watch")
def watch_group() -> None:
    """Watch folders: new or changed PDFs and .bib files in them are imported."""


@watch_group.command("add")
@click.argument("folder", type=click.Path(file_okay=False))
@click.pass_context
def watch_add(ctx: click.Context, folder: str) -> None:
    """Start watching FOLDER (its files import on the next `scimult watch run`)."""
    watched = add_watch_folder(library_from(ctx), folder)
    click.echo(f"watching {watched.path}")


@watch_group.command("list")
@json_option
@click.pass_context
def watch_list(ctx: click.Context, as_json: bool) -> None:
    """List watched folders and when each was last scanned.

    JSON: [{"path", "added_at", "last_scan_at", "last_report"}]
    """
    folders = list_watch_folders(library_from(ctx))
    if as_json:
        emit_json([f.to_json() for f in folders])
        return
    for folder in folders:
        click.echo(f"{folder.path}  (last scan: {folder.last_scan_at or 'never'})")
    if not folders:
        click.echo("no watched folders", err=True)


@watch_group.command("remove")
@click.argument("folder", type=click.Path())
@click.pass_context
def watch_remove(ctx: click.Context, folder: str) -> None:
    """Stop watching FOLDER (its papers stay in the library)."""
    remove_watch_folder(library_from(ctx), folder)
    click.echo(f"stopped watching {folder}")


@watch_group.command("run")
@click.option("--once", is_flag=True, help="Scan once and exit (for scripts and cron).")
@click.option("--interval", type=click.FloatRange(min=0.5), default=30.0, show_default=True,
              help="Seconds between scans.")
@click.option("--min-age", type=click.FloatRange(min=0), default=2.0, show_default=True,
              help="Leave files changed less than this many seconds ago for the next scan.")
@json_option
@click.pass_context
def watch_run(ctx: click.Context, once: bool, interval: float, min_age: float, as_json: bool) -> None:
    """Import new or changed files from the watched folders (Ctrl+C stops).

    JSON (one line per scan): {"added", "updated", "skipped", "failed": [...]}
    """
    library = library_from(ctx)

    def show(report: ImportReport) -> None:
        if as_json:
            emit_json(report.to_json())
            return
        if once or report.added or report.updated or report.failed:
            click.echo(f"added {report.added}, updated {report.updated}, skipped {report.skipped}, "
                       f"failed {len(report.failed)}")
        for problem in report.failed:
            click.echo(f"  failed: {problem.path}: {problem.error}", err=True)

    if once:
        show(scan_watch_folders(library, min_age=min_age))
        return
    if not list_watch_folders(library):
        click.echo("no watched folders: add one with `scimult watch add DIR`", err=True)
        ctx.exit(1)
    run_watch_loop(library, interval=interval, min_age=min_age, cancel=CancelToken(), on_scan=show)


COMMANDS = [watch_group]
