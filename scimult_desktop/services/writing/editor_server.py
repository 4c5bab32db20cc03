"""A local HTTP endpoint so that text editors can ask the library for citations.

Security model: the server binds to 127.0.0.1 only (any other host is
refused), on a random free port by default, and every request must carry
`Authorization: Bearer <token>` with a random token made at start. The URL
and token are written to `<library folder>/editor-endpoint.json` with
permissions 0600 (only the user can read it) and removed on shutdown; editor
scripts read that file. No CORS headers are sent, so web pages cannot read
the answers.

Endpoints (JSON in, JSON out; errors are `{"error": message}` with 4xx/5xx):
- `GET /health` -> `{"status": "ok", "version", "library", "papers"}`
- `POST /suggest` `{"text": ..., "k": 10}` -> `[{"id", "citekey", "title", "score"}]`
- `POST /search` `{"query": ..., "k": 10, "mode": "hybrid"}` -> same shape
  (the same JSON as `scimult suggest --json` / `scimult search --json`).

Each request opens its own `Library` (SQLite connections belong to one thread).

Example:
    >>> server = EditorServer("/tmp/demo-lib")
    >>> server.start()             # binds and writes the endpoint file
    >>> server.url, server.endpoint_file
    >>> server.serve_until_interrupted()   # Ctrl+C stops it and removes the file
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
import tempfile
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from scimult_desktop import __version__, config
from scimult_desktop.errors import LibraryError, PaperNotFound, ScimultError
from scimult_desktop.services.library.facade import SEARCH_MODES, Library

ENDPOINT_FILE_NAME = "editor-endpoint.json"
ALLOWED_HOST = "127.0.0.1"
MAX_BODY_BYTES = 1024 * 1024
MAX_K = 200


class EditorServerError(ScimultError):
    """The editor endpoint cannot start (wrong host, port in use, library unusable)."""


class _RequestError(Exception):
    def __init__(self, status: HTTPStatus, message: str) -> None:
        super().__init__(message)
        self.status = status


class EditorServer:
    """The editor endpoint for one library folder.

    Args:
        library_path: the library folder (`None`: `config.library_dir()` rules).
        host: must be `127.0.0.1`.
        port: 0 picks a free port.
        log: called with one line per request (`None`: silent).
    """

    def __init__(
        self,
        library_path: str | os.PathLike | None = None,
        *,
        host: str = ALLOWED_HOST,
        port: int = 0,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if host != ALLOWED_HOST:
            raise EditorServerError(f"the editor endpoint only listens on {ALLOWED_HOST}, not {host!r}")
        if not 0 <= port <= 65535:
            raise EditorServerError(f"port {port} is out of range (0-65535; 0 picks a free one)")
        self.library_folder = config.library_dir(library_path)
        self.host = host
        self.requested_port = port
        self.token = secrets.token_urlsafe(32)
        self.log = log
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ---- lifecycle -------------------------------------------------------------
    @property
    def endpoint_file(self) -> Path:
        return self.library_folder / ENDPOINT_FILE_NAME

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise EditorServerError("the editor endpoint is not started")
        return self._httpd.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Check the library opens, bind the port and write the endpoint file."""
        with Library.open(self.library_folder):  # fails early, with the library's own message
            pass
        handler = type("_BoundHandler", (_Handler,), {"server_state": self})
        try:
            self._httpd = ThreadingHTTPServer((self.host, self.requested_port), handler)
        except OSError as exc:
            raise EditorServerError(f"cannot listen on {self.host}:{self.requested_port} ({exc.strerror or exc})") from None
        self._httpd.daemon_threads = True
        self._write_endpoint_file()

    def serve_forever(self) -> None:
        if self._httpd is None:
            self.start()
        assert self._httpd is not None
        self._httpd.serve_forever(poll_interval=0.2)

    def serve_in_thread(self) -> threading.Thread:
        """Serve from a daemon thread (tests, the GUI); `stop()` ends it."""
        if self._httpd is None:
            self.start()
        self._thread = threading.Thread(target=self.serve_forever, name="scimult-editor-endpoint", daemon=True)
        self._thread.start()
        return self._thread

    def serve_until_interrupted(self) -> None:
        """Serve on this thread until Ctrl+C (KeyboardInterrupt), then stop cleanly."""
        try:
            self.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def stop(self) -> None:
        """Stop serving, close the socket and remove the endpoint file (if it is still ours)."""
        httpd, self._httpd = self._httpd, None
        if httpd is not None:
            if self._thread is not None and self._thread.is_alive():
                httpd.shutdown()
                self._thread.join(timeout=5)
            httpd.server_close()
        self._thread = None
        self._remove_endpoint_file()

    def __enter__(self) -> "EditorServer":
        self.serve_in_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- the endpoint file -------------------------------------------------------
    def _write_endpoint_file(self) -> None:
        data = {"url": self.url, "token": self.token, "pid": os.getpid()}
        folder = self.endpoint_file.parent
        folder.mkdir(parents=True, exist_ok=True)
        # mkstemp creates the file 0600 before anything is written; the rename is atomic,
        # so an editor never reads a half-written file or one readable by others.
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".editor-endpoint-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.endpoint_file)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise EditorServerError(f"cannot write {self.endpoint_file} ({exc.strerror or exc})") from None

    def _remove_endpoint_file(self) -> None:
        try:
            data = json.loads(self.endpoint_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        # Another server may have replaced the file since; leave its file alone.
        if isinstance(data, dict) and data.get("token") == self.token:
            self.endpoint_file.unlink(missing_ok=True)

    # ---- request handling (called from handler threads) -------------------------
    def handle(self, method: str, path: str, body: dict | None) -> object:
        route = path.split("?", 1)[0].rstrip("/") or "/"
        routes = {("GET", "/health"): self._health, ("POST", "/suggest"): self._suggest, ("POST", "/search"): self._search}
        if (method, route) not in routes:
            if any(r == route for _, r in routes):
                raise _RequestError(HTTPStatus.METHOD_NOT_ALLOWED, f"{method} is not allowed on {route}")
            raise _RequestError(HTTPStatus.NOT_FOUND, f"no endpoint {route} (try GET /health, POST /suggest, POST /search)")
        return routes[(method, route)](body or {})

    def _health(self, body: dict) -> dict:
        with Library.open(self.library_folder, create=False) as library:
            papers = library.count_papers()
        return {"status": "ok", "version": __version__, "library": str(self.library_folder), "papers": papers}

    def _suggest(self, body: dict) -> list[dict]:
        text = _required_text(body, "text")
        k = _k(body)
        with Library.open(self.library_folder, create=False) as library:
            return [hit.to_json() for hit in library.suggest(text, k=k)]

    def _search(self, body: dict) -> list[dict]:
        query = _required_text(body, "query")
        k = _k(body)
        mode = body.get("mode", "hybrid")
        if mode not in SEARCH_MODES:
            raise _RequestError(HTTPStatus.BAD_REQUEST, f"\"mode\" must be one of: {', '.join(SEARCH_MODES)}")
        with Library.open(self.library_folder, create=False) as library:
            return [hit.to_json() for hit in library.search(query, k=k, mode=mode)]


def _required_text(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _RequestError(HTTPStatus.BAD_REQUEST, f"\"{name}\" must be non-empty text")
    return value


def _k(body: dict) -> int:
    k = body.get("k", 10)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise _RequestError(HTTPStatus.BAD_REQUEST, f"\"k\" must be a whole number from 1 to {MAX_K}")
    return k


def _parse_body(raw: bytes) -> dict | None:
    if not raw.strip():
        return None
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _RequestError(HTTPStatus.BAD_REQUEST, f"the body is not UTF-8 JSON ({exc})") from None
    if not isinstance(body, dict):
        raise _RequestError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
    return body


class _Handler(BaseHTTPRequestHandler):
    server_state: EditorServer  # set on the per-server subclass
    server_version = f"scimult-editor/{__version__}"
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._respond("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._respond("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._respond("DELETE")

    def _respond(self, method: str) -> None:
        try:
            raw = self._read_raw_body()  # always drained, so the connection stays usable
            self._check_token()
            body = _parse_body(raw)
            result = self.server_state.handle(method, self.path, body if method == "POST" else None)
            self._send(HTTPStatus.OK, result)
        except _RequestError as exc:
            self._send(exc.status, {"error": str(exc)})
        except PaperNotFound as exc:
            self._send(HTTPStatus.NOT_FOUND, {"error": str(exc)})
        except LibraryError as exc:
            self._send(HTTPStatus.SERVICE_UNAVAILABLE, {"error": str(exc)})
        except ScimultError as exc:
            self._send(HTTPStatus.BAD_REQUEST, {"error": str(exc)})
        except Exception as exc:  # a bug: answer, and keep serving the other requests
            self._send(HTTPStatus.INTERNAL_SERVER_ERROR, {"error": f"internal error: {type(exc).__name__}: {exc}"})

    def _check_token(self) -> None:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.server_state.token.encode()):
            raise _RequestError(HTTPStatus.UNAUTHORIZED, "missing or wrong token (send 'Authorization: Bearer <token>' "
                                                         f"from {self.server_state.endpoint_file})")

    def _read_raw_body(self) -> bytes:
        length_header = self.headers.get("Content-Length")
        if not length_header:
            return b""
        try:
            length = int(length_header)
        except ValueError:
            raise _RequestError(HTTPStatus.BAD_REQUEST, "bad Content-Length") from None
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            raise _RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body over {MAX_BODY_BYTES} bytes")
        return self.rfile.read(length)

    def _send(self, status: HTTPStatus, value: object) -> None:
        payload = json.dumps(value, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        if self.server_state.log is not None:
            self.server_state.log(f"{self.address_string()} {format % args}")
