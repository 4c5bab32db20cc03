"""The editor endpoint: token, 127.0.0.1 only, endpoint file, /search end to end, errors as JSON."""

from __future__ import annotations

import json
import os
import socket
import stat
import sys
import threading
import time
import urllib.error
import urllib.request

import pytest
from click.testing import CliRunner

from scimult_desktop.cli.main import cli
from scimult_desktop.services.writing.editor_server import ENDPOINT_FILE_NAME, EditorServer, EditorServerError
from scimult_desktop.services.library.facade import Library
from tests.bibgen import synthetic_bib


def call(server: EditorServer, method: str, path: str, body: object | None = None, *, token: str | None = "use-server",
         raw: bytes | None = None, timeout: float = 10) -> tuple[int, object]:
    """(status, decoded JSON) of one request to the server under test."""
    assert server.url.startswith("http://127.0.0.1:")
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode("utf-8"))
    request = urllib.request.Request(server.url + path, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {server.token if token == 'use-server' else token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read().decode("utf-8"))
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read().decode("utf-8"))


@pytest.fixture
def library_folder(tmp_path):
    folder = tmp_path / "lib"
    bib = tmp_path / "refs.bib"
    bib.write_text(synthetic_bib(12), encoding="utf-8")
    with Library.open(folder) as library:
        report = library.import_paths([bib])
    assert report.added == 12
    return folder


@pytest.fixture
def server(library_folder):
    with EditorServer(library_folder) as running:
        yield running


def test_requests_without_or_with_a_wrong_token_get_401(server):
    for token in (None, "not-the-token", ""):
        status, body = call(server, "GET", "/health", token=token)
        assert status == 401
        assert "token" in body["error"]
    status, _ = call(server, "POST", "/search", {"query": "retrieval", "mode": "keyword"}, token="x" * 43)
    assert status == 401


def test_health_reports_the_library(server, library_folder):
    status, body = call(server, "GET", "/health")
    assert status == 200
    assert body["status"] == "ok" and body["papers"] == 12 and body["library"] == str(library_folder)


def test_keyword_search_end_to_end_matches_the_service(server, library_folder):
    status, hits = call(server, "POST", "/search", {"query": "citation methods", "k": 3, "mode": "keyword"})
    assert status == 200
    with Library.open(library_folder) as library:
        expected = [hit.to_json() for hit in library.search("citation methods", k=3, mode="keyword")]
    assert hits == expected
    assert hits and set(hits[0]) == {"id", "citekey", "title", "score"}
    assert "citation" in hits[0]["title"]


def test_suggest_answers_the_cli_json(server):
    # The first suggestion may build the default model and embed the (small) library: allow it time.
    status, body = call(server, "POST", "/suggest", {"text": "Citation methods have been studied widely.", "k": 5},
                        timeout=300)
    assert status == 200, body
    assert isinstance(body, list) and 1 <= len(body) <= 5
    assert all(set(hit) == {"id", "citekey", "title", "score"} for hit in body)


def test_suggest_ranks_the_sentence_at_the_cursor_not_the_whole_text(server, library_folder):
    # Issue 16: a paragraph sent along must not steer the sentence being written.
    text = "Citation methods have been studied widely.\n\nRetrieval models were compared on many benchmarks."
    status, at_end = call(server, "POST", "/suggest", {"text": text, "k": 5}, timeout=300)
    assert status == 200, at_end
    status, at_start = call(server, "POST", "/suggest", {"text": text, "k": 5, "position": 3}, timeout=300)
    assert status == 200, at_start
    with Library.open(library_folder) as library:
        assert at_end == library.suggest_at(text, "plain", len(text), k=5)["suggestions"]
        assert at_start == library.suggest_at(text, "plain", 3, k=5)["suggestions"]
        assert at_end == [hit.to_json() for hit in library.suggest(text.split("\n\n")[1], k=5)]


