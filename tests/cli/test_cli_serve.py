"""``gemini serve``'s address rule, and the real executable."""

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from gemini.cli.commands import serve as serve_command
from gemini.cli.commands.serve import bind_listening_socket, is_loopback
from tests.conftest import free_loopback_port


BOUND = object()
"""What ``serve`` binds in the tests that record its uvicorn call instead of listening."""


@pytest.fixture
def uvicorn_calls(monkeypatch) -> list:
    """Records what ``serve`` would hand to uvicorn instead of binding a socket."""
    calls = []
    monkeypatch.setattr(serve_command, "bind_listening_socket", lambda host, port: BOUND)
    monkeypatch.setattr(serve_command, "run_uvicorn", lambda app, **options: calls.append((app, options)))
    return calls


def test_connections_the_listening_socket_accepts_send_without_delay():
    with bind_listening_socket("127.0.0.1", 0) as listening:
        listening.listen()  # uvicorn's server does this once it has the socket
        with socket.create_connection(listening.getsockname()[:2]) as client:
            accepted, _ = listening.accept()
            with accepted:
                assert accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_addresses(host):
    assert is_loopback(host)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", "example.org"])
def test_other_addresses(host):
    assert not is_loopback(host)


def test_non_loopback_without_token_is_refused(gemini, uvicorn_calls, monkeypatch):
    monkeypatch.delenv("GEMINI_API_TOKEN", raising=False)
    message = gemini.fails("serve", "--host", "0.0.0.0")
    assert "GEMINI_API_TOKEN" in message and "--insecure" in message
    assert uvicorn_calls == []


def test_insecure_allows_it_with_a_warning(gemini, uvicorn_calls, monkeypatch):
    monkeypatch.delenv("GEMINI_API_TOKEN", raising=False)
    result = gemini.ok("serve", "--host", "0.0.0.0", "--port", "8080", "--insecure")
    assert "warning" in result.stderr
    assert uvicorn_calls[0][0] == "gemini.rest_api.app:app"
    assert uvicorn_calls[0][1]["host"] == "0.0.0.0" and uvicorn_calls[0][1]["port"] == 8080


def test_token_allows_it(gemini, uvicorn_calls, monkeypatch):
    monkeypatch.setenv("GEMINI_API_TOKEN", "t")
    result = gemini.ok("serve", "--host", "0.0.0.0")
    assert "http://0.0.0.0:7777" in result.stderr
    assert uvicorn_calls[0][1]["host"] == "0.0.0.0"


def test_default_is_loopback_7777(gemini, uvicorn_calls):
    result = gemini.ok("serve")
    assert "GEMINI registry on http://127.0.0.1:7777" in result.stderr
    options = uvicorn_calls[0][1]
    assert (options["host"], options["port"], options["workers"]) == ("127.0.0.1", 7777, 1)


def test_access_log_is_off_by_default(gemini, uvicorn_calls):
    gemini.ok("serve")
    assert uvicorn_calls[0][1]["access_log"] is False


def test_access_log_flag_turns_it_on(gemini, uvicorn_calls):
    gemini.ok("serve", "--access-log")
    assert uvicorn_calls[0][1]["access_log"] is True


def test_workers_are_processes_serving_the_import_string(gemini, uvicorn_calls):
    result = gemini.ok("serve", "--workers", "2")
    assert uvicorn_calls[0][0] == "gemini.rest_api.app:app" and uvicorn_calls[0][1]["workers"] == 2
    assert "2 workers" in result.stderr


def test_shutdown_waits_for_requests_in_flight(gemini, uvicorn_calls):
    gemini.ok("serve")
    assert uvicorn_calls[0][1]["timeout_graceful_shutdown"] > 0


def test_private_requires_tokens_for_reads_in_every_worker(gemini, uvicorn_calls, monkeypatch):
    monkeypatch.setenv("GEMINI_REQUIRE_TOKEN_FOR_READS", "false")  # restored after the test
    result = gemini.ok("serve", "--private", "--workers", "2")
    assert os.environ["GEMINI_REQUIRE_TOKEN_FOR_READS"] == "true"
    assert "reads need a token" in result.stderr


def test_private_server_may_listen_beyond_loopback_without_admin_token(gemini, uvicorn_calls, monkeypatch):
    monkeypatch.delenv("GEMINI_API_TOKEN", raising=False)
    monkeypatch.setenv("GEMINI_REQUIRE_TOKEN_FOR_READS", "false")
    gemini.ok("serve", "--host", "0.0.0.0", "--private")
    assert uvicorn_calls[0][1]["host"] == "0.0.0.0"


def test_unreachable_database_is_a_warning_not_a_refusal(gemini, uvicorn_calls, monkeypatch):
    monkeypatch.setenv("GEMINI_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:9/gemini")
    result = gemini.ok("serve")
    assert "warning: database unavailable" in result.stderr
    assert len(uvicorn_calls) == 1


def test_installed_executable(tmp_path):
    """The console script itself, as a separate process: stdout JSON, stderr message, exit status.

    SQLite only: the in-process tests cover both databases; this one is about the executable.
    """
    executable = Path(sys.executable).parent / "gemini"
    env = {**os.environ, "GEMINI_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    created = subprocess.run(
        [str(executable), "runs", "create", '{"epoch": 1}', "--json"], env=env, capture_output=True, text=True
    )
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["model_run_info"] == {"epoch": 1}
    failed = subprocess.run([str(executable), "runs", "show", "nope"], env=env, capture_output=True, text=True)
    assert failed.returncode == 1
    assert failed.stderr.strip() == "Error: model run id 'nope' is not a valid UUID"


@pytest.fixture
def taken_port():
    """A loopback port another program listens on."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


def test_a_busy_port_is_one_line_naming_it_and_no_banner(gemini, taken_port, monkeypatch):
    called = []
    monkeypatch.setattr(serve_command, "run_uvicorn", lambda app, **options: called.append(app))
    message = gemini.fails("serve", "--port", str(taken_port))
    assert message == (
        f"Error: port {taken_port} on 127.0.0.1 is already in use (another gemini serve?); choose another with --port"
    )
    assert called == []


def test_an_address_that_cannot_be_had_is_one_line(gemini, monkeypatch):
    monkeypatch.setenv("GEMINI_API_TOKEN", "t")
    message = gemini.fails("serve", "--host", "192.0.2.1", "--port", "8080")  # TEST-NET-1: on no machine
    assert message.startswith("Error: cannot listen on http://192.0.2.1:8080: ")


def test_the_served_socket_is_the_one_bound_before_the_banner(gemini, uvicorn_calls):
    gemini.ok("serve")
    assert uvicorn_calls[0][1]["listening"] is BOUND


@pytest.mark.parametrize("workers", [1, 2])
def test_the_real_server_answers_on_the_socket_it_bound(tmp_path, workers):
    """The executable, end to end: bound, announced, serving; a second one on the port is refused."""
    executable = Path(sys.executable).parent / "gemini"
    port = free_loopback_port()
    env = {**os.environ, "GEMINI_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}"}
    env.pop("GEMINI_API_URL", None)
    server = subprocess.Popen(
        [str(executable), "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "the server did not answer"
                time.sleep(0.1)
        assert response.status_code == 200
        second = subprocess.run(
            [str(executable), "serve", "--port", str(port)], env=env, capture_output=True, text=True, timeout=60
        )
        assert second.returncode == 1
        assert second.stderr.strip() == (
            f"Error: port {port} on 127.0.0.1 is already in use (another gemini serve?); choose another with --port"
        )
    finally:
        server.terminate()
        server.communicate(timeout=60)
