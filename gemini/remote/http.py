"""The connection to the registry's server: one keep-alive pool per process, retries, typed errors.

Every request goes through ``call``. It

- reuses one ``httpx.Client`` per process and server (a forked child makes its own: sockets are never
  shared across a fork);
- checks once per process that the server speaks this client's REST API version (``/api/health``), and
  keeps the limits the server says it has (the largest request body, the most points of a batch);
- repeats a request, with exponential backoff, when that cannot do harm: a connection that could not be
  opened (nothing was sent) always; a lost answer, 503 and 429 only for requests that are safe to repeat
  (reads, get-or-create writes, replacements, metric batches that carry their id), never for the rest;
- turns the server's error body back into the ``gemini.domain.errors`` exception the core raised there, with
  the server's message.
"""

import logging
import os
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from gemini import __version__
from gemini.config import Settings, get_settings
from gemini.domain.errors import (
    AuthenticationError,
    DatabaseError,
    GeminiError,
    IncompatibleServerError,
    InvalidInputError,
    PermissionDeniedError,
    ServerUnreachableError,
    error_class_of,
)
from gemini.domain.limits import MAX_BATCH_POINTS, MAX_PAGE_SIZE
from gemini.domain.records import Page
from gemini.domain.wire import API_VERSION
from gemini.registry.contract import PageRequest, route_of

logger = logging.getLogger("gemini.remote")
core_logger = logging.getLogger("gemini.core")

NOTICE_HEADER = "x-gemini-notice"
"""Notices the server's core logged while serving the request (``gemini.rest_api.notices``)."""

PAGE_SIZE = MAX_PAGE_SIZE
"""Items asked for per request when reading a long list (the server's largest page)."""

KEEPALIVE_SECONDS = 4.0
"""Idle connections are closed before the server's own keep-alive timeout (uvicorn's 5 s) would."""

BACKOFF_FIRST_SECONDS = 0.25
BACKOFF_MAX_SECONDS = 8.0
RETRY_AFTER_MAX_SECONDS = 30.0

# Failures where the request never left this process: repeating it cannot do anything twice.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class Server:
    """The pool of keep-alive connections to one server, and whether its version was checked."""

    url: str
    client: httpx.Client
    retries: int
    checked: bool = False
    max_request_bytes: int | None = None
    """The largest request body the server accepts, as its ``/api/health`` says (``None``: not said)."""
    max_batch_points: int = MAX_BATCH_POINTS
    lock: threading.Lock = field(default_factory=threading.Lock)


_servers: dict[tuple[str, str, float, int], Server] = {}
_servers_lock = threading.Lock()


def _forget_servers_after_fork() -> None:
    # The child must not write to its parent's sockets; dropping the references is enough (closing
    # them would shut down connections the parent still uses).
    global _servers_lock
    _servers.clear()
    _servers_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_servers_after_fork)


def _base_url(settings: Settings) -> str:
    url = settings.api_url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"GEMINI_API_URL must be an http:// or https:// address, got {url!r}")
    # The server's root; every path below adds /api itself, so an address copied with it means the same.
    return url.removesuffix("/api")


def server() -> Server:
    """The pool for the server the environment names now (``GEMINI_API_URL``, ``GEMINI_API_TOKEN``)."""
    settings = get_settings()
    key = (settings.api_url, settings.api_token, settings.api_timeout, settings.api_retries)
    found = _servers.get(key)
    if found is not None:
        return found
    with _servers_lock:
        found = _servers.get(key)
        if found is None:
            url = _base_url(settings)
            headers = {"User-Agent": f"gemini/{__version__}", "Accept": "application/json"}
            if settings.api_token:
                headers["Authorization"] = f"Bearer {settings.api_token}"
            client = httpx.Client(
                base_url=f"{url}/api",
                headers=headers,
                timeout=httpx.Timeout(settings.api_timeout),
                limits=httpx.Limits(max_connections=32, max_keepalive_connections=8, keepalive_expiry=KEEPALIVE_SECONDS),
            )
            found = _servers[key] = Server(url=url, client=client, retries=max(0, settings.api_retries))
    return found