@pytest.mark.parametrize(
    ("extra", "message"),
    [({"kind": "docx"}, "\"kind\" must be one of"), ({"position": -1}, "\"position\" must be a character offset"),
     ({"position": 10_000}, "\"position\" must be a character offset"), ({"position": True}, "\"position\"")],
)
def test_suggest_refuses_a_bad_kind_or_position(server, extra, message):
    status, body = call(server, "POST", "/suggest", {"text": "Citation methods have been studied widely.", **extra})
    assert status == 400 and message in body["error"]


@pytest.mark.parametrize(
    ("method", "path", "body", "raw", "status", "message"),
    [
        ("POST", "/search", {"query": "  "}, None, 400, "\"query\" must be non-empty text"),
        ("POST", "/search", {"query": "x", "k": 0}, None, 400, "\"k\" must be a whole number"),
        ("POST", "/search", {"query": "x", "k": "5"}, None, 400, "\"k\" must be a whole number"),
        ("POST", "/search", {"query": "x", "mode": "fuzzy"}, None, 400, "\"mode\" must be one of"),
        ("POST", "/suggest", {}, None, 400, "\"text\" must be non-empty text"),
        ("POST", "/search", None, b"{not json", 400, "not UTF-8 JSON"),
        ("POST", "/search", None, b"[1, 2]", 400, "must be a JSON object"),
        ("GET", "/search", None, None, 405, "GET is not allowed on /search"),
        ("POST", "/nowhere", {}, None, 404, "no endpoint /nowhere"),
    ],
)
def test_bad_requests_get_json_errors(server, method, path, body, raw, status, message):
    got_status, got_body = call(server, method, path, body, raw=raw)
    assert got_status == status
    assert message in got_body["error"]


def test_endpoint_file_is_private_and_removed_on_stop(library_folder):
    server = EditorServer(library_folder)
    server.serve_in_thread()
    endpoint = library_folder / ENDPOINT_FILE_NAME
    try:
        data = json.loads(endpoint.read_text(encoding="utf-8"))
        assert data == {"url": server.url, "token": server.token, "pid": os.getpid()}
        if sys.platform != "win32":
            assert stat.S_IMODE(endpoint.stat().st_mode) == 0o600
        assert call(server, "GET", "/health")[0] == 200
    finally:
        server.stop()
    assert not endpoint.exists()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(data["url"] + "/health", timeout=2)


def test_stop_leaves_a_newer_servers_endpoint_file_alone(library_folder):
    first = EditorServer(library_folder)
    first.start()
    second = EditorServer(library_folder)
    second.start()
    first.stop()
    assert json.loads((library_folder / ENDPOINT_FILE_NAME).read_text())["token"] == second.token
    second.stop()
    assert not (library_folder / ENDPOINT_FILE_NAME).exists()


def test_each_server_gets_its_own_token_and_port(library_folder):
    with EditorServer(library_folder) as one, EditorServer(library_folder) as two:
        assert one.token != two.token and one.port != two.port
        assert call(one, "GET", "/health", token=two.token)[0] == 401


@pytest.mark.parametrize("host", ["0.0.0.0", "localhost", "::", "192.168.1.2"])
def test_only_loopback_ipv4_is_accepted(library_folder, host):
    with pytest.raises(EditorServerError, match="only listens on 127.0.0.1"):
        EditorServer(library_folder, host=host)


def test_port_in_use_is_a_clear_error(server, library_folder):
    with pytest.raises(EditorServerError, match=f"cannot listen on 127.0.0.1:{server.port}"):
        EditorServer(library_folder, port=server.port).start()


def test_cli_serve_refuses_other_hosts(library_folder):
    result = CliRunner().invoke(cli, ["--library", str(library_folder), "serve", "--host", "0.0.0.0"])
    assert result.exit_code == 1
    assert "only listens on 127.0.0.1" in result.output
    assert not (library_folder / ENDPOINT_FILE_NAME).exists()


# ---- hostile and broken clients (issue 15) ----------------------------------------------------

