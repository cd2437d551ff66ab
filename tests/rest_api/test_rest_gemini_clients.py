"""What GEMINI's own clients send, on GEMINI's paths, and what they read back."""

import uuid

import pytest

from tests.rest_api.conftest import TOKEN, as_listed, assert_error, create_model, next_link, total

MISSING = str(uuid.UUID(int=4))
UI_ORIGIN = "http://localhost:5173"


def _runs(client, model_id: str, count: int) -> list[dict]:
    return [
        client.post(f"/api/models/id/{model_id}/runs", json={"model_run_info": {"epoch": epoch}}).json()
        for epoch in range(count)
    ]


def test_all_models_pages_by_limit_and_offset(client):
    models = [create_model(client, name) for name in "abc"]
    response = client.get("/api/models/all", params={"limit": 1, "offset": 1})
    assert response.json() == [as_listed(models[1])]
    assert total(response) == 3


def test_all_models_without_limit_is_every_model(client):
    models = [create_model(client, name) for name in "abc"]
    response = client.get("/api/models/all")
    assert response.json() == [as_listed(model) for model in models]
    assert next_link(response) is None


def test_all_models_links_the_next_page(client):
    [create_model(client, name) for name in "abc"]
    first = client.get("/api/models/all", params={"limit": 2})
    second = client.get(next_link(first))
    assert [model["model_name"] for model in second.json()] == ["c"]
    assert next_link(second) is None


def test_model_runs_by_id_page_by_limit_and_offset(client):
    model = create_model(client)
    runs = _runs(client, model["id"], 4)
    response = client.get(f"/api/models/id/{model['id']}/runs", params={"limit": 2, "offset": 1})
    assert response.json() == runs[1:3]
    assert total(response) == 4
    assert next_link(response).endswith("offset=3")


def test_search_answers_a_plain_array(client):
    create_experiment = client.post("/api/experiments", json={"experiment_name": "Davis 2024"})
    assert create_experiment.status_code == 201
    wanted = create_model(client, "detector", model_info={"task": "detect"}, experiment_name="Davis 2024")
    create_model(client, "counter", model_info={"task": "count"}, experiment_name="Davis 2024")
    response = client.get(
        "/api/models",
        params={"model_name": "detector", "experiment_name": "Davis 2024", "model_info": '{"task": "detect"}'},
    )
    assert response.json() == [as_listed(wanted)]


def test_search_without_match_is_an_empty_array(client):
    create_model(client, "detector")
    assert client.get("/api/models", params={"model_name": "nothing"}).json() == []


def test_run_body_naming_the_paths_model_is_recorded(client):
    model = create_model(client, "detector")
    body = {"model_name": "detector", "model_run_info": {"epoch": 1}}
    response = client.post(f"/api/models/id/{model['id']}/runs", json=body)
    assert response.status_code == 201
    assert response.json()["model_id"] == model["id"]
    assert response.json()["model_name"] == "detector"


def test_run_body_naming_another_model_is_422_and_records_nothing(client):
    model = create_model(client, "detector")
    create_model(client, "counter")
    body = {"model_name": "counter", "model_run_info": {"epoch": 1}}
    response = client.post(f"/api/models/id/{model['id']}/runs", json=body)
    assert_error(response, 422, "invalid_input", "counter", "detector")
    assert total(client.get("/api/model_runs")) == 0


def test_run_body_naming_another_model_is_422_on_our_path_too(client):
    model = create_model(client, "detector")
    response = client.post(f"/api/models/{model['id']}/runs", json={"model_name": "other", "model_run_info": {}})
    assert_error(response, 422, "invalid_input", "other")


def test_experiments_of_a_model_by_id(client):
    experiment = client.post("/api/experiments", json={"experiment_name": "Davis 2024"}).json()
    model = create_model(client, experiment_name="Davis 2024")
    response = client.get(f"/api/models/id/{model['id']}/experiments")
    assert response.json() == [experiment]
    assert total(response) == 1


def test_experiments_of_an_unknown_model_is_404(client):
    assert_error(client.get(f"/api/models/id/{MISSING}/experiments"), 404, "not_found", MISSING)


def test_error_body_carries_error_description(client):
    body = client.get(f"/api/models/id/{MISSING}").json()
    assert body["error"] == "not_found"
    assert MISSING in body["error_description"]


def test_x_api_key_authorizes_writes(client, token):
    response = client.post("/api/models", json={"model_name": "m"}, headers={"X-API-Key": token})
    assert response.status_code == 201


def test_unknown_x_api_key_is_401(client, token):
    response = client.post("/api/models", json={"model_name": "m"}, headers={"X-API-Key": "wrong"})
    assert_error(response, 401, "unauthorized")
    assert total(client.get("/api/models")) == 0


def test_authorization_header_is_checked_before_x_api_key(client, token):
    headers = {"Authorization": "Bearer wrong", "X-API-Key": TOKEN}
    assert_error(client.post("/api/models", json={"model_name": "m"}, headers=headers), 401, "unauthorized")


def _preflight(client, path: str = "/api/models"):
    return client.options(
        path,
        headers={
            "Origin": UI_ORIGIN,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type,x-api-key",
        },
    )


def test_cors_is_off_by_default(client, monkeypatch):
    monkeypatch.delenv("GEMINI_CORS_ORIGINS", raising=False)
    response = _preflight(client)
    assert "access-control-allow-origin" not in response.headers
    assert "access-control-allow-origin" not in client.get("/api/models", headers={"Origin": UI_ORIGIN}).headers


@pytest.mark.parametrize("origins", [UI_ORIGIN, f"https://other.example.org, {UI_ORIGIN}/", "*"])
def test_cors_preflight_allows_a_configured_origin(client, monkeypatch, origins):
    monkeypatch.setenv("GEMINI_CORS_ORIGINS", origins)
    response = _preflight(client)
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in (UI_ORIGIN, "*")
    assert "POST" in response.headers["access-control-allow-methods"]
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "x-api-key" in allowed and "authorization" in allowed


def test_cors_preflight_refuses_an_unlisted_origin(client, monkeypatch):
    monkeypatch.setenv("GEMINI_CORS_ORIGINS", "https://other.example.org")
    response = _preflight(client)
    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


def test_cors_answers_expose_the_list_headers(client, monkeypatch):
    monkeypatch.setenv("GEMINI_CORS_ORIGINS", UI_ORIGIN)
    response = client.get("/api/models/all", headers={"Origin": UI_ORIGIN})
    assert response.headers["access-control-allow-origin"] == UI_ORIGIN
    exposed = {name.strip() for name in response.headers["access-control-expose-headers"].lower().split(",")}
    assert {"x-total-count", "link", "x-gemini-notice", "etag", "content-range"} <= exposed
