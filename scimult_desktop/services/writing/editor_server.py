"""A local HTTP endpoint so that text editors can ask the library for citations.

Security model: the server binds to 127.0.0.1 only (any other host is
refused), on a random free port by default, and every request must carry
`Authorization: Bearer <token>` with a random token made at start. The URL
and token are written to `<library folder>/editor-endpoint.json` with
permissions 0600 (only the user can read it) and removed on shutdown; editor
scripts read that file. No CORS headers are sent, so web pages cannot read
the answers; requests with an `Origin` header (sent by browsers, never by
editor scripts) get 403, and a `Host` other than 127.0.0.1/localhost/[::1]
with this port gets 421 (DNS rebinding). Body size and framing are checked,
then Host, Origin and the token, before a byte of the body is read; a request
has `request_timeout` seconds to arrive; idle connections hold no thread and a
fixed pool of `workers` threads handles requests (see bounded_http).

Endpoints (JSON in, JSON out; errors are `{"error": message}` with 4xx/5xx):
- `GET /health` -> `{"status": "ok", "version", "library", "papers"}`
- `POST /suggest` `{"text": ..., "k": 10, "kind": "plain", "position": len(text)}` ->
  `[{"id", "citekey", "title", "score"}]`: suggestions for the sentence of `text` at character
  offset `position` (default: the end, where an editor's cursor is), ranked as `suggest --file`
  ranks a draft's sentence: the other sentences sent along never steer it. `kind` is latex,
  markdown or plain. `"position_unit"`: how `position` is counted, `"character"` (code points,
  the default), `"utf-8"` (bytes, as Vim counts) or `"utf-16"` (code units, as JavaScript does).
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
import re
import secrets
import tempfile
import threading
from http import HTTPStatus
from pathlib import Path
from typing import Callable

from scimult_desktop import __version__, config
from scimult_desktop.errors import LibraryError, PaperNotFound, ScimultError
from scimult_desktop.services.library.facade import SEARCH_MODES, Library
from scimult_desktop.services.writing.bounded_http import BoundedHTTPServer, DeadlineRequestHandler
from scimult_desktop.services.writing.text_offsets import POSITION_UNITS, code_point_offset
from scimult_desktop.writing.draft import DRAFT_KINDS

ENDPOINT_FILE_NAME = "editor-endpoint.json"
ALLOWED_HOST = "127.0.0.1"
MAX_BODY_BYTES = 1024 * 1024
MAX_K = 200
REQUEST_TIMEOUT_S = 5.0  # request line + headers + body; editors on this machine send in milliseconds
WORKERS = 8  # requests handled at once; an editor sends one at a time


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
        request_timeout: seconds a request has to arrive (line, headers and body).
        workers: requests handled at once; complete requests beyond that wait their turn.
    """

    def __init__(
        self,
        library_path: str | os.PathLike | None = None,
        *,
        host: str = ALLOWED_HOST,
        port: int = 0,
        log: Callable[[str], None] | None = None,
        request_timeout: float = REQUEST_TIMEOUT_S,
        workers: int = WORKERS,
    ) -> None:
        if host != ALLOWED_HOST:
            raise EditorServerError(f"the editor endpoint only listens on {ALLOWED_HOST}, not {host!r}")
        if not 0 <= port <= 65535:
            raise EditorServerError(f"port {port} is out of range (0-65535; 0 picks a free one)")
        if not request_timeout > 0 or workers < 1:
            raise EditorServerError(f"request_timeout must be > 0 and workers >= 1 (got {request_timeout}, {workers})")
        self.library_folder = config.library_dir(library_path)
        self.host = host
        self.requested_port = port
        self.token = secrets.token_urlsafe(32)
        self.log = log
        self.request_timeout = request_timeout
        self.workers = workers
        self._httpd: BoundedHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._allowed_hosts: frozenset[str] = frozenset()

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

    @property
    def allowed_hosts(self) -> frozenset[str]:
        """The Host header values that name this endpoint (lower case); set when it binds."""
        return self._allowed_hosts

    def start(self) -> None:
        """Check the library opens, bind the port and write the endpoint file."""
        with Library.open(self.library_folder):  # fails early, with the library's own message
            pass
        handler = type("_BoundHandler", (_Handler,), {"server_state": self, "request_timeout": self.request_timeout})
        try:
            self._httpd = BoundedHTTPServer((self.host, self.requested_port), handler, workers=self.workers,
                                            request_timeout=self.request_timeout)
        except OSError as exc:
            raise EditorServerError(f"cannot listen on {self.host}:{self.requested_port} ({exc.strerror or exc})") from None
        names = ("127.0.0.1", "localhost", "[::1]")
        hosts = {f"{name}:{self.port}" for name in names}
        if self.port == 80:  # clients leave the default port out
            hosts.update(names)
        self._allowed_hosts = frozenset(hosts)
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
        kind = _choice(body, "kind", DRAFT_KINDS, "plain")
        unit = _choice(body, "position_unit", POSITION_UNITS, "character")
        position = body.get("position")
        if position is None:
            position = len(text)
        elif isinstance(position, bool) or not isinstance(position, int) or code_point_offset(text, position, unit) is None:
            raise _RequestError(HTTPStatus.BAD_REQUEST, f"\"position\" must be a character offset from 0 to {len(text)}"
                                                        + ("" if unit == "character" else f" (counted in {unit})"))
        else:
            position = code_point_offset(text, position, unit)
        with Library.open(self.library_folder, create=False) as library:
            # The same per-sentence path as drafts: a paragraph sent as context never outweighs
            # the sentence at the cursor (issue 16: context leaked between sentences).
            return library.suggest_at(text, kind, position, k=k)["suggestions"]

    def _search(self, body: dict) -> list[dict]:
        query = _required_text(body, "query")
        k = _k(body)
        mode = _choice(body, "mode", SEARCH_MODES, "hybrid")
        with Library.open(self.library_folder, create=False) as library:
            return [hit.to_json() for hit in library.search(query, k=k, mode=mode)]


