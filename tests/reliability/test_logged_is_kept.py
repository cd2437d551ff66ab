"""What a training job logs is there afterwards, or the job is told: times that both databases can read
back, strict types at the REST edge, a spooled end keeping the client's time, and a job that exits with
its work still in the spool saying so."""

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from gemini.api.model_run import ModelRun
from gemini.cli.main import cli
from gemini.domain.errors import InvalidInputError
from gemini.registry import registry
from tests.conftest import server_database
from tests.rest_api.conftest import app, client  # noqa: F401 - fixtures

LATE_EVENING_9999 = dt.datetime(9999, 12, 31, 23, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
EARLY_YEAR_1 = dt.datetime(1, 1, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=5)))


@pytest.mark.parametrize("stamp", [LATE_EVENING_9999, EARLY_YEAR_1])
def test_a_point_whose_time_leaves_the_calendar_once_in_utc_is_refused_and_the_key_stays_readable(
    registry_url, stamp
):
    run = registry().start_run(model_run_info={"n": 1})
    with pytest.raises(InvalidInputError, match="point 0: timestamp .* is out of range once in UTC"):
        registry().log_batch(run_id=run.id, batch_id="b-1", points=[("loss", 0, 1.0, stamp)])
    assert registry().metric_history(run_id=run.id, key="loss").points() == []
    registry().log_batch(run_id=run.id, batch_id="b-2", points=[("loss", 0, 1.0, None)])
    assert [point.value for point in registry().metric_history(run_id=run.id, key="loss").points()] == [1.0]


def test_a_point_time_in_another_zone_is_stored_as_the_same_moment_in_utc(registry_url):
    run = registry().start_run(model_run_info={"n": 2})
    stamp = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    registry().log_batch(run_id=run.id, batch_id="b-1", points=[("loss", 0, 1.0, stamp)])
    (stored,) = registry().metric_history(run_id=run.id, key="loss").points()
    assert stored.timestamp == stamp and stored.timestamp.utcoffset() == dt.timedelta(0)


@pytest.mark.parametrize(
    ("point", "field"),
    [
        ({"key": "loss", "step": "3", "value": 1.0}, "step"),
        ({"key": "loss", "step": 3.0, "value": 1.0}, "step"),
        ({"key": "loss", "step": True, "value": 1.0}, "step"),
        ({"key": "loss", "step": 3, "value": 1.0, "timestamp": 0}, "timestamp"),
        ({"key": "loss", "step": 3, "value": 1.0, "timestamp": "2026-11-30T19:00:00"}, "timestamp"),
        ({"key": "loss", "step": 3, "value": 1.0, "timestamp": "9999-12-31T23:00:00-05:00"}, "timestamp"),
    ],
)
def test_the_rest_edge_refuses_loose_steps_and_times_naming_the_field(client, point, field):
    run = client.post("/api/model_runs/start", json={}).json()
    response = client.post(f"/api/model_runs/{run['id']}/metrics", json={"batch_id": "b-1", "points": [point]})
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]
    assert client.get(f"/api/model_runs/{run['id']}/metrics").json() == []


