"""Tokens and scopes: 401 without a valid token, 403 for a scope that is too small, reads open by default."""

import pytest

from gemini.registry import registry
from tests.rest_api.conftest import TOKEN, assert_error, create_model, total

WRITES = [
    ("post", "/api/models", {"model_name": "m"}),
    ("post", "/api/model_runs", {"model_run_info": {}}),
    ("post", "/api/model_runs/bulk", {"model_run_infos": [{}]}),
    ("post", "/api/experiments", {"experiment_name": "e"}),
    ("patch", "/api/models/00000000-0000-0000-0000-000000000001", {"model_url": "u"}),
    ("delete", "/api/model_runs/00000000-0000-0000-0000-000000000001", None),
    ("put", "/api/model_runs/00000000-0000-0000-0000-000000000001/model", {"model_name": "m"}),
    ("delete", "/api/models/id/00000000-0000-0000-0000-000000000001", None),
]
READS = ["/api/models", "/api/model_runs", "/api/experiments", "/api/models/all"]
ADMIN_CALLS = [
    ("get", "/api/tokens", None),
    ("post", "/api/tokens", {"name": "carol", "scope": "read"}),
    ("post", "/api/tokens/alice/revoke", None),
]


def _send(client, method, path, body, token=None):
    headers = {"Authorization": f"Bearer {token}"} if token else None
    if body is None:
        return client.request(method, path, headers=headers)
    return client.request(method, path, json=body, headers=headers)


@pytest.fixture
def user_token(db):
    """``user_token(name, scope)``: a new per-user token, as ``gemini tokens create`` makes it."""

    def make(name: str, scope: str) -> str:
        return registry().create_token(name=name, scope=scope)[1]

    return make


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_write_without_token_is_401(client, token, method, path, body):
    response = _send(client, method, path, body)
    assert_error(response, 401, "unauthorized", "Authorization: Bearer")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_write_with_unknown_token_is_401(client, token, method, path, body):
    assert_error(_send(client, method, path, body, "not-the-token"), 401, "unauthorized", "not valid")


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_write_with_read_token_is_403(client, token, user_token, method, path, body):
    response = _send(client, method, path, body, user_token("reader", "read"))
    assert_error(response, 403, "forbidden", "'reader'", "'read'", "'write'")


@pytest.mark.parametrize("scope", ["write", "admin"])
@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_write_with_write_or_admin_token_passes(client, token, user_token, scope, method, path, body):
    response = _send(client, method, path, body, user_token("writer", scope))
    assert response.status_code not in (401, 403), response.text


def test_refused_write_changes_nothing(client, token, user_token):
    _send(client, "post", "/api/models", {"model_name": "m"}, "wrong")
    _send(client, "post", "/api/models", {"model_name": "m"}, user_token("reader", "read"))
    assert total(client.get("/api/models")) == 0


def test_other_schemes_and_empty_tokens_count_as_missing(client, token):
    for value in ("Basic dXNlcjpwYXNz", "Bearer", "Bearer ", TOKEN):
        response = client.post("/api/models", json={"model_name": "m"}, headers={"Authorization": value})
        assert response.status_code == 401, value


def test_non_ascii_token_is_401_not_an_error(client, token):
    headers = {"Authorization": "Bearer caf\u00e9".encode("latin-1")}
    assert_error(client.post("/api/models", json={"model_name": "m"}, headers=headers), 401, "unauthorized")


def test_server_token_writes(client, token):
    response = _send(client, "post", "/api/models", {"model_name": "m"}, TOKEN)
    assert response.status_code == 201
    assert _send(client, "delete", f"/api/models/{response.json()['id']}", None, TOKEN).status_code == 204


def test_revoked_token_is_refused(client, token, user_token):
    alice = user_token("alice", "write")
    assert _send(client, "post", "/api/models", {"model_name": "m"}, alice).status_code == 201
    registry().revoke_token(name="alice")
    assert_error(_send(client, "post", "/api/models", {"model_name": "n"}, alice), 401, "unauthorized", "revoked")


@pytest.mark.parametrize("path", READS)
def test_reads_need_no_token_by_default(client, token, path):
    assert client.get(path).status_code == 200


@pytest.mark.parametrize("path", READS)
def test_private_server_refuses_reads_without_token(client, token, monkeypatch, path):
    monkeypatch.setenv("GEMINI_REQUIRE_TOKEN_FOR_READS", "true")
    assert_error(client.get(path), 401, "unauthorized", "reads")


@pytest.mark.parametrize("path", READS)
def test_private_server_answers_reads_with_read_token(client, token, user_token, monkeypatch, path):
    monkeypatch.setenv("GEMINI_REQUIRE_TOKEN_FOR_READS", "true")
    assert _send(client, "get", path, None, user_token("reader", "read")).status_code == 200


def test_private_server_refuses_revoked_token_for_reads(client, user_token, monkeypatch):
    monkeypatch.setenv("GEMINI_REQUIRE_TOKEN_FOR_READS", "true")
    reader = user_token("reader", "read")
    registry().revoke_token(name="reader")
    assert_error(_send(client, "get", "/api/models", None, reader), 401, "unauthorized", "revoked")


def test_private_server_without_server_token_needs_tokens_for_writes(client, user_token, monkeypatch):
    monkeypatch.delenv("GEMINI_API_TOKEN", raising=False)
    monkeypatch.setenv("GEMINI_REQUIRE_TOKEN_FOR_READS", "true")
    assert _send(client, "post", "/api/models", {"model_name": "m"}).status_code == 401
    assert _send(client, "post", "/api/models", {"model_name": "m"}, user_token("w", "write")).status_code == 201


def test_health_stays_open_on_private_server(client, monkeypatch):
    monkeypatch.setenv("GEMINI_REQUIRE_TOKEN_FOR_READS", "true")
    assert client.get("/api/health").status_code == 200


def test_without_a_server_token_writes_are_open(client):
    create_model(client)


def test_without_a_server_token_an_unknown_token_is_still_refused(client):
    assert _send(client, "post", "/api/models", {"model_name": "x"}, "anything").status_code == 401


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_token_management_without_token_is_401(client, token, method, path, body):
    assert _send(client, method, path, body).status_code == 401


@pytest.mark.parametrize("scope", ["read", "write"])
@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_token_management_needs_admin_scope(client, token, user_token, scope, method, path, body):
    user_token("alice", "write")
    response = _send(client, method, path, body, user_token("bob", scope))
    assert_error(response, 403, "forbidden", "'admin'")


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_CALLS)
def test_token_management_with_admin_token(client, token, user_token, method, path, body):
    user_token("alice", "write")
    response = _send(client, method, path, body, user_token("root", "admin"))
    assert response.status_code in (200, 201), response.text


@pytest.mark.parametrize("authorization", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc"])
def test_an_authorization_header_that_is_not_a_bearer_token_is_401_even_beside_a_valid_api_key(
    client, token, authorization
):
    headers = {"Authorization": authorization, "X-API-Key": TOKEN}
    response = client.post("/api/models", json={"model_name": "m"}, headers=headers)
    assert_error(response, 401, "unauthorized", "Authorization header must be 'Bearer <token>'")
    assert client.post("/api/models", json={"model_name": "m"}, headers={"X-API-Key": TOKEN}).status_code == 201


def test_the_bearer_scheme_is_read_whatever_its_case(client, token):
    response = client.post("/api/models", json={"model_name": "m"}, headers={"Authorization": f"bearer {TOKEN}"})
    assert response.status_code == 201
