"""An HTTP server for a loopback endpoint that slow or hostile clients cannot pin down.

The standard library's ThreadingHTTPServer starts one thread per connection, waits on
each socket forever and listens with a backlog of 5. Here:
- one thread accepts connections and collects each request's headers without blocking,
  so idle or trickling connections cost a socket, not a thread, and are closed (408)
  when their headers have not arrived `request_timeout` seconds after the connect;
- a fixed set of worker threads handles requests whose headers are complete; a body is
  read by a worker under the same deadline;
- at most `max_connections` are open at once; the rest wait in the kernel's backlog.
"""

from __future__ import annotations

import io
import queue
import selectors
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, HTTPServer

MAX_HEAD_BYTES = 64 * 1024  # request line + headers; http.server allows 64 KiB a line, 100 lines
_END_OF_HEAD = (b"\r\n\r\n", b"\n\n")


class DeadlineReader(io.RawIOBase):
    """Reads `prefix`, then the socket, raising TimeoutError once `deadline` (time.monotonic()) has passed.

    A per-recv timeout alone lets a client that sends a byte every few seconds keep a
    request open forever; a deadline bounds the whole request.
    """

    def __init__(self, sock: socket.socket, deadline: float, *, prefix: bytes = b"", write_timeout: float) -> None:
        super().__init__()
        self._sock = sock
        self._prefix = memoryview(prefix)
        self._write_timeout = write_timeout
        self.deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        if self._prefix:
            n = min(len(buffer), len(self._prefix))
            buffer[:n] = self._prefix[:n]
            self._prefix = self._prefix[n:]
            return n
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the request did not arrive in time")
        self._sock.settimeout(remaining)
        try:
            return self._sock.recv_into(buffer)
        finally:
            self._sock.settimeout(self._write_timeout)  # the answer gets its own time


class DeadlineRequestHandler(BaseHTTPRequestHandler):
    """A request handler whose every request has `request_timeout` seconds to arrive."""

    request_timeout: float = 5.0
    server: "BoundedHTTPServer"

    def setup(self) -> None:
        self.timeout = self.request_timeout  # bounds each write to a client that stops reading
        super().setup()
        self.rfile.close()  # the plain socket file holds a reference that would keep the socket open
        prefix = self.server.take_head(self.connection)
        self._reader = DeadlineReader(self.connection, time.monotonic() + self.request_timeout, prefix=prefix,
                                      write_timeout=self.request_timeout)
        self.rfile = io.BufferedReader(self._reader)

    def handle_one_request(self) -> None:
        # Keep-alive idle time counts too (only a client that got an answer keeps its connection).
        self._reader.deadline = time.monotonic() + self.request_timeout
        super().handle_one_request()


@dataclass
class _Incoming:
    """A connection whose request headers are still arriving."""

    address: tuple
    deadline: float
    head: bytearray = field(default_factory=bytearray)


