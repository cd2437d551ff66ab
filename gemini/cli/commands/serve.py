"""``gemini serve``: the REST API over HTTP, with uvicorn, in one process or several."""

import errno
import importlib.util
import ipaddress
import os
import socket
from typing import Any

import click

from gemini.cli.errors import GeminiCommandError
from gemini.cli.output import note
from gemini.config import get_settings
from gemini.domain.errors import DatabaseError, StorageError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777
APP = "gemini.rest_api.app:app"
"""An import string, not the object: each worker process imports the application itself."""
HTTP_PROTOCOL = "gemini.rest_api.http_limits:LimitedHttpToolsProtocol"
"""uvicorn's httptools protocol with a bound on the size of a request head and the time it may take to
arrive, which uvicorn has neither of (see ``gemini.rest_api.http_limits``)."""
GRACEFUL_SHUTDOWN_SECONDS = 30
"""On SIGTERM or Ctrl-C, requests in flight get this long to finish before the server stops anyway."""
WORKER_HEALTHCHECK_SECONDS = 60
"""How long a worker may leave the supervisor's ping unanswered before it is killed and replaced: uvicorn's
5 s kills workers that are only slow, starting on a busy machine, with their requests in flight."""


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name other than localhost may resolve to anything


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host and not host.startswith("[") else host
    return f"http://{shown}:{port}"


@click.command()
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", type=click.IntRange(1, 65535), default=DEFAULT_PORT, show_default=True)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=1,
    show_default=True,
    help="Worker processes; more than one serves requests on several cores.",
)
@click.option(
    "--private",
    is_flag=True,
    help="Require a token for reads too (same as GEMINI_REQUIRE_TOKEN_FOR_READS=true).",
)
@click.option("--access-log/--no-access-log", default=False, show_default=True, help="Log one line per request.")
@click.option(
    "--insecure",
    is_flag=True,
    help="Allow serving on a non-loopback address without GEMINI_API_TOKEN: anyone who reaches it may write.",
)
def serve(host: str, port: int, workers: int, private: bool, access_log: bool, insecure: bool) -> None:
    """Serve the REST API (and its docs at /docs) on the configured database.

    SIGTERM or Ctrl-C stops it gracefully: it stops accepting connections and lets the requests in
    flight finish (up to 30 s).

    Example:

    \b
        GEMINI_API_TOKEN=s3cret gemini serve --host 0.0.0.0 --port 8080 --workers 2
    """
    if get_settings().remote:
        raise GeminiCommandError(
            "serve runs a server on a database, not through another server: unset GEMINI_API_URL "
            "(GEMINI_DATABASE_URL names the database to serve)"
        )
    # Imported here too: a client pointed at a server (GEMINI_API_URL) never loads the database code.
    from gemini.core.artifacts import check_artifact_store
    from gemini.core.database import check_database, displayable_url

    missing = [name for name in ("fastapi", "uvicorn") if importlib.util.find_spec(name) is None]
    if missing:
        raise GeminiCommandError(
            f"gemini serve needs the server's packages ({', '.join(missing)} not installed): "
            "pip install 'gemini-model-registry[server]'"
        )
    from gemini.rest_api import http_limits

    try:
        http_limits.head_timeout_seconds()  # refused here rather than in every worker
    except ValueError as exc:
        raise GeminiCommandError(str(exc)) from None

    if private:
        # In the environment, so that every worker process sees it.
        os.environ["GEMINI_REQUIRE_TOKEN_FOR_READS"] = "true"
    settings = get_settings()
    token = settings.api_token
    if not is_loopback(host) and not token and not settings.require_token_for_reads:
        if not insecure:
            raise GeminiCommandError(
                f"refusing to serve on {host} without a token: anyone who can reach it could change the registry. "
                "Set GEMINI_API_TOKEN, or pass --insecure to accept that"
            )
        note(f"warning: serving on {host} without GEMINI_API_TOKEN; anyone who can reach it may write")
    # The address is taken before anything is announced: a busy port is the whole message.
    listening = bind_listening_socket(host, port)
    try:
        # Connecting now also brings the schema up to date before the first request.
        check_database()
    except DatabaseError as exc:
        # Served anyway: the database may come up later (/api/health answers 503 until then).
        note(f"warning: {exc}")
    except BaseException:
        listening.close()
        raise
    try:
        check_artifact_store()
    except StorageError as exc:
        note(f"warning: {exc}")  # served anyway, as for the database: artifact requests fail until it answers
    address = base_url(host, port)
    reads = "reads need a token" if settings.require_token_for_reads else "reads are open"
    note(
        f"GEMINI registry on {address} (API docs: {address}/docs), database {displayable_url()}, "
        f"{workers} worker{'s' if workers > 1 else ''}, {reads} (Ctrl-C to stop)"
    )
    run_uvicorn(
        APP,
        listening=listening,
        host=host,
        port=port,
        workers=workers,
        access_log=access_log,
        log_config=http_limits.log_config(),  # uvicorn's, with token-like query values left out of the access log
        http=HTTP_PROTOCOL,
        log_level="info",
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def bind_listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port``, as uvicorn binds one (address reuse, inheritable by
    worker processes); ``GeminiCommandError`` naming the port when it is taken or the address cannot be
    had.

    The socket has TCP_NODELAY, which Linux gives the connections it accepts. Worker processes get the
    socket by its file descriptor, and the socket object they rebuild from it no longer says it is TCP,
    so asyncio skips the TCP_NODELAY it sets on every TCP connection. A reply's headers and body are two
    writes: without it the body waits for the client's delayed ACK.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family=family, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    try:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        listening.bind((host.strip("[]"), port))
    except OSError as exc:
        listening.close()
        if exc.errno == errno.EADDRINUSE:
            raise GeminiCommandError(
                f"port {port} on {host} is already in use (another gemini serve?); choose another with --port"
            ) from exc
        reason = exc.strerror or str(exc)
        raise GeminiCommandError(f"cannot listen on {base_url(host, port)}: {reason}") from exc
    listening.set_inheritable(True)
    return listening


def run_uvicorn(app: str, *, listening: socket.socket, **options: Any) -> None:
    """Serve ``app`` with uvicorn on the socket ``listening`` (already bound), in one process or, for
    ``workers`` > 1, in several that share it."""
    import uvicorn  # imported here: every other command starts faster without it

    config = uvicorn.Config(app, **options)
    if config.workers == 1:
        server = uvicorn.Server(config)
        try:
            server.run(sockets=[listening])
        except KeyboardInterrupt:
            pass
        if not server.started:  # the application failed to start; uvicorn said why
            from uvicorn.main import STARTUP_FAILURE

            raise SystemExit(STARTUP_FAILURE)
        return
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[listening]).run()
