"""What every CLI command and the GUI self-test ask of the network, seen by the kernel (strace).

Each command runs in its own process under `strace -f -e trace=network`, per inference
engine, with a fresh HOME. One row per (engine, command): DNS lookups (with the names asked),
other sends or connections to non-loopback addresses, and telemetry state left under HOME
(OpenVINO's ~/intel, ONNX Runtime's ~/.cache/Microsoft). Loopback (127.0.0.0/8, ::1),
Unix sockets and netlink route queries (getifaddrs) are local and not counted.

    python benchmarks/bench_network_syscalls.py                      # this checkout
    PYTHONPATH=/tmp/old python benchmarks/bench_network_syscalls.py  # another checkout's code
    python benchmarks/bench_network_syscalls.py --serve-hold 15      # long enough for timed uploads

Needs strace and a model bundle (`--bundle DIR`, default: a tiny random one built with
scimult_train). tests/test_network_syscalls.py runs the same journeys and asserts zero.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

# Telemetry state the engines' libraries keep under HOME when they are allowed to.
TELEMETRY_STATE = ("intel", ".cache/Microsoft")
# Variables that would switch telemetry off from outside: a child gets none of them, so
# whatever is off is switched off by the app itself (CI=true alone silences OpenVINO).
OUTSIDE_OPT_OUTS = ("ORT_DISABLE_TELEMETRY", "HF_HUB_OFFLINE", "HF_HUB_DISABLE_TELEMETRY", "TRANSFORMERS_OFFLINE",
                    "HF_DATASETS_OFFLINE", "DO_NOT_TRACK", "DISABLE_TELEMETRY", "CI", "TF_BUILD", "JENKINS_URL")
ADDRESSED_CALLS = ("connect", "bind", "sendto", "sendmsg", "sendmmsg")
LOCAL_FAMILIES = ("AF_UNIX", "AF_LOCAL", "AF_NETLINK", "AF_INET", "AF_INET6")
RESOLVER_SOCKETS = ("io.systemd.Resolve",)  # nss-resolve asks systemd-resolved over this Unix socket
COMMAND_TIMEOUT_S = 600

BIB = "".join(
    f"@article{{key{i},\n  title = {{{title}}},\n  author = {{Doe, Jane and Roe, Rick}},\n  year = {{{2015 + i}}},\n"
    f"  abstract = {{{abstract}}}\n}}\n"
    for i, (title, abstract) in enumerate([
        ("Dense retrieval of scientific papers", "We embed papers and queries for citation retrieval."),
        ("Citation recommendation with graphs", "Graph neural networks recommend citations for drafts."),
        ("Vitamin D and bone fractures", "A randomised trial of vitamin D supplementation in older adults."),
        ("Protein structure prediction", "Deep learning predicts protein structures from sequences."),
        ("Classifying research fields", "Zero-shot classification of papers into fields of study."),
        ("Climate model ensembles", "Ensembles of climate models estimate regional warming."),
    ])
)
DRAFT = "Dense retrieval has been used for citations [@key0].\nVitamin D lowers the risk of fractures.\n"


# ---- strace --------------------------------------------------------------
def strace_problem() -> str | None:
    """Why strace cannot trace a child here (not installed, ptrace not permitted), or None."""
    strace = shutil.which("strace")
    if strace is None:
        return "strace is not installed (apt-get install strace)"
    try:
        probe = subprocess.run([strace, "-f", "-qq", "-e", "trace=network", "true"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"strace does not run: {exc}"
    if probe.returncode != 0:
        return f"strace cannot trace here (ptrace not permitted?): {probe.stderr.strip().splitlines()[-1:] or probe.returncode}"
    return None


def strace_argv(log: Path) -> list[str]:
    # -xx: every string in hex, so addresses, paths and payloads decode exactly;
    # --seccomp-bpf: only network calls stop the tracee (much faster on big imports).
    argv = ["strace", "-f", "-qq", "-xx", "-s", "512", "-e", "trace=network", "-o", str(log)]
    help_text = subprocess.run(["strace", "-h"], capture_output=True, text=True).stdout
    return argv + (["--seccomp-bpf"] if "--seccomp-bpf" in help_text else [])


@dataclass
class NetworkUse:
    """What one traced process asked of the network."""

    dns: list[str] = field(default_factory=list)  # "name" asked, or "resolver ADDR" when the payload is unreadable
    remote: list[str] = field(default_factory=list)  # "call ADDR:PORT" to a non-loopback address (DNS excluded)
    other_sockets: list[str] = field(default_factory=list)  # socket families/protocols that are not local
    telemetry_files: list[str] = field(default_factory=list)  # under HOME, relative

    def problems(self) -> list[str]:
        return ([f"DNS {name}" for name in self.dns] + self.remote + self.other_sockets
                + [f"wrote ~/{path}" for path in self.telemetry_files])


_HEX_STRING = re.compile(r'"((?:\\x[0-9a-f]{2})*)"')
_SYSCALL = re.compile(r"^(?:\[pid\s+\d+\]\s*|\d+\s+)?(\w+)\((.*)$")
_INET = re.compile(r'sa_family=AF_INET, sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]*)"\)')
_INET6 = re.compile(r'sa_family=AF_INET6, sin6_port=htons\((\d+)\),.*?inet_pton\(AF_INET6, "([^"]*)"')
_SOCKET = re.compile(r"^(AF_\w+), [^,]+, (\w+)")
_PAYLOAD = re.compile(r'(?:iov_base=|^\d+, )"((?:\\x[0-9a-f]{2})*)"')


def _unhex(text: str) -> bytes:
    return bytes.fromhex(text.replace("\\x", ""))


def _readable(line: str) -> str:
    """The line with its hex strings decoded (non-ASCII bytes as '?')."""
    return _HEX_STRING.sub(lambda m: '"' + _unhex(m.group(1)).decode("ascii", "replace") + '"', line)


def dns_question(payload: bytes) -> str | None:
    """The name asked by a DNS query packet, or None when `payload` is not one."""
    if len(payload) < 17 or payload[2] & 0x80 or int.from_bytes(payload[4:6], "big") != 1:
        return None
    labels, at = [], 12
    while at < len(payload) and payload[at]:
        size = payload[at]
        if size > 63 or at + 1 + size > len(payload):
            return None
        labels.append(payload[at + 1 : at + 1 + size].decode("ascii", "replace"))
        at += 1 + size
    return ".".join(labels) if labels and len(payload) == at + 5 else None


def _is_loopback(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%")[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


def parse_trace(text: str) -> NetworkUse:
    """Read an `strace -f -xx -e trace=network` log."""
    use, resolvers = NetworkUse(), []
    for raw in text.splitlines():
        match = _SYSCALL.match(raw.strip())
        if not match:
            continue  # "<... resumed>" tails carry no address
        call, rest = match.groups()
        if call == "socket":
            family = _SOCKET.match(rest)
            if family and (family.group(1) not in LOCAL_FAMILIES or (family.group(1) == "AF_NETLINK" and family.group(2) != "NETLINK_ROUTE")):
                use.other_sockets.append(f"socket {family.group(1)} {family.group(2)}")
            continue
        if call not in ADDRESSED_CALLS:
            continue
        if call.startswith("send"):
            for payload in _PAYLOAD.findall(rest):
                name = dns_question(_unhex(payload))
                if name is not None:
                    use.dns.append(name)
        line = _readable(rest)
        if "sa_family=AF_UNIX" in line and any(sock in line for sock in RESOLVER_SOCKETS):
            resolvers.append("resolver io.systemd.Resolve")
        for port, address in _INET.findall(line) + _INET6.findall(line):
            if port == "53" and call != "bind":  # a local resolver (127.0.0.53) forwards the question
                resolvers.append(f"resolver {address}:53")
                continue
            if _is_loopback(address):
                continue
            if call == "bind" and port == "0" and address in ("0.0.0.0", "::"):
                use.remote.append(f"bind {address}:0 (all interfaces)")
                continue
            use.remote.append(f"{call} {address}:{port}")
    # Named questions say more than the resolver contacts that carried them.
    use.dns = use.dns or resolvers
    return use


def telemetry_files(home: Path) -> list[str]:
    found = []
    for folder in TELEMETRY_STATE:
        root = home / folder
        if root.exists():
            found += sorted(str(path.relative_to(home)) for path in root.rglob("*") if path.is_file()) or [folder + "/"]
    return found


# ---- journeys ------------------------------------------------------------
@dataclass
class Workspace:
    """A fresh HOME, settings (with the engine), models folder and library for one engine.

    Commands run with the workspace as their folder, so `python -m` finds the app where
    PYTHONPATH or the installed package says, not in whatever folder the caller is in.
    """

    root: Path
    engine: str
    pythonpath: str | None = None

    def __post_init__(self) -> None:
        for name in ("home", "config", "models", "watched", "traces"):
            (self.root / name).mkdir(parents=True, exist_ok=True)
        (self.root / "config" / "settings.json").write_text(json.dumps({"engine": self.engine}))
        (self.root / "refs.bib").write_text(BIB)
        (self.root / "draft.md").write_text(DRAFT)
        (self.root / "watched" / "more.bib").write_text(BIB.replace("{key", "{watched"))

    @property
    def home(self) -> Path:
        return self.root / "home"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in OUTSIDE_OPT_OUTS}
        home = str(self.home)
        env.update(HOME=home, XDG_CACHE_HOME=f"{home}/.cache", XDG_CONFIG_HOME=f"{home}/.config",
                   XDG_DATA_HOME=f"{home}/.local/share", SCIMULT_CONFIG_DIR=str(self.root / "config"),
                   SCIMULT_MODELS_DIR=str(self.root / "models"), SCIMULT_LIBRARY=str(self.root / "library"),
                   QT_QPA_PLATFORM="offscreen", PYTHONUNBUFFERED="1")
        env.pop("SCIMULT_BUNDLED_MODELS", None)
        if self.pythonpath:
            env["PYTHONPATH"] = self.pythonpath
        return env


def cli_journeys(root: Path, bundle: Path) -> list[tuple[str, list[str]]]:
    """(name, scimult arguments) for a workspace at `root`, in the order they run: each may need the ones before."""
    query = "citation retrieval with dense embeddings"
    return [
        ("model install", ["model", "install", str(bundle)]),
        ("model list", ["model", "list"]),
        ("import", ["import", str(root / "refs.bib"), "--json"]),
        ("list", ["list", "--json"]),
        ("show", ["show", "key1", "--json"]),
        ("status", ["status", "--json"]),
        ("index", ["index", "--json"]),
        ("search keyword", ["search", query, "--mode", "keyword", "--json"]),
        ("search semantic", ["search", query, "--mode", "semantic", "--json"]),
        ("search hybrid", ["search", query, "--mode", "hybrid", "--json"]),
        ("related", ["related", "key1", "--json"]),
        ("suggest --text", ["suggest", "--text", "Vitamin D supplements prevent fractures.", "--json"]),
        ("suggest --file", ["suggest", "--file", str(root / "draft.md"), "--json"]),
        ("classify", ["classify", "key2", "--json"]),
        ("cite", ["cite", "key1", "--style", "apa", "--bibliography", "--json"]),
        ("contexts", ["contexts", "key1", "--json"]),
        ("note", ["note", "key1", "--add", "Check the dose against the trial.", "--json"]),
        ("tags add", ["tags", "add", "reading", "key1", "--json"]),
        ("collections add", ["collections", "add", "Thesis", "key1", "--json"]),
        ("delete", ["delete", "key2", "--json"]),
        ("trash restore", ["trash", "restore", "key2", "--json"]),
        ("embed", ["embed", "--task", "link", "--text", "protein structures", "--json"]),
        ("duplicates --scan", ["duplicates", "--scan", "--json"]),
        ("export", ["export", "--all", "--format", "csl-json", "--out", str(root / "export.json")]),
        ("watch add", ["watch", "add", str(root / "watched")]),
        ("watch run --once", ["watch", "run", "--once", "--min-age", "0", "--json"]),
        ("finetune --dry-run", ["finetune", "--dry-run", "--json"]),
        ("undo", ["undo"]),
    ]


@dataclass
class Result:
    engine: str
    command: str
    returncode: int
    use: NetworkUse
    seconds: float
    stderr_tail: str = ""


def _traced(ws: Workspace, name: str, argv: list[str], run) -> Result:
    log = ws.root / "traces" / (re.sub(r"\W+", "_", name).strip("_") + ".strace")
    for folder in TELEMETRY_STATE:  # each command is judged on what it writes itself
        shutil.rmtree(ws.home / folder, ignore_errors=True)
    started = time.monotonic()
    returncode, stderr = run(strace_argv(log) + argv)
    use = parse_trace(log.read_text(errors="replace"))
    use.telemetry_files = telemetry_files(ws.home)
    return Result(ws.engine, name, returncode, use, time.monotonic() - started, stderr[-2000:])


def _run_to_end(ws: Workspace):
    def run(argv: list[str]) -> tuple[int, str]:
        done = subprocess.run(argv, env=ws.env(), cwd=ws.root, capture_output=True, text=True, timeout=COMMAND_TIMEOUT_S)
        return done.returncode, done.stderr
    return run


def run_cli(ws: Workspace, name: str, args: list[str]) -> Result:
    return _traced(ws, name, [sys.executable, "-m", "scimult_desktop", *args], _run_to_end(ws))


def run_serve(ws: Workspace, hold_s: float = 0.0) -> Result:
    """`scimult serve`: start, one /search request over loopback, `hold_s` idle, SIGTERM."""

    def run(argv: list[str]) -> tuple[int, str]:
        proc = subprocess.Popen(argv, env=ws.env(), cwd=ws.root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            ready = proc.stdout.readline()
            if not ready:
                proc.wait(timeout=COMMAND_TIMEOUT_S)
                return proc.returncode or 1, proc.stderr.read()
            info = json.loads(ready)
            token = json.loads(Path(info["endpoint_file"]).read_text())["token"]
            request = urllib.request.Request(
                info["url"].rstrip("/") + "/search", data=json.dumps({"query": "vitamin D", "k": 3}).encode(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"}, method="POST")
            with urllib.request.urlopen(request, timeout=120) as response:
                answer = json.loads(response.read())
            time.sleep(hold_s)
            os.kill(info["pid"], signal.SIGTERM)  # the server itself, not strace
            proc.wait(timeout=60)
            ok = proc.returncode == 0 and isinstance(answer, (list, dict))
            return (0 if ok else proc.returncode or 1), proc.stderr.read()
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    return _traced(ws, "serve", [sys.executable, "-m", "scimult_desktop", "serve", "--json", "--quiet"], run)


def _lsp_frame(message: dict) -> bytes:
    body = json.dumps(message).encode()
    return b"Content-Length: %d\r\n\r\n" % len(body) + body


def _lsp_answer(stream, request_id: int) -> dict:
    """Read framed messages from the server until the response to `request_id` (notifications skipped)."""
    while True:
        length = None
        while True:
            line = stream.readline()
            if not line:
                raise EOFError("the language server closed its output")
            if line in (b"\r\n", b"\n"):
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        message = json.loads(stream.read(length))
        if message.get("id") == request_id and "method" not in message:
            return message


def run_lsp(ws: Workspace) -> Result:
    """`scimult lsp` driven over stdio as an editor does: initialize, open a .tex draft, complete after
    `\\cite{` (which loads the model and ranks the library), shut down."""
    uri = (ws.root / "draft.tex").as_uri()
    text = "Dense retrieval has been shown to beat keyword search \\cite{"
    requests = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"processId": None, "rootUri": None, "capabilities": {}}},
        {"jsonrpc": "2.0", "method": "initialized", "params": {}},
        {"jsonrpc": "2.0", "method": "textDocument/didOpen",
         "params": {"textDocument": {"uri": uri, "languageId": "latex", "version": 1, "text": text}}},
        {"jsonrpc": "2.0", "id": 2, "method": "textDocument/completion",
         "params": {"textDocument": {"uri": uri}, "position": {"line": 0, "character": len(text)}}},
    ]

    def run(argv: list[str]) -> tuple[int, str]:
        proc = subprocess.Popen(argv, env=ws.env(), cwd=ws.root, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)
        try:
            proc.stdin.write(b"".join(_lsp_frame(m) for m in requests))
            proc.stdin.flush()
            _lsp_answer(proc.stdout, 1)
            completion = _lsp_answer(proc.stdout, 2)
            items = (completion.get("result") or {})
            items = items.get("items", []) if isinstance(items, dict) else items
            proc.stdin.write(_lsp_frame({"jsonrpc": "2.0", "id": 3, "method": "shutdown"}))
            proc.stdin.flush()
            _lsp_answer(proc.stdout, 3)
            proc.stdin.write(_lsp_frame({"jsonrpc": "2.0", "method": "exit"}))
            proc.stdin.close()
            proc.wait(timeout=60)
            ok = proc.returncode == 0 and bool(items)
            return (0 if ok else proc.returncode or 1), proc.stderr.read().decode(errors="replace") + (
                "" if items else "\nno completion items")
        except (EOFError, OSError, ValueError) as exc:
            proc.kill()
            proc.wait()
            return 1, f"{exc}\n" + proc.stderr.read().decode(errors="replace")
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()

    return _traced(ws, "lsp", [sys.executable, "-m", "scimult_desktop", "lsp"], run)


def run_gui_self_test(ws: Workspace) -> Result:
    """`scimult-desktop --self-test` (offscreen): demo import, indexing, one search."""
    code = "import sys; from scimult_desktop.gui.app import main; sys.exit(main())"
    argv = [sys.executable, "-c", code, "--self-test", "--self-test-library", str(ws.root / "self-test-library")]
    return _traced(ws, "gui --self-test", argv, _run_to_end(ws))


def run_all(ws: Workspace, bundle: Path, *, serve_hold_s: float = 0.0, gui: bool = True, progress=None) -> list[Result]:
    results = []
    steps = [(name, lambda name=name, args=args: run_cli(ws, name, args)) for name, args in cli_journeys(ws.root, bundle)]
    steps.append(("serve", lambda: run_serve(ws, serve_hold_s)))
    steps.append(("lsp", lambda: run_lsp(ws)))
    if gui:
        steps.append(("gui --self-test", lambda: run_gui_self_test(ws)))
    for _, step in steps:
        result = step()
        results.append(result)
        if progress:
            progress(result)
    return results


def available_engines(pythonpath: str | None = None) -> dict[str, str | None]:
    """engine -> None when it can run here, else why not (asked in a child with telemetry off)."""
    code = (
        "import importlib.util, json, onnxruntime\n"
        "print(json.dumps({'cuda': 'CUDAExecutionProvider' in onnxruntime.get_available_providers(),"
        " 'openvino': importlib.util.find_spec('openvino') is not None}))"
    )
    env = dict(os.environ, ORT_DISABLE_TELEMETRY="1", PYTHONPATH=pythonpath or os.environ.get("PYTHONPATH", ""))
    found = json.loads(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)
    return {
        "onnxruntime-cpu": None,
        "openvino": None if found["openvino"] else "openvino is not installed",
        "onnxruntime-cuda": None if found["cuda"] else "no CUDA provider in onnxruntime (needs onnxruntime-gpu and a GPU)",
    }


def build_tiny_bundle(folder: Path) -> Path:
    """A tiny random model bundle (one shared graph), made in a child so torch stays out of this process."""
    code = ("import sys; from scimult_train.testing import build_tiny_bundle; "
            "build_tiny_bundle(sys.argv[1], name='tiny-network', distinct_experts=False)")
    subprocess.run([sys.executable, "-c", code, str(folder)], check=True, capture_output=True, env=dict(os.environ, ORT_DISABLE_TELEMETRY="1"))
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, help="model bundle folder (default: a tiny random one)")
    parser.add_argument("--engines", nargs="+", help="engines to run (default: every one available here)")
    parser.add_argument("--serve-hold", type=float, default=0.0, help="seconds `serve` stays up after its request")
    parser.add_argument("--no-gui", action="store_true", help="skip the GUI self-test")
    parser.add_argument("--json", type=Path, help="also write the rows to this JSON file")
    args = parser.parse_args()
    problem = strace_problem()
    if problem:
        raise SystemExit(f"error: {problem}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="scimult-network-") as tmp:
        bundle = args.bundle or build_tiny_bundle(Path(tmp) / "bundle")
        engines = available_engines()
        for engine in args.engines or [name for name, why in engines.items() if why is None]:
            if engines.get(engine):
                print(f"{engine}: skipped ({engines[engine]})")
                continue
            ws = Workspace(Path(tmp) / engine, engine, os.environ.get("PYTHONPATH"))

            def show(result: Result) -> None:
                use = result.use
                names = sorted(set(use.dns))
                print(f"{result.engine:16} {result.command:20} rc={result.returncode:<3} dns={len(use.dns):<3} "
                      f"remote={len(use.remote):<3} telemetry_files={len(use.telemetry_files):<2} {result.seconds:5.1f}s "
                      f"{' '.join(names)[:90]}", flush=True)
                if result.returncode != 0:
                    print("    " + (result.stderr_tail.strip().splitlines() or ["(no stderr)"])[-1], flush=True)
                rows.append({"engine": result.engine, "command": result.command, "returncode": result.returncode,
                             "dns": use.dns, "remote": use.remote, "other_sockets": use.other_sockets,
                             "telemetry_files": use.telemetry_files, "seconds": round(result.seconds, 2)})

            run_all(ws, bundle, serve_hold_s=args.serve_hold, gui=not args.no_gui, progress=show)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    dirty = [row for row in rows if row["dns"] or row["remote"] or row["other_sockets"] or row["telemetry_files"]]
    print(f"{len(rows)} runs, {len(dirty)} with network use or telemetry state")


if __name__ == "__main__":
    main()
