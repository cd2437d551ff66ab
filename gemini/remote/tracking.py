"""``gemini.core.tracking`` over REST: tracked runs and their metrics on the server.

Starting a run needs the server (the run's id is the server's). After that, what a run logs does not:
when the server cannot be reached, metric batches and the run's end go to the offline spool
(``gemini.remote.spool``) and are sent when it answers again.
"""

import dataclasses
import datetime as dt
import threading
import uuid
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote

from gemini.core.metric_values import (  # noqa: F401 - the same checks as the core's, under the same names
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
from gemini.errors import DatabaseUnavailableError, InvalidInputError
from gemini.records import MetricPoint, MetricSummary, ModelRunRecord
from gemini.remote import http, records, spool

END_STATUSES = ("finished", "failed", "killed")

# The runs this process started, as last known: a run ended while the server is unreachable is
# answered from here, with the end it will get.
_started: dict[uuid.UUID, ModelRunRecord] = {}
_started_lock = threading.Lock()


def _run_path(run_id: uuid.UUID) -> str:
    return f"/model_runs/{run_id}"


def _server() -> str:
    return http.server().url


def start_run(
    *, model_run_info: dict[str, Any] | None = None, model_name: str | None = None, created_by: str | None = None
) -> ModelRunRecord:
    """Start a new tracked run on the server; the author is the server's to record (the token's name).

    Never repeated blindly (each start is a new run): only a connection that could not be opened is
    tried again. What the spool holds for this server starts being sent in the background."""
    info = check_info(model_run_info, field="model_run_info")
    if model_name is not None:
        check_name(model_name, field="model_name")
    response = http.call(
        "POST", "/model_runs/start", json={"model_run_info": info.value, "model_name": model_name}, idempotent=False
    )
    record = records.run(response.json())
    with _started_lock:
        _started[record.id] = record
    _send_spool_in_background()
    return record


def end_run(
    *, run_id: object, status: str = "finished", error_type: str | None = None, error_message: str | None = None
) -> ModelRunRecord:
    """End the run on the server; when it cannot be reached, the end is spooled and the run, as this
    process started it, is returned with that end."""
    run_id = parse_id(run_id, field="model run id")
    if status not in END_STATUSES:
        raise InvalidInputError(f"status must be one of {', '.join(END_STATUSES)}, got {status!r}")
    body = {"status": status, "error_type": error_type, "error_message": error_message}
    server = _server()
    if not spool.waiting(server, str(run_id)):
        try:
            record = records.run(http.call("POST", f"{_run_path(run_id)}/end", json=body, idempotent=False).json())
        except DatabaseUnavailableError:
            if run_id not in _started:
                raise
        else:
            _forget(run_id)
            return record
    spool.add(server, str(run_id), spool.END, body)
    now = dt.datetime.now(dt.timezone.utc)
    started = _forget(run_id)
    if started is None:
        return get_run_or_raise(run_id)
    return dataclasses.replace(
        started, status=status, ended_at=now, updated_at=now, error_type=error_type, error_message=error_message
    )


def _forget(run_id: uuid.UUID) -> ModelRunRecord | None:
    with _started_lock:
        return _started.pop(run_id, None)


def get_run_or_raise(run_id: uuid.UUID) -> ModelRunRecord:
    return records.run(http.get(_run_path(run_id)))


def heartbeat(*, run_id: object) -> None:
    """Tell the server the run is alive; a heartbeat the server cannot get is simply missed."""
    run_id = parse_id(run_id, field="model run id")
    http.call("POST", f"{_run_path(run_id)}/heartbeat")


def _point(point: Any) -> dict[str, Any]:
    if isinstance(point, dict):
        key, step, value, stamp = point["key"], point["step"], point["value"], point.get("timestamp")
    else:
        key, step, value, stamp = point
    if isinstance(value, float):
        value = json_value(value)
    return {"key": key, "step": step, "value": value, "timestamp": stamp.isoformat() if stamp is not None else None}


def log_batch(*, run_id: object, batch_id: str, points: Iterable[Any]) -> bool:
    """Send one batch (repeated safely: it carries its id); when the server cannot be reached, or the
    run already has entries waiting in the spool, the batch is spooled and ``True`` returned: it is kept
    on disk and will be written."""
    run_id = parse_id(run_id, field="model run id")
    body = {"batch_id": batch_id, "points": [_point(point) for point in points]}
    server = _server()
    if not spool.waiting(server, str(run_id)):
        try:
            return http.call("POST", f"{_run_path(run_id)}/metrics", json=body, idempotent=True).json()["written"]
        except DatabaseUnavailableError:
            pass
    spool.add(server, str(run_id), spool.METRICS, body)
    return True


def _value(value: Any) -> float | None:
    return NON_FINITE_TEXT[value] if isinstance(value, str) else (None if value is None else float(value))


def _metric_point(data: dict[str, Any]) -> MetricPoint:
    return MetricPoint(step=data["step"], value=_value(data["value"]), timestamp=dt.datetime.fromisoformat(data["timestamp"]))


def _checked_key(key: object) -> str:
    try:
        return check_metric_key(key)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError(str(exc)) from exc


def metric_history(*, run_id: object, key: str) -> list[MetricPoint]:
    run_id = parse_id(run_id, field="model run id")
    key = _checked_key(key)
    return [_metric_point(item) for item in http.get(f"{_run_path(run_id)}/metrics/{quote(key, safe='')}")]


def metric_histories(
    *, run_ids: Iterable[object], key: str, max_points: int | None = None
) -> dict[uuid.UUID, list[MetricPoint]]:
    if isinstance(run_ids, (str, bytes)):
        raise InvalidInputError("run_ids must be a list of run ids")
    ids = list(dict.fromkeys(parse_id(run_id, field="model run id") for run_id in run_ids))
    if not ids:
        raise InvalidInputError("give at least one run id")
    key = _checked_key(key)
    params: dict[str, Any] = {"key": key, "run_id": [str(run_id) for run_id in ids]}
    if max_points is not None:
        params["max_points"] = max_points
    series = http.get("/metrics/history", params)
    return {uuid.UUID(item["run_id"]): [_metric_point(point) for point in item["points"]] for item in series}


def _summary(data: dict[str, Any]) -> MetricSummary:
    return MetricSummary(
        key=data["key"],
        last=_value(data["last"]),
        min=_value(data["min"]),
        max=_value(data["max"]),
        step=data["step"],
        count=data["count"],
    )


def metric_summaries(*, run_id: object) -> dict[str, MetricSummary]:
    run_id = parse_id(run_id, field="model run id")
    return {summary.key: summary for summary in map(_summary, http.get(f"{_run_path(run_id)}/metrics"))}


SUMMARY_RUNS_PER_REQUEST = 1000


def metric_summaries_of_runs(*, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[MetricSummary]]:
    """The summaries of many runs (runs without metrics are absent), a thousand runs per request."""
    ids = [str(run_id) for run_id in run_ids]
    found: dict[uuid.UUID, list[MetricSummary]] = {}
    for start in range(0, len(ids), SUMMARY_RUNS_PER_REQUEST):
        body = {"run_ids": ids[start : start + SUMMARY_RUNS_PER_REQUEST]}
        for item in http.call("POST", "/metrics/summaries", json=body, idempotent=True).json():
            found[uuid.UUID(item["run_id"])] = [_summary(summary) for summary in item["summaries"]]
    return found


# -- the spool's sender -----------------------------------------------------------------------------


def send_entry(entry: spool.Entry) -> None:
    """Send one spooled entry to the configured server."""
    run_path = f"/model_runs/{entry.run_id}"
    if entry.kind == spool.METRICS:
        http.call("POST", f"{run_path}/metrics", json=entry.payload, idempotent=True)
    elif entry.kind == spool.END:
        http.call("POST", f"{run_path}/end", json=entry.payload, idempotent=False)
    elif entry.kind == spool.ARTIFACT:
        from gemini.remote import artifacts

        artifacts.send_spooled(entry)
    else:
        raise InvalidInputError(f"unknown spool entry kind {entry.kind!r}")


def sync(*, wait: bool = True) -> spool.SyncReport:
    """Send what the spool holds for the configured server (``gemini sync``)."""
    return spool.send_all(_server(), send_entry, wait=wait)


def _send_spool_in_background() -> None:
    spool.set_background_sender(lambda: sync(wait=False))
    if spool.pending_count(_server()):
        spool.start_background_sender()


spool.set_background_sender(lambda: sync(wait=False))
