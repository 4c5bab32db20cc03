"""Commands that add and list papers: import, list, show."""

from __future__ import annotations

import click

from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json, paper_json, paper_line
from scimult_desktop.cli.progress import progress_on_stderr
from scimult_desktop.cli.text import TEXT
from scimult_desktop.domain.progress import CancelToken


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path())
@click.option("--force", is_flag=True, help="Read files again even if unchanged since the last import.")
@json_option
@click.pass_context
def import_command(ctx: click.Context, paths: tuple[str, ...], force: bool, as_json: bool) -> None:
    """Import .bib, CSL-JSON, PDF files, Zotero libraries, or folders of them.

    Re-importing is incremental: unchanged files are skipped, changed entries
    updated, nothing duplicated. Broken entries are reported and the rest import.

    JSON: {"added": n, "updated": n, "skipped": n, "failed": [{"path": p, "error": msg}], "no_text_layer": [pdf paths]}
    """
    library = library_from(ctx)
    with progress_on_stderr() as progress:
        report = library.import_paths(paths, progress=progress, cancel=CancelToken(), force=force)
    if as_json:
        emit_json(report.to_json())
    else:
        click.echo(f"added {report.added}, updated {report.updated}, skipped {report.skipped}, failed {len(report.failed)}")
        for problem in report.failed:
            click.echo(f"  failed: {problem.path}: {problem.error}", err=True)
        for path in report.no_text_layer:
            click.echo(f"  stored, no text layer (image-only PDF; OCR needs Tesseract): {path}", err=True)
    if report.failed and not (report.added or report.updated or report.skipped):
        ctx.exit(1)


@click.command("list")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="Show at most this many papers.")
@json_option
@click.pass_context
def list_command(ctx: click.Context, limit: int | None, as_json: bool) -> None:
    """List the papers in the library.

    JSON: [{"id", "citekey", "title", "authors": [..], "year", "doi", "arxiv_id", "abstract", "files": [..]}]
    """
    library = library_from(ctx)
    papers = library.list_papers(limit=limit)
    if as_json:
        emit_json([paper_json(p) for p in papers])
        return
    for paper in papers:
        click.echo(paper_line(paper))
    click.echo(f"{len(papers)} of {library.count_papers()} papers", err=True)


@click.command("show")
@click.argument("paper", type=TEXT)
@json_option
@click.pass_context
def show_command(ctx: click.Context, paper: str, as_json: bool) -> None:
    """Show one paper, named by id, citation key or DOI."""
    record = library_from(ctx).get_paper(paper)
    if as_json:
        emit_json(paper_json(record))
        return
    click.echo(f"{record.title}\n{'; '.join(record.authors)}\n{record.venue or ''} {record.year or ''}".rstrip())
    for label, value in (("key", record.citekey), ("DOI", record.doi), ("arXiv", record.arxiv_id)):
        if value:
            click.echo(f"{label}: {value}")
    for attachment in record.files:
        click.echo(f"file: {attachment.path} [{attachment.status}]")
    if record.abstract:
        click.echo(f"\n{record.abstract}")


@click.group("duplicates", invoke_without_command=True)
@click.option("--scan", is_flag=True, help="Also look for near-duplicates by content (needs the model; indexes first).")
@json_option
@click.pass_context
def duplicates_group(ctx: click.Context, scan: bool, as_json: bool) -> None:
    """List papers that look like versions of one work (preprint vs published, typed twice).

    Nothing is merged silently: answer each pair with `duplicates confirm A B` or `duplicates reject A B`.
    JSON: [{"paper_a", "paper_b", "reason", "status"}]
    """
    if ctx.invoked_subcommand is not None:
        return
    library = library_from(ctx)
    if scan:
        with progress_on_stderr() as progress:
            made = library.scan_near_duplicates(progress=progress, cancel=CancelToken())
        click.echo(f"{made} new proposal(s)", err=True)
    proposals = library.duplicate_proposals()
    if as_json:
        emit_json(proposals)
        return
    if not proposals:
        click.echo("no duplicate proposals", err=True)
    for item in proposals:
        a, b = library.get_paper(item["paper_a"]), library.get_paper(item["paper_b"])
        click.echo(f"{a.id} [{a.citekey}] {a.title}\n{b.id} [{b.citekey}] {b.title}\n    {item['reason']}")


@duplicates_group.command("confirm")
@click.argument("paper_a", type=TEXT)
@click.argument("paper_b", type=TEXT)
@click.pass_context
def duplicates_confirm(ctx: click.Context, paper_a: str, paper_b: str) -> None:
    """Record that PAPER_A and PAPER_B are versions of the same work."""
    library_from(ctx).resolve_duplicate(paper_a, paper_b, same_work=True)


@duplicates_group.command("reject")
@click.argument("paper_a", type=TEXT)
@click.argument("paper_b", type=TEXT)
@click.pass_context
def duplicates_reject(ctx: click.Context, paper_a: str, paper_b: str) -> None:
    """Record that PAPER_A and PAPER_B are different works (the pair is not proposed again)."""
    library_from(ctx).resolve_duplicate(paper_a, paper_b, same_work=False)


@click.command("status")
@json_option
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Show what the library holds and how much of it is indexed.

    JSON: {"library", "papers", "files", "files_missing", "citations", "duplicate_proposals",
    "model", "model_outdated": why the default should be rebuilt | null, "indexed": {task: n} | null,
    "last_import": {...} | null}
    """
    info = library_from(ctx).status()
    if as_json:
        emit_json(info)
        return
    click.echo(f"library: {info['library']}")
    click.echo(f"papers: {info['papers']} ({info['files']} files, {info['files_missing']} missing)")
    click.echo(f"citation edges: {info['citations']}; duplicate proposals: {info['duplicate_proposals']}")
    if info["model"] is None:
        click.echo("model: none installed (`scimult model build-default`)")
    else:
        indexed = ", ".join(f"{task} {n}/{info['papers']}" for task, n in info["indexed"].items())
        click.echo(f"model: {info['model']}; indexed: {indexed}")
        if info.get("model_outdated"):
            from scimult_desktop.services.models.default_freshness import rebuild_hint

            click.echo(f"model outdated: {rebuild_hint(info['model_outdated'])}")
    if info["last_import"]:
        last = info["last_import"]
        click.echo(f"last import: {last['started_at']} ({last['status']})")


COMMANDS = [import_command, list_command, show_command, status_command, duplicates_group]
