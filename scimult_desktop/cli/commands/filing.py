"""Filing papers from the shell, as the window's paper menu does: `scimult tags add|remove TAG PAPER...`
and `scimult collections [add|remove|move|rename|delete]`. Every change is one `scimult undo` step."""

from __future__ import annotations

import click

from scimult_desktop.cli.confirming import ask_unless_yes
from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json
from scimult_desktop.cli.text import TEXT
from scimult_desktop.services.library import browsing, filing


def _papers(library, references: tuple[str, ...]) -> list[int]:
    return list(dict.fromkeys(library.papers.resolve(reference) for reference in references))


def _report(change: filing.FilingChange, as_json: bool) -> None:
    if as_json:
        emit_json({"description": change.description, "changed": change.changed, "undo_id": change.undo_id})
    elif change.changed:
        click.echo(f"{change.description}; `scimult undo` reverts this", err=True)
    else:
        click.echo("nothing to change", err=True)


@click.command("add")
@click.argument("tag", type=TEXT)
@click.argument("papers", nargs=-1, required=True, type=TEXT)
@json_option
@click.pass_context
def tags_add(ctx: click.Context, tag: str, papers: tuple[str, ...], as_json: bool) -> None:
    """Tag PAPERS (ids, citation keys or DOIs) with TAG (made when new).

    JSON: {"description", "changed", "undo_id"}
    """
    library = library_from(ctx)
    _report(filing.add_tag(library, _papers(library, papers), tag), as_json)


@click.command("remove")
@click.argument("tag", type=TEXT)
@click.argument("papers", nargs=-1, required=True, type=TEXT)
@json_option
@click.pass_context
def tags_remove(ctx: click.Context, tag: str, papers: tuple[str, ...], as_json: bool) -> None:
    """Take TAG off PAPERS (the tag stays in the library; `tags delete` removes it everywhere).

    JSON: {"description", "changed", "undo_id"}
    """
    library = library_from(ctx)
    _report(filing.remove_tag(library, _papers(library, papers), tag), as_json)


@click.group("collections", invoke_without_command=True)
@json_option
@click.pass_context
def collections_group(ctx: click.Context, as_json: bool) -> None:
    """List collections with their paper counts (trash left out); file papers with the subcommands (all undoable).

    JSON: [{"name", "papers"}]
    """
    if ctx.invoked_subcommand is not None:
        return
    library = library_from(ctx)
    counts = dict(browsing.facets(library).collections)
    names = filing.collection_names(library)
    if as_json:
        emit_json([{"name": name, "papers": counts.get(name, 0)} for name in names])
        return
    if not names:
        click.echo("no collections", err=True)
    for name in names:
        click.echo(f"{counts.get(name, 0):>6}  {name}")


@collections_group.command("add")
@click.argument("collection", type=TEXT)
@click.argument("papers", nargs=-1, required=True, type=TEXT)
@json_option
@click.pass_context
def collections_add(ctx: click.Context, collection: str, papers: tuple[str, ...], as_json: bool) -> None:
    """Put PAPERS in COLLECTION (made when new; "Parent/Child" names a sub-collection).

    JSON: {"description", "changed", "undo_id"}
    """
    library = library_from(ctx)
    _report(filing.add_to_collection(library, _papers(library, papers), collection), as_json)


@collections_group.command("remove")
@click.argument("collection", type=TEXT)
@click.argument("papers", nargs=-1, required=True, type=TEXT)
@json_option
@click.pass_context
def collections_remove(ctx: click.Context, collection: str, papers: tuple[str, ...], as_json: bool) -> None:
    """Take PAPERS out of COLLECTION (they stay in the library).

    JSON: {"description", "changed", "undo_id"}
    """
    library = library_from(ctx)
    _report(filing.remove_from_collection(library, _papers(library, papers), collection), as_json)


@collections_group.command("move")
@click.argument("source", type=TEXT)
@click.argument("target", type=TEXT)
@click.argument("papers", nargs=-1, required=True, type=TEXT)
@json_option
@click.pass_context
def collections_move(ctx: click.Context, source: str, target: str, papers: tuple[str, ...], as_json: bool) -> None:
    """Move PAPERS from collection SOURCE to TARGET (made when new).

    JSON: {"description", "changed", "undo_id"}
    """
    library = library_from(ctx)
    _report(filing.move_to_collection(library, _papers(library, papers), source, target), as_json)


@collections_group.command("rename")
@click.argument("old", type=TEXT)
@click.argument("new", type=TEXT)
@json_option
@click.pass_context
def collections_rename(ctx: click.Context, old: str, new: str, as_json: bool) -> None:
    """Rename collection OLD (and its sub-collections) to NEW.

    JSON: {"description", "changed", "undo_id"}
    """
    _report(filing.rename_collection(library_from(ctx), old, new), as_json)


@collections_group.command("delete")
@click.argument("collection", type=TEXT)
@click.option("--yes", is_flag=True, help="Do not ask (needed when not at a terminal).")
@json_option
@click.pass_context
def collections_delete(ctx: click.Context, collection: str, yes: bool, as_json: bool) -> None:
    """Delete COLLECTION and its sub-collections; their papers stay in the library (`scimult undo` reverts).

    JSON: {"description", "changed", "undo_id"}
    """
    ask_unless_yes(yes, f"Delete the collection {collection!r} and its sub-collections (papers stay)?",
                   "add --yes to delete a collection without being asked")
    _report(filing.delete_collection(library_from(ctx), collection), as_json)


def _register_tag_commands() -> None:
    # `tags add/remove` sit beside `tags rename/merge/colour/delete` (cli/commands/organizing.py).
    from scimult_desktop.cli.commands.organizing import tags_group

    for command in (tags_add, tags_remove):
        if command.name not in tags_group.commands:
            tags_group.add_command(command)


_register_tag_commands()

COMMANDS = [collections_group]