def close_all() -> None:
    """Close every pool of this process (their next use opens new connections)."""
    with _servers_lock:
        for pooled in _servers.values():
            pooled.client.close()
        _servers.clear()


def error_from(response: httpx.Response, url: str) -> GeminiError:
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), str):
        kind = body["error"]
        message = str(body.get("detail") or kind)
        error_type = error_class_of(kind)  # the server's table: gemini.domain.errors.ERROR_KINDS
        if error_type is not None:
            return error_type(message)
        if response.status_code == 503:
            return ServerUnreachableError(f"the server at {url} is unavailable: {message}")
        return DatabaseError(f"the server at {url} failed: {message}")
    if response.status_code == 503:
        return ServerUnreachableError(f"the server at {url} is unavailable (503)")
    if response.status_code == 401:
        return AuthenticationError(f"the server at {url} wants a token (401)")
    if response.status_code == 403:
        return PermissionDeniedError(f"the server at {url} refused the request (403)")
    if response.status_code == 404:
        return IncompatibleServerError(
            f"the server at {url} has no {response.request.method} {response.request.url.path}: "
            "is it a gemini server of the same version as this client?"
        )
    return DatabaseError(f"the server at {url} answered {response.status_code} {response.reason_phrase}")


def _retry_delay(attempt: int, response: httpx.Response | None) -> float:
    if response is not None:
        retry_after = response.headers.get("Retry-After", "")
        if retry_after.isdigit():
            return min(float(retry_after), RETRY_AFTER_MAX_SECONDS)
    ceiling = min(BACKOFF_MAX_SECONDS, BACKOFF_FIRST_SECONDS * 2**attempt)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _send(pooled: Server, method: str, path: str, *, idempotent: bool, **request: Any) -> httpx.Response:
    attempt = 0
    while True:
        response: httpx.Response | None = None
        try:
            if callable(request.get("content")):
                # A body read from a file: each attempt reads it again from the start.
                response = pooled.client.request(method, path, **{**request, "content": request["content"]()})
            else:
                response = pooled.client.request(method, path, **request)
        except _NOT_SENT as exc:
            failure: Exception = exc
        except httpx.TransportError as exc:
            if not idempotent:
                raise ServerUnreachableError(
                    f"lost the connection to the server at {pooled.url} during {method} {path}, "
                    f"which is not repeated since it may have been done ({type(exc).__name__}: {exc})"
                ) from exc
            failure = exc
        else:
            if response.status_code not in (429, 503) or not idempotent:
                return response
            failure = error_from(response, pooled.url)
        if attempt >= pooled.retries:
            if isinstance(failure, GeminiError):
                raise failure
            raise ServerUnreachableError(
                f"cannot reach the server at {pooled.url} ({type(failure).__name__}: {failure})"
            ) from failure
        delay = _retry_delay(attempt, response)
        attempt += 1
        logger.info("%s %s: %s; attempt %d in %.2f s", method, path, failure, attempt + 1, delay)
        time.sleep(delay)


def _check_version(pooled: Server) -> None:
    """The server's REST API version must be this client's; its limits are kept with ``pooled``."""
    response = _send(pooled, "GET", "/health", idempotent=True)
    try:
        body = response.json()
    except ValueError:
        body = None
    reported = body.get("api_version") if isinstance(body, dict) else None
    if reported == API_VERSION:
        if isinstance(body.get("max_request_bytes"), int):
            pooled.max_request_bytes = body["max_request_bytes"]
        if isinstance(body.get("max_batch_points"), int):
            pooled.max_batch_points = body["max_batch_points"]
    if reported is None and response.status_code in (401, 403):  # something in front wants credentials
        raise error_from(response, pooled.url)
    if reported is None and not (isinstance(body, dict) and "version" in body):
        # Not a gemini server's health at all: most often an address that is not a server's root.
        raise IncompatibleServerError(
            f"{pooled.url}/api/health answered {response.status_code} with no gemini REST API version: "
            "GEMINI_API_URL should be the root address of a gemini server (e.g. http://registry.lab:7777)"
        )
    if reported != API_VERSION:
        served = f"REST API version {reported}" if reported is not None else "no gemini REST API version"
        server_version = body.get("version") if isinstance(body, dict) else None
        package = f" (gemini {server_version})" if server_version else ""
        raise IncompatibleServerError(
            f"the server at {pooled.url} reports {served}{package}; this client (gemini {__version__}) needs "
            f"version {API_VERSION}: install the same gemini version on both sides"
        )


