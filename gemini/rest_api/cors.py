"""Cross-origin access for browser apps on other origins (GEMINI's UI, for one), off by default.

``GEMINI_CORS_ORIGINS`` lists the allowed origins (or ``*``); Starlette's ``CORSMiddleware`` answers the
preflights and adds the headers. The setting is read per request, like every other setting, so a
change is seen without rebuilding the app.
"""

from functools import lru_cache

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from gemini.config import get_settings

ALLOWED_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
ALLOWED_HEADERS = ("Authorization", "X-API-Key", "Content-Type", "Accept", "Range", "If-None-Match")
# What a script on another origin may read beyond the safelisted headers: a list's total and next page,
# the notices of a write (what a create made on the way), and what an artifact download needs to resume.
EXPOSED_HEADERS = ("X-Total-Count", "Link", "X-Gemini-Notice", "ETag", "Content-Range", "Accept-Ranges")
PREFLIGHT_MAX_AGE = 600


class ConfiguredCORS:
    """ASGI middleware: Starlette's CORS handling for the configured origins, or nothing without any."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

        @lru_cache(maxsize=4)
        def for_origins(origins: tuple[str, ...]) -> CORSMiddleware:
            # Tokens travel in headers, never in cookies: no credentials, so "*" stays a true wildcard.
            return CORSMiddleware(
                app,
                allow_origins=origins,
                allow_methods=ALLOWED_METHODS,
                allow_headers=ALLOWED_HEADERS,
                expose_headers=EXPOSED_HEADERS,
                allow_credentials=False,
                max_age=PREFLIGHT_MAX_AGE,
            )

        self._for_origins = for_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        origins = tuple(get_settings().cors_origin_list) if scope["type"] == "http" else ()
        if not origins:
            await self.app(scope, receive, send)
            return
        await self._for_origins(origins)(scope, receive, send)