def raw_exchange(server: EditorServer, head: str, body: bytes = b"", *, wait: float = 2.0) -> tuple[int, dict]:
    """Send `head` (request line + headers, no blank line) and `body` on a raw socket that stays open;
    return (status, JSON) of the answer, which must come within `wait` seconds."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait) as sock:
        sock.sendall(head.replace("PORT", str(server.port)).encode("latin-1") + b"\r\n\r\n" + body)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)  # socket.timeout here: the server did not answer in time
            assert chunk, f"connection closed without an answer: {data!r}"
            data += chunk
        head_bytes, rest = data.split(b"\r\n\r\n", 1)
        lines = head_bytes.decode("latin-1").split("\r\n")
        headers = {name.lower(): value.strip() for name, _, value in (line.partition(":") for line in lines[1:])}
        length = int(headers["content-length"])
        while len(rest) < length:
            chunk = sock.recv(65536)
            assert chunk
            rest += chunk
        return int(lines[0].split()[1]), json.loads(rest[:length].decode("utf-8"))


@pytest.mark.parametrize(
    ("framing", "status"),
    [
        ("Content-Length: -1", 400),  # was read to EOF, unauthenticated
        ("Content-Length: +5", 400),
        ("Content-Length: 1_0", 400),
        ("Content-Length: 5\r\nContent-Length: 500", 400),
        ("Transfer-Encoding: chunked", 411),
        ("", 411),  # a POST without Content-Length
        (f"Content-Length: {300 * 1024 * 1024}", 413),
    ],
)
def test_bad_framing_is_refused_at_once_without_reading_the_body(server, framing, status):
    # No token and no body bytes sent, socket kept open: the answer must not wait for either.
    head = "POST /search HTTP/1.1\r\nHost: 127.0.0.1:PORT" + (f"\r\n{framing}" if framing else "")
    started = time.monotonic()
    got_status, body = raw_exchange(server, head)
    assert (got_status, time.monotonic() - started < 1.5) == (status, True)
    assert body["error"]


def test_the_token_is_checked_before_the_body_is_read(server):
    # A declared (legal) body that never comes: the 401 must not wait for it.
    status, body = raw_exchange(server, "POST /search HTTP/1.1\r\nHost: 127.0.0.1:PORT\r\nContent-Length: 1000")
    assert status == 401 and "token" in body["error"]


def test_half_open_and_trickling_connections_are_dropped_and_pin_no_threads(library_folder):
    with EditorServer(library_folder, request_timeout=0.5, workers=2) as server:
        # One byte every 0.1 s: each recv is quick, the request never completes (slowloris).
        trickler = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        cut = []
        trickle = threading.Thread(target=lambda: cut.append(_trickle(trickler, b"GET /health HTTP/1.1\r\nX: " + b"a" * 25)))
        trickle.start()
        threads_before = threading.active_count()
        idle = [socket.create_connection(("127.0.0.1", server.port), timeout=5) for _ in range(12)]
        try:
            started = time.monotonic()
            assert call(server, "GET", "/health", timeout=10)[0] == 200
            assert time.monotonic() - started < 2  # stalled connections do not hold the 2 workers
            assert threading.active_count() <= threads_before  # the workers already exist; no thread per connection
            trickle.join(timeout=10)
            assert cut == [True], "the trickling request was not cut off"
            for sock in idle:
                assert _closed_by_server(sock, within=8), "a half-open connection was kept open"
        finally:
            for sock in [*idle, trickler]:
                sock.close()


def _trickle(sock: socket.socket, data: bytes) -> bool:
    """Send `data` a byte every 0.1 s; True if the server closed the connection meanwhile."""
    for byte in data:
        try:
            sock.send(bytes([byte]))
        except OSError:
            return True
        time.sleep(0.1)
    return _closed_by_server(sock, within=0.1)


def _closed_by_server(sock: socket.socket, *, within: float) -> bool:
    sock.settimeout(within)
    try:
        while sock.recv(65536):
            pass  # an answer (408) may come before the close
    except ConnectionResetError:
        pass
    except socket.timeout:
        return False
    return True


CLIENTS = 128


def test_many_concurrent_clients_get_answers_and_no_resets(server):
    # The old server listened with a backlog of 5: some of 128 simultaneous connects were dropped.
    import http.client
    from concurrent.futures import ThreadPoolExecutor

    start = threading.Barrier(CLIENTS)

    def client(_: int) -> list[int]:
        start.wait(timeout=30)
        statuses = []
        for _ in range(2):
            connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
            try:
                connection.request("GET", "/health", headers={"Authorization": f"Bearer {server.token}"})
                statuses.append(connection.getresponse().status)
            except OSError as exc:
                statuses.append(type(exc).__name__)
            finally:
                connection.close()
        return statuses

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        results = [status for statuses in pool.map(client, range(CLIENTS)) for status in statuses]
    assert results == [200] * (CLIENTS * 2), sorted(set(map(str, results)))


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b'{"query": "\\ud800 retrieval", "mode": "keyword"}', "lone surrogate"),
        (b'{"query": ["\\udfff"], "mode": "keyword"}', "lone surrogate"),
        (b'{"query": "x\xff\xfe", "mode": "keyword"}', "invalid UTF-8"),
        (b'{"query": "x", "k": NaN}', "NaN is not JSON"),
        (b'{"query": "x", "k": 1' + b"0" * 5000 + b"}", "not UTF-8 JSON"),
        (b"[" * 100_000 + b"]" * 100_000, "not UTF-8 JSON"),
    ],
)
def test_undecodable_bodies_get_400_not_500(server, raw, message):
    status, body = call(server, "POST", "/search", raw=raw)
    assert status == 400 and message in body["error"]


def test_lone_surrogate_in_suggest_text_gets_400(server):
    status, body = call(server, "POST", "/suggest", raw=b'{"text": "Citation \\udc80 methods"}')
    assert status == 400 and "lone surrogate" in body["error"]


@pytest.mark.parametrize("host", ["evil.example:PORT", "127.0.0.1:1", "127.0.0.2:PORT", "localhost", None])
def test_a_foreign_host_header_is_refused(server, host):
    # DNS rebinding: a web page's own domain, re-pointed at 127.0.0.1, arrives as the Host header.
    head = "GET /health HTTP/1.1" + (f"\r\nHost: {host}" if host is not None else "")
    status, body = raw_exchange(server, head + f"\r\nAuthorization: Bearer {server.token}")
    assert status == 421 and "Host" in body["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:PORT", "localhost:PORT", "LocalHost:PORT", "[::1]:PORT"])
def test_loopback_host_names_are_accepted(server, host):
    status, body = raw_exchange(server, f"GET /health HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {server.token}")
    assert status == 200 and body["status"] == "ok"


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1"])
def test_requests_from_web_pages_are_refused(server, origin):
    request = urllib.request.Request(server.url + "/search", method="POST",
                                     data=json.dumps({"query": "citation", "mode": "keyword"}).encode())
    request.add_header("Authorization", f"Bearer {server.token}")
    request.add_header("Origin", origin)
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request, timeout=10)
    assert refused.value.code == 403
    assert "web pages" in json.loads(refused.value.read())["error"]


def test_http_servers_own_refusals_are_json(server):
    status, body = raw_exchange(server, "NOT-HTTP")
    assert status == 400 and body["error"]


def test_pipelined_requests_on_one_connection_are_all_answered(server):
    # The accepting thread reads ahead of the headers: those bytes must reach the handler, in order.
    body = '{"query": "citation", "mode": "keyword"}'
    one = (f"POST /search HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nAuthorization: Bearer {server.token}\r\n"
           f"Content-Length: {len(body)}\r\n\r\n{body}")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall((one * 3).encode("ascii"))
        answers = b""
        while answers.count(b"HTTP/1.1 200") < 3:
            chunk = sock.recv(65536)
            assert chunk, answers
            answers += chunk
