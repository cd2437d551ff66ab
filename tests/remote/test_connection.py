"""The client's connection rules, against a scripted HTTP server standing in for a misbehaving one:
what is repeated and what is not, the version check, the token, unreachable servers."""

import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from gemini.domain.errors import (
    AuthenticationError,
    DatabaseUnavailableError,
    IncompatibleServerError,
    InvalidInputError,
    NotFoundError,
    ServerUnreachableError,
)
from gemini.registry import registry
from gemini.remote import http
from gemini.domain.wire import API_VERSION
from tests.conftest import free_loopback_port

RUN_ID = uuid.UUID(int=7)
RUN = {
    "id": str(RUN_ID),
    "model_id": None,
    "model_run_info": {"lr": 0.1},
    "created_at": "2026-01-01T00:00:00+00:00",
    "updated_at": "2026-01-01T00:00:00+00:00",
}


class ScriptedServer:
    """Answers each request with the next scripted (status, body, headers) for its method and path;
    once a script is used up, with its last entry. /api/health answers this client's version."""

    def __init__(self) -> None:
        self.scripts: dict[tuple[str, str], list[tuple[int, object, dict[str, str]]]] = {}
        self.requests: list[tuple[str, str, dict[str, str]]] = []
        self.health: object = {"status": "ok", "database": "reachable", "api_version": API_VERSION, "version": "x"}
        scripted = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def answer(self) -> None:
                path = self.path.split("?")[0]
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                scripted.requests.append((self.command, path, dict(self.headers)))
                if path == "/api/health":
                    status, body, headers = 200, scripted.health, {}
                else:
                    script = scripted.scripts.get((self.command, path), [(404, {"error": "not_found", "detail": "no such path"}, {})])
                    status, body, headers = script.pop(0) if len(script) > 1 else script[0]
                data = json.dumps(body).encode()
                self.send_response(status)
                for name, value in {"Content-Type": "application/json", **headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = do_PATCH = do_PUT = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def calls(self, method: str, path: str) -> int:
        return sum(1 for m, p, _ in self.requests if (m, p) == (method, path))


@pytest.fixture
def scripted(monkeypatch) -> Iterator[ScriptedServer]:
    server = ScriptedServer()
    thread = threading.Thread(target=server.server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("GEMINI_API_URL", server.url)
    monkeypatch.setenv("GEMINI_API_RETRIES", "3")
    monkeypatch.setattr(http, "BACKOFF_FIRST_SECONDS", 0.01)
    yield server
    server.server.shutdown()
    server.server.server_close()
    http.close_all()


BUSY = (503, {"error": "database_unavailable", "detail": "database is locked"}, {})


def test_a_read_is_repeated_while_the_server_answers_503(scripted):
    scripted.scripts[("GET", f"/api/model_runs/{RUN_ID}")] = [BUSY, BUSY, (200, RUN, {})]
    assert registry().get_run(run_id=RUN_ID).id == RUN_ID
    assert scripted.calls("GET", f"/api/model_runs/{RUN_ID}") == 3


def test_a_read_gives_up_after_the_configured_retries_with_the_servers_message(scripted):
    scripted.scripts[("GET", f"/api/model_runs/{RUN_ID}")] = [BUSY]
    with pytest.raises(DatabaseUnavailableError, match="^database is locked$"):
        registry().get_run(run_id=RUN_ID)
    assert scripted.calls("GET", f"/api/model_runs/{RUN_ID}") == 4


def test_429_is_repeated_after_the_servers_retry_after(scripted):
    scripted.scripts[("GET", f"/api/model_runs/{RUN_ID}")] = [
        (429, {"error": "too_many_requests", "detail": "slow down"}, {"Retry-After": "0"}),
        (200, RUN, {}),
    ]
    assert registry().get_run(run_id=RUN_ID).id == RUN_ID
    assert scripted.calls("GET", f"/api/model_runs/{RUN_ID}") == 2


def test_a_get_or_create_is_repeated_on_503(scripted):
    scripted.scripts[("POST", "/api/model_runs")] = [BUSY, (201, RUN, {})]
    record, created = registry().create_run(model_run_info={"lr": 0.1})
    assert record.id == RUN_ID and created
    assert scripted.calls("POST", "/api/model_runs") == 2


def test_a_delete_is_never_repeated(scripted):
    scripted.scripts[("DELETE", f"/api/model_runs/{RUN_ID}")] = [BUSY, (204, None, {})]
    with pytest.raises(DatabaseUnavailableError, match="database is locked"):
        registry().delete_run(run_id=RUN_ID)
    assert scripted.calls("DELETE", f"/api/model_runs/{RUN_ID}") == 1


def test_an_error_body_becomes_the_same_typed_error_with_the_servers_message(scripted):
    scripted.scripts[("GET", f"/api/model_runs/{RUN_ID}")] = [(404, {"error": "not_found", "detail": "no run 7 here"}, {})]
    with pytest.raises(NotFoundError, match="^no run 7 here$"):
        registry().get_run(run_id=RUN_ID)


def test_a_refused_token_is_an_access_error(scripted):
    scripted.scripts[("POST", "/api/model_runs")] = [(401, {"error": "unauthorized", "detail": "the bearer token is not valid"}, {})]
    with pytest.raises(AuthenticationError, match="bearer token is not valid"):
        registry().create_run(model_run_info={})
    assert scripted.calls("POST", "/api/model_runs") == 1


def test_the_token_is_sent_as_a_bearer_token(scripted, monkeypatch):
    monkeypatch.setenv("GEMINI_API_TOKEN", "s3cret")
    scripted.scripts[("GET", f"/api/model_runs/{RUN_ID}")] = [(200, RUN, {})]
    registry().get_run(run_id=RUN_ID)
    headers = [h for m, p, h in scripted.requests if p == f"/api/model_runs/{RUN_ID}"]
    assert headers[0]["Authorization"] == "Bearer s3cret"


def test_the_version_is_checked_once_per_process(scripted):
    scripted.scripts[("GET", f"/api/model_runs/{RUN_ID}")] = [(200, RUN, {})]
    for _ in range(3):
        registry().get_run(run_id=RUN_ID)
    assert scripted.calls("GET", "/api/health") == 1


def test_a_server_of_another_api_version_is_refused_with_one_clear_error(scripted):
    scripted.health = {"status": "ok", "database": "reachable", "api_version": API_VERSION + 1, "version": "9.9"}
    scripted.scripts[("GET", f"/api/model_runs/{RUN_ID}")] = [(200, RUN, {})]
    with pytest.raises(IncompatibleServerError, match=f"reports REST API version {API_VERSION + 1} \\(gemini 9.9\\)"):
        registry().get_run(run_id=RUN_ID)
    assert scripted.calls("GET", f"/api/model_runs/{RUN_ID}") == 0


def test_a_server_without_a_version_is_refused(scripted):
    scripted.health = {"status": "ok"}
    with pytest.raises(IncompatibleServerError, match="no gemini REST API version"):
        registry().get_run(run_id=RUN_ID)


def test_a_server_that_is_not_listening_is_unreachable_after_the_retries(monkeypatch):
    monkeypatch.setenv("GEMINI_API_URL", f"http://127.0.0.1:{free_loopback_port()}")
    monkeypatch.setenv("GEMINI_API_RETRIES", "1")
    monkeypatch.setattr(http, "BACKOFF_FIRST_SECONDS", 0.01)
    with pytest.raises(ServerUnreachableError, match="cannot reach the server at http://127.0.0.1"):
        registry().get_run(run_id=RUN_ID)


def test_a_url_that_is_not_http_is_refused(monkeypatch):
    monkeypatch.setenv("GEMINI_API_URL", "registry.lab:7777")
    with pytest.raises(InvalidInputError, match="GEMINI_API_URL must be an http:// or https:// address"):
        registry().get_run(run_id=RUN_ID)
