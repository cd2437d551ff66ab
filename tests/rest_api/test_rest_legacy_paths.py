"""GEMINI's original model paths answer as before."""

import uuid

from tests.rest_api.conftest import as_listed, assert_error, create_model

MISSING = str(uuid.UUID(int=4))


def test_all_lists_every_model_as_a_plain_list(client):
    assert client.get("/api/models/all").json() == []
    a, b = create_model(client, "a"), create_model(client, "b")
    assert client.get("/api/models/all").json() == [as_listed(a), as_listed(b)]


def test_get_patch_delete_by_id(client):
    model = create_model(client)
    assert client.get(f"/api/models/id/{model['id']}").json() == model
    patched = client.patch(f"/api/models/id/{model['id']}", json={"model_info": {"v": 2}})
    assert patched.status_code == 200 and patched.json()["model_info"] == {"v": 2}
    assert client.delete(f"/api/models/id/{model['id']}").status_code == 204
    assert_error(client.get(f"/api/models/id/{model['id']}"), 404, "not_found")


def test_runs_by_id(client):
    model = create_model(client)
    created = client.post(f"/api/models/id/{model['id']}/runs", json={"model_run_info": {"e": 1}})
    assert created.status_code == 201
    assert client.get(f"/api/models/id/{model['id']}/runs").json() == [created.json()]


def test_errors(client):
    create_model(client, "a")
    b = create_model(client, "b")
    assert_error(client.get(f"/api/models/id/{MISSING}"), 404, "not_found")
    assert_error(client.get(f"/api/models/id/{MISSING}/runs"), 404, "not_found")
    assert_error(client.post(f"/api/models/id/{MISSING}/runs", json={}), 404, "not_found")
    assert_error(client.patch(f"/api/models/id/{b['id']}", json={"model_name": "a"}), 409, "conflict")
    assert_error(client.delete("/api/models/id/nope"), 422, "invalid_input", "model_id")
