"""The client sends metric batches as columns, split to fit the server; a batch spooled as rows by an
earlier version is still delivered, as rows."""

import datetime as dt
import json
import math

import msgspec
import pytest
from click.testing import CliRunner

from gemini.api.model_run import ModelRun
from gemini.cli.main import cli
from gemini.domain.limits import MAX_BATCH_POINTS
from gemini.registry import registry
from gemini.remote import batches
from gemini.remote.spooling import server_spool
from gemini.tracking import spool
from tests.conftest import server_database

MOMENT = dt.datetime(2026, 11, 30, 19, 0, 0, 123_456, tzinfo=dt.timezone.utc)


def _columns(count: int, key: str = "loss") -> dict:
    points = [(key, step, step / 10, MOMENT) for step in range(count)]
    return batches.batch_columns("b-1", points)


def test_a_batch_becomes_columns_with_non_finite_values_as_strings_and_times_as_seconds():
    points = [("loss", 0, 0.5, MOMENT), ("loss", 1, math.nan, MOMENT), ("acc", 0, -math.inf, MOMENT)]
    assert batches.batch_columns("b-1", points) == {
        "batch_id": "b-1",
        "keys": ["loss", "loss", "acc"],
        "steps": [0, 1, 0],
        "values": [0.5, "NaN", "-Infinity"],
        "timestamps": [MOMENT.timestamp()] * 3,
    }
    assert dt.datetime.fromtimestamp(MOMENT.timestamp(), dt.timezone.utc) == MOMENT  # exact to the microsecond


def test_a_batch_that_fits_is_sent_whole_under_its_own_id():
    body = _columns(10)
    [whole] = batches.column_parts(body, max_bytes=10_000, max_points=MAX_BATCH_POINTS)
    assert msgspec.json.decode(whole) == body


def test_a_batch_over_the_byte_limit_is_cut_into_parts_that_fit_in_order_under_ids_derived_from_it():
    body = _columns(1_000, key="k" * 200)
    parts = batches.column_parts(body, max_bytes=20_000, max_points=MAX_BATCH_POINTS)
    assert len(parts) > 10 and all(len(part) <= 20_000 for part in parts)
    decoded = [json.loads(part) for part in parts]
    for column in batches.COLUMNS:
        assert [entry for part in decoded for entry in part[column]] == body[column]
    ids = [part["batch_id"] for part in decoded]
    assert len(set(ids)) == len(ids) and "b-1" not in ids and all(len(part_id) == 40 for part_id in ids)
    # Split again (a retry, the spool), the batch gets the same parts under the same ids.
    assert batches.column_parts(body, max_bytes=20_000, max_points=MAX_BATCH_POINTS) == parts


def test_a_batch_over_the_point_limit_is_cut_by_count():
    parts = batches.column_parts(_columns(25), max_bytes=None, max_points=10)
    assert [len(json.loads(part)["keys"]) for part in parts] == [10, 10, 5]


def test_a_point_too_large_for_any_body_goes_alone():
    body = batches.batch_columns("b-1", [("a", 0, 1.0, MOMENT), ("k" * 5_000, 0, 1.0, MOMENT), ("a", 1, 1.0, MOMENT)])
    parts = batches.column_parts(body, max_bytes=1_000, max_points=MAX_BATCH_POINTS)
    assert [json.loads(part)["keys"] for part in parts] == [["a"], ["k" * 5_000], ["a"]]


@pytest.fixture
def sent_bodies(monkeypatch) -> list[dict]:
    """The bodies of the metric batch requests the client sends (they still go to the server)."""
    sent: list[dict] = []
    send = batches.http.send

    def recording_send(operation, **arguments):
        if operation == "log_batch":
            sent.append(json.loads(arguments["content"]))
        return send(operation, **arguments)

    monkeypatch.setattr(batches.http, "send", recording_send)
    return sent


def test_the_client_sends_columns_and_the_server_stores_them(remote, sent_bodies):
    with ModelRun.track(model_run_info={"columns": 1}) as run:
        for step in range(3):
            run.log_metrics({"loss": 1 / (step + 1), "map50": float("nan")}, step=step)
    assert sent_bodies and all(set(body) == {"batch_id", *batches.COLUMNS} for body in sent_bodies)
    summaries = server_database().metric_summaries(run_id=run.id)
    assert (summaries["loss"].count, summaries["loss"].last) == (3, 1 / 3)
    assert summaries["map50"].count == 3 and math.isnan(summaries["map50"].last)


def test_a_batch_spooled_as_rows_by_an_earlier_version_is_delivered(remote, tmp_path, monkeypatch, sent_bodies):
    monkeypatch.setenv("GEMINI_SPOOL_PATH", str(tmp_path / "spool.sqlite"))
    monkeypatch.setattr(spool.Spool, "start_background_sender", lambda self: None)
    run = registry().start_run(model_run_info={"spooled": "rows"})
    rows = [
        {"key": "loss", "step": 0, "value": 0.5, "timestamp": "2026-11-30T19:00:00.123456+00:00"},
        {"key": "loss", "step": 1, "value": "NaN", "timestamp": "2026-11-30T20:00:00+01:00"},
    ]
    server_spool().add(str(run.id), spool.METRICS, {"batch_id": "old-1", "points": rows})

    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 0, result.output
    assert sent_bodies == [{"batch_id": "old-1", "points": rows}]
    history = server_database().metric_history(run_id=run.id, key="loss").points()
    assert [point.step for point in history] == [0, 1] and math.isnan(history[1].value)
    assert [point.timestamp for point in history] == [MOMENT, MOMENT.replace(microsecond=0)]
    # Sent again, it is the batch already written.
    assert registry().log_batch(run_id=run.id, batch_id="old-1", points=[("loss", 0, 9.0, MOMENT)]) is False
