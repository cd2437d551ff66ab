"""The two concurrency scenarios through a running ``gemini serve``, with concurrent HTTP clients."""

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from gemini.registry import registry

from .conftest import SERVER_TOKEN

CLIENTS = 8
AUTH = {"Authorization": f"Bearer {SERVER_TOKEN}"}


@pytest.fixture(scope="session")
def served(database_url, gemini_server) -> str:
    """One server per database kind for the session; each test still starts from an empty registry."""
    with gemini_server(database_url, token=SERVER_TOKEN) as server:
        yield server.url


@pytest.fixture
def server(db, served) -> str:
    return served


def test_concurrent_clients_creating_the_same_run_get_one_row_and_one_id(server):
    registry().create_model(model_name="shared")
    start = threading.Barrier(CLIENTS)

    def create(_: int) -> tuple[int, str]:
        with httpx.Client(base_url=server, timeout=60, headers=AUTH) as http:
            start.wait()
            response = http.post("/api/model_runs", json={"model_name": "shared", "model_run_info": {"seed": 7}})
            return response.status_code, response.json()["id"]

    with ThreadPoolExecutor(CLIENTS) as clients:
        outcomes = list(clients.map(create, range(CLIENTS)))
    assert sorted(status for status, _ in outcomes) == [200] * (CLIENTS - 1) + [201]
    assert len({run_id for _, run_id in outcomes}) == 1
    assert [str(run.id) for run in registry().search_runs().items] == [outcomes[0][1]]


def test_concurrent_clients_replacing_one_run_end_with_a_last_write_and_no_error(server):
    run, _ = registry().create_run(model_run_info={"writer": None})
    steps = 10
    start = threading.Barrier(CLIENTS)

    def replace(writer: int) -> list[int]:
        statuses = []
        with httpx.Client(base_url=server, timeout=60, headers=AUTH) as http:
            start.wait()
            for step in range(steps):
                body = {"model_run_info": {"writer": writer, "step": step}}
                statuses.append(http.patch(f"/api/model_runs/{run.id}", json=body).status_code)
        return statuses

    with ThreadPoolExecutor(CLIENTS) as clients:
        statuses = [status for per_client in clients.map(replace, range(CLIENTS)) for status in per_client]
    assert statuses == [200] * (CLIENTS * steps)
    final = registry().get_run(run_id=run.id).model_run_info
    assert final["step"] == steps - 1 and final["writer"] in range(CLIENTS)
    assert registry().count_runs() == 1
