"""``/api/model_runs``: record, search, change and delete runs, and move them between models."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from gemini.domain.checks import check_run_name
from gemini.domain.errors import InvalidInputError
from gemini.registry import registry
from gemini.rest_api.threads import off_the_loop
from gemini.rest_api.errors import CONFLICT, NOT_FOUND, READ_ERRORS, WRITE_ERRORS
from gemini.rest_api.pages import list_responses, set_page_headers
from gemini.rest_api.params import PageParams, json_filter_query, json_object_param, page_params
from gemini.rest_api.schemas import (
    ModelPublic,
    ModelRunCreate,
    ModelRunModelAssociation,
    ModelRunPublic,
    ModelRunUpdate,
)
from gemini.rest_api.security import WRITE_ACCESS, Writer
from gemini.rest_api.strict_json import StrictJsonRoute

router = APIRouter(route_class=StrictJsonRoute, prefix="/model_runs", tags=["model runs"], responses=READ_ERRORS)


@router.get(
    "", responses={**NOT_FOUND, **list_responses("A page of runs; the Link header's next page carries a cursor.")}
)
def list_model_runs(
    request: Request,
    response: Response,
    page: Annotated[PageParams, Depends(page_params)],
    model_name: Annotated[str | None, Query(description="Only runs of this model.", examples=["stand-counter"])] = None,
    model_id: Annotated[
        uuid.UUID | None, Query(description="Only runs of the model of this id (404 if it does not exist).")
    ] = None,
    model_run_info: Annotated[
        str | None, json_filter_query("JSON object the run's info must contain.", {"dataset": "plot-2024-07"})
    ] = None,
    where: Annotated[
        str | None,
        Query(
            description="A search expression over info paths (docs/search.md).",
            examples=["params.lr < 0.01 and data.site = 'Davis'"],
        ),
    ] = None,
    order_by: Annotated[
        str | None,
        Query(
            description="Comma-separated paths, '-' for descending; creation order by default.",
            examples=["-metrics.map50"],
        ),
    ] = None,
    cursor: Annotated[
        str | None, Query(description="Where the next page starts (instead of offset), as given in the Link header.")
    ] = None,
) -> list[ModelRunPublic]:
    """List and search runs: of one model (by name or id), whose info contains a pattern, matching a
    ``where`` expression, in ``order_by`` order; a page at a time by ``offset``, or by following the
    ``Link`` header's next page."""
    found = registry().search_runs(
        model_run_info=json_object_param(model_run_info, field="model_run_info"),
        model_name=model_name,
        model_id=model_id,
        where=where,
        order_by=order_by,
        limit=page.limit,
        offset=page.offset,
        cursor=cursor,
        with_total=True,
    )
    set_page_headers(request, response, found, limit=page.limit, offset=page.offset, cursor=cursor)
    return [ModelRunPublic.of(record) for record in found.items]


@router.post(
    "",
    status_code=201,
    dependencies=WRITE_ACCESS,
    responses={
        **WRITE_ERRORS,
        200: {"model": ModelRunPublic, "description": "A run with this info already existed; it is returned."},
    },
)
async def create_model_run(body: ModelRunCreate, response: Response, writer: Writer) -> ModelRunPublic:
    """Record a run (201), or return the existing run of that model with equal info (200). A
    ``model_name`` that names no model yet creates that model."""
    record, created = await off_the_loop(
        registry().create_run,
        model_run_info=body.model_run_info, model_name=body.model_name, created_by=writer.name
    )
    if not created:
        response.status_code = 200
    return ModelRunPublic.of(record)


@router.get("/{run_id}", responses=NOT_FOUND)
async def get_model_run(run_id: uuid.UUID) -> ModelRunPublic:
    # On the loop: a read by primary key does not grow with the data and takes well under a
    # millisecond, less than any hand-off to a thread, which halved this route's requests per second
    # on PostgreSQL (docs/benchmarks.md).
    return ModelRunPublic.of(registry().get_run(run_id=run_id))


@router.patch("/{run_id}", dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND, **CONFLICT})
def update_model_run(run_id: uuid.UUID, body: ModelRunUpdate) -> ModelRunPublic:
    """Replace the run's info (409 when another run of the same model already has that info), rename it
    (``{"run_name": "train2"}``; ``null`` removes the name), or both."""
    renamed = "run_name" in body.model_fields_set  # an absent name is kept; null removes it
    if body.model_run_info is None and not renamed:
        raise InvalidInputError("nothing to update: give model_run_info, run_name or both")
    if not renamed:
        return ModelRunPublic.of(registry().replace_run_info(run_id=run_id, model_run_info=body.model_run_info))
    # The name is checked before the info is replaced, so that a bad name changes nothing.
    check_run_name(body.run_name)
    if body.model_run_info is not None:
        registry().replace_run_info(run_id=run_id, model_run_info=body.model_run_info)
    return ModelRunPublic.of(registry().rename_run(run_id=run_id, run_name=body.run_name))


@router.delete("/{run_id}", status_code=204, dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND})
def delete_model_run(run_id: uuid.UUID) -> Response:
    registry().delete_run(run_id=run_id)
    return Response(status_code=204)


@router.get("/{run_id}/model", responses=NOT_FOUND)
def get_model_run_model(run_id: uuid.UUID) -> ModelPublic:
    """The model the run belongs to; 404 when it belongs to none."""
    return ModelPublic.of(registry().get_run_model(run_id=run_id))


@router.put("/{run_id}/model", dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND, **CONFLICT})
def associate_model_run(run_id: uuid.UUID, body: ModelRunModelAssociation) -> ModelPublic:
    """Move the run to the named model; 409 when that model already has a run with equal info."""
    _run, model = registry().associate_run(run_id=run_id, model_name=body.model_name)
    return ModelPublic.of(model)


@router.delete(
    "/{run_id}/model", status_code=204, dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND, **CONFLICT}
)
def unassociate_model_run(run_id: uuid.UUID) -> Response:
    """Detach the run from its model; 404 when it has none, 409 when an unassigned run has equal info."""
    registry().unassociate_run(run_id=run_id)
    return Response(status_code=204)