def _required_text(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise _RequestError(HTTPStatus.BAD_REQUEST, f"\"{name}\" must be non-empty text")
    return value


def _choice(body: dict, name: str, choices: tuple[str, ...], default: str) -> str:
    value = body.get(name, default)
    if value not in choices:
        raise _RequestError(HTTPStatus.BAD_REQUEST, f"\"{name}\" must be one of: {', '.join(choices)}")
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
        body = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        # A "\ud800" escape parses to a lone surrogate, which no UTF-8 text (SQLite, the
        # tokenizer, the answer) can hold: refuse it here rather than fail deep in a search.
        json.dumps(body, ensure_ascii=False).encode("utf-8")
    except UnicodeDecodeError as exc:
        raise _RequestError(HTTPStatus.BAD_REQUEST, f"the body is not UTF-8 JSON (invalid UTF-8 at byte {exc.start})") from None
    except UnicodeEncodeError:
        raise _RequestError(HTTPStatus.BAD_REQUEST, "the body is not UTF-8 JSON (a \\u escape makes a lone surrogate)") from None
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, NaN, over-long integers, deep nesting
        raise _RequestError(HTTPStatus.BAD_REQUEST, f"the body is not UTF-8 JSON ({exc})") from None
    if not isinstance(body, dict):
        raise _RequestError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
    return body


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not JSON")


_CONTENT_LENGTH = re.compile(r"[0-9]{1,18}")


class _Handler(DeadlineRequestHandler):
    server_state: EditorServer  # set on the per-server subclass
    server_version = f"scimult-editor/{__version__}"
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # an unparsable request line still gets a status line and JSON

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        self._respond("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._respond("POST")

    def do_PUT(self) -> None:  # noqa: N802
        self._respond("PUT")

    def do_DELETE(self) -> None:  # noqa: N802
        self._respond("DELETE")

    def _respond(self, method: str) -> None:
        body_read = False
        try:
            # Nothing of the body is read until the request is known to be well framed,
            # addressed to this endpoint, not from a web page, and authorised.
            length = self._declared_length(method)
            self._check_host_and_origin()
            self._check_token()
            raw = self._read_body(length)
            body_read = True
            body = _parse_body(raw)
            result = self.server_state.handle(method, self.path, body if method == "POST" else None)
            self._send(HTTPStatus.OK, result)
            return
        except _RequestError as exc:
            status, error = exc.status, str(exc)
        except PaperNotFound as exc:
            status, error = HTTPStatus.NOT_FOUND, str(exc)
        except LibraryError as exc:
            status, error = HTTPStatus.SERVICE_UNAVAILABLE, str(exc)
        except ScimultError as exc:
            status, error = HTTPStatus.BAD_REQUEST, str(exc)
        except Exception as exc:  # a bug: answer, and keep serving the other requests
            status, error = HTTPStatus.INTERNAL_SERVER_ERROR, f"internal error: {type(exc).__name__}: {exc}"
        if not body_read:
            self.close_connection = True  # unread body bytes would be taken for the next request
        self._send(status, {"error": error})

    def _declared_length(self, method: str) -> int:
        if self.headers.get("Transfer-Encoding") is not None:
            raise _RequestError(HTTPStatus.LENGTH_REQUIRED, "chunked or encoded bodies are not accepted; send Content-Length")
        values = self.headers.get_all("Content-Length") or []
        if not values:
            if method == "POST":
                raise _RequestError(HTTPStatus.LENGTH_REQUIRED, "a POST needs a Content-Length header")
            return 0
        if len(values) > 1 or not _CONTENT_LENGTH.fullmatch(values[0].strip()):
            raise _RequestError(HTTPStatus.BAD_REQUEST, "bad Content-Length (one header, a whole number of bytes)")
        length = int(values[0])
        if length > MAX_BODY_BYTES:
            raise _RequestError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"request body over {MAX_BODY_BYTES} bytes")
        return length

    def _check_host_and_origin(self) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1 or hosts[0].strip().lower() not in self.server_state.allowed_hosts:
            # A web page whose domain was re-pointed at 127.0.0.1 (DNS rebinding) sends its own name here.
            raise _RequestError(HTTPStatus.MISDIRECTED_REQUEST,
                                f"the Host header must name this endpoint ({self.server_state.url})")
        if self.headers.get("Origin") is not None:
            # Browsers send Origin (even "null", from sandboxed frames and file:// pages); editor scripts do not.
            raise _RequestError(HTTPStatus.FORBIDDEN, "requests from web pages are refused (the request has an Origin header)")

    def _check_token(self) -> None:
        header = self.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), self.server_state.token.encode()):
            raise _RequestError(HTTPStatus.UNAUTHORIZED, "missing or wrong token (send 'Authorization: Bearer <token>' "
                                                         f"from {self.server_state.endpoint_file})")

    def _read_body(self, length: int) -> bytes:
        if length == 0:
            return b""
        try:
            raw = self.rfile.read(length)
        except TimeoutError:
            raise _RequestError(HTTPStatus.REQUEST_TIMEOUT,
                                f"the request body did not arrive within {self.request_timeout:g} s") from None
        if len(raw) < length:
            raise _RequestError(HTTPStatus.BAD_REQUEST, f"the request body ended after {len(raw)} of {length} bytes")
        return raw

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # http.server's own refusals (bad request line, headers too long, unknown method): JSON too.
        self.close_connection = True
        self._send(HTTPStatus(code), {"error": message or HTTPStatus(code).phrase})

    def _send(self, status: HTTPStatus, value: object) -> None:
        try:
            payload = json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate in stored text: \u-escaped, still valid JSON
            payload = json.dumps(value).encode("ascii")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Cache-Control", "no-store")
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 (http.server's signature)
        if self.server_state.log is not None:
            self.server_state.log(f"{self.address_string()} {format % args}")
