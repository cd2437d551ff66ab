"""Edges of HTTP on a real ``gemini serve``: request heads too large or too slow, a client that goes away
mid-upload, and a token in a URL kept out of the access log."""

import socket
import time

import httpx
import pytest

from gemini.rest_api.http_limits import MAX_HEAD_BYTES, redact_query
from tests.conftest import running_gemini_server

HEAD_TIMEOUT = 1.0  # the server's GEMINI_HEADER_TIMEOUT_SECONDS here: 10 s by default


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    directory = tmp_path_factory.mktemp("http-limits")
    with running_gemini_server(
        database_url=f"sqlite:///{directory / 'gemini.db'}",
        log_path=directory / "serve.log",
        artifact_root=directory / "artifact-store",
        args=("--access-log",),
        settings={"GEMINI_HEADER_TIMEOUT_SECONDS": str(HEAD_TIMEOUT)},
    ) as served:
        yield served


def _connect(server) -> socket.socket:
    host, port = server.url.removeprefix("http://").rsplit(":", 1)
    connection = socket.create_connection((host, int(port)), timeout=10)
    connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)  # little held on this side
    return connection


def _read_until_closed(connection: socket.socket) -> bytes:
    """What the server sends until it closes; a reset counts as closed."""
    received = b""
    try:
        while chunk := connection.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def _read_response(connection: socket.socket) -> bytes:
    """One whole response with a Content-Length: its head may come in one read and its body in another."""
    received = b""
    while b"\r\n\r\n" not in received:
        received += connection.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:"))
    while len(body) < length:
        body += connection.recv(65536)
    assert len(body) == length
    return received


def _wait_for_log(server, text: str, seconds: float = 10) -> str:
    deadline = time.monotonic() + seconds
    while text not in (log := server.log()) and time.monotonic() < deadline:
        time.sleep(0.05)
    return log


