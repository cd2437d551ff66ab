"""Per-user API tokens' rules: scopes, ordered ``read`` < ``write`` < ``admin``, and the name reserved
for the server's own token."""

from gemini.domain.checks import check_name
from gemini.domain.errors import InvalidInputError, PermissionDeniedError
from gemini.domain.records import TOKEN_SCOPES

SCOPES = TOKEN_SCOPES
"""From the least to the most allowed: each scope allows everything the ones before it do."""
READ, WRITE, ADMIN = SCOPES

ADMIN_TOKEN_NAME = "admin"
"""The author recorded for the server's own token (``GEMINI_API_TOKEN``); no per-user token may take it."""


def check_scope(scope: object) -> str:
    if scope not in SCOPES:
        raise InvalidInputError(f"scope must be one of {', '.join(SCOPES)}, got {scope!r}")
    return scope  # type: ignore[return-value]


def check_token_name(name: object) -> str:
    """A name for a new per-user token: a name, and not the server's own."""
    name = check_name(name, field="token name")
    # "Admin" or "ad min" would read as the server's own token in a run's created_by.
    if "".join(name.split()).casefold() == ADMIN_TOKEN_NAME:
        raise InvalidInputError(f"the token name {ADMIN_TOKEN_NAME!r} is reserved for the server's GEMINI_API_TOKEN")
    return name


def scope_allows(scope: str, needed: str) -> bool:
    """Whether a token of ``scope`` may do what needs ``needed``."""
    return SCOPES.index(scope) >= SCOPES.index(needed)


def require_scope(name: str, scope: str, needed: str) -> None:
    """``PermissionDeniedError`` unless ``scope`` allows ``needed``."""
    if not scope_allows(scope, needed):
        raise PermissionDeniedError(f"the token {name!r} has scope {scope!r}; this needs {needed!r}")
