"""Tracked runs: start, heartbeat and end them; write and read their metrics.

A tracked run is always a new run (two executions of one configuration are two runs); its info is kept
exactly as given and indexed like any run's. Its status is ``running`` until it ends ``finished``,
``failed`` or ``killed``; a ``running`` run whose heartbeat is older than ``GEMINI_HEARTBEAT_TIMEOUT``
seconds reads as ``lost``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from gemini.core.get_or_create import get_or_create_model_id
from gemini.core.metric_values import (  # noqa: F401 - also this module's names, as before
    MAX_KEY_LENGTH,
    MAX_STEP,
    NON_FINITE_TEXT,
    check_metric_key,
    check_metric_value,
    check_step,
    json_value,
    new_batch_id,
)
from gemini.core.validation import check_info, check_name, parse_id
from gemini.db.engine import unit_of_work
from gemini.db.metrics import MetricRepository, Point
from gemini.db.repositories import END_STATUSES, ModelRunRepository
from gemini.errors import InvalidInputError
from gemini.records import MetricPoint, MetricSummary, ModelRunRecord

MAX_BATCH_POINTS = 100_000
"""Most points one batch may carry."""
MAX_BATCH_ID_LENGTH = 64
MAX_RUNS_PER_HISTORY = 1000
"""Most runs one read of a key's history may name."""
MAX_ERROR_MESSAGE_LENGTH = 10_000
"""A failed run's error message is cut to this many characters."""


def _model_id(connection, model_name: str | None, created_by: str | None = None):  # noqa: ANN001, ANN202
    if model_name is None:
        return None
    return get_or_create_model_id(connection, model_name=model_name, created_by=created_by)


def start_run(
    *, model_run_info: dict[str, Any] | None = None, model_name: str | None = None, created_by: str | None = None
) -> ModelRunRecord:
    """Start a new tracked run (status ``running``) of ``model_name`` (created when missing) or of no model."""
    info = check_info(model_run_info, field="model_run_info")
    if model_name is not None:
        check_name(model_name, field="model_name")
    with unit_of_work(write=True) as connection:
        return ModelRunRepository(connection).add_tracked(
            model_id=_model_id(connection, model_name, created_by),
            info=info.value,
            info_hash=info.hash,
            created_by=created_by,
            model_name=model_name,
        )


def end_run(
    *, run_id: object, status: str = "finished", error_type: str | None = None, error_message: str | None = None
) -> ModelRunRecord:
    """End a running (or lost) tracked run with ``status`` (``finished``, ``failed`` or ``killed``).

    ``ConflictError`` when the run has already ended or is not a tracked run."""
    run_id = parse_id(run_id, field="model run id")
    if status not in END_STATUSES:
        raise InvalidInputError(f"status must be one of {', '.join(END_STATUSES)}, got {status!r}")
    for field, value in (("error_type", error_type), ("error_message", error_message)):
        if value is not None and not isinstance(value, str):
            raise InvalidInputError(f"{field} must be a string, got {type(value).__name__}")
    if error_message is not None:
        error_message = error_message[:MAX_ERROR_MESSAGE_LENGTH]
    if error_type is not None:
        error_type = error_type[:MAX_KEY_LENGTH]
    with unit_of_work(write=True) as connection:
        return ModelRunRepository(connection).end(
            run_id, status=status, error_type=error_type, error_message=error_message
        )


def heartbeat(*, run_id: object) -> None:
    """Tell that a running run's process is alive; ``ConflictError`` once the run has ended."""
    run_id = parse_id(run_id, field="model run id")
    with unit_of_work(write=True) as connection:
        ModelRunRepository(connection).heartbeat(run_id)


# -- metric values ----------------------------------------------------------------------------------


def _check_batch_id(batch_id: object) -> str:
    if not isinstance(batch_id, str) or not 1 <= len(batch_id) <= MAX_BATCH_ID_LENGTH or not batch_id.isprintable():
        raise InvalidInputError(f"batch_id must be 1 to {MAX_BATCH_ID_LENGTH} printable characters, got {batch_id!r:.80}")
    return batch_id


