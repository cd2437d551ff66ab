"""``/api/models``: every operation, with its not-found, conflict and malformed-input cases."""

import uuid

import pytest

from gemini.registry import registry
from tests.rest_api.conftest import as_listed, assert_error, create_model, create_run, total

MISSING = str(uuid.UUID(int=2))


def test_create_returns_201_then_200_unchanged(client):
    first = client.post("/api/models", json={"model_name": "m", "model_url": "https://x.org/m", "model_info": {"a": 1}})
    again = client.post("/api/models", json={"model_name": "m", "model_info": {"a": 2}})
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()


def test_create_in_an_experiment(client):
    experiment = client.post("/api/experiments", json={"experiment_name": "Davis 2024"}).json()
    model = create_model(client, experiment_name="Davis 2024")
    assert client.get(f"/api/models/{model['id']}/experiments").json() == [experiment]
    assert total(client.get("/api/models", params={"experiment_name": "Davis 2024"})) == 1


def test_create_in_a_new_experiment_creates_it_and_associates_the_model(client):
    response = client.post("/api/models", json={"model_name": "m", "experiment_name": "ghost"})
    assert response.status_code == 201, response.text
    listed = client.get(f"/api/models/{response.json()['id']}/experiments").json()
    assert [experiment["experiment_name"] for experiment in listed] == ["ghost"]


@pytest.mark.parametrize("bad_name", ["", "x" * 256, "a\x00b"])
def test_create_with_an_invalid_experiment_name_is_422_and_writes_nothing(client, bad_name):
    response = client.post("/api/models", json={"model_name": "m", "experiment_name": bad_name})
    assert_error(response, 422, "invalid_input", "experiment_name")
    assert registry().search_models(limit=0, with_total=True).total == 0
    assert registry().search_experiments(limit=0, with_total=True).total == 0


def test_create_with_blank_name_is_422(client):
    assert_error(client.post("/api/models", json={"model_name": "   "}), 422, "invalid_input", "model_name")
    assert_error(client.post("/api/models", json={"model_name": ""}), 422, "invalid_input", "model_name")
    assert_error(client.post("/api/models", json={}), 422, "invalid_input", "model_name")


def test_create_with_unknown_field_is_422(client):
    response = client.post("/api/models", json={"model_name": "m", "modle_info": {}})
    assert_error(response, 422, "invalid_input", "modle_info")


def test_get_and_unknown(client):
    model = create_model(client)
    assert client.get(f"/api/models/{model['id']}").json() == model
    assert_error(client.get(f"/api/models/{MISSING}"), 404, "not_found", MISSING)
    assert_error(client.get("/api/models/xyz"), 422, "invalid_input", "model_id")


def test_list_filters(client):
    create_model(client, "a", model_info={"task": "count", "crop": "maize"})
    b = create_model(client, "b", model_info={"task": "detect"}, model_url="https://x.org/b")
    assert client.get("/api/models", params={"model_info": '{"task": "detect"}'}).json() == [as_listed(b)]
    assert client.get("/api/models", params={"model_url": "https://x.org/b"}).json() == [as_listed(b)]
    assert client.get("/api/models", params={"model_name": "b"}).json() == [as_listed(b)]
    page = client.get("/api/models", params={"limit": 1})
    assert total(page) == 2 and len(page.json()) == 1


def test_list_with_unknown_experiment_is_404(client):
    assert_error(client.get("/api/models", params={"experiment_name": "ghost"}), 404, "not_found", "ghost")


def test_list_with_nul_in_name_is_422(client):
    assert_error(client.get("/api/models", params={"model_name": "a\x00b"}), 422, "invalid_input", "NUL")


def test_patch_fields(client):
    model = create_model(client)
    response = client.patch(f"/api/models/{model['id']}", json={"model_url": "https://x.org/v2"})
    assert response.status_code == 200
    assert response.json()["model_url"] == "https://x.org/v2"
    assert response.json()["model_name"] == "stand-counter"


def test_patch_to_a_taken_name_is_409_and_changes_nothing(client):
    create_model(client, "a")
    b = create_model(client, "b")
    assert_error(client.patch(f"/api/models/{b['id']}", json={"model_name": "a"}), 409, "conflict", "'a'")
    assert client.get(f"/api/models/{b['id']}").json()["model_name"] == "b"


def test_patch_nothing_is_422(client):
    model = create_model(client)
    assert_error(client.patch(f"/api/models/{model['id']}", json={}), 422, "invalid_input", "nothing to update")


def test_patch_unknown_is_404(client):
    assert_error(client.patch(f"/api/models/{MISSING}", json={"model_url": "u"}), 404, "not_found")


def test_delete_removes_its_runs(client):
    model = create_model(client)
    run = create_run(client, {"e": 1}, "stand-counter")
    assert client.delete(f"/api/models/{model['id']}").status_code == 204
    assert_error(client.get(f"/api/models/{model['id']}"), 404, "not_found")
    assert_error(client.get(f"/api/model_runs/{run['id']}"), 404, "not_found")
    assert_error(client.delete(f"/api/models/{model['id']}"), 404, "not_found")


def test_model_runs_list_and_create(client):
    model = create_model(client)
    created = client.post(f"/api/models/{model['id']}/runs", json={"model_run_info": {"e": 1}})
    repeated = client.post(f"/api/models/{model['id']}/runs", json={"model_run_info": {"e": 1}})
    assert (created.status_code, repeated.status_code) == (201, 200)
    assert created.json()["model_id"] == model["id"]
    create_run(client, {"e": 2})  # of no model: not listed
    listed = client.get(f"/api/models/{model['id']}/runs")
    assert listed.json() == [created.json()] and total(listed) == 1


def test_model_runs_of_unknown_model_is_404(client):
    assert_error(client.get(f"/api/models/{MISSING}/runs"), 404, "not_found")
    assert_error(client.post(f"/api/models/{MISSING}/runs", json={}), 404, "not_found")
    assert_error(client.get(f"/api/models/{MISSING}/experiments"), 404, "not_found")