class BoundedHTTPServer(HTTPServer):
    """HTTPServer with one accepting thread, `workers` handler threads and bounded connections.

    `serve_forever()` and `shutdown()` replace socketserver's (which hand each accepted
    connection straight to a handler).
    """

    request_queue_size = socket.SOMAXCONN  # the kernel caps it (net.core.somaxconn on Linux)

    def __init__(self, address: tuple[str, int], handler: type[DeadlineRequestHandler], *, workers: int,
                 request_timeout: float, max_connections: int = 512) -> None:
        if workers < 1 or max_connections < workers or request_timeout <= 0:
            raise ValueError(f"bad limits: workers={workers}, max_connections={max_connections}, "
                             f"request_timeout={request_timeout}")
        self.request_timeout = request_timeout
        self._connection_slots = threading.BoundedSemaphore(max_connections)
        self._jobs: queue.SimpleQueue = queue.SimpleQueue()
        self._heads: dict[socket.socket, bytes] = {}
        self._stop_requested = threading.Event()
        self._serving = threading.Event()
        self._stopped = threading.Event()
        self._workers: list[threading.Thread] = []  # server_close() runs inside __init__ if binding fails
        super().__init__(address, handler)
        self.socket.setblocking(False)
        self._workers = [threading.Thread(target=self._work, name=f"scimult-endpoint-worker-{i}", daemon=True)
                         for i in range(workers)]
        for worker in self._workers:
            worker.start()

    # ---- the accepting thread ----------------------------------------------------------------
    def serve_forever(self, poll_interval: float = 0.2) -> None:
        self._stopped.clear()
        self._serving.set()
        selector = selectors.DefaultSelector()
        incoming: dict[socket.socket, _Incoming] = {}
        listening = False
        try:
            while not self._stop_requested.is_set():
                # Accept only while a connection slot is free; otherwise new ones wait in the backlog.
                want_listen = self._connection_slots.acquire(blocking=False)
                if want_listen:
                    self._connection_slots.release()
                if want_listen != listening:
                    (selector.register(self.socket, selectors.EVENT_READ) if want_listen
                     else selector.unregister(self.socket))
                    listening = want_listen
                now = time.monotonic()
                wait = min([poll_interval, *(max(0.0, c.deadline - now) for c in incoming.values())])
                for key, _ in selector.select(wait):
                    if key.fileobj is self.socket:
                        self._accept(selector, incoming)
                    else:
                        self._collect_head(key.fileobj, selector, incoming)  # type: ignore[arg-type]
                now = time.monotonic()
                for conn in [c for c, state in incoming.items() if state.deadline <= now]:
                    selector.unregister(conn)
                    del incoming[conn]
                    self._refuse(conn, 408, "Request Timeout", "the request headers did not arrive in time")
        finally:
            for conn in incoming:
                self._close(conn)
            selector.close()
            self._serving.clear()
            self._stopped.set()

    def _accept(self, selector: selectors.BaseSelector, incoming: dict[socket.socket, _Incoming]) -> None:
        for _ in range(64):  # then let the other sockets have a turn
            if not self._connection_slots.acquire(blocking=False):
                return
            try:
                conn, address = self.socket.accept()
            except (BlockingIOError, InterruptedError):
                self._connection_slots.release()
                return
            except OSError:  # e.g. too many open files: try again on the next round
                self._connection_slots.release()
                return
            conn.setblocking(False)
            incoming[conn] = _Incoming(address, time.monotonic() + self.request_timeout)
            selector.register(conn, selectors.EVENT_READ)

    def _collect_head(self, conn: socket.socket, selector: selectors.BaseSelector,
                      incoming: dict[socket.socket, _Incoming]) -> None:
        state = incoming[conn]
        try:
            data = conn.recv(MAX_HEAD_BYTES + 1 - len(state.head))
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            state.head += data
            complete = any(end in state.head for end in _END_OF_HEAD)
            if not complete and len(state.head) <= MAX_HEAD_BYTES:
                return
        selector.unregister(conn)
        del incoming[conn]
        if not data:
            self._close(conn)  # the client gave up before its request was complete
        elif not complete:
            self._refuse(conn, 431, "Request Header Fields Too Large", f"request headers over {MAX_HEAD_BYTES} bytes")
        else:
            self._heads[conn] = bytes(state.head)
            self._jobs.put((conn, state.address))

    def _refuse(self, conn: socket.socket, status: int, reason: str, message: str) -> None:
        body = ('{"error": "%s"}' % message).encode("ascii")
        head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json; charset=utf-8\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode("ascii")
        try:
            conn.send(head + body)  # best effort, never waits: the client may not be reading
        except OSError:
            pass
        self._close(conn)

    def _close(self, conn: socket.socket) -> None:
        self.shutdown_request(conn)
        self._connection_slots.release()

    # ---- the workers ---------------------------------------------------------------------
    def take_head(self, conn: socket.socket) -> bytes:
        """The request bytes already read from `conn` by the accepting thread."""
        return self._heads.pop(conn, b"")

    def _work(self) -> None:
        while (job := self._jobs.get()) is not None:
            conn, address = job
            try:
                conn.settimeout(self.request_timeout)
                self.finish_request(conn, address)
            except Exception:
                self.handle_error(conn, address)
            finally:
                self._heads.pop(conn, None)
                self._close(conn)

    def handle_error(self, request, client_address) -> None:  # type: ignore[override]
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away or stopped reading: nothing to report
        super().handle_error(request, client_address)

    # ---- stopping --------------------------------------------------------------------------
    def shutdown(self) -> None:
        """Stop `serve_forever()` (from another thread) and wait for it to return."""
        self._stop_requested.set()
        if self._serving.is_set():
            self._stopped.wait()

    def server_close(self) -> None:
        self._stop_requested.set()
        super().server_close()
        for _ in self._workers:
            self._jobs.put(None)
