"""``/api/experiments``: named groups of models."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from gemini.domain.records import Page
from gemini.registry import registry
from gemini.rest_api.errors import NOT_FOUND, READ_ERRORS, WRITE_ERRORS
from gemini.rest_api.pages import list_responses, set_page_headers
from gemini.rest_api.params import PageParams, page_params
from gemini.rest_api.schemas import ExperimentCreate, ExperimentPublic, ModelPublic
from gemini.rest_api.security import WRITE_ACCESS
from gemini.rest_api.strict_json import StrictJsonRoute

router = APIRouter(route_class=StrictJsonRoute, prefix="/experiments", tags=["experiments"], responses=READ_ERRORS)


@router.get("", responses=list_responses("A page of experiments, in creation order."))
def list_experiments(
    request: Request, response: Response, page: Annotated[PageParams, Depends(page_params)]
) -> list[ExperimentPublic]:
    found = registry().search_experiments(limit=page.limit, offset=page.offset, with_total=True)
    set_page_headers(request, response, found, limit=page.limit, offset=page.offset)
    return [ExperimentPublic.of(record) for record in found.items]


@router.post(
    "",
    status_code=201,
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, 200: {"model": ExperimentPublic, "description": "It already existed."}},
)
def create_experiment(body: ExperimentCreate, response: Response) -> ExperimentPublic:
    """Create an experiment (201), or return the existing one of that name (200)."""
    record, created = registry().create_experiment(**body.model_dump())
    if not created:
        response.status_code = 200
    return ExperimentPublic.of(record)


@router.get("/{experiment_id}", responses=NOT_FOUND)
def get_experiment(experiment_id: uuid.UUID) -> ExperimentPublic:
    return ExperimentPublic.of(registry().get_experiment(experiment_id=experiment_id))


@router.delete(
    "/{experiment_id}", status_code=204, dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND}
)
def delete_experiment(experiment_id: uuid.UUID) -> Response:
    """Delete the experiment; its models stay."""
    registry().delete_experiment(experiment_id=experiment_id)
    return Response(status_code=204)


@router.get(
    "/{experiment_id}/models",
    responses={**NOT_FOUND, **list_responses("Every model of the experiment, each with its run count.")},
)
def list_experiment_models(experiment_id: uuid.UUID, request: Request, response: Response) -> list[ModelPublic]:
    records = registry().list_experiment_models(experiment_id=experiment_id)
    set_page_headers(request, response, Page(records, len(records)), limit=None)
    return [ModelPublic.of(record) for record in records]
