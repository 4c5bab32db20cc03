"""`scimult`: the command-line front end.

Exit codes: 0 ok, 1 failed (one clear line on stderr), 2 usage error.
`--json` puts machine-readable output on stdout; progress goes to stderr.
"""

from __future__ import annotations

import sys

import click

from scimult_desktop import __version__
from scimult_desktop.errors import ScimultError
from scimult_desktop.privacy import disable_telemetry

# First thing, before any command can load an inference library (and for every child it starts).
disable_telemetry()


class ScimultGroup(click.Group):
    """Turns expected errors into one line on stderr and exit code 1."""

    def invoke(self, ctx: click.Context):  # type: ignore[override]
        try:
            return super().invoke(ctx)
        except ScimultError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            ctx.exit(1)


@click.group(cls=ScimultGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--library",
    "library_path",
    type=click.Path(file_okay=False),
    envvar="SCIMULT_LIBRARY",
    help="Library folder (default: $SCIMULT_LIBRARY, else your user-data folder).",
)
@click.version_option(__version__, prog_name="scimult")
@click.pass_context
def cli(ctx: click.Context, library_path: str | None) -> None:
    """SciMult Desktop: search, relate, cite and classify your papers, offline."""
    ctx.obj = {"library_path": library_path}


def _register() -> None:
    from scimult_desktop.cli.commands import exporting, finding, finetuning, gui, language_server, library, models, serving, training, watching
    from scimult_desktop.cli.commands import citing, filing, trash
    from scimult_desktop.cli.commands import contexts
    from scimult_desktop.cli.commands import organizing  # also adds `duplicates compare` and `duplicates merge`

    for module in (library, trash, filing, finding, models, finetuning, exporting, citing, contexts, organizing, watching, serving, language_server, gui, training):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main(argv: list[str] | None = None) -> None:
    cli.main(args=argv, prog_name="scimult")


if __name__ == "__main__":
    main(sys.argv[1:])
