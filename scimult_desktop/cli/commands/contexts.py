"""`scimult contexts`: how library papers cite a paper, and the resumable re-analysis that finds them."""

from __future__ import annotations

import click

from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json
from scimult_desktop.cli.progress import progress_on_stderr
from scimult_desktop.cli.text import TEXT
from scimult_desktop.domain.progress import CancelToken


@click.command("contexts")
@click.argument("paper", required=False, type=TEXT)
@click.option("--rebuild", is_flag=True,
              help="Find citation contexts in papers not analysed yet (after an upgrade; resumes where a cancelled run stopped).")
@click.option("--all", "redo_all", is_flag=True, help="With --rebuild: analyse every paper again.")
@click.option("--in", "inside", is_flag=True, help="List the citations found in PAPER's own text instead.")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="At most this many sentences.")
@json_option
@click.pass_context
def contexts_command(ctx, paper, rebuild, redo_all, inside, limit, as_json):
    """How your papers cite PAPER (id, citation key or DOI): citing sentence, citing paper, page.

    JSON: [{"sentence", "marker", "marker_offset", "style", "page", "citing_paper": {"id", "citekey", "title", "year",
    "authors"}, "cited_paper_id", "reference", "paragraph": {"start", "end"}}];
    with --rebuild: {"analysed", "contexts", "failed", "remaining", "papers_with_text"}.
    """
    if rebuild == (paper is not None):
        raise click.UsageError("give a PAPER or --rebuild")
    if redo_all and not rebuild:
        raise click.UsageError("--all goes with --rebuild")
    library = library_from(ctx)
    if rebuild:
        with progress_on_stderr() as progress:
            report = library.analyse_citation_contexts(force=redo_all, progress=progress, cancel=CancelToken())
        if as_json:
            emit_json(report)
        else:
            click.echo(f"analysed {report['analysed']} paper(s), {report['contexts']} citation context(s); "
                       f"{report['remaining']} of {report['papers_with_text']} with text still to do")
            for failure in report["failed"]:
                click.echo(f"failed: paper {failure['paper']}: {failure['error']}", err=True)
        return
    contexts = library.contexts_in(paper) if inside else library.citation_contexts(paper, limit=limit)
    if inside and limit:
        contexts = contexts[:limit]
    if as_json:
        emit_json(contexts)
        return
    if not contexts:
        click.echo("no citing sentences found in your library" if not inside else "no citations found in this paper's text")
        return
    for item in contexts:
        citing = item["citing_paper"]
        where = f"p. {item['page']}"
        if inside:
            cited = f" -> paper {item['cited_paper_id']}" if item["cited_paper_id"] else ""
            click.echo(f"{where}  {item['marker']}{cited}\n    {item['sentence']}")
        else:
            year = f" ({citing['year']})" if citing["year"] else ""
            click.echo(f"{citing['citekey']}{year}, {where}: {citing['title']}\n    {item['sentence']}")


COMMANDS = [contexts_command]
