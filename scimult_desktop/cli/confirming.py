"""Asking before a change that removes things, unless the user said --yes."""

from __future__ import annotations

import sys

import click


def ask_unless_yes(yes: bool, question: str, refusal: str) -> None:
    """Go on when `yes`; else ask `question` at a terminal (no: abort). Without a terminal nobody
    can answer, so stop with `refusal` (which should name --yes) instead of guessing.

    Raises:
        click.UsageError: not `yes` and stdin is not a terminal.
        click.Abort: the user answered no.
    """
    if yes:
        return
    if not sys.stdin.isatty():
        raise click.UsageError(refusal)
    click.confirm(question, abort=True, err=True)
