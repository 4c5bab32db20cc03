"""The app never opens a network connection from Python: every socket connect and name lookup
is refused and recorded.

Runs the main user journeys (import, list, search, and the encoder commands when a model
is installable) in a fresh interpreter whose socket layer fails loudly on any connection
other than a local Unix socket. This sees Python sockets only, not what native libraries
(ONNX Runtime's telemetry uploader) do; it is the quick check that needs no strace.
tests/test_network_syscalls.py is the proof at the OS level: every command and the GUI
self-test, on each engine, under strace.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.bibgen import synthetic_bib

GUARD = textwrap.dedent(
    """
    import socket, sys, json
    attempts = []
    _connect = socket.socket.connect
    def guarded_connect(self, address):
        if self.family == getattr(socket, "AF_UNIX", None):
            return _connect(self, address)
        attempts.append(repr(address))
        raise OSError("network access attempted: %r" % (address,))
    socket.socket.connect = guarded_connect
    socket.socket.connect_ex = lambda self, address: guarded_connect(self, address)
    _create = socket.create_connection
    def guarded_create(address, *a, **k):
        attempts.append(repr(address))
        raise OSError("network access attempted: %r" % (address,))
    socket.create_connection = guarded_create
    _getaddrinfo = socket.getaddrinfo
    def guarded_getaddrinfo(host, *a, **k):
        if host not in (None, "localhost", "127.0.0.1", "::1"):
            attempts.append("lookup %r" % (host,))
            raise socket.gaierror(socket.EAI_NONAME, "name lookup attempted: %r" % (host,))
        return _getaddrinfo(host, *a, **k)
    socket.getaddrinfo = guarded_getaddrinfo
    import atexit
    atexit.register(lambda: sys.stderr.write("NETWORK_ATTEMPTS=" + json.dumps(attempts) + "\\n"))
    from scimult_desktop.cli.main import cli
    cli.main(args=sys.argv[1:], prog_name="scimult", standalone_mode=True)
    """
)


def run_guarded(args, env_library):
    result = subprocess.run(
        [sys.executable, "-c", GUARD, "--library", str(env_library), *args], capture_output=True, text=True
    )
    marker = [line for line in result.stderr.splitlines() if line.startswith("NETWORK_ATTEMPTS=")]
    assert marker, result.stderr
    return result, json.loads(marker[-1].split("=", 1)[1])


def test_main_journeys_make_no_network_connection(tmp_path):
    bib = tmp_path / "refs.bib"
    bib.write_text(synthetic_bib(20))
    lib = tmp_path / "lib"
    for args in (["import", str(bib), "--json"], ["list", "--json"], ["search", "retrieval", "--mode", "keyword", "--json"]):
        result, attempts = run_guarded(args, lib)
        assert result.returncode == 0, result.stderr
        assert attempts == [], f"{args[0]} tried to connect to {attempts}"


def test_model_install_index_and_semantic_features_make_no_network_connection(tmp_path, monkeypatch):
    import pytest

    pytest.importorskip("torch")
    testing = pytest.importorskip("scimult_train.testing")
    bundle = testing.build_tiny_bundle(tmp_path / "bundle", name="tiny-offline")
    bib = tmp_path / "refs.bib"
    bib.write_text(synthetic_bib(12))
    lib = tmp_path / "lib"
    journeys = (
        ["model", "install", str(bundle)],
        ["import", str(bib)],
        ["index", "--json"],
        ["search", "retrieval methods", "--json"],
        ["related", "key1", "--json"],
        ["suggest", "--text", "Citation methods have been shown to work.", "--json"],
        ["classify", "key2", "--json"],
    )
    for args in journeys:
        result, attempts = run_guarded(args, lib)
        assert result.returncode == 0, result.stderr
        assert attempts == [], f"{args[0]} tried to connect to {attempts}"


def test_the_guard_really_catches_name_lookups(tmp_path):
    code = GUARD.replace("from scimult_desktop.cli.main import cli", "import socket\ntry:\n    socket.getaddrinfo('telemetry.example.invalid', 443)\nexcept OSError:\n    pass\nraise SystemExit(0)\nfrom scimult_desktop.cli.main import cli")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    marker = [line for line in result.stderr.splitlines() if line.startswith("NETWORK_ATTEMPTS=")]
    assert json.loads(marker[-1].split("=", 1)[1]) == ["lookup 'telemetry.example.invalid'"]


def test_the_guard_really_catches_connections(tmp_path):
    code = GUARD.replace("from scimult_desktop.cli.main import cli", "import urllib.request\ntry:\n    urllib.request.urlopen('http://127.0.0.1:9/', timeout=1)\nexcept Exception:\n    pass\nraise SystemExit(0)\nfrom scimult_desktop.cli.main import cli")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    marker = [line for line in result.stderr.splitlines() if line.startswith("NETWORK_ATTEMPTS=")]
    assert json.loads(marker[-1].split("=", 1)[1]) != []
