"""The editor endpoint: token, 127.0.0.1 only, endpoint file, /search end to end, errors as JSON."""

from __future__ import annotations

import json
import os
import stat
import sys
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
