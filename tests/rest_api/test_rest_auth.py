"""With GEMINI_API_TOKEN set, writes need the bearer token; reads never do."""

import pytest

from tests.rest_api.conftest import TOKEN, assert_error, create_model

WRITES = [
    ("post", "/api/models", {"model_name": "m"}),
    ("post", "/api/model_runs", {"model_run_info": {}}),
    ("post", "/api/experiments", {"experiment_name": "e"}),
    ("patch", "/api/models/00000000-0000-0000-0000-000000000001", {"model_url": "u"}),
    ("delete", "/api/model_runs/00000000-0000-0000-0000-000000000001", None),
    ("put", "/api/model_runs/00000000-0000-0000-0000-000000000001/model", {"model_name": "m"}),
    ("delete", "/api/models/id/00000000-0000-0000-0000-000000000001", None),
]


def _send(client, method, path, body, headers=None):
    if body is None:
        return client.request(method, path, headers=headers)
    return client.request(method, path, json=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_write_without_token_is_401(client, token, method, path, body):
    response = _send(client, method, path, body)
    assert_error(response, 401, "unauthorized", "Authorization: Bearer")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_write_with_wrong_token_is_403(client, token, method, path, body):
    response = _send(client, method, path, body, headers={"Authorization": "Bearer not-the-token"})
    assert_error(response, 403, "forbidden", "token")


def test_refused_write_changes_nothing(client, token):
    client.post("/api/models", json={"model_name": "m"}, headers={"Authorization": "Bearer wrong"})
    assert client.get("/api/models").json()["count"] == 0


def test_other_schemes_and_empty_tokens_count_as_missing(client, token):
    for value in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", TOKEN):
        response = client.post("/api/models", json={"model_name": "m"}, headers={"Authorization": value})
        assert response.status_code == 401, value


def test_non_ascii_token_is_403_not_an_error(client, token):
    headers = {"Authorization": "Bearer caf\u00e9".encode("latin-1")}
    assert_error(client.post("/api/models", json={"model_name": "m"}, headers=headers), 403, "forbidden")


def test_right_token_writes(client, token):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    response = client.post("/api/models", json={"model_name": "m"}, headers=headers)
    assert response.status_code == 201
    assert client.delete(f"/api/models/{response.json()['id']}", headers=headers).status_code == 204


def test_reads_need_no_token(client, token):
    headers = {"Authorization": f"Bearer {TOKEN}"}
    model = client.post("/api/models", json={"model_name": "m"}, headers=headers).json()
    assert client.get(f"/api/models/{model['id']}").status_code == 200
    assert client.get("/api/model_runs").status_code == 200
    assert client.get("/api/health").status_code == 200


def test_without_a_configured_token_writes_are_open(client):
    create_model(client)
    response = client.post("/api/models", json={"model_name": "x"}, headers={"Authorization": "Bearer anything"})
    assert response.status_code == 201
