"""Tracked runs in one process: start, track, end, and how they differ from runs recorded with create."""

import logging
import os

import pytest

from gemini.api.model import Model
from gemini.api.model_run import ModelRun
from gemini.tracking import lifecycle


@pytest.fixture
def db(registry_url) -> str:
    """The same tests on SQLite, on PostgreSQL and through a server (``GEMINI_API_URL``)."""
    return registry_url


@pytest.fixture
def detector(db):
    return Model.create(model_name="detector")


def test_track_ends_finished_after_a_normal_exit(detector):
    with ModelRun.track(model_run_info={"params": {"lr": 0.01}}, model_name="detector") as run:
        assert run.status == "running"
    stored = ModelRun.get_by_id(run.id)
    assert (stored.status, run.status) == ("finished", "finished")
    assert stored.started_at is not None and stored.ended_at >= stored.started_at
    assert stored.model_id == detector.id


def test_a_tracked_run_keeps_its_info_exactly_as_given(db):
    info = {"params": {"lr": 0.01, "layers": [1, 2.5, "x"]}, "note": None}
    with ModelRun.track(model_run_info=info) as run:
        pass
    assert ModelRun.get_by_id(run.id).model_run_info == info


def test_an_exception_ends_the_run_failed_keeps_its_error_and_is_raised_again(db):
    with pytest.raises(ZeroDivisionError):
        with ModelRun.track(model_run_info={"a": 1}) as run:
            run.log_metric("loss", 0.5, step=0)
            1 / 0
    stored = ModelRun.get_by_id(run.id)
    assert stored.status == "failed"
    assert stored.error_type == "ZeroDivisionError"
    assert stored.error_message == "division by zero"
    assert stored.get_metric_history("loss")[0]["value"] == 0.5


def test_an_error_message_no_database_stores_still_ends_the_run_failed(db):
    # A NUL and a lone surrogate: PostgreSQL refuses the first in text, UTF-8 cannot encode the second.
    with pytest.raises(ValueError):
        with ModelRun.track(model_run_info={"a": 2}) as run:
            raise ValueError("bad\x00byte \ud800 here")
    stored = ModelRun.get_by_id(run.id)
    assert (stored.status, stored.error_type) == ("failed", "ValueError")
    assert stored.error_message == "bad\\x00byte \\ud800 here"


def test_keyboard_interrupt_ends_the_run_killed(db):
    with pytest.raises(KeyboardInterrupt):
        with ModelRun.track() as run:
            raise KeyboardInterrupt
    assert ModelRun.get_by_id(run.id).status == "killed"


def test_start_then_end_sets_each_status(db):
    for status in ("finished", "failed", "killed"):
        run = ModelRun.start(model_run_info={"status": status})
        assert run.status == "running"
        assert run.end(status=status) is run
        assert ModelRun.get_by_id(run.id).status == status


def test_end_keeps_the_error_it_is_given(db):
    run = ModelRun.start(model_run_info={"a": 1})
    try:
        raise ValueError("loss is NaN")
    except ValueError as exc:
        assert run.end(status="failed", error=exc) is run
    stored = ModelRun.get_by_id(run.id)
    assert (stored.status, stored.error_type, stored.error_message) == ("failed", "ValueError", "loss is NaN")
    other = ModelRun.start()
    with pytest.raises(TypeError, match="error must be an exception"):
        other.end(status="failed", error="loss is NaN")
    assert other.end() is other and other.error_type is None


def test_two_executions_of_one_configuration_are_two_runs(detector):
    first = ModelRun.start(model_run_info={"lr": 1}, model_name="detector")
    second = ModelRun.start(model_run_info={"lr": 1}, model_name="detector")
    assert first.id != second.id
    first.end()
    second.end()


def test_create_keeps_its_get_or_create_beside_tracked_runs_with_the_same_info(detector):
    tracked = ModelRun.start(model_run_info={"lr": 1}, model_name="detector")
    created = ModelRun.create(model_run_info={"lr": 1}, model_name="detector")
    again = ModelRun.create(model_run_info={"lr": 1}, model_name="detector")
    assert created.id != tracked.id
    assert again.id == created.id
    assert created.status is None
    many = ModelRun.create_many([{"lr": 1}, {"lr": 2}], model_name="detector")
    assert many[0].id == created.id
    tracked.end()


def test_a_tracked_run_may_take_info_equal_to_another_run_of_its_model(detector):
    ModelRun.create(model_run_info={"lr": 1}, model_name="detector")
    run = ModelRun.start(model_run_info={"lr": 2}, model_name="detector")
    assert run.update(model_run_info={"lr": 1}) is not None
    run.end()


def test_ending_a_run_twice_returns_none_and_logs_why(db, caplog):
    run = ModelRun.start()
    run.end()
    with caplog.at_level(logging.ERROR, logger="gemini.api"):
        assert run.end() is None
    assert "ModelRun.end failed" in caplog.text and "already ended" in caplog.text


def test_ending_a_run_recorded_with_create_returns_none(db, caplog):
    run = ModelRun.create(model_run_info={"a": 1})
    assert run.end() is None
    assert "not a tracked run" in caplog.text


def test_an_unknown_end_status_returns_none_and_leaves_the_run_running(db, caplog):
    run = ModelRun.start()
    assert run.end(status="done") is None
    assert ModelRun.get_by_id(run.id).status == "running"
    assert "status must be one of" in caplog.text
    run.end()


def test_start_with_a_new_model_name_creates_the_model(db):
    run = ModelRun.start(model_name="nobody")
    assert run.model_id == Model.get("nobody").id
    run.end()


def test_track_with_a_new_model_name_creates_the_model(db):
    with ModelRun.track(model_name="nobody") as run:
        pass
    assert ModelRun.get_by_id(run.id).model_id == Model.get("nobody").id


def test_start_with_an_invalid_model_name_returns_none_and_writes_nothing(db, caplog):
    assert ModelRun.start(model_name="") is None
    assert "ModelRun.start failed" in caplog.text
    assert ModelRun.get_all() is None


def test_a_running_run_whose_heartbeat_stopped_reads_as_lost(db, monkeypatch):
    if os.environ.get("GEMINI_API_URL"):
        pytest.skip("the heartbeat timeout is the server's setting, not the client's")
    run = ModelRun.start()
    lifecycle.heartbeat_of(run).stop()  # no more heartbeats from this process
    monkeypatch.setenv("GEMINI_HEARTBEAT_TIMEOUT", "0")
    assert ModelRun.get_by_id(run.id).status == "lost"
    monkeypatch.setenv("GEMINI_HEARTBEAT_TIMEOUT", "300")
    assert ModelRun.get_by_id(run.id).status == "running"
    assert run.end() is not None  # a lost run can still be ended
    monkeypatch.setenv("GEMINI_HEARTBEAT_TIMEOUT", "0")
    assert ModelRun.get_by_id(run.id).status == "finished"


def test_runs_listed_carry_their_status(db):
    with ModelRun.track(model_run_info={"a": 1}):
        pass
    ModelRun.create(model_run_info={"a": 2})
    assert [run.status for run in ModelRun.get_all()] == ["finished", None]
