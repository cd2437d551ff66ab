"""End to end: ``gemini serve`` as a real process on a free loopback port, driven over HTTP."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

STARTUP_TIMEOUT_SECONDS = 60


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def gemini_executable() -> str:
    installed = Path(sys.executable).parent / "gemini"
    return str(installed) if installed.exists() else shutil.which("gemini") or "gemini"


@pytest.fixture
def server(tmp_path):
    port = free_loopback_port()
    env = {
        **os.environ,
        "GEMINI_DATABASE_URL": f"sqlite:///{tmp_path / 'served.db'}",
        "GEMINI_API_TOKEN": "e2e-token",
    }
    process = subprocess.Popen(
        [gemini_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"gemini serve exited with {process.returncode}:\n{process.stdout.read()}")
            try:
                if httpx.get(f"{base_url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("gemini serve did not answer /api/health in time")
            time.sleep(0.1)
        yield base_url, process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_served_registry_round_trip(server):
    base_url, process = server
    with httpx.Client(base_url=base_url, timeout=10) as http:
        auth = {"Authorization": "Bearer e2e-token"}
        assert http.post("/api/models", json={"model_name": "m"}).status_code == 401
        model = http.post("/api/models", json={"model_name": "m"}, headers=auth).json()
        run = http.post("/api/model_runs", json={"model_name": "m", "model_run_info": {"epoch": 1}}, headers=auth)
        assert run.status_code == 201
        found = http.get("/api/model_runs", params={"model_run_info": '{"epoch": 1}'}).json()
        assert found["count"] == 1 and found["data"][0]["model_id"] == model["id"]
        assert http.get("/api/models/all").json()[0]["model_name"] == "m"
        assert http.get("/openapi.json").status_code == 200

    def record(epoch: int) -> int:
        with httpx.Client(base_url=base_url, timeout=30, headers=auth) as own:
            return own.post("/api/model_runs", json={"model_name": "m", "model_run_info": {"epoch": epoch}}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(record, [10 + index % 10 for index in range(20)]))
    assert sorted(set(statuses)) == [200, 201] and statuses.count(201) == 10
    assert httpx.get(f"{base_url}/api/model_runs", params={"model_name": "m"}).json()["count"] == 11
    process.send_signal(signal.SIGINT)
    process.wait(timeout=15)
    output = process.stdout.read()
    assert f"GEMINI registry on {base_url}" in output
