"""Edges of HTTP on the artifact routes: names that are not UTF-8, ranges and conditional requests."""

import hashlib

import pytest

from tests.rest_api.conftest import app, client  # noqa: F401 - fixtures


@pytest.fixture
def run_id(client):
    return client.post("/api/model_runs/start", json={}).json()["id"]


def test_a_name_that_is_not_utf8_is_refused_and_replaces_nothing(client, run_id):
    assert client.put(f"/api/model_runs/{run_id}/artifacts/%C3%A9.txt", content=b"first").status_code == 201
    for escaped in ("%ff.txt", "%fe.txt", "dir/%C3.txt"):
        response = client.put(f"/api/model_runs/{run_id}/artifacts/{escaped}", content=b"second")
        assert response.status_code == 422 and "not valid UTF-8" in response.json()["detail"], escaped
    listed = client.get(f"/api/model_runs/{run_id}/artifacts").json()
    assert [artifact["name"] for artifact in listed] == ["é.txt"]


def test_a_suffix_range_of_an_empty_artifact_is_not_satisfiable(client, run_id):
    assert client.put(f"/api/model_runs/{run_id}/artifacts/empty.bin", content=b"").status_code == 201
    response = client.get(f"/api/model_runs/{run_id}/artifacts/empty.bin", headers={"Range": "bytes=-5"})
    assert response.status_code == 416
    assert response.headers["content-range"] == "bytes */0"


@pytest.mark.parametrize("unit", ["BYTES", "Bytes", "bytes"])
def test_the_range_unit_is_case_insensitive(client, run_id, unit):
    client.put(f"/api/model_runs/{run_id}/artifacts/a.bin", content=b"0123456789abcdef")
    response = client.get(f"/api/model_runs/{run_id}/artifacts/a.bin", headers={"Range": f"{unit}=0-9"})
    assert (response.status_code, response.content) == (206, b"0123456789")
    assert response.headers["content-range"] == "bytes 0-9/16"


def test_if_none_match_star_answers_304_for_an_artifact_that_exists(client, run_id):
    client.put(f"/api/model_runs/{run_id}/artifacts/a.bin", content=b"abc")
    response = client.get(f"/api/model_runs/{run_id}/artifacts/a.bin", headers={"If-None-Match": "*"})
    assert response.status_code == 304
    assert response.headers["etag"] == f'"{hashlib.sha256(b"abc").hexdigest()}"'
    assert client.get(f"/api/model_runs/{run_id}/artifacts/a.bin", headers={"If-None-Match": '"other"'}).status_code == 200
