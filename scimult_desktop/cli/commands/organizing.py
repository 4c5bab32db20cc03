"""Commands that organise the library: merge duplicates, edit tags, notes on papers."""

from __future__ import annotations

import sys

import click

from scimult_desktop.cli.commands.library import duplicates_group
from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json
from scimult_desktop.cli.text import TEXT
from scimult_desktop.services.library import merging, notes, tagging


@duplicates_group.command("compare")
@click.argument("paper_a", type=TEXT)
@click.argument("paper_b", type=TEXT)
@json_option
@click.pass_context
def duplicates_compare(ctx: click.Context, paper_a: str, paper_b: str, as_json: bool) -> None:
    """Show PAPER_A and PAPER_B side by side: differing fields, the richer value, what each carries.

    JSON: {"a": {"id", "citekey", "title", "tags", "collections", "counts"}, "b": {...},
    "fields": [{"name", "label", "a", "b", "differs", "richer"}], "suggested_keep", "reason"}
    """
    comparison = merging.compare_duplicates(library_from(ctx), paper_a, paper_b)
    if as_json:
        emit_json(comparison.to_json())
        return
    a, b = comparison.a.paper, comparison.b.paper
    click.echo(f"A: {a.id} [{a.citekey}]    B: {b.id} [{b.citekey}]    keep by default: {comparison.suggested_keep}")
    for item in comparison.fields:
        mark = "*" if item.differs else " "
        click.echo(f"{mark} {item.label:<9} A: {item.value_a[:70]}")
        if item.differs:
            click.echo(f"  {'':<9} B: {item.value_b[:70]}   (richer: {item.richer.upper()})")
    for side, letter in ((comparison.a, "A"), (comparison.b, "B")):
        counts = ", ".join(f"{n} {k}" for k, n in side.counts.items() if n)
        click.echo(f"{letter} carries: {counts or 'nothing else'}")


@duplicates_group.command("merge")
@click.argument("keep", type=TEXT)
@click.argument("drop", type=TEXT)
@click.option("--take", "take", multiple=True, type=click.Choice(merging.MERGE_FIELDS),
              help="Take this field's value from DROP (repeatable). Default: the richer value of each field.")
@click.option("--keep-fields", is_flag=True, help="Keep every field of KEEP as it is (take nothing from DROP).")
@json_option
@click.pass_context
def duplicates_merge(ctx: click.Context, keep: str, drop: str, take: tuple[str, ...], keep_fields: bool, as_json: bool) -> None:
    """Merge paper DROP into paper KEEP: its files, tags, collections, notes, links move to KEEP.

    DROP is deleted; `scimult undo` brings it back exactly (with its id and links).
    JSON: {"kept", "merged", "merged_citekey", "fields_taken": [..], "moved": {table: n}, "undo_id"}
    """
    chosen = [] if keep_fields else (list(take) if take else None)
    result = merging.merge_papers(library_from(ctx), keep, drop, take=chosen)
    if as_json:
        emit_json(result.to_json())
        return
    taken = ", ".join(result.fields_taken) or "none"
    click.echo(f"merged {result.merged} [{result.merged_citekey}] into {result.kept}; fields taken from it: {taken}")
    click.echo("`scimult undo` reverts this", err=True)


@click.group("tags", invoke_without_command=True)
@json_option
@click.pass_context
def tags_group(ctx: click.Context, as_json: bool) -> None:
    """List tags with their paper counts and colours; edit them with the subcommands (all undoable).

    JSON: [{"name", "papers", "colour"}]
    """
    if ctx.invoked_subcommand is not None:
        return
    tags = tagging.list_tags(library_from(ctx))
    if as_json:
        emit_json([t.to_json() for t in tags])
        return
    if not tags:
        click.echo("no tags", err=True)
    for tag in tags:
        click.echo(f"{tag.papers:>6}  {tag.name}{'  ' + tag.colour if tag.colour else ''}")


def _report(change: tagging.TagChange, as_json: bool) -> None:
    _say(change.to_json(), f"{change.description} ({change.papers} paper(s)); `scimult undo` reverts this", as_json)


@tags_group.command("rename")
@click.argument("old", type=TEXT)
@click.argument("new", type=TEXT)
@json_option
@click.pass_context
def tags_rename(ctx: click.Context, old: str, new: str, as_json: bool) -> None:
    """Rename tag OLD to NEW (an existing NEW: OLD is merged into it).

    JSON: {"description", "undo_id", "papers"}
    """
    _report(tagging.rename_tag(library_from(ctx), old, new), as_json)


