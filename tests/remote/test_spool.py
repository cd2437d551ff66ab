"""The offline spool: a server that goes away in the middle of a tracked run loses nothing, and a client
killed while it sends the spool duplicates nothing."""

import os
import signal
import subprocess
import sys
import time

from click.testing import CliRunner

from gemini.api.model_run import ModelRun
from gemini.cli.main import cli
from gemini.tracking import lifecycle, spool
from tests.conftest import server_database


def test_a_server_stopped_during_a_tracked_run_loses_nothing_once_it_is_back(spooling_server, tmp_path):
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"weights" * 1000)
    with ModelRun.track(model_run_info={"lr": 0.1}, model_name="spooled") as run:
        for step in range(10):
            run.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
        assert run.flush()
        spooling_server.stop()
        for step in range(10, 20):
            run.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
        assert run.flush()  # kept in the spool: the training job goes on
        assert run.log_artifact(weights)["size"] == 7000
    assert run.status == "finished"
    assert spool.pending_count(spooling_server.url) == 3  # the second batch, the artifact, the end
    assert server_database().get_run(run_id=run.id).status in ("running", "lost")

    spooling_server.start()
    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 0, result.output
    assert "nothing left to send" in result.stderr

    stored = server_database().get_run(run_id=run.id)
    assert stored.status == "finished"
    history = server_database().metric_history(run_id=run.id, key="loss").points()
    assert [point.step for point in history] == list(range(20))
    assert server_database().metric_summaries(run_id=run.id)["loss"].count == 20
    assert [artifact.name for artifact in server_database().search_artifacts(run_id=run.id, with_total=True).items] == ["best.pt"]
    assert spool.pending_count() == 0
    assert not any(spool.artifact_directory().iterdir())


def test_sync_says_what_is_left_while_the_server_is_away(spooling_server):
    with ModelRun.track(model_run_info={"lr": 0.2}) as run:
        spooling_server.stop()
        run.log_metric("loss", 0.5, step=0)
    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 1
    assert "2 entries left to send" in result.stderr
    spooling_server.start()
    assert CliRunner().invoke(cli, ["sync"]).exit_code == 0
    assert server_database().get_run(run_id=run.id).status == "finished"


def test_later_batches_of_a_spooled_run_queue_behind_it(spooling_server, monkeypatch):
    monkeypatch.setattr(spool.Spool, "start_background_sender", lambda self: None)
    run = ModelRun.start(model_run_info={"lr": 0.3})
    spooling_server.stop()
    run.log_metric("loss", 1.0, step=0)
    assert run.flush()
    spooling_server.start()
    # The server answers again, but the run's first value waits in the spool: the second must not
    # reach the server before it, or the older value would win when the spool is sent.
    run.log_metric("loss", 2.0, step=0)
    assert run.flush()
    assert spool.pending_count(spooling_server.url) == 2
    assert server_database().metric_history(run_id=run.id, key="loss").points() == []
    assert CliRunner().invoke(cli, ["sync"]).exit_code == 0
    assert [point.value for point in server_database().metric_history(run_id=run.id, key="loss").points()] == [2.0]
    run.end()


SYNC_SCRIPT = "from gemini.cli.main import cli; cli(['sync'])"


def test_a_client_killed_while_sending_the_spool_duplicates_nothing(spooling_server, monkeypatch):
    # The spool is filled while the server is away, and sent only by the processes the test starts.
    monkeypatch.setattr(spool.Spool, "start_background_sender", lambda self: None)
    batches, points_per_batch = 80, 200
    run = ModelRun.start(model_run_info={"lr": 0.4})
    lifecycle.heartbeat_of(run).stop()  # no heartbeats: only the spool talks to the server
    spooling_server.stop()
    for batch in range(batches):
        run.log_metrics({"loss": float(batch)}, step=batch)
        for key in range(points_per_batch - 1):
            run.log_metrics({f"k{key}": float(batch)}, step=batch)
        assert run.flush()
    assert spool.pending_count(spooling_server.url) == batches
    spooling_server.start()

    environment = {**os.environ}
    sender = subprocess.Popen([sys.executable, "-c", SYNC_SCRIPT], env=environment, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and spool.pending_count(spooling_server.url) > batches * 3 // 4:
        time.sleep(0.01)
    sender.send_signal(signal.SIGKILL)
    sender.wait(30)
    left = spool.pending_count(spooling_server.url)
    assert 0 < left < batches, "the sender was not killed part way; make the spool larger"

    result = CliRunner().invoke(cli, ["sync"])
    assert result.exit_code == 0, result.output
    assert spool.pending_count() == 0
    summaries = server_database().metric_summaries(run_id=run.id)
    assert summaries["loss"].count == batches
    assert [point.step for point in server_database().metric_history(run_id=run.id, key="loss").points()] == list(range(batches))
    assert sum(summary.count for summary in summaries.values()) == batches * points_per_batch
    run.end()
