"""``gemini serve`` as a team server, as real processes: several workers, SIGTERM, the access log, tokens."""

import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from gemini.registry import registry
from tests.conftest import ServedGemini

ADMIN_TOKEN = "team-admin-token"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_two_workers_lose_no_concurrent_write(db, gemini_server):
    """16 clients writing at once through 2 worker processes: every new run stored once, none lost."""
    with gemini_server(db, token=ADMIN_TOKEN, args=("--workers", "2")) as served:
        with httpx.Client(base_url=served.url, timeout=60, headers=AUTH) as http:
            assert http.post("/api/models", json={"model_name": "m"}).status_code == 201

        limits = httpx.Limits(max_connections=16, max_keepalive_connections=16)
        with httpx.Client(base_url=served.url, timeout=60, headers=AUTH, limits=limits) as shared:

            def record(number: int) -> int:
                # Every info twice: the second writer must find the first one's run, in whichever worker.
                info = {"epoch": number // 2}
                return shared.post("/api/model_runs", json={"model_name": "m", "model_run_info": info}).status_code

            with ThreadPoolExecutor(max_workers=16) as pool:
                statuses = list(pool.map(record, range(320)))
            stored = shared.get("/api/model_runs", params={"model_name": "m", "limit": 1}).headers["X-Total-Count"]
    assert statuses.count(201) == 160 and statuses.count(200) == 160
    assert stored == "160"
    assert served.log().count("Started server process") == 2  # two workers, neither replaced


@pytest.mark.parametrize("workers", ["1", "2"])
def test_sigterm_lets_an_upload_in_flight_finish(tmp_path, gemini_server, workers):
    """A request still sending its body when SIGTERM arrives is answered, then the server exits."""
    with gemini_server(f"sqlite:///{tmp_path / 'g.db'}", token=ADMIN_TOKEN, args=("--workers", workers)) as served:
        body = b'{"model_run_info": {"payload": "' + b"x" * 200_000 + b'"}}'
        started = threading.Event()

        def slow_body():
            for start in range(0, len(body), 20_000):
                yield body[start : start + 20_000]
                started.set()
                time.sleep(0.2)  # about 2 s in all: SIGTERM arrives in the middle

        result: dict = {}

        def upload() -> None:
            headers = {**AUTH, "Content-Type": "application/json", "Content-Length": str(len(body))}
            result["response"] = httpx.post(f"{served.url}/api/model_runs", content=slow_body(), headers=headers, timeout=60)

        sender = threading.Thread(target=upload)
        sender.start()
        assert started.wait(30)
        time.sleep(0.3)
        served.process.send_signal(signal.SIGTERM)
        sender.join(60)
        # uvicorn exits 0, or by the signal it was given once it has finished (one process)
        assert served.process.wait(timeout=60) in (0, -signal.SIGTERM)
    assert result["response"].status_code == 201, result["response"].text
    assert len(result["response"].json()["model_run_info"]["payload"]) == 200_000


def _exercise(served: ServedGemini, user_token: str, revoked_token: str) -> None:
    with httpx.Client(base_url=served.url, timeout=30) as http:
        for token in (ADMIN_TOKEN, user_token, revoked_token, "gmn_not-a-real-token"):
            headers = {"Authorization": f"Bearer {token}"}
            http.post("/api/models", json={"model_name": f"m-{len(token)}"}, headers=headers)
            http.get("/api/models", headers=headers)
            http.get("/api/tokens", headers=headers)
            http.get("/api/models/not-a-uuid", headers=headers)


def test_access_log_is_off_by_default(db, gemini_server):
    user = registry().create_token(name="alice", scope="write")[1]
    with gemini_server(db, token=ADMIN_TOKEN) as served:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            http.get("/api/models")
            http.post("/api/models", json={"model_name": "m"}, headers={"Authorization": f"Bearer {user}"})
        served.stop()
    assert "GET /api/models" not in served.log() and "POST /api/models" not in served.log()


def test_access_log_flag_logs_requests_but_never_tokens(db, gemini_server):
    user = registry().create_token(name="alice", scope="write")[1]
    revoked = registry().create_token(name="bob", scope="write")[1]
    registry().revoke_token(name="bob")
    with gemini_server(db, token=ADMIN_TOKEN, args=("--access-log", "--workers", "2")) as served:
        _exercise(served, user, revoked)
        served.stop()
    log = served.log()
    assert "GET /api/models" in log and "POST /api/models" in log and " 401" in log and " 403" in log
    for secret in (ADMIN_TOKEN, user, revoked, "gmn_not-a-real-token", user[4:20]):
        assert secret not in log


def test_private_server_refuses_anonymous_reads(db, gemini_server):
    reader = registry().create_token(name="reader", scope="read")[1]
    with gemini_server(db, token=ADMIN_TOKEN, args=("--private",)) as served:
        with httpx.Client(base_url=served.url, timeout=30) as http:
            assert http.get("/api/models").status_code == 401
            assert http.get("/api/models", headers={"Authorization": f"Bearer {reader}"}).status_code == 200
            assert http.get("/api/health").status_code == 200
