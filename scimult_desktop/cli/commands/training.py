"""`scimult train`: run the training package (`python -P -m scimult_train`) in a subprocess.

Public contract (keep stable):
    scimult train (--config FILE | --preset NAME) [--set KEY=VALUE ...] [--resume]

The app never imports the training package or torch: this command only starts
`python -P -m scimult_train ...` with the same Python (-P: no code from the current folder),
lets it print its progress (stderr) straight to the terminal, forwards Ctrl+C / SIGTERM
to it (the trainer then saves a checkpoint and exits with 130) and exits with the
trainer's exit code.
"""

from __future__ import annotations

import os
import signal

import click

from scimult_desktop.errors import ModelError


@click.command("train")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), help="A training config (JSON).")
@click.option("--preset", help="A preset of scimult_train: tiny (CPU smoke run), default-minilm, scimult-base.")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help="Override one config key (repeatable).")
@click.option("--resume", is_flag=True, help="Continue from the newest checkpoint in the run's out_dir.")
@click.pass_context
def train_command(ctx: click.Context, config_path: str | None, preset: str | None, overrides: tuple[str, ...], resume: bool) -> None:
    """Train a task-aware model (multi-task contrastive; see training/README.md).

    Outputs go to the config's out_dir (default runs/<name>): metrics.jsonl, loss.png,
    checkpoints/ and bundle/, which `scimult model install` accepts. Ctrl+C saves a
    checkpoint and stops (exit code 130); --resume continues from it.
    """
    from scimult_desktop.services.models import tools
    from scimult_desktop.services.models.bundles import TRAIN_INSTALL_HINT, training_available, training_tool_env

    if (config_path is None) == (preset is None):
        raise click.UsageError("give exactly one of --config FILE or --preset NAME")
    if not training_available():
        raise ModelError(f"training needs the training package: {TRAIN_INSTALL_HINT}")
    args = tools.module_command("scimult_train")
    args += ["--config", config_path] if config_path else ["--preset", preset]
    for item in overrides:
        args += ["--set", item]
    if resume:
        args.append("--resume")
    # The user's folder stays the working folder on purpose (config paths and the default
    # out_dir runs/<name> are relative to it); -P keeps it off the trainer's sys.path.
    ctx.exit(_run_forwarding_signals(args, training_tool_env()))


def _run_forwarding_signals(args: list[str], env: dict[str, str]) -> int:
    """Run `args`; Ctrl+C and SIGTERM reach the child exactly once each time they arrive."""
    from scimult_desktop.services.models import tools

    posix = os.name == "posix"
    # Own process group on POSIX, so a terminal Ctrl+C reaches the trainer only through us
    # (once); a second Ctrl+C is forwarded too and makes the trainer stop without saving.
    child = tools.popen(args, cwd=os.getcwd(), env=env, start_new_session=posix)

    def forward(signum, frame):  # noqa: ARG001 - signal handler signature
        if child.poll() is None:
            child.send_signal(signum)

    previous_term = signal.signal(signal.SIGTERM, forward) if posix else None
    try:
        while True:
            try:
                return child.wait()
            except KeyboardInterrupt:
                click.echo("stopping: the trainer saves a checkpoint (Ctrl+C again stops without saving)", err=True)
                if posix:
                    forward(signal.SIGINT, None)
    finally:
        if previous_term is not None:
            signal.signal(signal.SIGTERM, previous_term)


COMMANDS = [train_command]
