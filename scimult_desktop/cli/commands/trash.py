"""`scimult delete` and `scimult trash`: deleting papers to the trash, restoring them, emptying it."""

from __future__ import annotations

import click

from scimult_desktop.cli.confirming import ask_unless_yes
from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json, paper_line
from scimult_desktop.cli.text import TEXT
from scimult_desktop.services.library import trash


@click.command("delete")
@click.argument("papers", nargs=-1, required=True, type=TEXT)
@json_option
@click.pass_context
def delete_command(ctx: click.Context, papers: tuple[str, ...], as_json: bool) -> None:
    """Move papers (ids, citation keys or DOIs) to the trash.

    Nothing is lost: `scimult undo` or `scimult trash restore PAPER...` brings them back;
    only `scimult trash empty --yes` removes them for good. All names are checked first:
    one unknown paper and nothing is deleted.

    JSON: {"trashed": [ids], "already_in_trash": [ids], "undo_id": n | null}
    """
    receipt = trash.trash_papers(library_from(ctx, create=False), papers)
    if as_json:
        emit_json(receipt.to_json())
        return
    click.echo(f"moved {len(receipt.trashed)} paper(s) to the trash; `scimult undo` brings them back", err=True)
    if receipt.already_in_trash:
        click.echo(f"already in the trash: {', '.join(map(str, receipt.already_in_trash))}", err=True)


@click.group("trash", invoke_without_command=True)
@json_option
@click.pass_context
def trash_group(ctx: click.Context, as_json: bool) -> None:
    """List the papers in the trash (also `trash list`); `trash restore`, `trash empty` act on it.

    JSON: [{"id", "citekey", "title", "authors": [..], "year", "deleted_at"}]
    """
    if ctx.invoked_subcommand is None:
        _list(ctx, as_json)


@trash_group.command("list")
@json_option
@click.pass_context
def trash_list(ctx: click.Context, as_json: bool) -> None:
    """List the papers in the trash, most recently deleted first.

    JSON: [{"id", "citekey", "title", "authors": [..], "year", "deleted_at"}]
    """
    _list(ctx, as_json or bool(ctx.parent and ctx.parent.params.get("as_json")))


def _list(ctx: click.Context, as_json: bool) -> None:
    papers = trash.list_trash(library_from(ctx, create=False))
    if as_json:
        emit_json([paper.to_json() for paper in papers])
        return
    for paper in papers:
        click.echo(f"{paper_line(paper)}  [deleted {paper.deleted_at}]")
    click.echo(f"{len(papers)} paper(s) in the trash", err=True)


@trash_group.command("restore")
@click.argument("papers", nargs=-1, required=True, type=TEXT)
@json_option
@click.pass_context
def trash_restore(ctx: click.Context, papers: tuple[str, ...], as_json: bool) -> None:
    """Take papers (ids, citation keys or DOIs) out of the trash.

    JSON: {"restored": [ids]}
    """
    restored = trash.restore_papers(library_from(ctx, create=False), papers)
    if as_json or (ctx.parent and ctx.parent.params.get("as_json")):
        emit_json({"restored": restored})
    else:
        click.echo(f"restored {len(restored)} paper(s)", err=True)


@trash_group.command("empty")
@click.argument("papers", nargs=-1, type=TEXT)
@click.option("--yes", is_flag=True, help="Do not ask: delete for good (needed when not at a terminal).")
@json_option
@click.pass_context
def trash_empty(ctx: click.Context, papers: tuple[str, ...], yes: bool, as_json: bool) -> None:
    """Delete the papers in the trash for good (all, or only PAPERS). Cannot be undone.

    Files on disk are not touched. Asks first unless --yes.

    JSON: {"removed": n}
    """
    library = library_from(ctx, create=False)
    count = len(papers) if papers else len(trash.list_trash(library))
    if count:
        ask_unless_yes(yes, f"Delete {count} paper(s) in the trash for good? This cannot be undone",
                       "emptying the trash cannot be undone: add --yes to confirm")
    removed = trash.empty_trash(library, papers or None)
    if as_json or (ctx.parent and ctx.parent.params.get("as_json")):
        emit_json({"removed": removed})
    else:
        click.echo(f"removed {removed} paper(s) for good", err=True)


COMMANDS = [delete_command, trash_group]
