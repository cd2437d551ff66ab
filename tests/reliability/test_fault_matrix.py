"""The fault matrix of the background paths: a fault at each step of the metric buffer, the offline spool
and the heartbeat, before the step's write and after it (the write done, its answer lost).

The rule it enforces: once the fault has passed, every point, artifact and end is stored exactly once,
with the job's values and times; nothing acknowledged is missing, nothing is stored twice.
"""

import datetime as dt
import hashlib
import threading
import time

import pytest

from gemini.domain.errors import ServerUnreachableError
from gemini.registry import registry
from gemini.remote.spooling import send_entry
from gemini.tracking import spool
from gemini.tracking.buffer import MetricBuffer
from gemini.tracking.heartbeat import Heartbeat
from tests.conftest import server_database

BATCHES = 6
POINTS_PER_BATCH = 100
FAULTS = ("before", "after")


class FaultAt:
    """Calls ``operation`` and fails once, at call number ``at`` (from 0): before doing it, or after."""

    def __init__(self, operation, *, at: int, fault: str) -> None:
        self.operation, self.at, self.fault = operation, at, fault
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, *arguments, **keywords):
        with self.lock:
            call, self.calls = self.calls, self.calls + 1
        if call == self.at and self.fault == "before":
            raise ServerUnreachableError("injected: the request never left")
        result = self.operation(*arguments, **keywords)
        if call == self.at and self.fault == "after":
            raise ServerUnreachableError("injected: the answer was lost")
        return result


def _write(run_id, batch_id, points):
    return registry().log_batch(run_id=run_id, batch_id=batch_id, points=points)


@pytest.mark.parametrize("fault", FAULTS)
@pytest.mark.parametrize("at", range(BATCHES))
def test_a_buffer_write_failing_at_any_batch_loses_and_doubles_nothing(registry_url, at, fault):
    run = registry().start_run(model_run_info={"fault": f"{fault}-{at}"})
    write = FaultAt(_write, at=at, fault=fault)
    buffer = MetricBuffer(run.id, write_batch=write, flush_points=POINTS_PER_BATCH, flush_seconds=3600)
    # The writer thread is stopped first, so every batch is written by ``flush`` in this thread: with it
    # running, a full batch added after the failed one woke it to repeat the write before ``flush`` did.
    buffer.stop()
    try:
        for step in range(BATCHES * POINTS_PER_BATCH):
            buffer.add([("loss", 1 / (step + 1))], step=step)
        assert buffer.flush() is False  # the fault: the batch and those after it are kept
        assert buffer.unwritten() == (BATCHES - at) * POINTS_PER_BATCH
        assert buffer.flush() is True
    finally:
        buffer.stop()
    history = registry().metric_history(run_id=run.id, key="loss").points()
    assert [point.step for point in history] == list(range(BATCHES * POINTS_PER_BATCH))
    assert [point.value for point in history] == [1 / (step + 1) for step in range(BATCHES * POINTS_PER_BATCH)]
    assert write.calls == BATCHES + 1  # the failed batch once more, nothing else


def test_a_heartbeat_failing_at_any_beat_goes_on_beating(registry_url):
    run = registry().start_run(model_run_info={"beats": 1})
    for at in range(3):
        beat = FaultAt(lambda run_id: registry().heartbeat(run_id=run_id), at=at, fault="before")
        heartbeat = Heartbeat(run.id, send=beat, seconds=0.02)
        try:
            deadline = time.monotonic() + 10
            while beat.calls < at + 3 and time.monotonic() < deadline:
                time.sleep(0.01)
        finally:
            heartbeat.stop()
        assert beat.calls >= at + 3, "the heartbeat stopped after its failed beat"
    assert registry().get_run(run_id=run.id).status == "running"


# -- the offline spool, sent to a real server ---------------------------------------------------------

STEPS = [0, 1, 2]
WEIGHTS = b"weights " * 2000


def _spool_a_run(pending: spool.Spool, run_id: str, tmp_path, ended_at: dt.datetime, measured_at: dt.datetime):
    """What a job whose server went away leaves: three metric batches, an artifact and the end."""
    for step in STEPS:
        point = {"key": "loss", "step": step, "value": step / 10, "timestamp": measured_at.isoformat()}
        pending.add(run_id, spool.METRICS, {"batch_id": f"{run_id}-{step}", "points": [point]})
    weights = tmp_path / "last.pt"
    weights.write_bytes(WEIGHTS)
    copy = pending.keep_artifact_copy(weights, run_id, "weights/last.pt")
    payload = {"name": "weights/last.pt", "copy": str(copy), "sha256": hashlib.sha256(WEIGHTS).hexdigest()}
    pending.add(run_id, spool.ARTIFACT, {**payload, "size": len(WEIGHTS)})
    end = {"status": "finished", "error_type": None, "error_message": None, "ended_at": ended_at.isoformat()}
    pending.add(run_id, spool.END, end)


def test_a_spool_send_failing_at_any_entry_delivers_each_entry_once(spooling_server, tmp_path, monkeypatch):
    monkeypatch.setattr(spool.Spool, "start_background_sender", lambda self: None)  # sends only when told
    entries = len(STEPS) + 2
    for at in range(entries):
        for fault in FAULTS:
            run = registry().start_run(model_run_info={"spool fault": f"{fault}-{at}"})
            measured_at = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=10)  # the job's clock
            ended_at = dt.datetime.now(dt.timezone.utc)  # before the delivery, which must not replace it
            _spool_a_run(spool.Spool(spooling_server.url, send_entry), str(run.id), tmp_path, ended_at, measured_at)
            faulty = spool.Spool(spooling_server.url, FaultAt(send_entry, at=at, fault=fault))
            first = faulty.send_all()
            assert (sum(first.sent.values()), first.left) == (at, entries - at)
            second = faulty.send_all()
            assert (second.left, second.failed) == (0, 0)

            on_server = server_database()
            stored = on_server.get_run(run_id=run.id)
            assert (stored.status, stored.ended_at) == ("finished", ended_at)
            history = on_server.metric_history(run_id=run.id, key="loss").points()
            assert [(point.step, point.value, point.timestamp) for point in history] == [
                (step, step / 10, measured_at) for step in STEPS
            ]
            (artifact,) = on_server.search_artifacts(run_id=run.id).items
            assert (artifact.name, artifact.size) == ("weights/last.pt", len(WEIGHTS))
