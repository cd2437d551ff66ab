"""An HTTP client on the REST app, over the ``db`` fixture's real SQLite and PostgreSQL registries."""

import pytest
from fastapi.testclient import TestClient

from gemini.rest_api.app import create_app

UNREACHABLE_DATABASE_URLS = {
    # Nothing listens on the discard port: connecting is refused at once.
    "postgresql": "postgresql+psycopg://postgres@127.0.0.1:9/gemini",
    # No directory can be made under /proc, not even by root.
    "sqlite": "sqlite:////proc/gemini/registry.db",
}

TOKEN = "correct horse battery staple"


@pytest.fixture(scope="session")
def app():
    return create_app()


@pytest.fixture
def client(app, db) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def token(monkeypatch) -> str:
    monkeypatch.setenv("GEMINI_API_TOKEN", TOKEN)
    return TOKEN


@pytest.fixture(params=sorted(UNREACHABLE_DATABASE_URLS))
def unreachable_client(app, monkeypatch, request) -> TestClient:
    monkeypatch.setenv("GEMINI_DATABASE_URL", UNREACHABLE_DATABASE_URLS[request.param])
    return TestClient(app, raise_server_exceptions=False)


def create_model(client: TestClient, name: str = "stand-counter", **fields) -> dict:
    response = client.post("/api/models", json={"model_name": name, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def create_run(client: TestClient, info: dict, model_name: str | None = None) -> dict:
    response = client.post("/api/model_runs", json={"model_run_info": info, "model_name": model_name})
    assert response.status_code == 201, response.text
    return response.json()


def assert_error(response, status: int, kind: str, *words: str) -> None:
    """A JSON error body of the given kind whose message mentions every word."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error", "error_description", "detail"}
    assert body["error"] == kind
    assert body["detail"] == body["error_description"]
    for word in words:
        assert word in body["error_description"], body["error_description"]
    assert "Traceback" not in response.text


def total(response) -> int:
    """The ``X-Total-Count`` of a list answer."""
    assert response.status_code == 200, response.text
    return int(response.headers["X-Total-Count"])


def next_link(response) -> str | None:
    """The URL of the next page from a list answer's ``Link`` header, or ``None`` on the last page."""
    return response.links.get("next", {}).get("url")


def as_listed(model: dict, run_count: int = 0, last_run_at: str | None = None) -> dict:
    """A model as the lists show it: with its run count and last run time."""
    return {**model, "run_count": run_count, "last_run_at": last_run_at}
