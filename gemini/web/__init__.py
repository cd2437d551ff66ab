"""The browser front end: a single page served as static files beside the REST API.

The page talks to the REST API only (``fetch`` to ``/api/...``); nothing here reads the database.
"""

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
"""``index.html``, the ES modules and the style sheet, served as they are (no build step)."""

ASSETS_PATH = "/web"
"""Where the page's scripts and style sheet are served from."""


def mount_web(app: FastAPI) -> None:
    """Serve the page at ``/`` and its assets under ``/web``; safe to call before or after the API routes."""

    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    app.add_api_route("/", index, methods=["GET"], include_in_schema=False)
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC_DIR), name="web")
