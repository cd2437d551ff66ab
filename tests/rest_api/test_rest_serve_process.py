"""End to end: ``gemini serve`` as a real process on a free loopback port, driven over HTTP."""

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest


@pytest.fixture
def server(tmp_path, gemini_server):
    with gemini_server(f"sqlite:///{tmp_path / 'served.db'}", token="e2e-token") as served:
        yield served


def test_served_registry_round_trip(server):
    base_url = server.url
    with httpx.Client(base_url=base_url, timeout=10) as http:
        auth = {"Authorization": "Bearer e2e-token"}
        assert http.post("/api/models", json={"model_name": "m"}).status_code == 401
        model = http.post("/api/models", json={"model_name": "m"}, headers=auth).json()
        run = http.post("/api/model_runs", json={"model_name": "m", "model_run_info": {"epoch": 1}}, headers=auth)
        assert run.status_code == 201
        found = http.get("/api/model_runs", params={"model_run_info": '{"epoch": 1}'})
        assert found.headers["X-Total-Count"] == "1" and found.json()[0]["model_id"] == model["id"]
        assert http.get("/api/models/all").json()[0]["model_name"] == "m"
        assert http.get("/openapi.json").status_code == 200

    def record(epoch: int) -> int:
        with httpx.Client(base_url=base_url, timeout=30, headers=auth) as own:
            return own.post("/api/model_runs", json={"model_name": "m", "model_run_info": {"epoch": epoch}}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(record, [10 + index % 10 for index in range(20)]))
    assert sorted(set(statuses)) == [200, 201] and statuses.count(201) == 10
    assert httpx.get(f"{base_url}/api/model_runs", params={"model_name": "m"}).headers["X-Total-Count"] == "11"
    server.stop()
    output = server.log()
    assert f"GEMINI registry on {base_url}" in output
