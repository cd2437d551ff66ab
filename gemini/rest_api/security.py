"""Write access: when ``GEMINI_API_TOKEN`` is set, writes need ``Authorization: Bearer <token>``."""

import secrets
from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from gemini.config import get_settings

_bearer = HTTPBearer(
    auto_error=False,
    description="Needed for POST, PUT, PATCH and DELETE when the server has GEMINI_API_TOKEN set.",
)


def require_write_token(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> None:
    """401 without a bearer token, 403 with a wrong one; open when no token is configured."""
    expected = get_settings().api_token
    if not expected:
        return
    if credentials is None:
        raise HTTPException(
            status_code=401,
            detail="this server needs a token for writes: send 'Authorization: Bearer <token>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # Compared as bytes in constant time: compare_digest refuses non-ASCII str.
    given = credentials.credentials.encode("utf-8", "surrogateescape")
    if not secrets.compare_digest(given, expected.encode("utf-8")):
        raise HTTPException(
            status_code=403,
            detail="the bearer token is not valid for this server",
            headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )


WRITE_ACCESS = [Depends(require_write_token)]
"""Dependencies of every route that changes the registry."""
