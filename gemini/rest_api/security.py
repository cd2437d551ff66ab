"""Who is calling, and what they may do: tokens and their scopes.

A request presents a token as ``Authorization: Bearer <token>`` or, as GEMINI's clients send it,
``X-API-Key: <token>`` (when both are sent, ``Authorization`` is the one read, and must then be a bearer token). The server's own ``GEMINI_API_TOKEN``
is the admin token (its author name is ``admin``); every other token is a per-user token from
``gemini tokens create``, found by its hash. Scopes are ordered ``read`` < ``write`` < ``admin``.

- Writes need a ``write`` token once the server enforces tokens: it has ``GEMINI_API_TOKEN``, or it
  requires tokens for reads (``GEMINI_REQUIRE_TOKEN_FOR_READS``); otherwise they are open.
- Reads need a ``read`` token only when ``GEMINI_REQUIRE_TOKEN_FOR_READS`` is true.
- Token management needs an ``admin`` token, always.
A token that is sent must be valid, even where none is needed: 401 for an unknown or revoked one, so
that a mistyped token never turns its holder into an anonymous author. 403 for a scope that is too small.
"""

import secrets
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from gemini.config import Settings, get_settings
from gemini.core.tokens import authenticate_token
from gemini.domain.errors import AuthenticationError
from gemini.domain.tokens import ADMIN, ADMIN_TOKEN_NAME, READ, WRITE, require_scope

_bearer = HTTPBearer(
    auto_error=False,
    description="A per-user token (gemini tokens create) or the server's GEMINI_API_TOKEN.",
)
_api_key = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="The same tokens as Authorization: Bearer, in the header GEMINI's clients send.",
)


@dataclass(frozen=True, slots=True)
class Caller:
    """The token's name and scope; both ``None`` for a request without a token."""

    name: str | None
    scope: str | None


ANONYMOUS = Caller(None, None)


async def identify_caller(
    request: Request,
    # Declared for the OpenAPI document's security schemes; the header itself is read below, strictly.
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    api_key: Annotated[str | None, Depends(_api_key)],
) -> Caller:
    """The caller of the presented token; ``AuthenticationError`` for a token that is not valid, and for
    an ``Authorization`` header that is not ``Bearer <token>`` (never passed over for ``X-API-Key``)."""
    authorization = request.headers.get("authorization")
    if authorization is not None:
        scheme, _, token = authorization.strip().partition(" ")
        token = token.strip()
        if scheme.casefold() != "bearer" or not token:
            raise AuthenticationError("the Authorization header must be 'Bearer <token>'")
    else:
        token = api_key
    if not token:
        return ANONYMOUS
    admin_token = get_settings().api_token
    # Compared as bytes in constant time: compare_digest refuses non-ASCII str.
    if admin_token and secrets.compare_digest(
        token.encode("utf-8", "surrogateescape"), admin_token.encode("utf-8", "surrogateescape")
    ):
        return Caller(ADMIN_TOKEN_NAME, ADMIN)
    record = await run_in_threadpool(authenticate_token, token=token)  # a database read
    return Caller(record.name, record.scope)


def _tokens_enforced(settings: Settings) -> bool:
    return bool(settings.api_token) or settings.require_token_for_reads


def _missing(what: str) -> AuthenticationError:
    return AuthenticationError(
        f"this server needs a token for {what}: send 'Authorization: Bearer <token>' or 'X-API-Key: <token>'"
    )


async def require_read_access(caller: Annotated[Caller, Depends(identify_caller)]) -> Caller:
    if caller.scope is None:
        if get_settings().require_token_for_reads:
            raise _missing("reads")
        return caller
    require_scope(caller.name, caller.scope, READ)
    return caller


async def require_write_access(caller: Annotated[Caller, Depends(identify_caller)]) -> Caller:
    if caller.scope is None:
        if _tokens_enforced(get_settings()):
            raise _missing("writes")
        return caller
    require_scope(caller.name, caller.scope, WRITE)
    return caller


async def require_admin_access(caller: Annotated[Caller, Depends(identify_caller)]) -> Caller:
    if caller.scope is None:
        raise _missing("managing tokens")
    require_scope(caller.name, caller.scope, ADMIN)
    return caller


READ_ACCESS = [Depends(require_read_access)]
"""Dependencies of every API route except the health check."""
WRITE_ACCESS = [Depends(require_write_access)]
"""Dependencies of every route that changes the registry."""
ADMIN_ACCESS = [Depends(require_admin_access)]

Writer = Annotated[Caller, Depends(require_write_access)]
"""A route parameter: the caller allowed to write, whose name is recorded as ``created_by``."""
