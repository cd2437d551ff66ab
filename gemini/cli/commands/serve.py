"""``gemini serve``: the REST API over HTTP, with uvicorn."""

import ipaddress

import click

from gemini.cli.errors import GeminiCommandError
from gemini.cli.output import note
from gemini.config import get_settings
from gemini.core.database import check_database, displayable_url
from gemini.errors import DatabaseError

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7777
APP = "gemini.rest_api.app:app"


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
    "--insecure",
    is_flag=True,
    help="Allow serving on a non-loopback address without GEMINI_API_TOKEN: anyone who reaches it may write.",
)
def serve(host: str, port: int, insecure: bool) -> None:
    """Serve the REST API (and its docs at /docs) on the configured database.

    Example:

    \b
        GEMINI_API_TOKEN=s3cret gemini serve --host 0.0.0.0 --port 8080
    """
    import uvicorn  # imported here: every other command starts faster without it

    token = get_settings().api_token
    if not is_loopback(host) and not token:
        if not insecure:
            raise GeminiCommandError(
                f"refusing to serve on {host} without a token: anyone who can reach it could change the registry. "
                "Set GEMINI_API_TOKEN, or pass --insecure to accept that"
            )
        note(f"warning: serving on {host} without GEMINI_API_TOKEN; anyone who can reach it may write")
    try:
        # Connecting now also brings the schema up to date before the first request.
        check_database()
    except DatabaseError as exc:
        # Served anyway: the database may come up later (/api/health answers 503 until then).
        note(f"warning: {exc}")
    address = base_url(host, port)
    note(f"GEMINI registry on {address} (API docs: {address}/docs), database {displayable_url()}")
    uvicorn.run(APP, host=host, port=port, log_level="info")