def test_a_head_of_usual_size_is_answered(server):
    response = httpx.get(f"{server.url}/api/health", headers={"X-Large": "a" * (MAX_HEAD_BYTES // 2)})
    assert response.status_code == 200


def test_a_head_over_the_limit_is_refused_431_without_reaching_the_application(server):
    with _connect(server) as connection:
        header = b"X-Large: " + b"a" * (MAX_HEAD_BYTES + 1024) + b"\r\n"
        connection.sendall(b"GET /api/health HTTP/1.1\r\nHost: test\r\n" + header + b"\r\n")
        answer = _read_until_closed(connection)
    # A reset before the answer is read is a refusal too; what must never come back is the health check.
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]


def test_an_endless_header_is_cut_off_early_not_read_to_its_end(server):
    """Before: 64 MiB of header were read (8 s, and the memory), then answered."""
    total = 64 * 1024 * 1024
    sent = 0
    started = time.monotonic()
    with _connect(server) as connection:
        connection.sendall(b"GET /api/health HTTP/1.1\r\nHost: test\r\nX-Endless: ")
        piece = b"a" * 65536
        try:
            while sent < total:
                connection.sendall(piece)
                sent += len(piece)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = _read_until_closed(connection)
    assert sent < total // 4, f"the server took {sent} bytes of one header"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert time.monotonic() - started < 10  # before: 8 s and more, reading it all


@pytest.mark.parametrize("later_request", [False, True], ids=["first request", "kept-alive connection"])
def test_a_head_sent_a_byte_at_a_time_is_closed_after_the_timeout(server, later_request):
    """Before: a connection dribbling its head was never closed."""
    with _connect(server) as connection:
        if later_request:
            connection.sendall(b"GET /api/health HTTP/1.1\r\nHost: test\r\n\r\n")
            assert _read_response(connection).startswith(b"HTTP/1.1 200 ")
        started = time.monotonic()
        connection.settimeout(0.1)
        answer = b""
        try:
            for byte in b"GET /api/health HTTP/1.1\r\nHost: test\r\nX-Slow: " + b"a" * 1000:
                connection.sendall(bytes([byte]))
                try:
                    if (chunk := connection.recv(65536)) == b"":
                        break
                    answer += chunk
                except TimeoutError:
                    pass
                if time.monotonic() - started > HEAD_TIMEOUT + 4:
                    break
        except (BrokenPipeError, ConnectionResetError):
            pass
        closed_after = time.monotonic() - started
    assert HEAD_TIMEOUT - 0.2 < closed_after < HEAD_TIMEOUT + 3, f"closed after {closed_after:.1f} s"
    assert answer == b"" or answer.startswith(b"HTTP/1.1 408 "), answer[:200]


def test_a_slow_body_is_not_cut_by_the_head_timeout(server):
    run_id = httpx.post(f"{server.url}/api/model_runs/start", json={}).json()["id"]
    body = b"x" * 30
    with _connect(server) as connection:
        connection.sendall(
            f"PUT /api/model_runs/{run_id}/artifacts/slow.bin HTTP/1.1\r\nHost: test\r\n"
            f"Content-Length: {len(body)}\r\n\r\n".encode()
        )
        for start in range(0, len(body), 10):  # over twice the head timeout
            time.sleep(HEAD_TIMEOUT)
            connection.sendall(body[start : start + 10])
        assert _read_response(connection).startswith(b"HTTP/1.1 201 ")


def test_a_client_gone_mid_upload_is_one_line_in_the_log_not_a_traceback(server):
    """Before: two full tracebacks (the application's error handler's, then uvicorn's)."""
    run_id = httpx.post(f"{server.url}/api/model_runs/start", json={}).json()["id"]
    path = f"/api/model_runs/{run_id}/artifacts/cut-off.bin"
    before = len(server.log())
    with _connect(server) as connection:
        connection.sendall(f"PUT {path} HTTP/1.1\r\nHost: test\r\nContent-Length: 10000000\r\n\r\n".encode())
        connection.sendall(b"x" * 300_000)
        time.sleep(0.3)  # the upload has begun
    _wait_for_log(server, f"PUT {path}")
    time.sleep(0.5)  # anything logged after the line would be here by now
    logged = server.log()[before:]
    lines = [line for line in logged.splitlines() if path in line]
    assert len(lines) == 1 and "disconnected" in lines[0], logged
    assert "Traceback" not in logged
    listed = httpx.get(f"{server.url}/api/model_runs/{run_id}/artifacts").json()
    assert listed == []


def test_a_token_in_the_query_string_is_not_written_to_the_access_log(server):
    response = httpx.get(f"{server.url}/api/health?token=SECRET-ONE&limit=5&API_KEY=SECRET-TWO&access_token=SECRET-3")
    assert response.status_code == 200
    log = _wait_for_log(server, "GET /api/health?token=")
    assert "GET /api/health?token=REDACTED&limit=5&API_KEY=REDACTED&access_token=REDACTED HTTP/1.1" in log, log
    assert "SECRET" not in log


@pytest.mark.parametrize(
    ("target", "logged"),
    [
        ("/api/x", "/api/x"),
        ("/api/x?limit=5", "/api/x?limit=5"),
        ("/api/x?key=metrics%2Floss&token=t", "/api/x?key=metrics%2Floss&token=REDACTED"),
        ("/api/x?api-key=a&apikey=b&X-API-Key=c&api%5Fkey=d", "/api/x?api-key=REDACTED&apikey=REDACTED&X-API-Key=REDACTED&api%5Fkey=REDACTED"),
        ("/api/x?password=p&client_secret=s&auth=a&author=me", "/api/x?password=REDACTED&client_secret=REDACTED&auth=REDACTED&author=me"),
        ("/api/x?token&token=", "/api/x?token&token=REDACTED"),
    ],
)
def test_token_like_query_values_are_redacted(target, logged):
    assert redact_query(target) == logged
