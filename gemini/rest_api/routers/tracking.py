"""Tracked runs over REST: start and end them, send metric batches, read histories and summaries.

Lists are plain JSON arrays with their length in ``X-Total-Count``.

Every handler is a plain ``def``: each writes (and so may wait on SQLite's write lock) or reads a
series that grows with the run, and FastAPI runs ``def`` handlers in its thread pool, so such a wait
never holds the event loop that every other request needs.
"""

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from gemini.domain.limits import MAX_RUNS_PER_HISTORY
from gemini.domain.statuses import END_STATUSES, LOST, RUNNING
from gemini.domain.wire import REDUCED_HEADER
from gemini.registry import registry
from gemini.rest_api.json_body import json_bytes
from gemini.rest_api.threads import off_the_loop
from gemini.rest_api.errors import CONFLICT, NOT_FOUND, READ_ERRORS, WRITE_ERRORS
from gemini.rest_api.pages import TOTAL_HEADER
from gemini.rest_api.schemas import ModelRunPublic
from gemini.rest_api.security import WRITE_ACCESS, Writer
from gemini.rest_api.tracking_schemas import (
    MetricBatch,
    MetricBatchResult,
    MetricColumns,
    MetricPointPublic,
    MetricSeriesPublic,
    MetricSummaryPublic,
    TrackedRunEnd,
    TrackedRunStart,
    value_in,
)
from gemini.rest_api.strict_json import StrictJsonRoute, inline_schema, read_json, validated

runs_router = APIRouter(route_class=StrictJsonRoute, prefix="/model_runs", tags=["tracking"], responses=READ_ERRORS)
metrics_router = APIRouter(route_class=StrictJsonRoute, prefix="/metrics", tags=["tracking"], responses=READ_ERRORS)


@runs_router.post("/start", status_code=201, dependencies=WRITE_ACCESS, responses=WRITE_ERRORS)
async def start_run(body: TrackedRunStart, writer: Writer) -> ModelRunPublic:
    """Start a tracked run (status ``running``) of the named model (created when missing): always a new
    run, even when another has the same info. The client keeps it alive with heartbeats (or metric
    batches) until it ends."""
    record = await off_the_loop(
        registry().start_run,
        model_run_info=body.model_run_info,
        model_name=body.model_name,
        created_by=writer.name,
        run_name=body.run_name,
    )
    return ModelRunPublic.of(record)


_END_DESCRIPTION = (
    f"End a {RUNNING} (or {LOST}) run {', '.join(f'``{status}``' for status in END_STATUSES)}; 409 when it has "
    "already ended or is not a tracked run."
)


@runs_router.post(
    "/{run_id}/end",
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, **NOT_FOUND, **CONFLICT},
    description=_END_DESCRIPTION,
)
async def end_run(run_id: uuid.UUID, body: TrackedRunEnd) -> ModelRunPublic:
    record = await off_the_loop(
        registry().end_run,
        run_id=run_id,
        status=body.status,
        error_type=body.error_type,
        error_message=body.error_message,
        ended_at=body.ended_at,
    )
    return ModelRunPublic.of(record)


@runs_router.post(
    "/{run_id}/heartbeat", status_code=204, dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND, **CONFLICT}
)
async def heartbeat(run_id: uuid.UUID) -> Response:
    """Tell that the run's process is alive (a run without one for ``GEMINI_HEARTBEAT_TIMEOUT`` seconds
    reads as ``lost``); 409 once the run has ended."""
    await off_the_loop(registry().heartbeat, run_id=run_id)
    return Response(status_code=204)


_BATCH_BODY = {"oneOf": [inline_schema(MetricBatch), inline_schema(MetricColumns)]}
_COLUMNS = ("keys", "steps", "values", "timestamps")


