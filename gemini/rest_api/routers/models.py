"""``/api/models``: the models runs belong to, their runs and their experiments."""

import dataclasses
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from gemini.domain.records import Page
from gemini.registry import registry
from gemini.rest_api.errors import CONFLICT, NOT_FOUND, READ_ERRORS, WRITE_ERRORS
from gemini.rest_api.pages import list_responses, set_page_headers
from gemini.rest_api.params import PageParams, json_filter_query, json_object_param, page_params
from gemini.rest_api.schemas import (
    ExperimentPublic,
    ModelCreate,
    ModelModelRunCreate,
    ModelPublic,
    ModelRunPublic,
    ModelUpdate,
)
from gemini.rest_api.security import WRITE_ACCESS, Writer
from gemini.rest_api.strict_json import StrictJsonRoute

router = APIRouter(route_class=StrictJsonRoute, prefix="/models", tags=["models"], responses=READ_ERRORS)

ALREADY_EXISTED = "It already existed and is returned unchanged."


@router.get("", responses={**NOT_FOUND, **list_responses("A page of models, each with its run count.")})
def list_models(
    request: Request,
    response: Response,
    page: Annotated[PageParams, Depends(page_params)],
    model_name: Annotated[str | None, Query(description="Exact name.", examples=["stand-counter"])] = None,
    model_url: Annotated[str | None, Query(description="Exact URL.")] = None,
    model_info: Annotated[
        str | None, json_filter_query("JSON object the model's info must contain.", {"task": "stand counting"})
    ] = None,
    experiment_name: Annotated[
        str | None, Query(description="Only models of this experiment (404 if it does not exist).")
    ] = None,
) -> list[ModelPublic]:
    """List models in creation order, filtered by every criterion given (GEMINI's model search)."""
    filters = dict(
        model_name=model_name,
        model_url=model_url,
        model_info=json_object_param(model_info, field="model_info"),
        experiment_name=experiment_name,
    )
    found = registry().search_models(**filters, limit=page.limit, offset=page.offset, with_total=True)
    set_page_headers(request, response, found, limit=page.limit, offset=page.offset)
    return [ModelPublic.of(record) for record in found.items]


@router.post(
    "",
    status_code=201,
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, 200: {"model": ModelPublic, "description": ALREADY_EXISTED}},
)
def create_model(body: ModelCreate, response: Response, writer: Writer) -> ModelPublic:
    """Create a model (201), or return the existing model of that name (200); put it in
    ``experiment_name``, creating that experiment when it does not exist."""
    record, created = registry().create_model(**body.model_dump(), created_by=writer.name)
    if not created:
        response.status_code = 200
    return ModelPublic.of(record)


@router.get("/{model_id}", responses=NOT_FOUND)
def get_model(model_id: uuid.UUID) -> ModelPublic:
    return ModelPublic.of(registry().get_model(model_id=model_id))


@router.patch("/{model_id}", dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND, **CONFLICT})
def update_model(model_id: uuid.UUID, body: ModelUpdate) -> ModelPublic:
    """Change the fields given; 409 when the new name is taken by another model."""
    return ModelPublic.of(registry().update_model(model_id=model_id, **body.model_dump(exclude_unset=True)))


@router.delete("/{model_id}", status_code=204, dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND})
def delete_model(model_id: uuid.UUID) -> Response:
    """Delete the model and all its runs."""
    registry().delete_model(model_id=model_id)
    return Response(status_code=204)


@router.get("/{model_id}/runs", responses={**NOT_FOUND, **list_responses("A page of the model's runs.")})
def list_model_runs(
    model_id: uuid.UUID, request: Request, response: Response, page: Annotated[PageParams, Depends(page_params)]
) -> list[ModelRunPublic]:
    found = registry().search_runs(model_id=model_id, limit=page.limit, offset=page.offset, with_total=True)
    # This path takes no cursor: its next page is linked by offset.
    found = dataclasses.replace(found, next_cursor=None)
    set_page_headers(request, response, found, limit=page.limit, offset=page.offset)
    return [ModelRunPublic.of(record) for record in found.items]


@router.post(
    "/{model_id}/runs",
    status_code=201,
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, **NOT_FOUND, 200: {"model": ModelRunPublic, "description": ALREADY_EXISTED}},
)
def create_model_run(
    model_id: uuid.UUID, body: ModelModelRunCreate, response: Response, writer: Writer
) -> ModelRunPublic:
    """Record a run of this model (201), or return its existing run with equal info (200); a ``model_name``
    in the body must be this model's name (422 otherwise)."""
    record, created = registry().create_model_run(
        model_id=model_id, model_run_info=body.model_run_info, model_name=body.model_name, created_by=writer.name
    )
    if not created:
        response.status_code = 200
    return ModelRunPublic.of(record)


@router.get("/{model_id}/experiments", responses={**NOT_FOUND, **list_responses("The model's experiments.")})
def list_model_experiments(model_id: uuid.UUID, request: Request, response: Response) -> list[ExperimentPublic]:
    records = registry().list_model_experiments(model_id=model_id)
    set_page_headers(request, response, Page(records, len(records)), limit=None)
    return [ExperimentPublic.of(record) for record in records]
