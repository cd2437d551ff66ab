"""Per-user API tokens: create one (shown once), list, revoke, and check a presented token.

A token is ``gmn_`` and 43 URL-safe characters from ``secrets`` (256 bits). The registry keeps only its
SHA-256 hash: a token is found by the hash of what the client sent, and the stored hash is compared
in constant time. Scopes are ordered: ``read`` < ``write`` < ``admin``.
"""

import datetime as dt
import hashlib
import hmac
import secrets

from gemini.core.validation import check_name
from gemini.db.engine import unit_of_work
from gemini.db.tables import utc_now
from gemini.db.tokens import ApiTokenRepository
from gemini.errors import AuthenticationError, InvalidInputError, PermissionDeniedError
from gemini.records import TOKEN_SCOPES, ApiTokenRecord

SCOPES = TOKEN_SCOPES
"""From the least to the most allowed: each scope allows everything the ones before it do."""
READ, WRITE, ADMIN = SCOPES

ADMIN_TOKEN_NAME = "admin"
"""The author recorded for the server's own token (``GEMINI_API_TOKEN``); no per-user token may take it."""

TOKEN_PREFIX = "gmn_"
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token, so that reads do not become writes."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def check_scope(scope: object) -> str:
    if scope not in SCOPES:
        raise InvalidInputError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    return scope  # type: ignore[return-value]


def scope_allows(scope: str, needed: str) -> bool:
    """Whether a token of ``scope`` may do what needs ``needed``."""
    return SCOPES.index(scope) >= SCOPES.index(needed)


def require_scope(name: str, scope: str, needed: str) -> None:
    """``PermissionDeniedError`` unless ``scope`` allows ``needed``."""
    if not scope_allows(scope, needed):
        raise PermissionDeniedError(f"the token {name!r} has scope {scope!r}; this needs {needed!r}")


def create_token(*, name: str, scope: str) -> tuple[ApiTokenRecord, str]:
    """A new token for ``name``: its record and the token itself, which is never shown again."""
    check_name(name, field="token name")
    check_scope(scope)
    if name == ADMIN_TOKEN_NAME:
        raise InvalidInputError(f"the token name {ADMIN_TOKEN_NAME!r} is reserved for the server's GEMINI_API_TOKEN")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with unit_of_work(write=True) as connection:
        record = ApiTokenRepository(connection).add(name=name, scope=scope, token_hash=hash_token(token))
    return record, token


def list_tokens() -> list[ApiTokenRecord]:
    """Every token, revoked ones included, oldest first."""
    with unit_of_work() as connection:
        return ApiTokenRepository(connection).list()


def revoke_token(*, name: str) -> ApiTokenRecord:
    """Refuse the token from now on; its name stays taken, so that authorship stays unambiguous."""
    check_name(name, field="token name")
    with unit_of_work(write=True) as connection:
        return ApiTokenRepository(connection).revoke(name)


def authenticate_token(*, token: str) -> ApiTokenRecord:
    """The live token equal to ``token``; ``AuthenticationError`` for an unknown or revoked one.

    The message never repeats the token: it may be a real one sent to the wrong server.
    """
    presented = hash_token(token)
    with unit_of_work(single_read=True) as connection:
        found = ApiTokenRepository(connection).get_one_or_none_with_hash(presented)
    if found is None or not hmac.compare_digest(found[1], presented):
        raise AuthenticationError("the token is not valid for this server")
    record = found[0]
    if record.revoked_at is not None:
        raise AuthenticationError(f"the token {record.name!r} was revoked")
    now = utc_now()
    if record.last_used_at is None or now - record.last_used_at > LAST_USED_RESOLUTION:
        with unit_of_work(write=True) as connection:
            ApiTokenRepository(connection).mark_used(record.id, now=now, unless_used_since=now - LAST_USED_RESOLUTION)
    return record