@pytest.mark.parametrize("literal", ["1e309", "-1e309", "1e999999", "9" * 400, "9" * 5000])
def test_a_number_literal_no_float_can_hold_is_refused_like_any_other_too_large_number(client, literal):
    run = client.post("/api/model_runs/start", json={}).json()
    body = '{"batch_id": "b-1", "points": [{"key": "loss", "step": 0, "value": %s}]}' % literal
    response = client.post(
        f"/api/model_runs/{run['id']}/metrics", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    assert literal[:20] in response.json()["detail"] or "digits" in response.json()["detail"]
    assert client.get(f"/api/model_runs/{run['id']}/metrics").json() == []


def test_infinity_spelled_out_is_still_a_value(client):
    run = client.post("/api/model_runs/start", json={}).json()
    points = [{"key": "loss", "step": 0, "value": "Infinity"}, {"key": "loss", "step": 1, "value": 1e308}]
    response = client.post(f"/api/model_runs/{run['id']}/metrics", json={"batch_id": "b-1", "points": points})
    assert response.status_code == 200, response.text
    history = client.get(f"/api/model_runs/{run['id']}/metrics/loss").json()
    assert [point["value"] for point in history] == ["Infinity", 1e308]


def test_an_end_time_is_kept_between_the_start_and_now(client):
    run = client.post("/api/model_runs/start", json={}).json()
    response = client.post(f"/api/model_runs/{run['id']}/end", json={"ended_at": "2000-01-01T00:00:00Z"})
    assert response.status_code == 200, response.text
    assert response.json()["ended_at"] == run["started_at"]
    refused = client.post(f"/api/model_runs/{run['id']}/end", json={"ended_at": 0})
    assert refused.status_code == 422 and "ended_at" in refused.json()["detail"]  # a number is not a time


def test_an_end_time_without_an_offset_is_refused(client):
    run = client.post("/api/model_runs/start", json={}).json()
    response = client.post(f"/api/model_runs/{run['id']}/end", json={"ended_at": "2026-11-30T19:00:00"})
    assert response.status_code == 422 and "ended_at" in response.json()["detail"]
    assert client.get(f"/api/model_runs/{run['id']}").json()["status"] == "running"


def test_a_spooled_end_keeps_the_time_the_job_ended(spooling_server):
    run = ModelRun.start(model_run_info={"lr": 0.5})
    spooling_server.stop()
    asked_at = dt.datetime.now(dt.timezone.utc)
    assert run.end() is not None  # spooled
    spooling_server.start()
    # Delivered well after the job ended: the run keeps the job's end, not the delivery's.
    delivered_after = dt.datetime.now(dt.timezone.utc)
    assert CliRunner().invoke(cli, ["sync"]).exit_code == 0
    stored = server_database().get_run(run_id=run.id)
    assert stored.status == "finished"
    assert asked_at <= stored.ended_at < delivered_after


JOB = textwrap.dedent(
    """
    import datetime as dt, json, os, pathlib, signal, sys
    from gemini.api.model_run import ModelRun
    weights = pathlib.Path(sys.argv[1])
    with ModelRun.track(model_run_info={"lr": 0.1}) as run:
        os.kill(int(os.environ["SERVER_PID"]), signal.SIGKILL)
        before = dt.datetime.now(dt.timezone.utc)
        for step in range(50):
            run.log_metrics({"loss": 1 / (step + 1), "mAP50": step / 50}, step=step)
        run.flush()
        weights.write_bytes(b"weights " * 1000)
        run.log_artifact(str(weights), name="weights/last.pt")
    print(json.dumps({"run_id": str(run.id), "before": before.isoformat(),
                      "ended": dt.datetime.now(dt.timezone.utc).isoformat()}))
    """
)


def test_a_job_whose_server_dies_for_good_names_what_is_left_and_gemini_sync_delivers_it_once(
    spooling_server, tmp_path
):
    server_pid = spooling_server.served.process.pid
    environment = {**os.environ, "SERVER_PID": str(server_pid)}
    job = subprocess.run(
        [sys.executable, "-c", JOB, str(tmp_path / "last.pt")],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert job.returncode == 0, job.stderr
    warning = [line for line in job.stderr.splitlines() if "left in the offline spool" in line]
    assert len(warning) == 1, job.stderr
    assert "1 metric batches, 1 artifacts, 1 run ends" in warning[0]
    assert str(tmp_path / "client" / "spool.sqlite") in warning[0] and "gemini sync" in warning[0]
    told = json.loads(job.stdout)
    before, ended = dt.datetime.fromisoformat(told["before"]), dt.datetime.fromisoformat(told["ended"])

    spooling_server.stop()
    spooling_server.start()
    delivered_after = dt.datetime.now(dt.timezone.utc)
    assert CliRunner().invoke(cli, ["sync"]).exit_code == 0
    assert CliRunner().invoke(cli, ["sync"]).exit_code == 0  # nothing left: a second sync sends nothing again
    on_server = server_database()
    (stored,) = on_server.search_runs().items
    assert str(stored.id) == told["run_id"]
    assert stored.status == "finished"
    assert before <= stored.ended_at <= ended < delivered_after  # the job's end, not the delivery's
    for key, count in (("loss", 50), ("mAP50", 50)):
        points = on_server.metric_history(run_id=stored.id, key=key).points()
        assert [point.step for point in points] == list(range(count))  # each once
        assert all(before <= point.timestamp <= ended for point in points)  # the job's clock
    (artifact,) = on_server.search_artifacts(run_id=stored.id).items
    assert (artifact.name, artifact.size) == ("weights/last.pt", len(b"weights " * 1000))