"""`scimult export`: papers to BibTeX or CSL-JSON."""

from __future__ import annotations

import click

from scimult_desktop.cli.context import library_from
from scimult_desktop.cli.text import TEXT
from scimult_desktop.services.library.exporting import EXPORT_FORMATS, export_papers, export_to_file


@click.command("export")
@click.argument("papers", nargs=-1, type=TEXT)
@click.option("--all", "all_papers", is_flag=True, help="Export every paper in the library (not those in the trash).")
@click.option("--collection", "collection", type=TEXT, default=None,
              help="Export the papers of this collection and its sub-collections (name as shown, e.g. 'Thesis/Chapter 2').")
@click.option("--format", "fmt", type=click.Choice(EXPORT_FORMATS), default="bibtex", show_default=True,
              help="Output format.")
@click.option("--out", "out", type=click.Path(dir_okay=False, writable=True), default=None,
              help="Write to this file (UTF-8) instead of standard output.")
@click.pass_context
def export_command(ctx: click.Context, papers: tuple[str, ...], all_papers: bool, collection: str | None, fmt: str,
                   out: str | None) -> None:
    """Export papers (ids, citation keys or DOIs, a --collection, or --all) as BibTeX or CSL-JSON.

    Citation keys are the stored ones, so repeated exports are stable. Text is
    UTF-8 (non-ASCII kept as is); LaTeX special characters are escaped in BibTeX.
    """
    if all_papers and (papers or collection is not None):
        raise click.UsageError("give paper ids/keys/DOIs and/or --collection, or --all, not both")
    library = library_from(ctx, create=False)
    if out:
        export_to_file(library, out, papers, all_papers=all_papers, fmt=fmt, collection=collection)
        click.echo(f"wrote {out}", err=True)
    else:
        click.echo(export_papers(library, papers, all_papers=all_papers, fmt=fmt, collection=collection), nl=False)


COMMANDS = [export_command]
