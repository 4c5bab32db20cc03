"""Commands that find papers: search, related, suggest, classify, undo."""

from __future__ import annotations

from pathlib import Path

import click

from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json, hit_lines
from scimult_desktop.cli.text import TEXT
from scimult_desktop.services.finding.filters import SearchFilters
from scimult_desktop.services.library.facade import SEARCH_MODES

k_option = click.option("--k", "k", type=click.IntRange(min=1), default=10, show_default=True, help="Number of results.")
queries_option = click.option(
    "--queries",
    "queries_file",
    type=click.Path(exists=True, dir_okay=False),
    help="Answer one query per line of this file; prints one result list per line (JSON: list of lists).",
)


def read_lines(path: str) -> list[str]:
    # errors="replace": a stray non-UTF-8 byte in a query file is one odd character, not a crash
    lines = [line.strip() for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines()]
    return [line for line in lines if line]


@click.command("search")
@click.argument("query", required=False, type=TEXT)
@k_option
@click.option("--mode", type=click.Choice(SEARCH_MODES), default="hybrid", show_default=True, help="Ranking method.")
@click.option("--year-from", type=int, help="Only papers from this year on.")
@click.option("--year-to", type=int, help="Only papers up to this year.")
@click.option("--collection", type=TEXT, help="Only papers in this collection.")
@click.option("--tag", type=TEXT, help="Only papers with this tag.")
@click.option("--has-pdf/--no-pdf", default=None, help="Only papers with (or without) a PDF.")
@queries_option
@json_option
@click.pass_context
def search_command(ctx, query, k, mode, year_from, year_to, collection, tag, has_pdf, queries_file, as_json):
    """Search the library for QUERY (hybrid: keywords and meaning).

    A paper ranks by its abstract or its best PDF passage (see `scimult index`).

    JSON: [{"id", "citekey", "title", "score"}], plus "passage": {"text", "page", "score"} when a
    passage of the paper's PDF matched; with --queries, a list of such lists.
    """
    if (query is None) == (queries_file is None):
        raise click.UsageError("give a QUERY or --queries FILE")
    filters = SearchFilters(year_from, year_to, collection, tag, has_pdf)
    library = library_from(ctx)
    queries = read_lines(queries_file) if queries_file else [query]
    results = library.search_many(queries, k=k, mode=mode, filters=filters)
    _print_results(results, batch=queries_file is not None, as_json=as_json)


@click.command("related")
@click.argument("paper", type=TEXT)
@k_option
@json_option
@click.pass_context
def related_command(ctx: click.Context, paper: str, k: int, as_json: bool) -> None:
    """Papers related to PAPER (id, citation key or DOI), and why.

    JSON: [{"id", "citekey", "title", "score"}]
    """
    hits = library_from(ctx).related(paper, k=k)
    _print_results([hits], batch=False, as_json=as_json)


@click.command("suggest")
@click.option("--text", type=TEXT, help="A sentence or paragraph to find citations for.")
@click.option("--file", "draft", type=click.Path(exists=True, dir_okay=False), help="A .tex, .md or .txt draft.")
@click.option("--line", type=click.IntRange(min=1), default=None,
              help="With --file: only the sentence on this line, whether or not it looks like a claim.")
@click.option("--follow-inputs/--no-follow-inputs", default=True, show_default=True,
              help="With a LaTeX --file: read the files it \\input/\\include too (their items name their \"file\").")
@queries_option
@k_option
@click.option(
    "--format",
    "cite_format",
    type=click.Choice(["latex", "natbib-citep", "natbib-citet", "biblatex", "pandoc", "keys"]),
    default="latex",
    show_default=True,
    help="How citations are written in text output.",
)
@json_option
@click.pass_context
def suggest_command(ctx, text, draft, line, follow_inputs, queries_file, k, cite_format, as_json):
    """Suggest papers to cite for --text, each line of --queries, or each sentence of a --file draft.

    JSON: for --text [{"id", "citekey", "title", "score"}]; for --queries a list of such lists;
    for --file one object per sentence that needs attention:
    {"line", "sentence", "cited", "suggestions": [...], "flags": [...]} (and "file" for a
    sentence of a file the draft reads in); with --line the list holds the one object of the
    sentence on that line.
    """
    if sum(x is not None for x in (text, draft, queries_file)) != 1:
        raise click.UsageError("give exactly one of --text, --file or --queries")
    if line is not None and not draft:
        raise click.UsageError("--line goes with --file")
    library = library_from(ctx)
    if draft:
        if line is not None:
            report = [library.suggest_at_line(draft, line, k=k)]
        else:
            report = library.suggest_for_draft(draft, k=k, follow_inputs=follow_inputs,
                                               on_problem=lambda message: click.echo(f"warning: {message}", err=True))
        if as_json:
            emit_json(report)
        else:
            _print_draft_report(report, cite_format)
        return
    texts = read_lines(queries_file) if queries_file else [text]
    results = library.suggest_many(texts, k=k)
    if not as_json and not queries_file:
        hit_lines(results[0])
        keys = [hit.paper.citekey for hit in results[0][:3]]
        if keys:
            click.echo(f"\n{_format_citation(keys, cite_format)}")
        return
    _print_results(results, batch=queries_file is not None, as_json=as_json)


