"""Limits of the HTTP layer that ``gemini serve`` adds to uvicorn's, and what its access log leaves out.

uvicorn with httptools (the parser it takes when installed, and a dependency of gemini's) reads a request
head of any size for as long as the client takes to send it: a 64 MiB header was read and answered, and a
connection sending one byte a second was never closed. Both happen before any token is checked, so anyone
who can reach the server can hold its memory and connections. ``LimitedHttpToolsProtocol`` bounds them:

- ``MAX_HEAD_BYTES``: the request target and header fields together; more is answered 431 and the connection
  closed.
- ``HEAD_TIMEOUT_SECONDS``: the whole head must arrive within this long of the connection opening (or of the
  first byte of a later request on a kept-alive one); otherwise 408 and the connection is closed. Bodies
  are not timed: an artifact upload may take as long as it needs.
"""

import asyncio
import copy
import functools
import logging
import os
import re
from urllib.parse import unquote_plus

from uvicorn.config import LOGGING_CONFIG
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_HEAD_BYTES = 64 * 1024
"""Four times what nginx reads by default (8 KiB lines, 32 KiB in all): room for large cookies and
tokens, and still a small cost per connection."""
HEAD_TIMEOUT_SECONDS = 10.0
"""Ample for any client, even across a slow link (nginx: 60 s; Apache: 20 s to 40 s), short enough that a
connection dribbling its head is soon given back."""
HEAD_TIMEOUT_VARIABLE = "GEMINI_HEADER_TIMEOUT_SECONDS"
"""Overrides ``HEAD_TIMEOUT_SECONDS``; there for tests that cannot wait 10 s, and for unusual networks."""

_logger = logging.getLogger("uvicorn.error")


@functools.cache  # read once per process: each worker reads the environment ``gemini serve`` has checked
def head_timeout_seconds() -> float:
    """``HEAD_TIMEOUT_SECONDS``, or the ``GEMINI_HEADER_TIMEOUT_SECONDS`` set; ``ValueError`` naming a bad one."""
    value = os.environ.get(HEAD_TIMEOUT_VARIABLE, "").strip()
    if not value:
        return HEAD_TIMEOUT_SECONDS
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise ValueError(f"{HEAD_TIMEOUT_VARIABLE} must be a positive number of seconds, not {value!r}")
    return seconds


class LimitedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, with ``MAX_HEAD_BYTES`` and ``HEAD_TIMEOUT_SECONDS`` enforced.

    A head that has not ended is measured by the bytes read while it is awaited: httptools keeps a header
    it has not finished in memory, unseen, so only the bytes show its size. A read that also ends the
    previous request's body is not counted (part of it is that body), so memory stays below
    ``MAX_HEAD_BYTES`` plus one read (256 KiB at most). A head that has ended is measured exactly, from
    its target and header fields.
    """

    def connection_made(self, transport) -> None:  # type: ignore[no-untyped-def, override]
        super().connection_made(transport)
        self._head_timeout = head_timeout_seconds()
        self._in_message = False  # from the first byte of a request to its last
        self._head_pending = True  # a head is due, or has begun and has not ended
        self._head_bytes = 0
        self._refused = False  # answered 431 or 408: whatever the parser still finds is ignored
        self._head_timer: asyncio.TimerHandle | None = self.loop.call_later(self._head_timeout, self._head_timed_out)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        surely_head = self._head_pending or not self._in_message
        super().data_received(data)
        if self._head_pending and not self._refused and not self.transport.is_closing():
            self._head_bytes += len(data) if surely_head else 0
            if self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(431, f"request head larger than {MAX_HEAD_BYTES} bytes")

    # Parser callbacks, called from within ``super().data_received``.
    def on_message_begin(self) -> None:
        if self._refused:
            return
        super().on_message_begin()
        self._in_message = True
        if not self._head_pending:  # a later request on a kept-alive connection: its own head, its own time
            self._head_pending = True
            self._head_bytes = 0
            self._head_timer = self.loop.call_later(self._head_timeout, self._head_timed_out)

    def on_headers_complete(self) -> None:
        if self._refused:
            return
        self._head_pending = False
        self._cancel_head_timer()
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)  # ": ", CRLF
        if size > MAX_HEAD_BYTES:  # it arrived in one read: the application never sees it
            self._refuse(431, f"request head larger than {MAX_HEAD_BYTES} bytes")
            return
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        if not self._refused:
            super().on_body(body)

    def on_message_complete(self) -> None:
        self._in_message = False
        if not self._refused:
            super().on_message_complete()

    def _should_upgrade(self) -> bool:
        return not self._refused and super()._should_upgrade()  # a refused head upgrades to nothing

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self._head_pending and not self._refused and not self.transport.is_closing():
            self._refuse(408, f"request head not received within {self._head_timeout:g} s")

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, status: int, reason: str) -> None:
        """Answer ``status`` with no body and close: the request never reaches the application."""
        self._refused = True
        self._head_pending = False
        self._cancel_head_timer()
        client = "%s:%d - " % self.client if self.client else ""
        _logger.warning("%s%s: answered %d, connection closed", client, reason, status)
        self.transport.write(STATUS_LINE[status] + b"content-length: 0\r\nconnection: close\r\n\r\n")
        self.transport.close()


# Parameter names whose values are secrets. Tokens are read from headers only (one in a URL counts for
# nothing, so it is refused wherever a token is needed), but the access log would write it out. "key" alone stays: it is the metric key parameter.
_SECRET_PARAMETER = re.compile(r"token|api[-_.]?key|secret|passw|credential|signature|^auth(orization)?$", re.IGNORECASE)
REDACTED = "REDACTED"


def redact_query(target: str) -> str:
    """``target`` (a path and query) with the values of token-like query parameters replaced by ``REDACTED``."""
    path, question, query = target.partition("?")
    if not question:
        return target
    fields = []
    for field in query.split("&"):
        name, equals, _value = field.partition("=")
        fields.append(f"{name}={REDACTED}" if equals and _SECRET_PARAMETER.search(unquote_plus(name)) else field)
    return f"{path}?{'&'.join(fields)}"


class RedactSecretsFilter(logging.Filter):
    """On ``uvicorn.access``: rewrites the path of each line, whose arguments are (client, method, path
    with query, HTTP version, status), so that no token given in a URL is written to the log."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str) and "?" in args[2]:
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def log_config() -> dict:
    """uvicorn's logging configuration, with ``RedactSecretsFilter`` on its access log.

    Given to uvicorn rather than installed here: uvicorn applies it in every worker process it starts."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": f"{__name__}.RedactSecretsFilter"}
    config["loggers"]["uvicorn.access"]["filters"] = ["redact_secrets"]
    return config