def check_points(points: Iterable[Any]) -> list[Point]:
    """Points as (key, step, value, timestamp), checked; a (key, step) given twice keeps the last value.

    Each point may also be a mapping with ``key``, ``step``, ``value`` and ``timestamp`` (an aware
    datetime; ``None`` means now)."""
    checked: dict[tuple[str, int], Point] = {}
    now = dt.datetime.now(dt.timezone.utc)
    for index, point in enumerate(points):
        if index >= MAX_BATCH_POINTS:
            raise InvalidInputError(f"a batch carries at most {MAX_BATCH_POINTS} points")
        if type(point) is tuple and len(point) == 4:
            # The common shape (what the client's buffer sends), checked without the general path.
            key, step, value, stamp = point
            if (
                type(key) is str
                and 0 < len(key) <= MAX_KEY_LENGTH
                and "\x00" not in key
                and type(step) is int
                and 0 <= step <= MAX_STEP
                and type(value) is float
                and type(stamp) is dt.datetime
                and stamp.tzinfo is not None
            ):
                checked.pop((key, step), None)
                checked[(key, step)] = point
                continue
        try:
            if isinstance(point, Mapping):
                key, step, value, stamp = point["key"], point["step"], point["value"], point.get("timestamp")
            else:
                key, step, value, stamp = point
            key = check_metric_key(key)
            step = check_step(step)
            value = check_metric_value(key, value)
        except (TypeError, ValueError, KeyError) as exc:
            raise InvalidInputError(f"point {index}: {exc}") from exc
        if stamp is None:
            stamp = now
        elif not isinstance(stamp, dt.datetime) or stamp.tzinfo is None:
            raise InvalidInputError(f"point {index}: timestamp must be a timezone-aware datetime")
        checked.pop((key, step), None)  # the last one wins, and keeps its place in logging order
        checked[(key, step)] = (key, step, value, stamp)
    return list(checked.values())


def log_batch(*, run_id: object, batch_id: str, points: Iterable[Any]) -> bool:
    """Write one batch of a run's points in one transaction; ``False`` when the batch was already written
    (nothing changes then). Logging to an ended run is allowed (late points of a finished run)."""
    run_id = parse_id(run_id, field="model run id")
    batch_id = _check_batch_id(batch_id)
    checked = check_points(points)
    with unit_of_work(write=True) as connection:
        return MetricRepository(connection).add_batch(run_id=run_id, batch_id=batch_id, points=checked)


# -- metric reads -----------------------------------------------------------------------------------


def _run_must_exist(connection, run_id: uuid.UUID) -> None:  # noqa: ANN001
    ModelRunRepository(connection).get(run_id)


def metric_history(*, run_id: object, key: str) -> list[MetricPoint]:
    """Every point of one key of one run, by step (``[]`` when the run never logged that key)."""
    run_id = parse_id(run_id, field="model run id")
    key = _checked_key(key)
    with unit_of_work() as connection:
        _run_must_exist(connection, run_id)
        return MetricRepository(connection).history(run_id, key)


def metric_histories(
    *, run_ids: Iterable[object], key: str, max_points: int | None = None
) -> dict[uuid.UUID, list[MetricPoint]]:
    """One key's history for many runs at once (runs without that key are absent), each reduced to at
    most ``max_points`` points keeping the extremes when given (at least 2)."""
    if isinstance(run_ids, (str, bytes)):
        raise InvalidInputError("run_ids must be a list of run ids")
    ids = list(dict.fromkeys(parse_id(run_id, field="model run id") for run_id in run_ids))
    if not ids:
        raise InvalidInputError("give at least one run id")
    if len(ids) > MAX_RUNS_PER_HISTORY:
        raise InvalidInputError(f"at most {MAX_RUNS_PER_HISTORY} runs per read, got {len(ids)}")
    key = _checked_key(key)
    if max_points is not None and (isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 2):
        raise InvalidInputError(f"max_points must be an integer of at least 2, got {max_points!r}")
    with unit_of_work(snapshot=True) as connection:
        return MetricRepository(connection).histories(ids, key, max_points=max_points)


def metric_summaries(*, run_id: object) -> dict[str, MetricSummary]:
    """Each key's summary of one run, by key."""
    run_id = parse_id(run_id, field="model run id")
    with unit_of_work() as connection:
        _run_must_exist(connection, run_id)
        return {summary.key: summary for summary in MetricRepository(connection).summaries(run_id)}


def metric_summaries_of_runs(*, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[MetricSummary]]:
    """The summaries of many runs in one read (runs without metrics are absent)."""
    with unit_of_work(snapshot=True) as connection:
        return MetricRepository(connection).summaries_of_runs(list(run_ids))


def _checked_key(key: object) -> str:
    try:
        return check_metric_key(key)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(str(exc)) from exc


__all__ = [
    "check_metric_key",
    "check_metric_value",
    "check_points",
    "check_step",
    "end_run",
    "heartbeat",
    "json_value",
    "log_batch",
    "metric_histories",
    "metric_history",
    "metric_summaries",
    "metric_summaries_of_runs",
    "new_batch_id",
    "start_run",
]