@tags_group.command("merge")
@click.argument("names", nargs=-1, required=True, type=TEXT)
@click.option("--into", required=True, type=TEXT, help="The tag the papers carry afterwards.")
@json_option
@click.pass_context
def tags_merge(ctx: click.Context, names: tuple[str, ...], into: str, as_json: bool) -> None:
    """Merge tags NAMES into one tag, --into (JSON as for rename)."""
    _report(tagging.merge_tags(library_from(ctx), names, into), as_json)


@tags_group.command("colour")
@click.argument("name", type=TEXT)
@click.argument("colour", required=False)
@json_option
@click.pass_context
def tags_colour(ctx: click.Context, name: str, colour: str | None, as_json: bool) -> None:
    """Colour tag NAME with COLOUR (#rrggbb); without COLOUR the colour is cleared (JSON as for rename)."""
    _report(tagging.set_tag_colour(library_from(ctx), name, colour), as_json)


@tags_group.command("delete")
@click.argument("name", type=TEXT)
@click.option("--yes", is_flag=True, help="Do not ask first.")
@json_option
@click.pass_context
def tags_delete(ctx: click.Context, name: str, yes: bool, as_json: bool) -> None:
    """Remove tag NAME from every paper (JSON as for rename)."""
    library = library_from(ctx)
    count = next((t.papers for t in tagging.list_tags(library) if t.name == name), None)
    if count and not yes:
        click.confirm(f"remove tag {name!r} from {count} paper(s)?", abort=True, err=True)
    _report(tagging.delete_tag(library, name), as_json)


@click.command("note")
@click.argument("paper", type=TEXT, required=False)
@click.option("--add", "add_text", type=TEXT, help="Add a note with this text ('-' reads it from stdin).")
@click.option("--plain", is_flag=True, help="The added note is plain text, not Markdown.")
@click.option("--edit", "edit_id", type=int, help="Replace the text of this note (with --text).")
@click.option("--text", "new_text", type=TEXT, help="The new text for --edit ('-' reads it from stdin).")
@click.option("--delete", "delete_id", type=int, help="Delete this note (`scimult undo` brings it back).")
@click.option("--search", "query", type=TEXT, help="Find notes (of any paper) by keywords.")
@json_option
@click.pass_context
def note_command(ctx, paper, add_text, plain, edit_id, new_text, delete_id, query, as_json) -> None:
    """Show the notes on PAPER, add one, edit or delete a note, or search every note.

    JSON: [{"id", "paper_id", "body", "format", "created_at", "updated_at"}] (a list or --add/--edit: one note;
    --delete: {"deleted", "undo_id"}; --search: [{"note_id", "paper_id", "snippet"}])
    """
    library = library_from(ctx)
    if query is not None:
        hits = notes.search_notes(library, query)
        if as_json:
            emit_json([h.to_json() for h in hits])
        else:
            for hit in hits:
                click.echo(f"note {hit.note_id} on paper {hit.paper_id}: {hit.snippet}")
            if not hits:
                click.echo("no matching notes", err=True)
        return
    if delete_id is not None:
        undo_id = notes.delete_note(library, delete_id)
        _say({"deleted": delete_id, "undo_id": undo_id}, f"deleted note {delete_id}; `scimult undo` brings it back", as_json)
        return
    if edit_id is not None:
        if new_text is None:
            raise click.UsageError("--edit needs --text")
        note = notes.update_note(library, edit_id, _stdin_or(new_text))
        _say(note.to_json(), f"saved note {note.id}", as_json)
        return
    if paper is None:
        raise click.UsageError("name a PAPER (or use --search, --edit, --delete)")
    if add_text is not None:
        note = notes.add_note(library, paper, _stdin_or(add_text), format="plain" if plain else "markdown")
        _say(note.to_json(), f"added note {note.id}", as_json)
        return
    listed = notes.list_notes(library, paper)
    if as_json:
        emit_json([n.to_json() for n in listed])
        return
    if not listed:
        click.echo("no notes on this paper", err=True)
    for note in listed:
        click.echo(f"--- note {note.id} ({note.format}, updated {note.updated_at})\n{note.body}")


def _say(value: dict, text: str, as_json: bool) -> None:
    if as_json:
        emit_json(value)
    else:
        click.echo(text)


def _stdin_or(text: str) -> str:
    return sys.stdin.read() if text == "-" else text


COMMANDS = [tags_group, note_command]
