"""Tracking processes that die, are stopped, or lose the database: what the registry keeps of their runs."""

import os
import signal
import subprocess
import sys
import time
import uuid

import pytest

from gemini.api.model_run import ModelRun
from gemini.api.tracking import MetricBuffer
from gemini.registry import registry
from gemini.tracking import lifecycle

# A training script: starts a run, logs 50 points, makes them durable, says so, and waits (or dies).
TRAINER = """
import sys, time
from gemini.api.model_run import ModelRun
mode = sys.argv[1]
if mode == "exit-without-end" or mode == "uncaught":
    run = ModelRun.start(model_run_info={"mode": mode})
    run.log_metrics({"loss": 1.0}, step=0)
    print(run.id, flush=True)
    if mode == "uncaught":
        raise RuntimeError("diverged")
    sys.exit(0)
with ModelRun.track(model_run_info={"mode": mode}) as run:
    for step in range(50):
        run.log_metrics({"loss": 1 / (step + 1)}, step=step)
    run.flush()
    print(run.id, flush=True)
    while True:
        time.sleep(0.05)
"""


def start_trainer(mode: str) -> tuple[subprocess.Popen, uuid.UUID]:
    process = subprocess.Popen(
        [sys.executable, "-c", TRAINER, mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=30)
        pytest.fail(f"the trainer exited with {process.returncode}: {process.stderr.read()}")
    return process, uuid.UUID(line.strip())


def wait_for_status(run_id: uuid.UUID, status: str, seconds: float = 20) -> str:
    deadline = time.monotonic() + seconds
    while True:
        current = ModelRun.get_by_id(run_id).status
        if current == status or time.monotonic() > deadline:
            return current
        time.sleep(0.1)


def test_a_tracking_process_killed_with_sigkill_leaves_a_lost_run_with_its_flushed_points(db, monkeypatch):
    monkeypatch.setenv("GEMINI_HEARTBEAT_TIMEOUT", "3")
    process, run_id = start_trainer("sleep")
    assert ModelRun.get_by_id(run_id).status == "running"
    process.kill()
    process.wait(timeout=30)
    assert wait_for_status(run_id, "lost") == "lost"
    assert len(registry().metric_history(run_id=run_id, key="loss").points()) == 50


def test_sigterm_ends_a_tracked_run_killed(db):
    process, run_id = start_trainer("sleep")
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 128 + signal.SIGTERM
    run = ModelRun.get_by_id(run_id)
    assert run.status == "killed"
    assert run.error_type == "SIGTERM"
    assert len(registry().metric_history(run_id=run_id, key="loss").points()) == 50


def test_a_started_run_left_open_ends_finished_at_interpreter_exit_with_its_points(db):
    process, run_id = start_trainer("exit-without-end")
    assert process.wait(timeout=30) == 0
    assert ModelRun.get_by_id(run_id).status == "finished"
    assert registry().metric_summaries(run_id=run_id)["loss"].count == 1


def test_an_uncaught_exception_ends_a_started_run_failed_at_interpreter_exit(db):
    process, run_id = start_trainer("uncaught")
    assert process.wait(timeout=30) == 1
    run = ModelRun.get_by_id(run_id)
    assert (run.status, run.error_type, run.error_message) == ("failed", "RuntimeError", "diverged")


def test_a_failed_write_keeps_the_points_warns_and_succeeds_later(db, monkeypatch, tmp_path, caplog):
    run = ModelRun.start()
    run.log_metrics({"loss": 0.5}, step=0)
    # The registry becomes unreachable: its SQLite file would sit under a regular file.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    monkeypatch.setenv("GEMINI_DATABASE_URL", f"sqlite:///{blocker}/gemini.db")
    assert run.flush() is False
    run.log_metrics({"loss": 0.25}, step=1)  # training goes on
    assert "points kept to try again" in caplog.text
    monkeypatch.setenv("GEMINI_DATABASE_URL", db)
    assert run.flush() is True
    assert [point["value"] for point in run.get_metric_history("loss")] == [0.5, 0.25]
    run.end()


def test_a_batch_retried_after_its_answer_was_lost_is_stored_once(db):
    run = ModelRun.start()
    calls = []

    def write_then_lose_the_answer(run_id, batch_id, points):
        calls.append(batch_id)
        registry().log_batch(run_id=run_id, batch_id=batch_id, points=points)
        if len(calls) == 1:
            raise ConnectionError("the answer never came")

    buffer = MetricBuffer(run.id, write_batch=write_then_lose_the_answer)
    buffer.add([("loss", 1.0), ("map50", 0.5)], step=0)
    assert buffer.flush() is False
    assert buffer.flush() is True
    buffer.stop()
    assert calls[0] == calls[1]
    assert registry().metric_summaries(run_id=run.id)["loss"].count == 1
    run.end()


def test_the_background_thread_writes_without_flush(db):
    run = ModelRun.start()
    run._buffer.flush_seconds = 0.05  # wakes the writer, which waits 0.05 s from now on
    run.log_metric("loss", 1.0, step=0)
    deadline = time.monotonic() + 20
    while not registry().metric_summaries(run_id=run.id) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert registry().metric_summaries(run_id=run.id)["loss"].count == 1
    run.end()


def test_the_heartbeat_thread_renews_the_heartbeat(db, monkeypatch):
    monkeypatch.setenv("GEMINI_HEARTBEAT_TIMEOUT", "1.5")
    run = ModelRun.start()
    lifecycle.heartbeat_of(run).seconds = 0.2
    time.sleep(2)
    assert ModelRun.get_by_id(run.id).status == "running"
    run.end()


if os.name != "posix":  # pragma: no cover - signals as POSIX has them
    pytestmark = pytest.mark.skip("POSIX signals")
