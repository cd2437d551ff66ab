"""Refuse request bodies too large to hold a valid info before reading them into memory.

Artifact uploads are the exception: their bodies are streamed to the artifact store, never held in
memory, and their route enforces ``GEMINI_MAX_ARTIFACT_BYTES`` itself. A model record's multipart create
carries a file too: its body may be as large as a file and a few form fields (its parts are spooled to
disk, never held in memory).
"""

import json
import re

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gemini.config import get_settings
from gemini.rest_api.errors import error_body, http_error_kind

# A body holds one info plus a few short fields. JSON escapes (``\ud83d\ude00`` for a 4-byte character)
# and indentation can make valid text a few times longer than the compact UTF-8 the info limit measures.
BODY_TO_INFO_RATIO = 4
BODY_OVERHEAD_BYTES = 64 * 1024


_ARTIFACT_UPLOAD_PATH = re.compile(r"/api/model_runs/[^/]+/artifacts/.+")


_RECORD_UPLOAD_PATH = re.compile(r"/api/models/id/[^/]+/records")


def _is_artifact_upload(scope: Scope) -> bool:
    return scope.get("method") == "PUT" and _ARTIFACT_UPLOAD_PATH.fullmatch(scope.get("path", "")) is not None


def _is_record_upload(scope: Scope) -> bool:
    return scope.get("method") == "POST" and _RECORD_UPLOAD_PATH.fullmatch(scope.get("path", "")) is not None


def max_request_body_bytes() -> int:
    return BODY_TO_INFO_RATIO * get_settings().max_info_bytes + BODY_OVERHEAD_BYTES


def _limit_of(scope: Scope) -> int:
    if _is_record_upload(scope):
        return get_settings().max_artifact_bytes + max_request_body_bytes()
    return max_request_body_bytes()


def _too_large_detail(limit: int) -> str:
    return f"the request body is larger than {limit} bytes, more than any accepted info needs"


class RequestBodyLimit:
    """ASGI middleware: 413 from ``Content-Length`` alone, or as soon as a streamed body passes the limit."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or _is_artifact_upload(scope):
            await self.app(scope, receive, send)
            return
        limit = _limit_of(scope)
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _send_too_large(send, limit)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    # Raised inside the route's body parsing, so the app's error handler answers 413.
                    raise HTTPException(status_code=413, detail=_too_large_detail(limit))
            return message

        await self.app(scope, counting_receive, send)


def _content_length(scope: Scope) -> int | None:
    for name, value in scope.get("headers", ()):
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _send_too_large(send: Send, limit: int) -> None:
    body = json.dumps(error_body(http_error_kind(413), _too_large_detail(limit))).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