@click.command("classify")
@click.argument("paper", required=False, type=TEXT)
@click.option("--all", "all_papers", is_flag=True, help="Classify every paper in the library.")
@click.option("--labels", "label_set", default="mag", show_default=True,
              help="Label set: mag (fields of study), arxiv (categories), or a JSON/CSV file of your own.")
@click.option("--k", "k", type=click.IntRange(min=1), default=3, show_default=True, help="Labels per paper.")
@click.option("--apply", "apply_tags", is_flag=True, help="Add the top label of each paper as a tag (asks first; undo with `scimult undo`).")
@click.option("--yes", is_flag=True, help="With --apply: do not ask for confirmation.")
@json_option
@click.pass_context
def classify_command(ctx, paper, all_papers, label_set, k, apply_tags, yes, as_json):
    """Suggest fields of study (or your own tags and collections) for PAPER or --all papers.

    Zero-shot by default; when you have tagged papers (or filed them in collections) with
    labels of the set, their nearest neighbours vote too (few-shot, calibrated on your own
    tagged papers). The output says which.

    JSON: [{"id", "citekey", "title", "labels": [{"label", "score", "source"}], "tags": [...], "collections": [...],
    "method": "zero-shot"|"few-shot", "method_note", "few_shot": {"method", "tagged_papers", "judged_papers",
    "knn_weight", "knn_temperature", "labels_fitted_to_library"}, "tags_method", "collections_method"}]
    ("labels_fitted_to_library": the label vectors were fitted to the library's papers, which
    needs at least 10 of them.)
    """
    if (paper is None) == (not all_papers):
        raise click.UsageError("give a PAPER or --all")
    library = library_from(ctx)
    results = library.classify(None if all_papers else paper, label_set=label_set, k=k)
    if as_json:
        emit_json(results)
    else:
        if results:
            click.echo(f"{label_set}: {results[0]['method_note']}", err=True)
        for item in results:
            labels = ", ".join(f"{s['label']} ({s['score']:.2f})" for s in item["labels"])
            click.echo(f"[{item['citekey']}] {item['title']}\n    {labels}")
            for kind in ("tags", "collections"):
                if item[kind]:
                    click.echo(f"    your {kind}: " + ", ".join(f"{s['label']} ({s['score']:.2f})" for s in item[kind]))
    if apply_tags:
        assignments = {item["id"]: [item["labels"][0]["label"]] for item in results if item["labels"]}
        if not yes and not click.confirm(f"Tag {len(assignments)} paper(s) with their top label?", err=True):
            return
        library.apply_tags(assignments)
        click.echo(f"tagged {len(assignments)} paper(s); `scimult undo` reverts this", err=True)


@click.command("undo")
@click.pass_context
def undo_command(ctx: click.Context) -> None:
    """Undo the last undoable change: tags from classify --apply, a deletion, a merge, a tag edit, a deleted note."""
    undone = library_from(ctx).undo()
    click.echo(f"undone: {undone}" if undone else "nothing to undo", err=True)


def _print_results(results, *, batch: bool, as_json: bool) -> None:
    if as_json:
        lists = [[hit.to_json() for hit in hits] for hits in results]
        emit_json(lists if batch else lists[0])
        return
    for i, hits in enumerate(results):
        if batch:
            click.echo(f"# query {i + 1}")
        hit_lines(hits)


def _format_citation(keys: list[str], style: str) -> str:
    try:
        from scimult_desktop.writing.citations import format_citation
    except ImportError:  # the writing helpers are optional for plain --text use
        return "\\cite{" + ",".join(keys) + "}"
    return format_citation(keys, style)


def _print_draft_report(report: list[dict], style: str) -> None:
    if not report:
        click.echo("no sentence needs a citation", err=True)
    for item in report:
        where = f"{item['file']} line" if item.get("file") else "line"
        click.echo(f"{where} {item['line']}: {item['sentence'][:120]}")
        keys = [s["citekey"] for s in item["suggestions"][:3]]
        if keys:
            click.echo(f"    suggest {_format_citation(keys, style)}: " + "; ".join(s["title"][:60] for s in item["suggestions"][:3]))
        for flag in item["flags"]:
            click.echo(f"    check: {flag}")


COMMANDS = [search_command, related_command, suggest_command, classify_command, undo_command]
