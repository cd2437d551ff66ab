"""The REST routes of model versions on SQLite and PostgreSQL: status codes, error kinds, authorship, and
the streamed download with ``ETag``, ``Range`` and ``If-None-Match``."""

import hashlib
import uuid

import pytest
from fastapi.testclient import TestClient

from gemini.registry import registry
from tests.conftest import empty_registry
from tests.rest_api.conftest import TOKEN, app, assert_error, client, token  # noqa: F401 - fixtures

MODEL = "stand_counter"
WEIGHTS = "weights/best.pt"
BYTES = bytes(range(256)) * 40  # 10,240 bytes
DIGEST = hashlib.sha256(BYTES).hexdigest()


@pytest.fixture
def db(database_url, monkeypatch, tmp_path) -> str:
    """The app on each database (not through a server: the test client is the server)."""
    return empty_registry(database_url, monkeypatch, tmp_path / "artifact-store")


@pytest.fixture
def run(client) -> dict:
    run = client.post("/api/model_runs", json={"model_run_info": {"n": 1}, "model_name": MODEL}).json()
    uploaded = client.put(f"/api/model_runs/{run['id']}/artifacts/{WEIGHTS}", content=BYTES)
    assert uploaded.status_code == 201, uploaded.text
    return run


def register(client: TestClient, run: dict, **body) -> dict:
    response = client.post(f"/api/model_runs/{run['id']}/versions", json={"artifact_name": WEIGHTS, **body})
    assert response.status_code == 201, response.text
    return response.json()


def test_register_answers_201_with_the_version(client, run):
    version = register(client, run, version_info={"map50": 0.91})
    assert version["version"] == 1 and version["model_name"] == MODEL and version["model_run_id"] == run["id"]
    assert (version["sha256"], version["size"], version["aliases"]) == (DIGEST, len(BYTES), [])
    assert version["version_info"] == {"map50": 0.91} and version["created_by"] is None
    assert register(client, run)["version"] == 2


def test_register_refusals(client, run):
    path = f"/api/model_runs/{run['id']}/versions"
    assert_error(client.post(path, json={"artifact_name": "nope.pt"}), 404, "not_found", "no artifact named")
    missing = f"/api/model_runs/{uuid.uuid4()}/versions"
    assert_error(client.post(missing, json={"artifact_name": WEIGHTS}), 404, "not_found", "no model run")
    assert_error(client.post(path, json={"artifact_name": "../x"}), 422, "invalid_input", "'..'")
    assert_error(client.post(path, json={}), 422, "invalid_input")
    assert_error(client.post(path, json={"artifact_name": WEIGHTS, "extra": 1}), 422, "invalid_input")
    assert_error(client.post(path, json={"artifact_name": WEIGHTS, "version_info": []}), 422, "invalid_input")
    loose = client.post("/api/model_runs", json={"model_run_info": {"loose": 1}}).json()
    client.put(f"/api/model_runs/{loose['id']}/artifacts/{WEIGHTS}", content=b"w")
    refused = client.post(f"/api/model_runs/{loose['id']}/versions", json={"artifact_name": WEIGHTS})
    assert_error(refused, 422, "invalid_input", "belongs to no model")
    assert registry().list_model_versions(model_name=MODEL) == []


def test_reads(client, run):
    one, two = register(client, run), register(client, run)
    assert client.get(f"/api/models/versions/{one['id']}").json() == one
    listed = client.get(f"/api/models/{run['model_id']}/versions")
    assert listed.status_code == 200 and listed.headers["X-Total-Count"] == "2"
    assert [item["version"] for item in listed.json()] == [1, 2]
    lookup = "/api/models/lookup/versions"
    assert client.get(lookup, params={"model_name": MODEL, "version": 1}).json()["id"] == one["id"]
    assert client.get(lookup, params={"model_name": MODEL, "alias": "latest"}).json()["id"] == two["id"]
    assert client.get(lookup, params={"ref": f"{MODEL}@2"}).json()["id"] == two["id"]
    assert client.get(lookup, params={"ref": f"{MODEL}@latest"}).json()["id"] == two["id"]
    assert_error(client.get(lookup, params={"ref": f"{MODEL}@7"}), 404, "not_found", "has no version 7")
    assert_error(client.get(lookup, params={"ref": "nope@1"}), 404, "not_found", "no model named 'nope'")
    assert_error(client.get(lookup, params={"ref": MODEL}), 422, "invalid_input", "not a version reference")
    assert_error(client.get(lookup, params={"model_name": MODEL}), 422, "invalid_input", "either a version")
    assert_error(client.get(lookup, params={"model_name": MODEL, "version": 0}), 422, "invalid_input")
    assert_error(client.get(lookup, params={"ref": f"{MODEL}@1", "model_name": MODEL}), 422, "invalid_input")
    assert_error(client.get(f"/api/models/versions/{uuid.uuid4()}"), 404, "not_found")
    assert_error(client.get(f"/api/models/{uuid.uuid4()}/versions"), 404, "not_found")
    assert_error(client.get("/api/models/versions/not-an-id"), 422, "invalid_input")


