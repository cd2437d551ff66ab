"""Tracked runs on the database: start, heartbeat and end them; write and read their metrics.

A tracked run is always a new run (two executions of one configuration are two runs); its info is kept
exactly as given and indexed like any run's. Its statuses are ``gemini.domain.statuses``'. Arguments
arrive checked by the registry's front.
"""

from __future__ import annotations

import datetime as dt
import uuid

from gemini.core.get_or_create import get_or_create_model_id
from gemini.db.engine import unit_of_work
from gemini.db.metrics import MetricRepository
from gemini.db.repositories import ModelRunRepository
from gemini.domain.checks import Point
from gemini.domain.records import CheckedInfo, MetricSeries, MetricSummary, ModelRunRecord


def start_run(
    *, model_run_info: CheckedInfo, model_name: str | None, created_by: str | None, run_name: str | None
) -> ModelRunRecord:
    with unit_of_work(write=True) as connection:
        model_id = (
            get_or_create_model_id(connection, model_name=model_name, created_by=created_by)
            if model_name is not None
            else None
        )
        return ModelRunRepository(connection).add_tracked(
            model_id=model_id,
            info=model_run_info.value,
            info_hash=model_run_info.hash,
            created_by=created_by,
            model_name=model_name,
            run_name=run_name,
        )


def end_run(
    *,
    run_id: uuid.UUID,
    status: str,
    error_type: str | None,
    error_message: str | None,
    ended_at: dt.datetime | None,
) -> ModelRunRecord:
    with unit_of_work(write=True) as connection:
        return ModelRunRepository(connection).end(
            run_id, status=status, error_type=error_type, error_message=error_message, ended_at=ended_at
        )


def heartbeat(*, run_id: uuid.UUID) -> None:
    with unit_of_work(write=True) as connection:
        ModelRunRepository(connection).heartbeat(run_id)


def log_batch(*, run_id: uuid.UUID, batch_id: str, points: list[Point]) -> bool:
    """One transaction; logging to an ended run is allowed (late points of a finished run)."""
    with unit_of_work(write=True) as connection:
        return MetricRepository(connection).add_batch(run_id=run_id, batch_id=batch_id, points=points)


def metric_history(*, run_id: uuid.UUID, key: str, max_points: int | None) -> MetricSeries:
    """Empty columns when the run never logged that key; ``NotFoundError`` when there is no such run."""
    with unit_of_work() as connection:
        ModelRunRepository(connection).get(run_id)
        return MetricRepository(connection).history(run_id, key, max_points=max_points)


def metric_histories(
    *, run_ids: list[uuid.UUID], key: str, max_points: int | None, start_step: int | None, end_step: int | None
) -> dict[uuid.UUID, MetricSeries]:
    with unit_of_work(snapshot=True) as connection:
        return MetricRepository(connection).histories(
            run_ids, key, max_points=max_points, start_step=start_step, end_step=end_step
        )


def metric_summaries(*, run_id: uuid.UUID) -> dict[str, MetricSummary]:
    with unit_of_work() as connection:
        ModelRunRepository(connection).get(run_id)
        return {summary.key: summary for summary in MetricRepository(connection).summaries(run_id)}


def metric_summaries_of_runs(*, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[MetricSummary]]:
    with unit_of_work(snapshot=True) as connection:
        return MetricRepository(connection).summaries_of_runs(run_ids)
