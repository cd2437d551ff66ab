"""Runs and models record who created them: the token's name, ``admin`` for the server's token."""

import pytest

from gemini.registry import registry
from tests.rest_api.conftest import TOKEN


@pytest.fixture
def alice(db) -> dict:
    return {"Authorization": f"Bearer {registry().create_token(name='alice', scope='write')[1]}"}


def test_run_records_token_name(client, token, alice):
    run = client.post("/api/model_runs", json={"model_run_info": {"a": 1}}, headers=alice).json()
    assert run["created_by"] == "alice"
    assert client.get(f"/api/model_runs/{run['id']}").json()["created_by"] == "alice"


def test_model_records_token_name(client, token, alice):
    model = client.post("/api/models", json={"model_name": "m"}, headers=alice).json()
    assert model["created_by"] == "alice"
    assert client.get(f"/api/models/{model['id']}").json()["created_by"] == "alice"


def test_runs_of_a_model_and_bulk_record_token_name(client, token, alice):
    model = client.post("/api/models", json={"model_name": "m"}, headers=alice).json()
    run = client.post(f"/api/models/{model['id']}/runs", json={"model_run_info": {"a": 1}}, headers=alice).json()
    legacy = client.post(f"/api/models/id/{model['id']}/runs", json={"model_run_info": {"a": 2}}, headers=alice).json()
    bulk = client.post("/api/model_runs/bulk", json={"model_run_infos": [{"a": 3}]}, headers=alice).json()
    assert [run["created_by"], legacy["created_by"], bulk["data"][0]["created_by"]] == ["alice"] * 3


def test_server_token_records_admin(client, token):
    run = client.post("/api/model_runs", json={"model_run_info": {}}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert run.json()["created_by"] == "admin"


def test_open_server_without_token_records_nobody(client):
    assert client.post("/api/model_runs", json={"model_run_info": {}}).json()["created_by"] is None


def test_existing_run_keeps_its_author(client, token, alice):
    admin = {"Authorization": f"Bearer {TOKEN}"}
    client.post("/api/model_runs", json={"model_run_info": {"a": 1}}, headers=admin)
    again = client.post("/api/model_runs", json={"model_run_info": {"a": 1}}, headers=alice)
    assert again.status_code == 200 and again.json()["created_by"] == "admin"


def test_listed_runs_show_author(client, token, alice):
    client.post("/api/model_runs", json={"model_run_info": {"a": 1}}, headers=alice)
    assert [run["created_by"] for run in client.get("/api/model_runs").json()] == ["alice"]