def test_a_model_without_versions_lists_none(client):
    model = client.post("/api/models", json={"model_name": MODEL}).json()
    listed = client.get(f"/api/models/{model['id']}/versions")
    assert listed.json() == [] and listed.headers["X-Total-Count"] == "0"
    assert_error(client.get("/api/models/lookup/versions", params={"ref": f"{MODEL}@latest"}), 404, "not_found")


def test_aliases(client, run):
    one, two = register(client, run), register(client, run)
    moved = client.put(f"/api/models/versions/{one['id']}/aliases/production")
    assert moved.status_code == 200 and moved.json()["aliases"] == ["production"]
    assert client.put(f"/api/models/versions/{two['id']}/aliases/production").json()["aliases"] == ["production"]
    assert client.get(f"/api/models/versions/{one['id']}").json()["aliases"] == []
    for bad in ("latest", "3", "-x", "a" * 65):
        assert_error(client.put(f"/api/models/versions/{one['id']}/aliases/{bad}"), 422, "invalid_input")
    assert_error(client.put(f"/api/models/versions/{uuid.uuid4()}/aliases/x"), 404, "not_found")
    assert_error(client.delete(f"/api/models/versions/{one['id']}/aliases/production"), 404, "not_found", "no alias")
    removed = client.delete(f"/api/models/versions/{two['id']}/aliases/production")
    assert removed.status_code == 200 and removed.json()["aliases"] == []


def test_update_and_delete(client, run):
    version = register(client, run, version_info={"a": 1})
    path = f"/api/models/versions/{version['id']}"
    assert client.patch(path, json={"version_info": {"a": 2}}).json()["version_info"] == {"a": 2}
    assert_error(client.patch(path, json={}), 422, "invalid_input")
    client.put(f"{path}/aliases/production")
    assert_error(client.delete(path), 409, "conflict", "holds the aliases production")
    assert_error(client.delete(f"/api/model_runs/{run['id']}"), 409, "conflict", f"{MODEL}@1")
    client.delete(f"{path}/aliases/production")
    assert client.delete(path).status_code == 204
    assert_error(client.delete(path), 404, "not_found")
    assert client.delete(f"/api/model_runs/{run['id']}").status_code == 204


def test_download_streams_the_pinned_bytes_with_etag_and_range(client, run):
    version = register(client, run)
    client.put(f"/api/model_runs/{run['id']}/artifacts/{WEIGHTS}", content=b"retrained")  # the name moves on
    path = f"/api/models/versions/{version['id']}/file"
    whole = client.get(path)
    assert whole.status_code == 200 and whole.content == BYTES
    assert whole.headers["ETag"] == f'"{DIGEST}"' and whole.headers["Content-Length"] == str(len(BYTES))
    assert 'filename="best.pt"' in whole.headers["Content-Disposition"]
    part = client.get(path, headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == BYTES[10:20]
    assert part.headers["Content-Range"] == f"bytes 10-19/{len(BYTES)}"
    assert client.get(path, headers={"Range": "bytes=-5"}).content == BYTES[-5:]
    assert client.get(path, headers={"If-None-Match": f'"{DIGEST}"'}).status_code == 304
    unsatisfiable = client.get(path, headers={"Range": f"bytes={len(BYTES)}-"})
    assert unsatisfiable.status_code == 416 and unsatisfiable.headers["Content-Range"] == f"bytes */{len(BYTES)}"
    assert_error(client.get(f"/api/models/versions/{uuid.uuid4()}/file"), 404, "not_found")


def test_writes_need_a_write_token_and_record_its_name(client, run, token):
    path = f"/api/model_runs/{run['id']}/versions"
    assert_error(client.post(path, json={"artifact_name": WEIGHTS}), 401, "unauthorized")
    reader = registry().create_token(name="reader", scope="read")[1]
    refused = client.post(path, json={"artifact_name": WEIGHTS}, headers={"Authorization": f"Bearer {reader}"})
    assert_error(refused, 403, "forbidden")
    alice = registry().create_token(name="alice", scope="write")[1]
    made = client.post(path, json={"artifact_name": WEIGHTS}, headers={"Authorization": f"Bearer {alice}"})
    assert made.status_code == 201 and made.json()["created_by"] == "alice"
    admin = client.post(path, json={"artifact_name": WEIGHTS}, headers={"Authorization": f"Bearer {TOKEN}"})
    assert admin.json()["created_by"] == "admin"
