"""The FastAPI application: ``create_app()`` builds it, ``app`` is the one uvicorn serves.

Building the app touches no database; the first request that needs one connects (and migrates).
"""

import gc

from fastapi import APIRouter, FastAPI

from gemini import __version__
from gemini.rest_api.api_docs import install_api_docs
from gemini.rest_api.cors import ConfiguredCORS
from gemini.rest_api.errors import install_error_handlers
from gemini.rest_api.limits import RequestBodyLimit
from gemini.rest_api.notices import NoticeHeaders, collect_core_notices
from gemini.rest_api.openapi_links import install_openapi_links
from gemini.rest_api.routers import (
    artifacts,
    experiments,
    health,
    legacy,
    lookups,
    model_records,
    model_runs,
    model_runs_bulk,
    models,
    tokens,
    tracking,
    versions,
)
from gemini.rest_api.security import READ_ACCESS
from gemini.web import mount_web

API_PREFIX = "/api"

DESCRIPTION = """
The GEMINI model-run registry: models, the runs recorded for them (each with a free JSON
`model_run_info`), and experiments grouping models.

Every list answers with a plain JSON array; the number of matching items is in the `X-Total-Count`
header and the next page, when there is one, in the `Link` header (`<url>; rel="next"`).

Errors are JSON objects `{"error": kind, "error_description": message, "detail": message}`. Tokens go in
`Authorization: Bearer <token>` or `X-API-Key: <token>`: the server's `GEMINI_API_TOKEN` (scope admin)
or a per-user token (`gemini tokens create NAME --scope read|write|admin`). When the server has
`GEMINI_API_TOKEN`, every POST, PUT, PATCH and DELETE needs a `write` token; with
`GEMINI_REQUIRE_TOKEN_FOR_READS=true` every read needs a `read` token too; `/api/tokens` needs an `admin`
token. 401: no token, or an unknown or revoked one; 403: a scope that is too small. Browser apps on other
origins are allowed by `GEMINI_CORS_ORIGINS`.
"""


def api_router() -> APIRouter:
    router = APIRouter(prefix=API_PREFIX)
    router.include_router(health.router)  # open to all: load balancers and clients probe it
    # Before the models routers, so that /models/records/id/{id} is not read as a model's path.
    router.include_router(model_records.router, dependencies=READ_ACCESS)
    # Before the models router, so that /models/all is not read as a model id.
    router.include_router(legacy.router, dependencies=READ_ACCESS)
    # Before the routers whose paths take an id, so that "lookup" is not read as one.
    router.include_router(lookups.router, dependencies=READ_ACCESS)
    # Before the models router too, so that /models/versions/{id} and /models/lookup/versions are not
    # read as a model id.
    router.include_router(versions.router, dependencies=READ_ACCESS)
    router.include_router(models.router, dependencies=READ_ACCESS)
    router.include_router(model_runs_bulk.router, dependencies=READ_ACCESS)
    # Before the model runs router, so that /model_runs/start is not read as a run id.
    router.include_router(tracking.runs_router, dependencies=READ_ACCESS)
    router.include_router(tracking.metrics_router, dependencies=READ_ACCESS)
    router.include_router(artifacts.router, dependencies=READ_ACCESS)
    router.include_router(artifacts.exchange_router, dependencies=READ_ACCESS)
    router.include_router(model_runs.router, dependencies=READ_ACCESS)
    router.include_router(experiments.router, dependencies=READ_ACCESS)
    router.include_router(tokens.router)
    return router


def create_app() -> FastAPI:
    # The docs pages are installed below, on assets served from here rather than from a CDN.
    app = FastAPI(
        title="GEMINI model-run registry",
        version=__version__,
        description=DESCRIPTION,
        docs_url=None,
        redoc_url=None,
    )
    install_error_handlers(app)
    app.add_middleware(RequestBodyLimit)
    app.add_middleware(NoticeHeaders)
    collect_core_notices()
    # Outermost, so that every answer, refusals included, carries the CORS headers.
    app.add_middleware(ConfiguredCORS)
    app.include_router(api_router())
    install_api_docs(app)  # /docs, /redoc and their assets under /docs/assets
    # Everything outside /api (the browser interface at "/") is mounted here, after the API routes.
    mount_web(app)
    install_openapi_links(app)  # links between operations, for clients and stateful fuzzing
    return app


app = create_app()
# What importing the application made (modules, routes, schemas: most of a worker's objects) lives as
# long as the worker: frozen, the garbage collector's full passes no longer walk it with every few
# hundred requests.
gc.freeze()