def checked_server() -> Server:
    """``server()``, its REST API version checked (once per process)."""
    pooled = server()
    if not pooled.checked:
        with pooled.lock:
            if not pooled.checked:
                _check_version(pooled)
                pooled.checked = True
    return pooled


def call(method: str, path: str, *, idempotent: bool | None = None, **request: Any) -> httpx.Response:
    """Send one request to the configured server; a 2xx response, or the matching ``GeminiError``.

    ``idempotent`` says whether repeating the request is harmless; by default every method but DELETE.
    A ``content`` that is callable is called for each attempt and returns the body (bytes or an
    iterator of bytes), so a streamed body can be sent again.
    """
    pooled = checked_server()
    response = _send(pooled, method, path, idempotent=method != "DELETE" if idempotent is None else idempotent, **request)
    for notice in response.headers.get_list(NOTICE_HEADER):
        core_logger.info("%s", unquote(notice))
    if response.status_code >= 400:
        raise error_from(response, pooled.url)
    return response


def send(operation: str, *, idempotent: bool | None = None, **arguments: Any) -> httpx.Response:
    """``call`` on the route the contract declares for ``operation`` (``gemini.registry.contract``).

    Arguments named in the route's path fill it (as text: the caller quotes what needs quoting);
    ``params``, ``json``, ``content`` and ``headers`` are the request's."""
    declared = route_of(operation)
    if declared is None:
        raise TypeError(f"{operation} has no REST route")
    request = {name: arguments.pop(name) for name in ("params", "json", "content", "headers") if name in arguments}
    path = declared.path.format(**{name: str(value) for name, value in arguments.items()})
    return call(declared.method, path, idempotent=idempotent, **request)


def query(params: dict[str, Any]) -> dict[str, Any]:
    """Query parameters without those that are ``None`` (not sent)."""
    return {name: value for name, value in params.items() if value is not None}


def _next_cursor(response: httpx.Response) -> str | None:
    next_url = response.links.get("next", {}).get("url")
    cursors = parse_qs(urlsplit(next_url).query).get("cursor") if next_url else None
    return cursors[0] if cursors else None


def read_page(
    operation: str, params: dict[str, Any], page: PageRequest, read: Any, **path: Any
) -> Page[Any]:
    """A page of a list route, asking for pages of at most ``PAGE_SIZE`` until ``page.limit`` items (every
    item, without a limit) are read; the total is the first answer's ``X-Total-Count`` (the server
    counts in the same read). The first page is always asked for, so a bad filter fails as locally."""
    params = query(params)
    items: list[Any] = []
    total: int | None = None
    cursor = page.cursor
    while True:
        size = PAGE_SIZE if page.limit is None else min(PAGE_SIZE, page.limit - len(items))
        position = {"cursor": cursor} if cursor is not None else {"offset": (page.offset or 0) + len(items)}
        response = send(operation, params={**params, **position, "limit": size}, **path)
        if total is None:
            total = int(response.headers["X-Total-Count"])
        answer = response.json()
        items.extend(read(item) for item in answer)
        cursor = _next_cursor(response)
        last = len(answer) < size or (cursor is None and (page.offset or 0) + len(items) >= total)
        if size == 0 or last or (page.limit is not None and len(items) >= page.limit):
            return Page(items, total if page.with_total else None, cursor)
