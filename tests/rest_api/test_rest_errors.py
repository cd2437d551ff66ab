"""Error statuses that are not about one resource: sizes, malformed bodies, the database being away."""

import json

import pytest

from gemini.domain.errors import ERROR_KINDS, REQUEST_ERROR_KINDS
from gemini.domain.statuses import END_STATUSES, RUN_STATUSES
from gemini.rest_api.errors import status_for
from gemini.rest_api.limits import BODY_OVERHEAD_BYTES, BODY_TO_INFO_RATIO
from tests.rest_api.conftest import assert_error, total


@pytest.fixture
def small_info_limit(monkeypatch) -> int:
    monkeypatch.setenv("GEMINI_MAX_INFO_BYTES", "100")
    return 100


def test_info_over_the_limit_is_413_and_records_nothing(client, small_info_limit):
    response = client.post("/api/model_runs", json={"model_run_info": {"text": "x" * 200}})
    assert_error(response, 413, "info_too_large", "model_run_info", "100 bytes")
    assert total(client.get("/api/model_runs")) == 0


def test_info_at_the_limit_is_accepted(client, small_info_limit):
    info = {"text": "x" * (small_info_limit - len('{"text":""}'))}
    assert client.post("/api/model_runs", json={"model_run_info": info}).status_code == 201


def test_patch_over_the_limit_is_413_and_changes_nothing(client, small_info_limit):
    run = client.post("/api/model_runs", json={"model_run_info": {"a": 1}}).json()
    response = client.patch(f"/api/model_runs/{run['id']}", json={"model_run_info": {"text": "x" * 200}})
    assert_error(response, 413, "info_too_large")
    assert client.get(f"/api/model_runs/{run['id']}").json()["model_run_info"] == {"a": 1}


def test_oversized_body_is_refused_from_its_content_length(client, small_info_limit):
    limit = BODY_TO_INFO_RATIO * small_info_limit + BODY_OVERHEAD_BYTES
    body = json.dumps({"model_run_info": {"text": "x" * limit}}).encode()
    response = client.post("/api/model_runs", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 413, "request_too_large", str(limit))


def test_oversized_streamed_body_is_refused(client, small_info_limit):
    def chunks():
        yield b'{"model_run_info": {"text": "'
        for _ in range(200):
            yield b"x" * 1024
        yield b'"}}'

    response = client.post("/api/model_runs", content=chunks(), headers={"Content-Type": "application/json"})
    assert_error(response, 413, "request_too_large")
    assert total(client.get("/api/model_runs")) == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b'{"model_run_info": ', ["not valid JSON"]),
        (b'{"model_run_info": [1, 2]}', ["model_run_info", "dictionary"]),
        (b'{"model_run_info": "text"}', ["model_run_info"]),
        (b'{"model_run_info": {"x": NaN}}', ["model_run_info", "NaN"]),
        (b'{"model_run_info": {"x": "a\\u0000b"}}', ["NUL"]),
        (b'{"model_run_info": {"x": "\\ud800"}}', ["model_run_info"]),
        (b'{"model_name": 5}', ["model_name"]),
        (b"[]", ["body"]),
        (b'{"model_run_info": ' + b"[" * 100 + b"]" * 100 + b"}", ["model_run_info"]),
    ],
)
def test_malformed_bodies_are_422_naming_the_problem(client, body, words):
    response = client.post("/api/model_runs", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, "invalid_input", *words)


def test_body_without_json_content_type_is_422(client):
    response = client.post("/api/model_runs", content=b'{"model_run_info": {}}', headers={"Content-Type": "text/plain"})
    assert_error(response, 422, "invalid_input", "Content-Type: application/json")


def test_deep_info_is_422(client):
    deep: dict = {}
    for _ in range(80):
        deep = {"a": deep}
    assert_error(client.post("/api/model_runs", json={"model_run_info": deep}), 422, "invalid_input", "nested")


def test_absurdly_deep_json_is_422(client):
    body = b'{"model_run_info": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    response = client.post("/api/model_runs", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, "invalid_input", "nested too deeply")


def test_body_that_is_not_utf8_is_422(client):
    body = b'{"a": "\xff\xfe"}'
    response = client.post("/api/model_runs", content=body, headers={"Content-Type": "application/json"})
    assert_error(response, 422, "invalid_input", "UTF-8")


def test_deep_json_filter_is_422(client):
    response = client.get("/api/model_runs", params={"model_run_info": "[" * 20_000})
    assert_error(response, 422, "invalid_input", "model_run_info")


def test_unknown_path_and_method_are_json(client):
    assert_error(client.get("/api/nothing-here"), 404, "not_found")
    assert_error(client.put("/api/models"), 405, "method_not_allowed")


def test_health_reports_a_reachable_database(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["database"] == "reachable"
    assert response.json()["schema_revision"]


def test_health_is_503_when_the_database_is_unreachable(unreachable_client):
    response = unreachable_client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert response.json()["database"] == "unreachable"
    assert "database unavailable" in response.json()["detail"]
    assert response.json()["run_statuses"] == list(RUN_STATUSES)  # the page reads them even then


def test_health_lists_the_run_statuses_and_error_kinds(client):
    body = client.get("/api/health").json()
    assert body["run_statuses"] == list(RUN_STATUSES)
    assert body["end_statuses"] == list(END_STATUSES)
    assert {row.kind for row in (*ERROR_KINDS, *REQUEST_ERROR_KINDS)} == set(body["error_kinds"])


@pytest.mark.parametrize("row", ERROR_KINDS, ids=lambda row: row.kind)
def test_every_registry_error_answers_the_status_and_kind_of_its_row(row):
    assert status_for(row.error_class("why")) == (row.status, row.kind)


def test_operations_are_503_when_the_database_is_unreachable(unreachable_client):
    assert_error(unreachable_client.get("/api/model_runs"), 503, "database_unavailable")
    assert_error(unreachable_client.post("/api/models", json={"model_name": "m"}), 503, "database_unavailable")


def test_openapi_and_docs_are_served(client):
    schema = client.get("/openapi.json").json()
    create = schema["paths"]["/api/model_runs"]["post"]
    assert {"201", "200", "401", "403", "413", "422", "503"} <= set(create["responses"])
    body_schema = schema["components"]["schemas"]["ModelRunCreate"]
    assert body_schema["examples"]
    assert "/api/models/all" in schema["paths"]
    assert client.get("/docs").status_code == 200
