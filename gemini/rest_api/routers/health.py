"""``/api/health``: whether the server can use its database, and the lists a client reads once (the
REST API's version, run statuses, error kinds) instead of keeping copies of its own."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gemini import __version__
from gemini.core.database import check_database
from gemini.domain.errors import DatabaseError
from gemini.rest_api.limits import max_request_body_bytes
from gemini.rest_api.schemas import HealthPublic

router = APIRouter(tags=["service"])


@router.get(
    "/health",
    response_model=HealthPublic,
    responses={503: {"model": HealthPublic, "description": "The database cannot be used."}},
)
def health() -> HealthPublic | JSONResponse:
    """200 when the database answers, 503 (with the reason) when it does not; both name the REST API
    version (``api_version``) a client checks before its first request, every run status
    (``run_statuses``, ``end_statuses``), every error kind (``error_kinds``) and the size a request
    body and a metric batch may have (``max_request_bytes``, ``max_batch_points``)."""
    # def, not async: the check connects (and, on first use, migrates), which can wait on a slow or
    # unreachable database for seconds; in the thread pool that wait never holds the event loop.
    try:
        revision = check_database()
    except DatabaseError as exc:
        body = HealthPublic(
            status="unavailable",
            database="unreachable",
            detail=str(exc),
            version=__version__,
            max_request_bytes=max_request_body_bytes(),
        )
        return JSONResponse(body.model_dump(), status_code=503)
    return HealthPublic(
        status="ok",
        database="reachable",
        schema_revision=revision,
        version=__version__,
        max_request_bytes=max_request_body_bytes(),
    )
