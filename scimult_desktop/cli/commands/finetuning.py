"""`scimult finetune`: fine-tune the active model on this library's own signals.

Public contract (keep stable):
    scimult finetune [--tasks link,classify,search] [--epochs N] [--steps N] [--adapter-only] [--accept] [--dry-run] [--json]
        JSON: {"model", "base_model", "tasks": {task: {"train", "held_out", "metric", "before", "after"}},
               "recommended", "active", "query_adapter": {"fitted", "l2", "cv_recall@10_change",
               "cv_paired_se", "settings", "reason"} or null}
        --dry-run JSON: {"base_model", "tasks": {task: {"train", "held_out"}}, "min_examples",
               "settings", "ready", "problem", "ignored"}
    scimult finetune accept NAME     embed the library with NAME, then make it active
    scimult finetune keep NAME       decline NAME: drop its vectors from this library
    scimult finetune runs [--json]   the runs of this library
"""

from __future__ import annotations

import click

from scimult_desktop.cli.context import json_option, library_from
from scimult_desktop.cli.output import emit_json
from scimult_desktop.cli.progress import progress_on_stderr
from scimult_desktop.domain.progress import CancelToken
from scimult_desktop.errors import Cancelled, ScimultError
from scimult_desktop.services.finetuning import pipeline as finetuning


@click.group("finetune", invoke_without_command=True)
@click.option("--tasks", default=None, help="Comma-separated tasks to train: link,classify,search (default: all three).")
@click.option("--epochs", type=click.IntRange(min=1), default=None, help="Passes over the training examples (default: one, capped on CPU).")
@click.option("--steps", type=click.IntRange(min=1), default=None, help="Exact number of training steps (overrides --epochs).")
@click.option("--adapter-only", is_flag=True,
              help="Train no transformer weights; only fit the link (citation) query adapter: minutes on a CPU, no torch needed.")
@click.option("--accept", is_flag=True, help="Switch to the new model when it is recommended (better on the held-out signals).")
@click.option("--dry-run", is_flag=True, help="Only show how many examples each task has and the settings; train nothing.")
@json_option
@click.pass_context
def finetune_command(ctx, tasks, epochs, steps, adapter_only, accept, dry_run, as_json) -> None:
    """Fine-tune the active model on your library: citations, collections/tags, titles, feedback.

    20% of the signals are held out before training; the new model (`<base>-ft-<n>`) is
    installed next to the old one and both are scored on the held-out part. Nothing
    switches unless you accept. Ctrl+C stops training with a checkpoint: the same command
    resumes it. Needs the training package (torch), except with --adapter-only.
    """
    if ctx.invoked_subcommand is not None:
        return
    library = library_from(ctx)
    if dry_run:
        plan = finetuning.plan(library, tasks, epochs=epochs, max_steps=steps, adapter_only=adapter_only)
        if as_json:
            emit_json(plan.to_json())
        else:
            _print_plan(plan)
        return
    with progress_on_stderr() as progress:
        try:
            result = finetuning.finetune(
                library, tasks, epochs=epochs, max_steps=steps, adapter_only=adapter_only, accept_if_recommended=accept,
                progress=progress, cancel=CancelToken()
            )
        except Cancelled:
            raise ScimultError("cancelled: training saved a checkpoint; run the same command again to resume") from None
    if as_json:
        emit_json(result.to_json())
        return
    _print_result(result, accept)


@finetune_command.command("accept")
@click.argument("name")
@click.pass_context
def finetune_accept_command(ctx, name: str) -> None:
    """Embed the library with fine-tuned model NAME (the old one serves meanwhile), then switch to it."""
    library = library_from(ctx)
    with progress_on_stderr() as progress:
        info = finetuning.accept(library, name, progress=progress, cancel=CancelToken())
    click.echo(f"active model: {info.name} (undo with `scimult model rollback`)")


@finetune_command.command("keep")
@click.argument("name")
@click.pass_context
def finetune_keep_command(ctx, name: str) -> None:
    """Keep the current model: drop fine-tuned model NAME's vectors from this library."""
    finetuning.keep_current(library_from(ctx), name)
    click.echo(f"kept the current model; {name} stays installed (remove its folder to delete it)")


@finetune_command.command("runs")
@json_option
@click.pass_context
def finetune_runs_command(ctx, as_json: bool) -> None:
    """List this library's fine-tuning runs and their state."""
    runs = finetuning.runs(library_from(ctx))
    if as_json:
        emit_json(runs)
        return
    if not runs:
        click.echo("no fine-tuning runs in this library", err=True)
    for run in runs:
        click.echo(f"{run['folder']}  {run.get('model')}  from {run.get('base_model')}  {run.get('status')}")


def _print_plan(plan: finetuning.FinetunePlan) -> None:
    click.echo(f"base model: {plan.base_model}")
    for task, count in plan.counts.items():
        click.echo(f"  {task:<9} {count['train']:>6} to train  {count['held_out']:>5} held out")
    s = plan.settings
    if s.trainable == finetuning.ADAPTER_ONLY:
        click.echo("settings: no training; the link query adapter alone (numpy, minutes on a CPU)")
    else:
        click.echo(f"settings: {s.device}, trainable={s.trainable}, max_length={s.max_length}, {s.max_steps} steps of {s.batch_size}")
    for why, n in plan.ignored.items():
        click.echo(f"  ignored: {n} {why}")
    click.echo(f"cannot start: {plan.problem}" if plan.problem else "ready: run `scimult finetune` to train")


def _print_result(result: finetuning.FinetuneResult, accept: bool) -> None:
    minutes = result.seconds.get("training", 0.0) / 60
    click.echo(f"model {result.model} (from {result.base_model}); training {minutes:.1f} min" if result.model != result.base_model
               else f"model {result.base_model}, evaluated on the held-out signals")
    click.echo(f"  {'task':<9} {'train':>6} {'held out':>8}  {'metric':<11} {'before':>7} {'after':>7}")
    for task, row in result.tasks.items():
        click.echo(
            f"  {task:<9} {row['train']:>6} {row['held_out']:>8}  {row['metric']:<11} {_fmt(row['before']):>7} {_fmt(row['after']):>7}"
        )
    decision = result.adapter_decision()
    if decision:
        click.echo(decision)
    if result.made_nothing:
        return
    if result.active:
        click.echo(f"recommended and now active (undo with `scimult model rollback`)")
    elif result.recommended:
        click.echo(f"recommended: switch with `scimult finetune accept {result.model}`")
    else:
        verdict = "not better on the held-out signals" + ("; kept the current model" if accept else "")
        click.echo(f"{verdict} (to use it anyway: `scimult finetune accept {result.model}`)")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


COMMANDS = [finetune_command]
