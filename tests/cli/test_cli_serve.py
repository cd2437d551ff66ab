"""``gemini serve``'s address rule, and the real executable."""

import json
import os
import subprocess
import sys
from pathlib import Path

import socket

import pytest
import uvicorn

from gemini.cli.commands import serve as serve_command
from gemini.cli.commands.serve import is_loopback, listening_socket


@pytest.fixture
def uvicorn_calls(monkeypatch) -> list:
    """Records what ``serve`` would hand to uvicorn instead of binding a socket."""
    calls = []
    monkeypatch.setattr(serve_command, "run_uvicorn", lambda app, **options: calls.append((app, options)))
    return calls


def test_connections_a_multi_worker_socket_accepts_send_without_delay():
    config = uvicorn.Config(serve_command.APP, host="127.0.0.1", port=0, workers=2)
    with listening_socket(config) as listening:
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
