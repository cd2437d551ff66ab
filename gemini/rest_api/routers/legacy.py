"""GEMINI's original model paths, kept for GEMINI's clients: they answer as GEMINI's do.

Lists are plain JSON arrays with the list headers of every other list (``X-Total-Count``, ``Link``);
``limit`` and ``offset`` page them, and without ``limit`` the whole list comes back, as GEMINI's
clients expect. An empty registry gives an empty list rather than GEMINI's 404.
"""

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from gemini.domain.limits import MAX_OFFSET
from gemini.domain.records import Page
from gemini.registry import registry
from gemini.rest_api.errors import CONFLICT, NOT_FOUND, READ_ERRORS, WRITE_ERRORS
from gemini.rest_api.pages import list_responses, set_page_headers
from gemini.rest_api.schemas import ExperimentPublic, ModelModelRunCreate, ModelPublic, ModelRunPublic, ModelUpdate
from gemini.rest_api.security import WRITE_ACCESS, Writer
from gemini.rest_api.strict_json import StrictJsonRoute

router = APIRouter(
    route_class=StrictJsonRoute, prefix="/models", tags=["GEMINI-compatible paths"], responses=READ_ERRORS
)

# GEMINI's clients ask for these lists whole; a limit, when given, is bounded like every other page.
Limit = Annotated[int | None, Query(ge=0, le=2**31 - 1, description="Items per page; all when omitted.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Items to skip, in creation order.")]


@router.get("/all", responses=list_responses("Models in creation order, each with its run count."))
def get_all_models(request: Request, response: Response, limit: Limit = None, offset: Offset = 0) -> list[ModelPublic]:
    """Every model (or a page of them), in creation order."""
    found = registry().search_models(limit=limit, offset=offset, with_total=True)
    set_page_headers(request, response, found, limit=limit, offset=offset)
    return [ModelPublic.of(record) for record in found.items]


@router.get("/id/{model_id}", responses=NOT_FOUND)
def get_model_by_id(model_id: uuid.UUID) -> ModelPublic:
    return ModelPublic.of(registry().get_model(model_id=model_id))


@router.patch("/id/{model_id}", dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND, **CONFLICT})
def update_model_by_id(model_id: uuid.UUID, body: ModelUpdate) -> ModelPublic:
    return ModelPublic.of(registry().update_model(model_id=model_id, **body.model_dump(exclude_unset=True)))


@router.delete("/id/{model_id}", status_code=204, dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND})
def delete_model_by_id(model_id: uuid.UUID) -> Response:
    registry().delete_model(model_id=model_id)
    return Response(status_code=204)


@router.get("/id/{model_id}/runs", responses={**NOT_FOUND, **list_responses("The model's runs, in creation order.")})
def get_model_runs_by_id(
    model_id: uuid.UUID, request: Request, response: Response, limit: Limit = None, offset: Offset = 0
) -> list[ModelRunPublic]:
    found = registry().search_runs(model_id=model_id, limit=limit, offset=offset, with_total=True)
    # GEMINI's path takes no cursor: its next page is linked by offset.
    found = dataclasses.replace(found, next_cursor=None)
    set_page_headers(request, response, found, limit=limit, offset=offset)
    return [ModelRunPublic.of(record) for record in found.items]


@router.post(
    "/id/{model_id}/runs",
    status_code=201,
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, **NOT_FOUND, 200: {"model": ModelRunPublic, "description": "It already existed."}},
)
def create_model_run_by_id(
    model_id: uuid.UUID, body: ModelModelRunCreate, response: Response, writer: Writer
) -> ModelRunPublic:
    """Record a run of this model; a ``model_name`` in the body (GEMINI's ``ModelRunInput``) must be its name."""
    record, created = registry().create_model_run(
        model_id=model_id, model_run_info=body.model_run_info, model_name=body.model_name, created_by=writer.name
    )
    if not created:
        response.status_code = 200
    return ModelRunPublic.of(record)


@router.get("/id/{model_id}/experiments", responses={**NOT_FOUND, **list_responses("The model's experiments.")})
def get_model_experiments_by_id(model_id: uuid.UUID, request: Request, response: Response) -> list[ExperimentPublic]:
    records = registry().list_model_experiments(model_id=model_id)
    set_page_headers(request, response, Page(records, len(records)), limit=None)
    return [ExperimentPublic.of(record) for record in records]
