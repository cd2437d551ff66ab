"""The one place where errors become HTTP responses: a JSON body
``{"error": kind, "error_description": message, "detail": message}``.

``error``/``error_description`` are the keys GEMINI's clients read; ``detail`` repeats the message for
clients written against FastAPI's usual key.

``gemini.domain.errors`` map to their status and kind by ``ERROR_KINDS``, the table the client reads
back, request validation to 422, and anything unexpected to a 500 whose body says nothing about the
code (the traceback goes to the server log only).
"""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.formparsers import MultiPartException
from starlette.requests import ClientDisconnect

from gemini.domain.errors import ERROR_KINDS, REQUEST_ERROR_KINDS, GeminiError, InvalidInputError, kind_of
from gemini.rest_api.schemas import ErrorPublic

logger = logging.getLogger("gemini.rest_api")


def _plain_http_kinds() -> dict[int, str]:
    """The kind of a plain HTTP refusal (a route not found, a method not allowed, FastAPI's 4xx): the
    request's own rows first (413 is request_too_large), then the first registry row of each 4xx status.
    A plain 5xx names no database or storage failure, so it keeps the generic kind."""
    kinds: dict[int, str] = {}
    for row in (*REQUEST_ERROR_KINDS, *ERROR_KINDS):
        if row.status < 500:
            kinds.setdefault(row.status, row.kind)
    return kinds


_HTTP_ERROR_KINDS = _plain_http_kinds()
_INVALID_INPUT = kind_of(InvalidInputError())


def http_error_kind(status: int) -> str:
    """The ``error`` of a plain HTTP refusal with this status."""
    return _HTTP_ERROR_KINDS.get(status, "http_error")


def status_for(exc: GeminiError) -> tuple[int, str]:
    row = kind_of(exc)
    return (row.status, row.kind) if row is not None else (500, "error")


def error_body(kind: str, message: str) -> dict[str, str]:
    return ErrorPublic(error=kind, error_description=message, detail=message).model_dump()


def error_response(status: int, kind: str, detail: str, headers: dict[str, str] | None = None) -> JSONResponse:
    body = error_body(kind, detail)
    return JSONResponse(body, status_code=status, headers=headers)


def _describe_validation_error(error: dict[str, Any]) -> str:
    location = [str(part) for part in error.get("loc", ())]
    if error.get("type") == "json_invalid":
        reason = (error.get("ctx") or {}).get("error", "malformed JSON")
        return f"the request body is not valid JSON ({reason})"
    if location == ["body"] and isinstance(error.get("input"), (bytes, str)):
        # FastAPI hands over the raw body when the Content-Type is not JSON.
        return "the request body must be a JSON object sent with 'Content-Type: application/json'"
    if location and location[0] in ("body", "query", "path", "header"):
        where, field = location[0], ".".join(location[1:])
        place = f"{where} parameter {field}" if where != "body" else (f"body field {field}" if field else "body")
    else:
        place = ".".join(location) or "request"
    return f"{place}: {error.get('msg', 'invalid')}"


async def _gemini_error(_request: Request, exc: GeminiError) -> JSONResponse:
    status, kind = status_for(exc)
    if status >= 500:
        logger.error("request failed: %s", exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return error_response(status, kind, str(exc), headers=headers)


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    messages = [_describe_validation_error(error) for error in exc.errors()]
    return error_response(_INVALID_INPUT.status, _INVALID_INPUT.kind, "; ".join(messages) or "invalid request")


def _unreadable_body_detail(cause: BaseException) -> str:
    if isinstance(cause, UnicodeDecodeError):
        return "the request body is not UTF-8 text"
    if isinstance(cause, RecursionError):
        return "the request body is nested too deeply to read"
    return f"the request body could not be read as JSON ({type(cause).__name__})"


async def _http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    if exc.status_code == 400 and exc.__cause__ is not None:
        # FastAPI's 400 for a body it could not decode: malformed input like any other, hence 422.
        return error_response(_INVALID_INPUT.status, _INVALID_INPUT.kind, _unreadable_body_detail(exc.__cause__))
    if exc.status_code == 400 and isinstance(exc.__context__, MultiPartException):
        # Starlette's 400 for a form it could not read (a multipart create): malformed input too.
        detail = f"the request's form could not be read: {exc.detail}"
        return error_response(_INVALID_INPUT.status, _INVALID_INPUT.kind, detail)
    kind = http_error_kind(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return error_response(exc.status_code, kind, detail, headers=getattr(exc, "headers", None))


async def _client_disconnected(request: Request, _exc: ClientDisconnect) -> Response:
    """A client that went away mid-request (a cut-off upload) is no server error: one line, no traceback."""
    # The path as sent, still percent-encoded: a decoded one could break the line with a %0A.
    path = request.scope.get("raw_path", b"").decode("latin-1")
    logger.warning("client disconnected before sending all of its request: %s %s", request.method, path)
    return Response(status_code=400)  # never sent: there is no one to send it to


async def _unexpected_error(_request: Request, exc: Exception) -> JSONResponse:
    logger.exception("unexpected error while handling a request", exc_info=exc)
    return error_response(500, "internal_error", "internal server error; the server log has the details")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GeminiError, _gemini_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(ClientDisconnect, _client_disconnected)
    app.add_exception_handler(Exception, _unexpected_error)


def _error_response_doc(description: str) -> dict[str, Any]:
    return {"model": ErrorPublic, "description": description}


READ_ERRORS: dict[int | str, dict[str, Any]] = {
    401: _error_response_doc("The server needs a token and the request has none, or its token is unknown or revoked."),
    403: _error_response_doc("The token's scope does not allow this operation."),
    422: _error_response_doc("Malformed input: a bad id, bad JSON, a value of the wrong type."),
    503: _error_response_doc("The database cannot be reached."),
}
"""Responses any operation may give; declared so the OpenAPI schema lists every status the API sends."""

NOT_FOUND = {404: _error_response_doc("No such model, run or experiment.")}
CONFLICT = {409: _error_response_doc("The change would collide with an existing record.")}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **READ_ERRORS,
    413: _error_response_doc("An info, or the whole request body, is larger than the configured limit."),
}
