"""Per-user API tokens: only the SHA-256 hash of each token is stored, looked up by that hash."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from gemini.db.engine import dialect_insert
from gemini.db.ids import new_id
from gemini.db.tables import api_tokens, utc_now
from gemini.domain.errors import ConflictError, NotFoundError
from gemini.domain.records import ApiTokenRecord

_PUBLIC_COLUMNS = (
    api_tokens.c.id,
    api_tokens.c.name,
    api_tokens.c.scope,
    api_tokens.c.created_at,
    api_tokens.c.last_used_at,
    api_tokens.c.revoked_at,
)
_SELECT_BY_HASH = sa.select(*_PUBLIC_COLUMNS, api_tokens.c.token_hash).where(
    api_tokens.c.token_hash == sa.bindparam("token_hash")
)


class ApiTokenRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def get_by_name(self, name: str) -> ApiTokenRecord:
        row = self.connection.execute(sa.select(*_PUBLIC_COLUMNS).where(api_tokens.c.name == name)).first()
        if row is None:
            raise NotFoundError(f"no API token named {name!r}")
        return ApiTokenRecord(*row)

    def get_one_or_none_with_hash(self, token_hash: str) -> tuple[ApiTokenRecord, str] | None:
        """The token whose hash is ``token_hash``, and the stored hash (revoked tokens included)."""
        row = self.connection.execute(_SELECT_BY_HASH, {"token_hash": token_hash}).first()
        return (ApiTokenRecord(*row[:-1]), row[-1]) if row else None

    def add(self, *, name: str, scope: str, token_hash: str) -> ApiTokenRecord:
        """Insert a token; ``ConflictError`` when the name is taken (revoked tokens keep their name)."""
        values = dict(id=new_id(), name=name, scope=scope, token_hash=token_hash, created_at=utc_now())
        inserted = self.connection.execute(
            dialect_insert(self.connection, api_tokens).values(**values).on_conflict_do_nothing().returning(api_tokens.c.id)
        ).first()
        if inserted is None:
            raise ConflictError(f"an API token named {name!r} already exists")
        return ApiTokenRecord(values["id"], name, scope, values["created_at"], None, None)

    def list(self) -> list[ApiTokenRecord]:
        query = sa.select(*_PUBLIC_COLUMNS).order_by(api_tokens.c.created_at, api_tokens.c.name)
        return [ApiTokenRecord(*row) for row in self.connection.execute(query)]

    def revoke(self, name: str) -> ApiTokenRecord:
        """Mark the token revoked now; a token already revoked keeps its first revocation time."""
        now = utc_now()
        self.connection.execute(
            sa.update(api_tokens)
            .where(api_tokens.c.name == name, api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return self.get_by_name(name)

    def mark_used(self, token_id: uuid.UUID, *, now: dt.datetime, unless_used_since: dt.datetime) -> None:
        """Record a use, unless one was recorded after ``unless_used_since`` (spares a write per request)."""
        self.connection.execute(
            sa.update(api_tokens)
            .where(
                api_tokens.c.id == token_id,
                sa.or_(api_tokens.c.last_used_at.is_(None), api_tokens.c.last_used_at < unless_used_since),
            )
            .values(last_used_at=now)
        )
