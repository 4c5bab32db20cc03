"""The editor endpoint (`scimult serve`) under load and under hostile clients.

Starts the endpoint on 127.0.0.1 in a child process, on an empty library in a temporary
folder, and measures:
- load: 1, 32 and 200 concurrent clients sharing 200 connections (one authorised
  GET /health each, all released at once): answers, resets, other errors (a client
  gives up after 30 s), p50/p95 ms;
- half-open: 100 connections that send nothing: server threads before/while, the
  latency of a normal request meanwhile, how many the server closes by itself;
- unauthenticated body: `Content-Length: -1`, no token, then up to 64 MiB pushed:
  bytes the server received, its memory growth, the answer and how long it took.

Counts, never asserts. Works on the current module and on the old one (before the
services were grouped), so the same script measures before and after:

    python benchmarks/bench_endpoint_load.py
    PYTHONPATH=/tmp/work/before python benchmarks/bench_endpoint_load.py
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PUSH_LIMIT = 64 * 1024 * 1024


# ---- the server, in a child process -------------------------------------------------------------
def serve(library: str) -> None:
    """Child process: run the endpoint; answer 'stats' lines on stdin with one JSON line."""
    try:
        from scimult_desktop.services.writing.editor_server import EditorServer
    except ImportError:  # before services/ was grouped
        from scimult_desktop.services.editor_server import EditorServer

    received = [0]
    lock = threading.Lock()
    # Count every byte the server takes from a socket, whichever layer reads it.
    for name in ("recv", "recv_into"):
        original = getattr(socket.socket, name)

        def counted(self, *args, _original=original, _name=name, **kwargs):
            result = _original(self, *args, **kwargs)
            with lock:
                received[0] += result if _name == "recv_into" else len(result)
            return result

        setattr(socket.socket, name, counted)

    server = EditorServer(library)
    server.serve_in_thread()
    print(json.dumps({"url": server.url, "port": server.port, "token": server.token,
                      "module": EditorServer.__module__}), flush=True)
    for line in sys.stdin:
        if line.strip() == "stats":
            print(json.dumps({"threads": threading.active_count(), "received": received[0],
                              "peak_rss_mib": _peak_rss_mib()}), flush=True)
    server.stop()


def _peak_rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):  # the peak: a body read and freed still counts
            return int(line.split()[1]) / 1024
    return float("nan")


class Child:
    def __init__(self, library: str) -> None:
        self.process = subprocess.Popen([sys.executable, __file__, "--serve", library], stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True)
        info = json.loads(self.process.stdout.readline())
        self.port, self.token, self.module = info["port"], info["token"], info["module"]

    def stats(self) -> dict:
        self.process.stdin.write("stats\n")
        self.process.stdin.flush()
        return json.loads(self.process.stdout.readline())

    def close(self) -> None:
        self.process.stdin.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


# ---- measurements ---------------------------------------------------------------------------------
def health(port: int, token: str, timeout: float = 30) -> tuple[object, float]:
    """(status or error name, seconds) of one authorised GET /health on a new connection."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", "/health", headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
        outcome: object = response.status
    except ConnectionResetError as exc:  # includes RemoteDisconnected
        outcome = "reset" if not isinstance(exc, http.client.RemoteDisconnected) else "closed"
    except (BrokenPipeError, ConnectionAbortedError):
        outcome = "reset"
    except socket.timeout:
        outcome = "timeout"
    except OSError as exc:
        outcome = type(exc).__name__
    finally:
        connection.close()
    return outcome, time.perf_counter() - started


def load(child: Child, clients: int, connections: int) -> dict:
    barrier = threading.Barrier(clients)
    shares = [connections // clients + (i < connections % clients) for i in range(clients)]

    def client(share: int) -> list[tuple[object, float]]:
        barrier.wait()
        return [health(child.port, child.token) for _ in range(share)]

    with ThreadPoolExecutor(max_workers=clients) as pool:
        results = [r for rs in pool.map(client, shares) for r in rs]
    ok = [seconds for outcome, seconds in results if outcome == 200]
    outcomes: dict[str, int] = {}
    for outcome, _ in results:
        outcomes[str(outcome)] = outcomes.get(str(outcome), 0) + 1
    ms = sorted(s * 1000 for s in ok)
    return {"clients": clients, "connections": connections, "ok": len(ok),
            "resets": outcomes.get("reset", 0) + outcomes.get("closed", 0),
            "other": {k: v for k, v in outcomes.items() if k not in ("200", "reset", "closed")},
            "p50_ms": statistics.median(ms) if ms else None,
            "p95_ms": ms[int(0.95 * (len(ms) - 1))] if ms else None}


def half_open(child: Child, count: int, linger: float) -> dict:
    before = child.stats()["threads"]
    sockets = [socket.create_connection(("127.0.0.1", child.port), timeout=5) for _ in range(count)]
    try:
        time.sleep(1.0)
        during = child.stats()["threads"]
        outcome, seconds = health(child.port, child.token, timeout=linger)
        time.sleep(linger)
        closed = sum(_closed(sock) for sock in sockets)
    finally:
        for sock in sockets:
            sock.close()
    return {"connections": count, "threads_before": before, "threads_during": during,
            "normal_request": f"{outcome} in {seconds * 1000:.0f} ms", "closed_by_server": closed, "after_s": linger + 1}


def _closed(sock: socket.socket) -> bool:
    sock.setblocking(False)
    try:
        while sock.recv(65536):
            pass  # a 408 answer, then the close
        return True
    except BlockingIOError:
        return False
    except OSError:
        return True


def unauthenticated_body(child: Child) -> dict:
    before = child.stats()
    sock = socket.create_connection(("127.0.0.1", child.port), timeout=2)
    started = time.perf_counter()
    sock.sendall(f"POST /search HTTP/1.1\r\nHost: 127.0.0.1:{child.port}\r\nContent-Length: -1\r\n\r\n".encode())
    chunk, pushed = b"x" * (1024 * 1024), 0
    try:
        while pushed < PUSH_LIMIT:
            pushed += sock.send(chunk)  # stops when the server stops reading (send times out) or closes
        sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    sock.settimeout(30)
    try:
        answer = sock.recv(200).split(b"\r\n", 1)[0].decode("latin-1") or "closed without an answer"
    except OSError as exc:
        answer = type(exc).__name__
    answered_s = time.perf_counter() - started
    sock.close()
    time.sleep(0.5)
    after = child.stats()
    return {"pushed_mib": round(pushed / 2**20, 1), "server_received_mib": round((after["received"] - before["received"]) / 2**20, 2),
            "server_peak_rss_growth_mib": round(after["peak_rss_mib"] - before["peak_rss_mib"], 1), "answer": answer,
            "answer_after_s": round(answered_s, 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=3, help="load runs per client count")
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--half-open", type=int, default=100)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
        return
    try:
        from scimult_desktop.services.library.facade import Library
    except ImportError:
        from scimult_desktop.services.library import Library
    with tempfile.TemporaryDirectory() as folder:
        library = os.path.join(folder, "lib")
        with Library.open(library):
            pass
        child = Child(library)
        try:
            print(f"module: {child.module}")
            for clients in (1, 32, 200):
                for _ in range(args.repeats):
                    print("load", json.dumps(load(child, clients, args.connections)), flush=True)
            print("half-open", json.dumps(half_open(child, args.half_open, linger=6.0)), flush=True)
            print("unauthenticated body", json.dumps(unauthenticated_body(child)), flush=True)
        finally:
            child.close()


if __name__ == "__main__":
    main()
