"""`scimult cite`: papers as a formatted citation and bibliography in a CSL style."""

from __future__ import annotations

import click

from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json
from scimult_desktop.cli.text import TEXT
from scimult_desktop.exporters.csl_render import RENDER_FORMATS
from scimult_desktop.services.writing import csl_citations


@click.command("cite")
@click.argument("papers", nargs=-1, type=TEXT)
@click.option("--style", "style", type=TEXT, default=None,
              help="Short name (apa, ieee, chicago, harvard, mla, nature, acm...), a CSL style id or a .csl file "
                   "(default: the style chosen in Settings, else apa).")
@click.option("--bibliography", is_flag=True, help="Print the bibliography entries instead of the in-text citation.")
@click.option("--format", "fmt", type=click.Choice(RENDER_FORMATS), default="text", show_default=True,
              help="Plain text or HTML (italics kept).")
@click.option("--list-styles", is_flag=True, help="List the styles to choose from (with --json: every packaged style).")
@json_option
@click.pass_context
def cite_command(ctx: click.Context, papers: tuple[str, ...], style: str | None, bibliography: bool, fmt: str,
                 list_styles: bool, as_json: bool) -> None:
    """Cite papers (ids, citation keys or DOIs) in a citation style, as "Copy citation" does.

    Prints the in-text citation of all PAPERS together, e.g. "(Lee, 2019; Smith & Doe, 2020)",
    or with --bibliography their reference-list entries, one per line.

    JSON: {"style", "style_id", "style_title", "format", "papers": [ids], "citation", "bibliography": [entries]}
    """
    if list_styles:
        styles = csl_citations.list_styles(include_all=as_json)
        if as_json:
            emit_json([info.to_json() for info in styles])
        else:
            for info in styles:
                click.echo(f"{info.name:<18} {info.title}")
            click.echo("any other CSL style id (e.g. elsevier-vancouver) or a .csl file also works", err=True)
        return
    if not papers:
        raise click.UsageError("name the papers to cite (ids, citation keys or DOIs)")
    result = csl_citations.cite_papers(library_from(ctx, create=False), papers, style=style, fmt=fmt)
    if as_json:
        emit_json(result.to_json())
    elif bibliography:
        click.echo(result.bibliography_text(), nl=False)
    else:
        click.echo(result.citation)


COMMANDS = [cite_command]
