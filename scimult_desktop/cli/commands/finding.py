"""Commands that find papers: search, related, suggest, classify."""

from __future__ import annotations

import click

from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json, hit_lines
from scimult_desktop.services.library import SEARCH_MODES

k_option = click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="Number of results.")


@click.command("search")
@click.argument("query")
@k_option
@click.option("--mode", type=click.Choice(SEARCH_MODES), default="hybrid", show_default=True, help="Ranking method.")
@json_option
@click.pass_context
def search_command(ctx: click.Context, query: str, k: int, mode: str, as_json: bool) -> None:
    """Search the library for QUERY.

    JSON: [{"id", "citekey", "title", "score"}]
    """
    hits = library_from(ctx).search(query, k=k, mode=mode)
    if as_json:
        emit_json([hit.to_json() for hit in hits])
    else:
        hit_lines(hits)


@click.command("related")
@click.argument("paper")
@k_option
@json_option
@click.pass_context
def related_command(ctx: click.Context, paper: str, k: int, as_json: bool) -> None:
    """Papers related to PAPER (id, citation key or DOI).

    JSON: [{"id", "citekey", "title", "score"}]
    """
    hits = library_from(ctx).related(paper, k=k)
    if as_json:
        emit_json([hit.to_json() for hit in hits])
    else:
        hit_lines(hits)


@click.command("suggest")
@click.option("--text", help="A sentence or paragraph to find citations for.")
@click.option("--file", "draft", type=click.Path(exists=True, dir_okay=False), help="A .tex, .md or .txt draft.")
@k_option
@json_option
@click.pass_context
def suggest_command(ctx: click.Context, text: str | None, draft: str | None, k: int, as_json: bool) -> None:
    """Suggest papers to cite for --text or for each sentence of --file."""
    if (text is None) == (draft is None):
        raise click.UsageError("give exactly one of --text or --file")
    hits = library_from(ctx).suggest(text or "", k=k)
    if as_json:
        emit_json([hit.to_json() for hit in hits])
    else:
        hit_lines(hits)


@click.command("classify")
@click.argument("paper", required=False)
@click.option("--all", "all_papers", is_flag=True, help="Classify every paper in the library.")
@json_option
@click.pass_context
def classify_command(ctx: click.Context, paper: str | None, all_papers: bool, as_json: bool) -> None:
    """Suggest fields of study for PAPER (or --all papers)."""
    if (paper is None) == (not all_papers):
        raise click.UsageError("give a PAPER or --all")
    result = library_from(ctx).classify(None if all_papers else paper)
    emit_json(result)


COMMANDS = [search_command, related_command, suggest_command, classify_command]
