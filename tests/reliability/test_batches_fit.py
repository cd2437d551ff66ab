"""Metric batches fit what the server accepts, and a batch refused for good holds nothing back: the
points the registry accepts are stored, the others are given up by name, and the run's end says so."""

import json

import httpx
import pytest

from gemini.api.model_run import ModelRun
from gemini.domain.errors import InvalidInputError, NotFoundError
from gemini.domain.limits import MAX_BATCH_POINTS
from gemini.registry import registry
from gemini.remote import http
from gemini.remote.batches import batch_parts
from gemini.tracking import buffer as buffer_module
from gemini.tracking import lifecycle
from gemini.tracking.buffer import MetricBuffer
from tests.conftest import running_gemini_server, server_database


def _points(count: int, key: str = "loss") -> list[dict]:
    return [{"key": key, "step": step, "value": 0.5, "timestamp": "2026-12-04T00:00:00+00:00"} for step in range(count)]


# -- splitting ------------------------------------------------------------------------------------------


def test_a_batch_that_fits_is_sent_whole_under_its_own_id():
    points = _points(10)
    [whole] = batch_parts("b-1", points, max_bytes=10_000, max_points=MAX_BATCH_POINTS)
    assert json.loads(whole) == {"batch_id": "b-1", "points": points}


def test_a_batch_over_the_byte_limit_is_cut_into_parts_that_fit_in_order_under_ids_derived_from_it():
    points = _points(1_000, key="k" * 200)
    parts = batch_parts("b-1", points, max_bytes=20_000, max_points=MAX_BATCH_POINTS)
    assert len(parts) > 10
    assert all(len(part) <= 20_000 for part in parts)
    decoded = [json.loads(part) for part in parts]
    assert [point for body in decoded for point in body["points"]] == points
    ids = [body["batch_id"] for body in decoded]
    assert len(set(ids)) == len(ids) and "b-1" not in ids
    # Split again (a retry, the spool), the batch gets the same parts under the same ids.
    assert batch_parts("b-1", points, max_bytes=20_000, max_points=MAX_BATCH_POINTS) == parts


def test_a_batch_over_the_point_limit_is_cut_by_count():
    parts = batch_parts("b-1", _points(25), max_bytes=None, max_points=10)
    assert [len(json.loads(part)["points"]) for part in parts] == [10, 10, 5]


def test_health_states_the_request_and_batch_limits_and_the_client_keeps_them(remote_registry, monkeypatch):
    answer = httpx.get(f"{remote_registry.url}/api/health").json()
    assert answer["max_batch_points"] == MAX_BATCH_POINTS
    assert answer["max_request_bytes"] == 4 * 1024 * 1024 + 64 * 1024  # 4 × GEMINI_MAX_INFO_BYTES + 64 KiB
    monkeypatch.setenv("GEMINI_API_URL", remote_registry.url)
    server = http.checked_server()
    assert (server.max_request_bytes, server.max_batch_points) == (answer["max_request_bytes"], MAX_BATCH_POINTS)


# -- a server with a lowered limit ----------------------------------------------------------------------


@pytest.fixture
def small_body_server(tmp_path, monkeypatch):
    """A real server whose request bodies may hold 4 * 4 KiB + 64 KiB (``GEMINI_MAX_INFO_BYTES=4096``)."""
    database_url = f"sqlite:///{tmp_path / 'gemini.db'}"
    with running_gemini_server(
        database_url=database_url,
        log_path=tmp_path / "serve.log",
        artifact_root=tmp_path / "artifacts",
        settings={"GEMINI_MAX_INFO_BYTES": "4096"},
    ) as served:
        monkeypatch.setenv("GEMINI_API_URL", served.url)
        monkeypatch.setenv("GEMINI_API_RETRIES", "0")
        monkeypatch.setenv("GEMINI_SPOOL_PATH", str(tmp_path / "client-spool.sqlite"))
        monkeypatch.setenv("GEMINI_DATABASE_URL", database_url)
        yield served
    http.close_all()


LONG_KEYS = [f"validation/{'per-plot-stand-count-' * 10}{index}" for index in range(20)]


def test_one_batch_larger_than_the_servers_body_limit_is_written_whole(small_body_server):
    run = registry().start_run(model_run_info={"n": 1})
    points = [(key, step, 0.5, None) for step in range(500) for key in LONG_KEYS]  # about 2.5 MB as JSON
    assert registry().log_batch(run_id=run.id, batch_id="b-1", points=points) is True
    assert registry().log_batch(run_id=run.id, batch_id="b-1", points=points) is False  # sent again: no-op
    summaries = server_database().metric_summaries(run_id=run.id)
    assert sum(summary.count for summary in summaries.values()) == 10_000


