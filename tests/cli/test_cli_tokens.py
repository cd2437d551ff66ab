"""``gemini tokens create|list|revoke``: the token printed once, only its hash stored."""

import hashlib

import pytest
import sqlalchemy as sa

from gemini.core import tokens
from gemini.db.tables import api_tokens
from gemini.domain.errors import AuthenticationError


def test_create_prints_the_token_once(gemini):
    result = gemini.ok("tokens", "create", "alice", "--scope", "write")
    token = result.stdout.strip()
    assert token.startswith("gmn_") and len(token) > 40
    assert "shown only this once" in result.stderr
    assert tokens.authenticate_token(token=token).name == "alice"


def test_default_scope_is_write(gemini):
    assert gemini.json("tokens", "create", "alice")["scope"] == "write"


def test_database_keeps_only_the_hash(gemini, db):
    token = gemini.ok("tokens", "create", "alice", "--scope", "read").stdout.strip()
    with sa.create_engine(db).connect() as connection:
        row = connection.execute(sa.select(api_tokens)).one()
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert not any(token in str(value) for value in row)


def test_list_shows_names_scopes_and_dates_but_never_tokens(gemini):
    token = gemini.ok("tokens", "create", "alice", "--scope", "admin").stdout.strip()
    listed = gemini.ok("tokens", "list").stdout
    assert "alice" in listed and "admin" in listed and "LAST USED" in listed and "REVOKED" in listed
    assert token not in listed and hashlib.sha256(token.encode()).hexdigest() not in listed


def test_revoke_refuses_the_token_and_shows_in_list(gemini):
    token = gemini.ok("tokens", "create", "alice").stdout.strip()
    gemini.ok("tokens", "revoke", "alice")
    [listed] = gemini.json("tokens", "list")
    assert listed["revoked_at"] is not None
    message = gemini.fails("tokens", "revoke", "nobody")
    assert "nobody" in message
    with pytest.raises(AuthenticationError, match="revoked"):
        tokens.authenticate_token(token=token)


def test_duplicate_name_fails(gemini):
    gemini.ok("tokens", "create", "alice")
    assert "alice" in gemini.fails("tokens", "create", "alice", "--scope", "read")


def test_unknown_scope_fails(gemini):
    result = gemini("tokens", "create", "alice", "--scope", "owner")
    assert result.exit_code == 2 and "owner" in result.stderr


def test_reserved_admin_name_fails(gemini):
    assert "reserved" in gemini.fails("tokens", "create", "admin")
