"""Model versions: ``POST /api/model_runs/{run_id}/versions`` registers a run's artifact as its model's
next version; ``/api/models/{model_id}/versions``, ``/api/models/lookup/versions`` and
``/api/models/versions/{version_id}`` read them, move aliases and stream the pinned bytes (with ``ETag``
and ``Range``, as artifacts are)."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse

from gemini.core.artifacts import open_blob
# The streamed download reads the store directly, as the artifact download does: the registry's
# operation writes a whole file.
from gemini.core.versions import get_model_version_bytes
from gemini.domain.records import Page
from gemini.registry import registry
from gemini.rest_api.errors import CONFLICT, NOT_FOUND, READ_ERRORS, WRITE_ERRORS
from gemini.rest_api.pages import list_responses, set_page_headers
from gemini.rest_api.routers.artifacts import _DOWNLOAD_RESPONSES, _STORAGE_ERRORS, blob_response
from gemini.rest_api.security import WRITE_ACCESS, Writer
from gemini.rest_api.strict_json import StrictJsonRoute
from gemini.rest_api.version_schemas import ModelVersionCreate, ModelVersionPublic, ModelVersionUpdate

router = APIRouter(route_class=StrictJsonRoute, tags=["model versions"], responses=READ_ERRORS)

@router.post(
    "/model_runs/{run_id}/versions",
    status_code=201,
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, **NOT_FOUND},
)
def register_model_version(run_id: uuid.UUID, body: ModelVersionCreate, writer: Writer) -> ModelVersionPublic:
    """Register the run's artifact ``artifact_name`` as the next version of the run's model (201): its
    bytes are pinned by their SHA-256 and size, whatever the run logs under that name later. 404 for a
    run or an artifact that does not exist; 422 for a run of no model."""
    return ModelVersionPublic.of(
        registry().register_model_version(
            run_id=run_id, artifact_name=body.artifact_name, version_info=body.version_info, created_by=writer.name
        )
    )


@router.get("/models/lookup/versions", responses=NOT_FOUND)
def lookup_model_version(
    model_name: Annotated[str | None, Query(description="The model's exact name.")] = None,
    version: Annotated[int | None, Query(description="The version's number.")] = None,
    alias: Annotated[str | None, Query(description="An alias it holds; 'latest' is the highest version.")] = None,
    ref: Annotated[
        str | None, Query(description="Instead of the three: MODEL_NAME@VERSION or MODEL_NAME@ALIAS.", examples=["stand_counter@production"])
    ] = None,
) -> ModelVersionPublic:
    """One version by its model's name and its number or alias, or by a reference; 404 when the model or
    the version does not exist (and for ``latest`` while the model has no versions)."""
    return ModelVersionPublic.of(
        registry().find_model_version(model_name=model_name, version=version, alias=alias, reference=ref)
    )


@router.get("/models/versions/{version_id}", responses=NOT_FOUND)
def get_model_version(version_id: uuid.UUID) -> ModelVersionPublic:
    return ModelVersionPublic.of(registry().get_model_version(version_id=version_id))


@router.patch("/models/versions/{version_id}", dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND})
def update_model_version(version_id: uuid.UUID, body: ModelVersionUpdate) -> ModelVersionPublic:
    """Replace the version's info; its bytes never change."""
    return ModelVersionPublic.of(registry().update_model_version(version_id=version_id, version_info=body.version_info))


@router.delete(
    "/models/versions/{version_id}",
    status_code=204,
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, **NOT_FOUND, **CONFLICT},
)
def delete_model_version(version_id: uuid.UUID) -> Response:
    """Delete the version (its number is not given again); 409 while it holds an alias."""
    registry().delete_model_version(version_id=version_id)
    return Response(status_code=204)


@router.put(
    "/models/versions/{version_id}/aliases/{alias}", dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND}
)
def set_model_version_alias(version_id: uuid.UUID, alias: str) -> ModelVersionPublic:
    """Give the version ``alias``; the version of the same model that held it loses it in the same step.
    422 for a name that is not an alias (``latest``, a number, other than letters, digits, ``-``, ``_``)."""
    return ModelVersionPublic.of(registry().set_model_version_alias(version_id=version_id, alias=alias))


@router.delete(
    "/models/versions/{version_id}/aliases/{alias}", dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND}
)
def remove_model_version_alias(version_id: uuid.UUID, alias: str) -> ModelVersionPublic:
    """Take ``alias`` from the version; 404 when it does not hold it. Returns the version."""
    return ModelVersionPublic.of(registry().remove_model_version_alias(version_id=version_id, alias=alias))


@router.get(
    "/models/versions/{version_id}/file",
    response_class=StreamingResponse,
    responses={**NOT_FOUND, **_STORAGE_ERRORS, **_DOWNLOAD_RESPONSES},
)
def download_model_version(
    version_id: uuid.UUID,
    range: Annotated[str | None, Header(description="One byte range, e.g. 'bytes=0-1023' or 'bytes=-500'.")] = None,
    if_none_match: Annotated[str | None, Header(description="An ETag the client holds: 304 when it matches.")] = None,
) -> Response:
    """The version's pinned bytes, streamed as an artifact's are: ``ETag`` (their SHA-256),
    ``Content-Length``, one ``Range`` (206; 416 when it is malformed or starts past the end), and the
    artifact's base name in ``Content-Disposition``."""
    record = get_model_version_bytes(version_id=version_id)
    return blob_response(
        record,
        lambda start, end: open_blob(record, start=start, end=end),
        range=range,
        if_none_match=if_none_match,
        what=f"model version {version_id}",
    )


@router.get("/models/{model_id}/versions", responses={**NOT_FOUND, **list_responses("The model's versions.")})
def list_model_versions(model_id: uuid.UUID, request: Request, response: Response) -> list[ModelVersionPublic]:
    """The model's versions by ascending number, each with its aliases (``[]`` when it has none)."""
    records = registry().list_model_versions(model_id=model_id)
    set_page_headers(request, response, Page(records, len(records)), limit=None)
    return [ModelVersionPublic.of(record) for record in records]
