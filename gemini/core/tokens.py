"""Per-user API tokens: create one (shown once), list, revoke, and check a presented token.

A token is ``gmn_`` and 43 URL-safe characters from ``secrets`` (256 bits). The registry keeps only its
SHA-256 hash: a token is found by the hash of what the client sent, and the stored hash is compared
in constant time. Scopes are ordered: ``read`` < ``write`` < ``admin``.
"""

import datetime as dt
import hashlib
import hmac
import secrets

from gemini.db.engine import unit_of_work
from gemini.db.tables import utc_now
from gemini.db.tokens import ApiTokenRepository
from gemini.domain.errors import AuthenticationError, InvalidInputError, PermissionDeniedError
from gemini.domain.records import TOKEN_SCOPES, ApiTokenRecord

from gemini.domain.tokens import ADMIN, ADMIN_TOKEN_NAME, READ, SCOPES, WRITE, require_scope, scope_allows  # noqa: F401, E402

TOKEN_PREFIX = "gmn_"
LAST_USED_RESOLUTION = dt.timedelta(minutes=1)
"""``last_used_at`` is written at most this often per token, so that reads do not become writes."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogateescape")).hexdigest()


def create_token(*, name: str, scope: str) -> tuple[ApiTokenRecord, str]:
    """A new token for ``name``: its record and the token itself, which is never shown again."""
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
