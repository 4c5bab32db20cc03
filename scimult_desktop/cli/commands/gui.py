"""`scimult gui`: open the desktop window (needs the `gui` extra: PySide6)."""

from __future__ import annotations

import importlib.util

import click

from scimult_desktop.errors import ScimultError


@click.command("gui")
@click.option("--demo", is_flag=True, help="Import the demo library when the library is empty.")
@click.option("--model", help="Installed model to use (default: the active model).")
@click.option("--engine", type=click.Choice(["auto", "onnxruntime-cpu", "onnxruntime-cuda", "openvino"]), help="Inference engine.")
@click.pass_context
def gui_command(ctx: click.Context, demo: bool, model: str | None, engine: str | None) -> None:
    """Open the SciMult Desktop window on the library."""
    if importlib.util.find_spec("PySide6") is None:
        raise ScimultError("the GUI needs PySide6: pip install 'scimult-desktop[gui]'")
    from scimult_desktop.gui.app import main

    argv = []
    if ctx.obj.get("library_path"):
        argv += ["--library", ctx.obj["library_path"]]
    if demo:
        argv.append("--demo")
    if model:
        argv += ["--model", model]
    if engine:
        argv += ["--engine", engine]
    ctx.exit(main(argv))


COMMANDS = [gui_command]
