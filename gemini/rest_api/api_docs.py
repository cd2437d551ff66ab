"""The interactive API docs, ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), with their scripts, styles and
icon served by the registry itself under ``/docs/assets``.

FastAPI's own pages load those from a CDN, which leaves them blank on a machine or a lab network without
internet access. The files come from the ``fastapi-offline`` distribution (the ``server`` extra), which
ships a Swagger UI 5 recent enough to render the OpenAPI 3.1 schema FastAPI writes.
"""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
ASSETS_PATH = "/docs/assets"

SWAGGER_JS = "swagger-ui-bundle.js"
SWAGGER_CSS = "swagger-ui.css"
REDOC_JS = "redoc.standalone.js"
FAVICON = "favicon.png"

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        # Both pages start their script inline; ReDoc styles its elements inline.
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        # Swagger UI's icons are data: URLs. ReDoc's "API docs by Redocly" logo, which it takes from
        # cdn.redoc.ly, is refused: ReDoc then leaves it out.
        "img-src 'self' data:",
        "worker-src 'self' blob:",
    )
)
"""The browser's own guarantee that the docs pages load nothing from another site."""


def assets_directory() -> Path:
    """Where the installed ``fastapi-offline`` keeps Swagger UI's and ReDoc's files."""
    return Path(str(files("fastapi_offline") / "static"))


def install_api_docs(app: FastAPI) -> None:
    """Serve ``/docs`` and ``/redoc`` on ``app``, built with ``docs_url=None, redoc_url=None``, and their
    assets under ``/docs/assets``; none of them is part of the schema."""

    def asset(request: Request, name: str) -> str:
        # Behind a proxy that serves the registry under a prefix, every URL the page loads carries it.
        return f"{_root_path(request)}{ASSETS_PATH}/{name}"

    async def swagger_ui(request: Request) -> HTMLResponse:
        page = get_swagger_ui_html(
            openapi_url=_root_path(request) + (app.openapi_url or ""),
            title=f"{app.title} - Swagger UI",
            swagger_js_url=asset(request, SWAGGER_JS),
            swagger_css_url=asset(request, SWAGGER_CSS),
            swagger_favicon_url=asset(request, FAVICON),
            # No validator badge: Swagger UI would send the schema's address to validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None, **(app.swagger_ui_parameters or {})},
        )
        page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return page

    async def redoc(request: Request) -> HTMLResponse:
        page = get_redoc_html(
            openapi_url=_root_path(request) + (app.openapi_url or ""),
            title=f"{app.title} - ReDoc",
            redoc_js_url=asset(request, REDOC_JS),
            redoc_favicon_url=asset(request, FAVICON),
            with_google_fonts=False,  # a style sheet from fonts.googleapis.com: the system fonts do
        )
        page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return page

    app.add_route(DOCS_PATH, swagger_ui, include_in_schema=False)
    app.add_route(REDOC_PATH, redoc, include_in_schema=False)
    app.mount(ASSETS_PATH, StaticFiles(directory=assets_directory()), name="api-docs-assets")


def _root_path(request: Request) -> str:
    return request.scope.get("root_path", "").rstrip("/")
