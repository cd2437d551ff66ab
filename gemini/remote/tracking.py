"""Tracked runs and their metrics over REST.

Starting a run needs the server (the run's id is the server's). After that, what a run logs does not:
when the server cannot be reached, metric batches and the run's end go to the offline spool
(``gemini.tracking.spool``, one per server, made by ``gemini.remote.spooling``) and are sent when it
answers again.
"""

import dataclasses
import datetime as dt
import threading
import uuid
from typing import Any
from urllib.parse import quote

from gemini.domain.checks import Point
from gemini.domain.errors import DatabaseUnavailableError
from gemini.domain.limits import MAX_SUMMARY_RUNS
from gemini.domain.numbers import value_from_json
from gemini.domain.records import CheckedInfo, MetricSeries, MetricSummary, ModelRunRecord
from gemini.domain.wire import REDUCED_HEADER
from gemini.remote import http, records
from gemini.remote.batches import batch_columns, send_batch
from gemini.remote.spooling import server_spool
from gemini.tracking import spool

# The runs this process started, as last known: a run ended while the server is unreachable is
# answered from here, with the end it will get.
_started: dict[uuid.UUID, ModelRunRecord] = {}
_started_lock = threading.Lock()


def start_run(
    *, model_run_info: CheckedInfo, model_name: str | None, created_by: str | None, run_name: str | None
) -> ModelRunRecord:
    """Never repeated blindly (each start is a new run): only a connection that could not be opened is
    tried again. What the spool holds for this server starts being sent in the background."""
    body = {"model_run_info": model_run_info.value, "model_name": model_name, "run_name": run_name}
    record = records.run(http.send("start_run", json=body, idempotent=False).json())
    with _started_lock:
        _started[record.id] = record
    pending = server_spool()
    if pending.pending_count():
        pending.start_background_sender()
    return record


def end_run(
    *,
    run_id: uuid.UUID,
    status: str,
    error_type: str | None,
    error_message: str | None,
    ended_at: dt.datetime | None,
) -> ModelRunRecord:
    """When the server cannot be reached, the end is spooled with the moment it was asked for (sent as
    ``ended_at``, so a late delivery keeps the run's true end), and the run as this process started it is
    returned with that end."""
    body: dict[str, Any] = {"status": status, "error_type": error_type, "error_message": error_message}
    if ended_at is not None:
        body["ended_at"] = ended_at.isoformat()
    ended_at = ended_at or dt.datetime.now(dt.timezone.utc)
    pending = server_spool()
    if not pending.waiting(str(run_id)):
        try:
            record = records.run(http.send("end_run", run_id=run_id, json=body, idempotent=False).json())
        except DatabaseUnavailableError:
            if run_id not in _started:
                raise
        else:
            _forget(run_id)
            return record
    pending.add(str(run_id), spool.END, {**body, "ended_at": ended_at.isoformat()})
    started = _forget(run_id)
    if started is None:
        return records.run(http.send("get_run", run_id=run_id).json())
    return dataclasses.replace(
        started, status=status, ended_at=ended_at, updated_at=ended_at, error_type=error_type, error_message=error_message
    )


def _forget(run_id: uuid.UUID) -> ModelRunRecord | None:
    with _started_lock:
        return _started.pop(run_id, None)


def heartbeat(*, run_id: uuid.UUID) -> None:
    """A heartbeat the server cannot get is simply missed."""
    http.send("heartbeat", run_id=run_id)


def log_batch(*, run_id: uuid.UUID, batch_id: str, points: list[Point]) -> bool:
    """Send one batch (repeated safely: it carries its id); when the server cannot be reached, or the
    run already has entries waiting in the spool, the batch is spooled and ``True`` returned: it is kept
    on disk and will be written."""
    body = batch_columns(batch_id, points)
    pending = server_spool()
    if not pending.waiting(str(run_id)):
        try:
            return send_batch(run_id, body)
        except DatabaseUnavailableError:
            pass
    pending.add(str(run_id), spool.METRICS, body)
    return True


def metric_history(*, run_id: uuid.UUID, key: str, max_points: int | None) -> MetricSeries:
    response = http.send(
        "metric_history", run_id=run_id, key=quote(key, safe=""), params=http.query({"max_points": max_points})
    )
    answer = response.json()
    moment = dt.datetime.fromisoformat
    return MetricSeries(
        [point["step"] for point in answer],
        _values([point["value"] for point in answer]),
        [moment(point["timestamp"]).timestamp() for point in answer],
        reduced=response.headers.get(REDUCED_HEADER) == "true",
    )


def _values(values: list) -> list[float]:
    """JSON's values: numbers, and the strings that stand for NaN and the infinities."""
    if any(type(value) is str for value in values):
        return [value_from_json(value) for value in values]
    return [float(value) for value in values]


def metric_histories(
    *, run_ids: list[uuid.UUID], key: str, max_points: int | None, start_step: int | None, end_step: int | None
) -> dict[uuid.UUID, MetricSeries]:
    params = http.query(
        {
            "key": key,
            "run_id": [str(run_id) for run_id in run_ids],
            "max_points": max_points,
            "start_step": start_step,
            "end_step": end_step,
        }
    )
    series = http.send("metric_histories", params=params).json()
    return {
        uuid.UUID(item["run_id"]): MetricSeries(item["steps"], _values(item["values"]), item["timestamps"], item["reduced"])
        for item in series
    }


def _summary(data: dict[str, Any]) -> MetricSummary:
    return MetricSummary(
        key=data["key"],
        last=value_from_json(data["last"]),
        min=value_from_json(data["min"]),
        max=value_from_json(data["max"]),
        step=data["step"],
        count=data["count"],
    )


def metric_summaries(*, run_id: uuid.UUID) -> dict[str, MetricSummary]:
    return {summary.key: summary for summary in map(_summary, http.send("metric_summaries", run_id=run_id).json())}


def metric_summaries_of_runs(*, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[MetricSummary]]:
    """A thousand runs per request (the server's most)."""
    ids = [str(run_id) for run_id in run_ids]
    found: dict[uuid.UUID, list[MetricSummary]] = {}
    for start in range(0, len(ids), MAX_SUMMARY_RUNS):
        body = {"run_ids": ids[start : start + MAX_SUMMARY_RUNS]}
        for item in http.send("metric_summaries_of_runs", json=body, idempotent=True).json():
            found[uuid.UUID(item["run_id"])] = [_summary(summary) for summary in item["summaries"]]
    return found
