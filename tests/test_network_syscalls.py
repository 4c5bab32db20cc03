"""Nothing leaves the machine, as the kernel sees it: every CLI command and the GUI self-test,
on each available engine, run under `strace -f -e trace=network` with a fresh HOME.

Allowed: Unix sockets, netlink route queries (getifaddrs) and loopback (`scimult serve`
binds 127.0.0.1). Not allowed: any DNS query, any connect/send/bind to another address,
and the telemetry state the engines' libraries keep under HOME (~/intel, ~/.cache/Microsoft).
The children get none of the opt-out variables of this environment (CI=true alone silences
OpenVINO), so whatever is off, the app switched off itself (scimult_desktop/privacy.py).
The journeys and the trace reader are benchmarks/bench_network_syscalls.py, which prints
the same figures for any checkout.

Skips, with the reason: strace missing or not allowed to trace (ptrace not permitted),
no torch to build the tiny model, an engine not available here (CUDA).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

BENCHMARK = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_network_syscalls.py"
ENGINES = ("onnxruntime-cpu", "openvino", "onnxruntime-cuda")
# Long enough for ONNX Runtime's first timed upload (~9 s after it loads) to show as DNS.
SERVE_HOLD_S = 12.0


def _load_benchmark():
    spec = importlib.util.spec_from_file_location("bench_network_syscalls", BENCHMARK)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


bench = _load_benchmark()
JOURNEYS = [name for name, _ in bench.cli_journeys(Path("workspace"), Path("bundle"))] + ["serve", "lsp", "gui --self-test"]


@pytest.fixture(scope="module")
def strace_works():
    problem = bench.strace_problem()
    if problem:
        pytest.skip(problem)


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory, strace_works):
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("scimult_train") is None:
        pytest.skip("building the tiny model needs torch and scimult_train (pip install -e '.[train]' and training/)")
    return bench.build_tiny_bundle(tmp_path_factory.mktemp("bundle") / "tiny")


@pytest.fixture(scope="module", params=ENGINES)
def journeys(request, tmp_path_factory, tiny_bundle):
    """engine -> {command: Result}: every journey run once, in order, on a fresh workspace."""
    why_not = bench.available_engines().get(request.param)
    if why_not:
        pytest.skip(f"engine {request.param}: {why_not}")
    ws = bench.Workspace(tmp_path_factory.mktemp(request.param), request.param)
    results = bench.run_all(ws, tiny_bundle, serve_hold_s=SERVE_HOLD_S)
    return {result.command: result for result in results}


@pytest.mark.parametrize("command", JOURNEYS)
def test_command_uses_no_network_and_leaves_no_telemetry(journeys, command):
    result = journeys[command]
    assert result.returncode == 0, f"{command} ({result.engine}) failed: {result.stderr_tail}"
    problems = result.use.problems()
    assert not problems, f"{command} ({result.engine}) reached beyond this machine: {problems}"


def test_every_cli_command_has_a_journey():
    """A new command must be added to the journeys (or here, with why it needs no trace)."""
    from scimult_desktop.cli.main import cli

    not_traced = {
        "gui": "starts the window: traced as the GUI self-test",
        "train": "trains for minutes; its subprocess gets training_tool_env (test_training_tool_env_turns_telemetry_off)",
    }
    traced = {name.split()[0] for name in JOURNEYS}
    missing = sorted(set(cli.commands) - traced - set(not_traced))
    assert missing == [], f"commands without a network trace: {missing}"


def test_the_trace_catches_a_remote_connect_and_a_dns_lookup(tmp_path, strace_works):
    """The reader is not vacuous: a non-blocking connect to 192.0.2.1:9 and a name lookup show up."""
    code = textwrap.dedent(
        """
        import socket
        s = socket.socket(); s.setblocking(False); s.connect_ex(("192.0.2.1", 9)); s.close()
        try:
            socket.getaddrinfo("telemetry.example.invalid", 443)
        except OSError:
            pass
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.sendto(b"x", ("127.0.0.1", 9)); u.close()
        """
    )
    log = tmp_path / "probe.strace"
    subprocess.run(bench.strace_argv(log) + [sys.executable, "-c", code], check=True, timeout=120)
    use = bench.parse_trace(log.read_text())
    assert "connect 192.0.2.1:9" in use.remote
    assert use.dns and all("telemetry.example.invalid" in name or name.startswith("resolver ") for name in use.dns)
    assert not any("127.0.0.1" in entry for entry in use.remote)  # loopback is allowed


@pytest.mark.parametrize("engine", ["openvino", "onnxruntime-cpu"])
def test_the_switch_is_what_stops_the_engine_telemetry(tmp_path, strace_works, tiny_bundle, engine):
    """Without `disable_telemetry()` the engine library writes its telemetry state (and, for
    OpenVINO, sends its event); with it, nothing. The same code, the same fresh HOME."""
    why_not = bench.available_engines().get(engine)
    if why_not:
        pytest.skip(why_not)
    graph = next(Path(tiny_bundle).glob("*.onnx"))
    load = {
        "openvino": f"import openvino as ov; c = ov.Core(); c.compile_model(c.read_model({str(graph)!r}), 'CPU')",
        "onnxruntime-cpu": f"import onnxruntime as ort; ort.InferenceSession({str(graph)!r}, providers=['CPUExecutionProvider'])",
    }[engine]
    uses = {}
    for switch in (False, True):
        ws = bench.Workspace(tmp_path / f"switch-{switch}", engine)
        prelude = "from scimult_desktop.privacy import disable_telemetry; disable_telemetry(); " if switch else ""
        log = ws.root / "load.strace"
        subprocess.run(bench.strace_argv(log) + [sys.executable, "-c", prelude + load], env=ws.env(), cwd=ws.root, check=True, timeout=300)
        uses[switch] = bench.parse_trace(log.read_text())
        uses[switch].telemetry_files = bench.telemetry_files(ws.home)
    if not uses[False].problems():
        pytest.skip(f"this {engine} build sends and keeps nothing even unasked; nothing to switch off")
    assert uses[True].problems() == []


def test_training_tool_env_turns_telemetry_off(monkeypatch):
    from scimult_desktop.services.models.bundles import training_tool_env

    for name in ("ORT_DISABLE_TELEMETRY", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "TRANSFORMERS_OFFLINE"):
        monkeypatch.delenv(name, raising=False)
    env = training_tool_env(EXTRA="1")
    assert env["ORT_DISABLE_TELEMETRY"] == "1" and env["HF_HUB_OFFLINE"] == "1"
    assert env["HF_HUB_DISABLE_TELEMETRY"] == "1" and env["TRANSFORMERS_OFFLINE"] == "1" and env["EXTRA"] == "1"


def test_the_reader_allows_local_sockets_and_names_everything_else():
    hexed = lambda text: "".join(f"\\x{byte:02x}" for byte in text.encode())  # noqa: E731 (strace -xx)
    query = bytes.fromhex("abcd01000001000000000000") + b"\x03www\x10google-analytics\x03com\x00\x00\x01\x00\x01"
    log = "\n".join([
        '1  socket(AF_NETLINK, SOCK_RAW|SOCK_CLOEXEC, NETLINK_ROUTE) = 3',
        f'1  connect(4, {{sa_family=AF_UNIX, sun_path="{hexed("/run/dbus/system_bus_socket")}"}}, 110) = 0',
        f'1  bind(5, {{sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("{hexed("127.0.0.1")}")}}, 16) = 0',
        f'1  sendto(6, "\\x78", 1, 0, {{sa_family=AF_INET6, sin6_port=htons(9), sin6_flowinfo=htonl(0), '
        f'inet_pton(AF_INET6, "{hexed("::1")}", &sin6_addr), sin6_scope_id=0}}, 28) = 1',
        f'2  connect(7, {{sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("{hexed("127.0.0.53")}")}}, 16) = 0',
        '2  sendmmsg(7, [{msg_hdr={msg_name=NULL, msg_namelen=0, msg_iov=[{iov_base="'
        + "".join(f"\\x{b:02x}" for b in query) + '", iov_len=42}], msg_iovlen=1}, msg_len=42}], 1, MSG_NOSIGNAL) = 1',
        f'[pid 3] connect(8, {{sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), '
        f'inet_pton(AF_INET6, "{hexed("2001:db8::1")}", &sin6_addr), sin6_scope_id=0}}, 28 <unfinished ...>',
        f'3  bind(9, {{sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("{hexed("0.0.0.0")}")}}, 16) = 0',
        '3  socket(AF_PACKET, SOCK_RAW, 768) = 10',
    ])
    use = bench.parse_trace(log)
    assert use.dns == ["www.google-analytics.com"]  # asked of a local resolver: still a lookup
    assert use.remote == ["connect 2001:db8::1:443", "bind 0.0.0.0:0 (all interfaces)"]
    assert use.other_sockets == ["socket AF_PACKET 768"]


def test_strace_problem_says_why_it_cannot_trace(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert "not installed" in bench.strace_problem()
    fake = tmp_path / "strace"
    fake.write_text("#!/bin/sh\necho 'strace: attach: ptrace(PTRACE_SEIZE, 42): Operation not permitted' >&2\nexit 1\n")
    fake.chmod(0o755)
    assert "Operation not permitted" in bench.strace_problem()
