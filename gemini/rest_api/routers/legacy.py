"""GEMINI's original model paths, kept for clients written against them.

They answer with plain JSON lists (not ``{data, count}`` pages) and use the same errors as the rest of
the API. An empty registry gives an empty list rather than GEMINI's 404.
"""

import uuid

from fastapi import APIRouter, Response

from gemini.core import models as core
from gemini.rest_api.errors import CONFLICT, NOT_FOUND, READ_ERRORS, WRITE_ERRORS
from gemini.rest_api.schemas import ModelModelRunCreate, ModelPublic, ModelRunPublic, ModelUpdate
from gemini.rest_api.security import WRITE_ACCESS, Writer

router = APIRouter(prefix="/models", tags=["GEMINI-compatible paths"], responses=READ_ERRORS)


@router.get("/all")
def get_all_models() -> list[ModelPublic]:
    """Every model, in creation order."""
    return [ModelPublic.of(record) for record in core.list_models()]


@router.get("/id/{model_id}", responses=NOT_FOUND)
def get_model_by_id(model_id: uuid.UUID) -> ModelPublic:
    return ModelPublic.of(core.get_model(model_id=model_id))


@router.patch("/id/{model_id}", dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND, **CONFLICT})
def update_model_by_id(model_id: uuid.UUID, body: ModelUpdate) -> ModelPublic:
    return ModelPublic.of(core.update_model(model_id=model_id, **body.model_dump(exclude_unset=True)))


@router.delete("/id/{model_id}", status_code=204, dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND})
def delete_model_by_id(model_id: uuid.UUID) -> Response:
    core.delete_model(model_id=model_id)
    return Response(status_code=204)


@router.get("/id/{model_id}/runs", responses=NOT_FOUND)
def get_model_runs_by_id(model_id: uuid.UUID) -> list[ModelRunPublic]:
    return [ModelRunPublic.of(record) for record in core.list_model_runs(model_id=model_id)]


@router.post(
    "/id/{model_id}/runs",
    status_code=201,
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, **NOT_FOUND, 200: {"model": ModelRunPublic, "description": "It already existed."}},
)
def create_model_run_by_id(
    model_id: uuid.UUID, body: ModelModelRunCreate, response: Response, writer: Writer
) -> ModelRunPublic:
    record, created = core.create_model_run(
        model_id=model_id, model_run_info=body.model_run_info, created_by=writer.name
    )
    if not created:
        response.status_code = 200
    return ModelRunPublic.of(record)
