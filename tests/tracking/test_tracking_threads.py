"""The tracking threads apart: a batch write stuck in retries never delays the heartbeat, and the
heartbeat, the buffer and the active-run table stop as they should."""

import threading
import time

from gemini.api.model_run import ModelRun
from gemini.domain.errors import ConflictError
from gemini.tracking import buffer as buffer_module
from gemini.tracking import heartbeat as heartbeat_module
from gemini.tracking import lifecycle
from gemini.tracking.buffer import MetricBuffer
from gemini.tracking.heartbeat import Heartbeat
from tests.tracking.conftest import wait_until

HEARTBEAT = 0.02


def test_the_heartbeat_keeps_beating_while_a_batch_write_is_blocked():
    writing, release = threading.Event(), threading.Event()
    beats: list[float] = []

    def blocked_write(run_id, batch_id, points):
        writing.set()
        release.wait(30)  # a write stuck in the HTTP layer's retries

    buffer = MetricBuffer("run", write_batch=blocked_write, flush_seconds=0.01)
    heartbeat = Heartbeat("run", send=lambda run_id: beats.append(time.monotonic()), seconds=HEARTBEAT)
    try:
        buffer.add([("loss", 1.0)], step=0)
        assert writing.wait(10)
        blocked_since = time.monotonic()
        # Many heartbeat periods while the write is still blocked.
        assert wait_until(lambda: len([beat for beat in beats if beat > blocked_since]) >= 5)
        assert not release.is_set() and buffer.unwritten() == 1
    finally:
        release.set()
        heartbeat.stop()
        buffer.stop()
    assert buffer.flush() is True


def test_a_run_keeps_its_heartbeat_while_its_writer_is_stuck(db, monkeypatch):
    writing, release = threading.Event(), threading.Event()
    beats: list[float] = []
    real_write, real_beat = buffer_module._registry_write, heartbeat_module._registry_heartbeat

    def blocked_write(run_id, batch_id, points):
        writing.set()
        release.wait(30)
        return real_write(run_id, batch_id, points)

    def counted_beat(run_id):
        beats.append(time.monotonic())
        return real_beat(run_id)

    monkeypatch.setattr(buffer_module, "_registry_write", blocked_write)
    monkeypatch.setattr(heartbeat_module, "_registry_heartbeat", counted_beat)
    run = ModelRun.start(model_run_info={"stuck": True})
    lifecycle.heartbeat_of(run).seconds = HEARTBEAT
    run._buffer.flush_seconds = 0.01
    run.log_metric("loss", 0.5, step=0)
    try:
        assert writing.wait(10)
        blocked_since = time.monotonic()
        assert wait_until(lambda: len([beat for beat in beats if beat > blocked_since]) >= 5)
    finally:
        release.set()
    assert run.end() is run
    assert [point["value"] for point in run.get_metric_history("loss")] == [0.5]
    assert lifecycle.heartbeat_of(run) is None


def test_a_conflict_stops_the_heartbeat_with_one_warning(caplog):
    sent = []

    def ended_elsewhere(run_id):
        sent.append(run_id)
        raise ConflictError("model run is already finished")

    heartbeat = Heartbeat("run", send=ended_elsewhere, seconds=0.01)
    assert wait_until(lambda: not heartbeat.running)
    time.sleep(0.05)
    assert sent == ["run"]
    assert caplog.text.count("heartbeat of run run stopped") == 1
    heartbeat.stop()


def test_a_failed_heartbeat_is_followed_by_the_next_one(caplog):
    sent = []

    def unreachable(run_id):
        sent.append(run_id)
        if len(sent) == 1:
            raise ConnectionError("no route to host")

    heartbeat = Heartbeat("run", send=unreachable, seconds=0.01)
    assert wait_until(lambda: len(sent) >= 3)
    heartbeat.stop()
    assert "heartbeat of run run failed: no route to host" in caplog.text


def test_stop_does_not_wait_for_a_heartbeat_stuck_in_retries(monkeypatch):
    monkeypatch.setattr(heartbeat_module, "STOP_WAIT_SECONDS", 0.05)
    sending, release = threading.Event(), threading.Event()

    def stuck(run_id):
        sending.set()
        release.wait(30)
        raise ConflictError("ended meanwhile")  # the run ended while this beat was out: no warning

    heartbeat = Heartbeat("run", send=stuck, seconds=0.01)
    assert sending.wait(10)
    started = time.monotonic()
    heartbeat.stop()
    assert time.monotonic() - started < 5
    release.set()


def test_a_zero_heartbeat_timeout_does_not_make_the_thread_spin(monkeypatch):
    monkeypatch.setenv("GEMINI_HEARTBEAT_TIMEOUT", "0")
    assert heartbeat_module.default_seconds() == heartbeat_module.MIN_HEARTBEAT_SECONDS
    monkeypatch.setenv("GEMINI_HEARTBEAT_TIMEOUT", "300")
    assert heartbeat_module.default_seconds() == heartbeat_module.HEARTBEAT_SECONDS


def test_write_remaining_tries_end_attempts_times_then_gives_up(monkeypatch, caplog):
    monkeypatch.setattr(lifecycle, "END_PAUSE_SECONDS", 0)
    tries = []

    def refused(run_id, batch_id, points):
        tries.append(batch_id)
        raise ConnectionError("down")

    buffer = MetricBuffer("run", write_batch=refused)
    buffer.add([("loss", 1.0), ("map50", 0.5)], step=0)
    assert lifecycle.write_remaining(buffer) is False
    assert len(tries) == lifecycle.END_ATTEMPTS and len(set(tries)) == 1  # the same batch each time
    assert "2 metric points could not be written and are lost" in caplog.text


def test_two_objects_of_one_run_are_each_kept_until_they_end(db):
    run = ModelRun.start()
    other = ModelRun.get_by_id(run.id)
    other.log_metric("loss", 1.0, step=0)  # a buffer of its own, no heartbeat: this object did not start it
    assert lifecycle.heartbeat_of(other) is None and lifecycle.heartbeat_of(run) is not None
    assert other._finish_buffer() is True
    assert lifecycle.heartbeat_of(run) is not None
    run.end()
    assert run.get_metrics()["loss"]["count"] == 1
