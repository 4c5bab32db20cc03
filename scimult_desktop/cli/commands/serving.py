"""`scimult serve`: the local HTTP endpoint that editors call for citation suggestions."""

from __future__ import annotations

import signal

import click

from scimult_desktop.cli.context import json_option
from scimult_desktop.cli.output import emit_json


@click.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True, help="Port to listen on (0: a free one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on; only 127.0.0.1 is accepted.")
@click.option("--quiet", is_flag=True, help="Do not log requests on stderr.")
@json_option
@click.pass_context
def serve_command(ctx: click.Context, port: int, host: str, quiet: bool, as_json: bool) -> None:
    """Serve suggestions and search to editors on 127.0.0.1 until Ctrl+C.

    The URL and a fresh access token are written to
    <library>/editor-endpoint.json (readable by you only) and removed on exit.
    Requests need the header 'Authorization: Bearer TOKEN'.
    Endpoints: GET /health, POST /suggest {"text", "k"}, POST /search {"query", "k", "mode"}.
    See docs/editor-integration.md.

    JSON (once ready): {"url", "endpoint_file", "pid"}
    """
    from scimult_desktop.services.writing.editor_server import EditorServer

    log = None if quiet else (lambda line: click.echo(line, err=True))
    server = EditorServer(ctx.obj.get("library_path"), host=host, port=port, log=log)
    server.start()
    # SIGTERM (service managers, `kill`) stops as cleanly as Ctrl+C: the endpoint file goes away.
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        if as_json:
            emit_json({"url": server.url, "endpoint_file": str(server.endpoint_file), "pid": _pid()})
        else:
            click.echo(f"serving {server.url} (token in {server.endpoint_file}); Ctrl+C stops", err=True)
        server.serve_forever()
    except KeyboardInterrupt:
        pass  # the way to stop a server: not an error
    finally:
        server.stop()
        signal.signal(signal.SIGTERM, previous)
    click.echo("stopped", err=True)


def _raise_keyboard_interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _pid() -> int:
    import os

    return os.getpid()


COMMANDS = [serve_command]
