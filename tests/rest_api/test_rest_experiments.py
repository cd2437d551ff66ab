"""``/api/experiments``."""

import uuid

from tests.rest_api.conftest import as_listed, assert_error, create_model, total

MISSING = str(uuid.UUID(int=3))


def test_create_list_get_delete(client):
    created = client.post("/api/experiments", json={"experiment_name": "Davis 2024", "experiment_info": {"a": 1}})
    again = client.post("/api/experiments", json={"experiment_name": "Davis 2024"})
    assert (created.status_code, again.status_code) == (201, 200)
    experiment = created.json()
    assert again.json() == experiment
    listed = client.get("/api/experiments")
    assert listed.json() == [experiment] and total(listed) == 1
    assert client.get(f"/api/experiments/{experiment['id']}").json() == experiment
    assert client.delete(f"/api/experiments/{experiment['id']}").status_code == 204
    assert_error(client.get(f"/api/experiments/{experiment['id']}"), 404, "not_found")


def test_deleting_an_experiment_keeps_its_models(client):
    experiment = client.post("/api/experiments", json={"experiment_name": "E"}).json()
    model = create_model(client, experiment_name="E")
    assert client.get(f"/api/experiments/{experiment['id']}/models").json() == [as_listed(model)]
    client.delete(f"/api/experiments/{experiment['id']}")
    assert client.get(f"/api/models/{model['id']}").status_code == 200


def test_unknown_and_malformed(client):
    assert_error(client.get(f"/api/experiments/{MISSING}"), 404, "not_found", MISSING)
    assert_error(client.delete(f"/api/experiments/{MISSING}"), 404, "not_found")
    assert_error(client.get(f"/api/experiments/{MISSING}/models"), 404, "not_found")
    assert_error(client.get("/api/experiments/abc"), 422, "invalid_input", "experiment_id")
    response = client.post("/api/experiments", json={"experiment_name": "x", "experiment_info": 3})
    assert_error(response, 422, "invalid_input", "experiment_info")
