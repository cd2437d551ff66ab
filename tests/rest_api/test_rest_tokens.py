"""``/api/tokens``: create (the token shown once), list without tokens, revoke; authors recorded."""

import hashlib

import pytest
import sqlalchemy as sa

from gemini.db.tables import api_tokens
from tests.rest_api.conftest import TOKEN

ADMIN = {"Authorization": f"Bearer {TOKEN}"}


def _create(client, name="alice", scope="write") -> dict:
    response = client.post("/api/tokens", json={"name": name, "scope": scope}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return response.json()


def test_created_token_is_shown_once_and_works(client, token):
    created = _create(client)
    assert created["name"] == "alice" and created["scope"] == "write" and created["token"].startswith("gmn_")
    response = client.post("/api/models", json={"model_name": "m"}, headers={"Authorization": f"Bearer {created['token']}"})
    assert response.status_code == 201


def test_list_never_shows_tokens(client, token):
    created = _create(client)
    listed = client.get("/api/tokens", headers=ADMIN)
    assert len(listed.json()) == 1 and listed.headers["X-Total-Count"] == "1"
    assert created["token"] not in listed.text and hashlib.sha256(created["token"].encode()).hexdigest() not in listed.text
    assert set(listed.json()[0]) == {"id", "name", "scope", "created_at", "last_used_at", "revoked_at"}


def test_database_keeps_only_the_hash(client, token, db):
    created = _create(client)
    with sa.create_engine(db).connect() as connection:
        rows = [tuple(row) for row in connection.execute(sa.select(api_tokens))]
    assert len(rows) == 1
    assert hashlib.sha256(created["token"].encode()).hexdigest() in rows[0]
    assert not any(created["token"] in str(value) for value in rows[0])


def test_duplicate_name_is_409(client, token):
    _create(client)
    response = client.post("/api/tokens", json={"name": "alice", "scope": "read"}, headers=ADMIN)
    assert response.status_code == 409 and "alice" in response.json()["detail"]


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "scope": "owner"},
        {"name": "", "scope": "read"},
        {"name": "admin", "scope": "read"},
        {"name": "Admin", "scope": "read"},
        {"name": "ad min", "scope": "read"},
        {"name": "ADMIN\t", "scope": "read"},
    ],
)
def test_invalid_token_requests_are_422(client, token, body):
    assert client.post("/api/tokens", json=body, headers=ADMIN).status_code == 422


def test_revoke_marks_and_refuses(client, token):
    created = _create(client)
    revoked = client.post("/api/tokens/alice/revoke", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    response = client.get("/api/tokens", headers={"Authorization": f"Bearer {created['token']}"})
    assert response.status_code == 401


def test_revoke_unknown_is_404(client, token):
    assert client.post("/api/tokens/nobody/revoke", headers=ADMIN).status_code == 404


def test_use_is_recorded(client, token):
    created = _create(client)
    client.get("/api/models", headers={"Authorization": f"Bearer {created['token']}"})
    assert client.get("/api/tokens", headers=ADMIN).json()[0]["last_used_at"] is not None
