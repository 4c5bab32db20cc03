"""Formatting of CLI output: JSON on stdout for scripts, short text for people."""

from __future__ import annotations

import json

import click

from scimult_desktop.domain.records import Paper, SearchHit


def emit_json(value: object) -> None:
    click.echo(json.dumps(value, ensure_ascii=False))


def paper_json(paper: Paper) -> dict:
    """The public JSON shape of a paper in `scimult list --json`."""
    return {
        "id": paper.id,
        "citekey": paper.citekey,
        "title": paper.title,
        "authors": paper.authors,
        "year": paper.year,
        "doi": paper.doi,
        "arxiv_id": paper.arxiv_id,
        "abstract": paper.abstract,
        "files": [f.path for f in paper.files],
    }


def paper_line(paper) -> str:
    """One paper as `scimult list` prints it: id, citation key, title (year)."""
    year = f" ({paper.year})" if paper.year else ""
    return f"{paper.id:>6}  {paper.citekey}  {paper.title}{year}"


def hit_lines(hits: list[SearchHit]) -> None:
    if not hits:
        click.echo("no results", err=True)
    for rank, hit in enumerate(hits, start=1):
        paper = hit.paper
        year = f" ({paper.year})" if paper.year else ""
        click.echo(f"{rank:>3}. [{paper.citekey}] {paper.title}{year}  score={hit.score:.4g}")
        if hit.why:
            where = f" (page {hit.page})" if hit.page else ""
            click.echo(f"     {hit.why}{where}")
        if hit.library_context:
            context = hit.library_context
            click.echo(f"     cited in your library: “{context['sentence']}” ({context['citing_paper']['title']}, p. {context['page']})")