@runs_router.post(
    "/{run_id}/metrics",
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, **NOT_FOUND},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": _BATCH_BODY}}}},
)
async def log_metric_batch(run_id: uuid.UUID, request: Request) -> MetricBatchResult:
    """Write many points of one run in one transaction. ``batch_id`` makes a retry safe: a batch already
    written answers ``written: false`` and changes nothing. A (key, step) already stored is replaced.

    The body is a ``MetricBatch`` (``points``: an object per point) or a ``MetricColumns`` (``keys``,
    ``steps``, ``values`` and optionally ``timestamps``: an array each, one entry per point), the
    faster to send and to read."""
    # Only the body's bytes are read on the loop: reading up to 100,000 points, their checks and the
    # write all grow with the batch, and run in the thread, one after the other. Read on the loop, the
    # next batches' parsing stretched the transaction of this one, held by the thread.
    body = await request.body()
    content_type = request.headers.get("content-type")
    return await off_the_loop(_write_batch, run_id=run_id, body=body, content_type=content_type)


def _write_batch(*, run_id: uuid.UUID, body: bytes, content_type: str | None) -> MetricBatchResult:
    data = read_json(body, content_type)
    # Rows unless the body has columns and no points: a body with neither is refused as rows, the
    # form that has been accepted the longest.
    if isinstance(data, dict) and "points" not in data and any(column in data for column in _COLUMNS):
        columns = validated(MetricColumns, data)
        batch_id, points = columns.batch_id, columns.point_columns()
    else:
        batch = validated(MetricBatch, data)
        batch_id = batch.batch_id
        points = [(point.key, point.step, value_in(point.value), point.timestamp) for point in batch.points]
    written = registry().log_batch(run_id=run_id, batch_id=batch_id, points=points)
    return MetricBatchResult(batch_id=batch_id, written=written)


@runs_router.get("/{run_id}/metrics", responses=NOT_FOUND)
def metric_summaries(run_id: uuid.UUID, response: Response) -> list[MetricSummaryPublic]:
    """Each metric key of the run with its last value (at the highest step), extremes, step and count."""
    summaries = [MetricSummaryPublic.of(summary) for summary in registry().metric_summaries(run_id=run_id).values()]
    response.headers[TOTAL_HEADER] = str(len(summaries))
    return summaries


_MAX_POINTS = Query(
    ge=2,
    description="Reduce a range of more points to at most this many: each block of steps keeps its first, lowest, "
    "highest and last point (NaN points left out).",
)


@runs_router.get("/{run_id}/metrics/{key:path}", responses=NOT_FOUND)
def metric_history(
    run_id: uuid.UUID, key: str, response: Response, max_points: Annotated[int | None, _MAX_POINTS] = None
) -> list[MetricPointPublic]:
    """Every point of one key of the run, by step (an empty array when the run never logged it). The
    key may contain slashes: ``/api/model_runs/{id}/metrics/metrics/mAP50(B)``. With ``max_points``, a
    longer series is reduced (``X-Reduced: true``)."""
    series = registry().metric_history(run_id=run_id, key=key, max_points=max_points)
    points = [MetricPointPublic.of(point) for point in series.points()]
    response.headers[TOTAL_HEADER] = str(len(points))
    response.headers[REDUCED_HEADER] = "true" if series.reduced else "false"
    return points


@metrics_router.get("/history", response_model=list[MetricSeriesPublic])
def metric_histories(
    key: Annotated[str, Query(description="The metric key.", examples=["metrics/mAP50(B)"])],
    run_id: Annotated[
        list[uuid.UUID],
        Query(
            description=f"Repeat for each run (at most {MAX_RUNS_PER_HISTORY}).",
            examples=[["01a22def-8ca6-710a-9616-56964e2f0d1d"]],
        ),
    ],
    max_points: Annotated[int | None, _MAX_POINTS] = None,
    start_step: Annotated[int | None, Query(ge=0, description="First step of the range (a zoom); from the first.")] = None,
    end_step: Annotated[int | None, Query(ge=0, description="Last step of the range, included; to the last.")] = None,
) -> Response:
    """One key's series for many runs at once (the compare page), in the order the runs were given, as
    columns; runs that never logged the key are left out."""
    histories = registry().metric_histories(
        run_ids=run_id, key=key, max_points=max_points, start_step=start_step, end_step=end_step
    )
    body = [MetricSeriesPublic.columns(run, series) for run, series in histories.items()]
    # Written here rather than through the response model: a model per run validating 10,000s of
    # numbers would cost more than the read itself.
    return Response(
        json_bytes(body), media_type="application/json", headers={TOTAL_HEADER: str(len(body))}
    )
