"""Tokens over REST (an admin token's requests), and the operations a server does not offer."""

from typing import Any, NoReturn, TextIO

from gemini.domain.errors import UnsupportedOperationError
from gemini.domain.records import ApiTokenRecord
from gemini.remote import http, records


def create_token(*, name: str, scope: str) -> tuple[ApiTokenRecord, str]:
    answer = http.send("create_token", json={"name": name, "scope": scope}, idempotent=False).json()
    return records.token(answer), answer["token"]


def list_tokens() -> list[ApiTokenRecord]:
    return [records.token(item) for item in http.send("list_tokens").json()]


def revoke_token(*, name: str) -> ApiTokenRecord:
    return records.token(http.send("revoke_token", name=name, idempotent=True).json())


def _database_only(what: str) -> NoReturn:
    raise UnsupportedOperationError(
        f"{what} works on the database itself, not through the server GEMINI_API_URL names: unset "
        "GEMINI_API_URL to run it on the database GEMINI_DATABASE_URL names (or run it on the server)"
    )


def export_registry(*, stream: TextIO) -> NoReturn:
    _database_only("an export")


def import_registry(*, stream: TextIO) -> NoReturn:
    _database_only("an import")