def test_every_point_of_long_keys_reaches_a_server_with_a_lowered_body_limit(small_body_server, caplog):
    keys = LONG_KEYS
    with ModelRun.track(model_run_info={"long keys": True}, model_name="stand_counter") as run:
        for step in range(500):  # 10,000 points: one buffered batch of about 2.5 MB
            run.log_metrics({key: step / 500 for key in keys}, step=step)
    stored = server_database()
    assert sum(summary.count for summary in stored.metric_summaries(run_id=run.id).values()) == 10_000
    ended = stored.get_run(run_id=run.id)
    assert (ended.status, ended.error_type, ended.error_message) == ("finished", None, None)
    assert "refused" not in caplog.text


# -- a batch refused for good ---------------------------------------------------------------------------


def _refusing_poison(real_write):
    """A batch writer that refuses, as invalid, any batch holding a point of the key ``poison``."""

    def write(run_id, batch_id, points):
        if any(point[0] == "poison" for point in points):
            raise InvalidInputError("metric 'poison' is refused here")
        return real_write(run_id, batch_id, points)

    return write


def test_an_invalid_batch_is_halved_until_the_refused_point_is_alone_and_later_batches_are_written(registry_url):
    run = registry().start_run(model_run_info={"n": 1})
    written: list[int] = []

    def write(run_id, batch_id, points):
        written.extend(point[1] for point in points if point[0] == "loss")
        return registry().log_batch(run_id=run_id, batch_id=batch_id, points=points)

    buffer = MetricBuffer(run.id, write_batch=_refusing_poison(write), flush_points=8, flush_seconds=60)
    try:
        buffer.add([("loss", float(step)) for step in range(1)], step=0)
        for step in range(1, 8):
            buffer.add([("loss", float(step))], step=step)
        buffer.add([("poison", 1.0)], step=3)
        for step in range(8, 16):
            buffer.add([("loss", float(step))], step=step)
        assert buffer.flush() is True
    finally:
        buffer.stop()
    assert buffer.unwritten() == 0
    assert buffer.refused == 1
    assert buffer.refusals == ["'poison' at step 3: metric 'poison' is refused here"]
    history = registry().metric_history(run_id=run.id, key="loss").points()
    assert [point.step for point in history] == list(range(16))
    assert registry().metric_history(run_id=run.id, key="poison").points() == []


def test_a_batch_of_a_run_that_is_gone_is_given_up_whole_without_holding_back(registry_url):
    calls = []

    def write(run_id, batch_id, points):
        calls.append(len(points))
        raise NotFoundError(f"no model run with id {run_id}")

    buffer = MetricBuffer("gone", write_batch=write, flush_points=4, flush_seconds=60)
    try:
        buffer.add([("loss", float(step)) for step in range(1)], step=0)
        for step in range(1, 10):
            buffer.add([("loss", float(step))], step=step)
        assert buffer.flush() is True
    finally:
        buffer.stop()
    assert calls == [4, 4, 2]  # each batch once: not halved, not retried
    assert (buffer.refused, buffer.unwritten()) == (10, 0)


def test_a_run_with_points_refused_for_good_does_not_read_as_a_clean_finish(registry_url, monkeypatch, caplog):
    monkeypatch.setattr(buffer_module, "_registry_write", _refusing_poison(buffer_module._registry_write))
    with ModelRun.track(model_run_info={"n": 2}, model_name="stand_counter") as run:
        run.log_metrics({"loss": 0.9}, step=0)
        run.log_metrics({"poison": 1.0, "loss": 0.8}, step=1)
        run.log_metrics({"loss": 0.7}, step=2)
    ended = registry().get_run(run_id=run.id)
    assert ended.status == "finished"
    assert ended.error_type == lifecycle.NOT_STORED_ERROR_TYPE
    assert ended.error_message == (
        "1 metric points were not stored: 1 refused by the registry "
        "('poison' at step 1: metric 'poison' is refused here)"
    )
    assert [point.value for point in registry().metric_history(run_id=run.id, key="loss").points()] == [0.9, 0.8, 0.7]
    assert "refused 1 metric point of run" in caplog.text


def test_a_failed_run_keeps_its_error_and_adds_the_points_not_stored(registry_url, monkeypatch):
    monkeypatch.setattr(buffer_module, "_registry_write", _refusing_poison(buffer_module._registry_write))
    with pytest.raises(RuntimeError):
        with ModelRun.track(model_run_info={"n": 3}) as run:
            run.log_metrics({"poison": 1.0}, step=0)
            raise RuntimeError("out of memory")
    ended = registry().get_run(run_id=run.id)
    assert (ended.status, ended.error_type) == ("failed", "RuntimeError")
    assert ended.error_message.startswith("out of memory\n1 metric points were not stored: 1 refused")
