"""What the core tells at INFO while serving a request ("created model 'x'") goes back to the client.

The core logs such notices on the ``gemini.core`` logger. During a request they are also collected and
sent as ``X-Gemini-Notice`` response headers (one per notice, percent-encoded UTF-8), which a client in
remote mode logs again on its own ``gemini.core`` logger: the same line appears where the user looks,
as when the registry is local.
"""

import contextvars
import logging
from urllib.parse import quote

from starlette.types import ASGIApp, Message, Receive, Scope, Send

NOTICE_HEADER = "x-gemini-notice"

_notices: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("gemini_notices", default=None)


class _Collect(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        collected = _notices.get()
        if collected is not None and record.levelno == logging.INFO:
            collected.append(record.getMessage())


def collect_core_notices() -> None:
    """Let the core's INFO notices reach the collector (they are not printed unless logging says so)."""
    core = logging.getLogger("gemini.core")
    if not any(isinstance(handler, _Collect) for handler in core.handlers):
        core.addHandler(_Collect(logging.INFO))
    if core.getEffectiveLevel() > logging.INFO:
        core.setLevel(logging.INFO)


class NoticeHeaders:
    """ASGI middleware adding the notices collected while a request ran to its response's headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        collected: list[str] = []
        token = _notices.set(collected)

        async def send_with_notices(message: Message) -> None:
            if message["type"] == "http.response.start" and collected:
                headers = list(message.get("headers", []))
                headers.extend((NOTICE_HEADER.encode(), quote(notice).encode("ascii")) for notice in collected)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_notices)
        finally:
            _notices.reset(token)
