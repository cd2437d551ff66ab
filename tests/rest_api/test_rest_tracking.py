"""The tracking endpoints: start, end, heartbeat, metric batches, histories and summaries."""

import uuid

import pytest

from tests.rest_api.conftest import assert_error, create_model, create_run

MISSING = "00000000-0000-0000-0000-000000000001"


def start(client, **body) -> dict:
    response = client.post("/api/model_runs/start", json=body)
    assert response.status_code == 201, response.text
    return response.json()


def send(client, run_id: str, points: list[dict], batch_id: str = "b1"):
    return client.post(f"/api/model_runs/{run_id}/metrics", json={"batch_id": batch_id, "points": points})


def test_start_makes_a_running_run_each_time(client):
    create_model(client, "counter")
    first = start(client, model_run_info={"lr": 1}, model_name="counter")
    second = start(client, model_run_info={"lr": 1}, model_name="counter")
    assert first["id"] != second["id"]
    assert first["status"] == "running" and first["started_at"] and first["ended_at"] is None
    assert first["model_run_info"] == {"lr": 1}


def test_start_with_a_new_model_name_creates_the_model(client):
    run = start(client, model_name="newcomer")
    model = client.get(f"/api/model_runs/{run['id']}/model").json()
    assert model["model_name"] == "newcomer"


def test_start_with_an_invalid_model_name_is_422_and_writes_nothing(client):
    assert_error(client.post("/api/model_runs/start", json={"model_name": ""}), 422, "invalid_input", "model_name")
    assert client.get("/api/models/all").json() == []


def test_end_sets_the_status_and_keeps_the_error(client):
    run = start(client)
    response = client.post(
        f"/api/model_runs/{run['id']}/end", json={"status": "failed", "error_type": "RuntimeError", "error_message": "nan loss"}
    )
    assert response.status_code == 200, response.text
    body = client.get(f"/api/model_runs/{run['id']}").json()
    assert (body["status"], body["error_type"], body["error_message"]) == ("failed", "RuntimeError", "nan loss")
    assert body["ended_at"] is not None


def test_ending_twice_is_409(client):
    run = start(client)
    client.post(f"/api/model_runs/{run['id']}/end", json={})
    assert_error(client.post(f"/api/model_runs/{run['id']}/end", json={}), 409, "conflict", "already ended")


def test_ending_a_recorded_run_is_409(client):
    run = create_run(client, {"a": 1})
    assert_error(client.post(f"/api/model_runs/{run['id']}/end", json={}), 409, "conflict", "not a tracked run")


def test_an_unknown_end_status_is_422(client):
    run = start(client)
    assert_error(client.post(f"/api/model_runs/{run['id']}/end", json={"status": "done"}), 422, "invalid_input", "status")


def test_ending_an_unknown_run_is_404(client):
    assert_error(client.post(f"/api/model_runs/{MISSING}/end", json={}), 404, "not_found")


def test_heartbeat_answers_204_then_409_once_ended(client):
    run = start(client)
    assert client.post(f"/api/model_runs/{run['id']}/heartbeat").status_code == 204
    client.post(f"/api/model_runs/{run['id']}/end", json={})
    assert_error(client.post(f"/api/model_runs/{run['id']}/heartbeat"), 409, "conflict", "not running")


def test_a_batch_is_written_once_and_read_back_by_step(client):
    run = start(client)
    points = [{"key": "loss", "step": step, "value": 1 / (step + 1)} for step in (2, 0, 1)]
    first = send(client, run["id"], points)
    assert first.status_code == 200 and first.json() == {"batch_id": "b1", "written": True}
    assert send(client, run["id"], points).json()["written"] is False
    history = client.get(f"/api/model_runs/{run['id']}/metrics/loss")
    assert history.headers["X-Total-Count"] == "3"
    assert [(point["step"], point["value"]) for point in history.json()] == [(0, 1.0), (1, 0.5), (2, 1 / 3)]


def test_non_finite_values_travel_as_strings(client):
    run = start(client)
    points = [
        {"key": "x", "step": 0, "value": "NaN"},
        {"key": "x", "step": 1, "value": "Infinity"},
        {"key": "x", "step": 2, "value": "-Infinity"},
    ]
    assert send(client, run["id"], points).status_code == 200
    values = [point["value"] for point in client.get(f"/api/model_runs/{run['id']}/metrics/x").json()]
    assert values == ["NaN", "Infinity", "-Infinity"]
    [summary] = client.get(f"/api/model_runs/{run['id']}/metrics").json()
    assert summary == {"key": "x", "last": "-Infinity", "min": "-Infinity", "max": "Infinity", "step": 2, "count": 3}


def test_keys_with_slashes_are_reached_in_the_path(client):
    run = start(client)
    send(client, run["id"], [{"key": "metrics/mAP50(B)", "step": 0, "value": 0.4}])
    history = client.get(f"/api/model_runs/{run['id']}/metrics/metrics/mAP50(B)").json()
    assert [point["value"] for point in history] == [0.4]


def test_summaries_are_a_plain_array(client):
    run = start(client)
    send(client, run["id"], [{"key": "loss", "step": 0, "value": 2.0}, {"key": "loss", "step": 1, "value": 1.0}])
    response = client.get(f"/api/model_runs/{run['id']}/metrics")
    assert response.headers["X-Total-Count"] == "1"
    assert response.json() == [{"key": "loss", "last": 1.0, "min": 1.0, "max": 2.0, "step": 1, "count": 2}]


@pytest.mark.parametrize(
    "point",
    [
        {"key": "loss", "step": 0, "value": "0.5"},
        {"key": "loss", "step": -1, "value": 0.5},
        {"key": "", "step": 0, "value": 0.5},
        {"key": "loss", "step": 0, "value": 0.5, "timestamp": "2026-11-30T19:00:00"},
        {"key": "loss", "step": 0},
    ],
)
def test_a_malformed_point_is_422_and_nothing_is_written(client, point):
    run = start(client)
    response = send(client, run["id"], [{"key": "ok", "step": 0, "value": 1.0}, point])
    assert_error(response, 422, "invalid_input")
    assert client.get(f"/api/model_runs/{run['id']}/metrics").json() == []


def test_a_batch_for_an_unknown_run_is_404(client):
    assert_error(send(client, MISSING, [{"key": "a", "step": 0, "value": 1.0}]), 404, "not_found")


def test_history_of_an_unknown_run_is_404(client):
    assert_error(client.get(f"/api/model_runs/{MISSING}/metrics/loss"), 404, "not_found")


def test_one_key_for_many_runs_keeps_the_order_given_and_skips_runs_without_it(client):
    runs = [start(client, model_run_info={"n": n}) for n in range(3)]
    for n in (0, 2):
        send(client, runs[n]["id"], [{"key": "map50", "step": step, "value": n + step} for step in range(5)])
    response = client.get(
        "/api/metrics/history", params={"key": "map50", "run_id": [runs[2]["id"], runs[1]["id"], runs[0]["id"]]}
    )
    assert response.status_code == 200, response.text
    assert [series["run_id"] for series in response.json()] == [runs[2]["id"], runs[0]["id"]]
    assert response.headers["X-Total-Count"] == "2"


def test_one_key_for_many_runs_can_be_reduced(client):
    run = start(client)
    send(client, run["id"], [{"key": "loss", "step": step, "value": float(step % 7)} for step in range(1000)])
    response = client.get("/api/metrics/history", params={"key": "loss", "run_id": run["id"], "max_points": 50})
    [series] = response.json()
    assert 2 <= len(series["steps"]) == len(series["values"]) == len(series["timestamps"]) <= 50
    assert series["reduced"] is True


def test_one_key_for_many_runs_refuses_a_bad_limit(client):
    response = client.get("/api/metrics/history", params={"key": "loss", "run_id": str(uuid.uuid4()), "max_points": 1})
    assert_error(response, 422, "invalid_input", "max_points")


def test_tracking_writes_need_the_token_when_one_is_set(client, token):
    assert_error(client.post("/api/model_runs/start", json={}), 401, "unauthorized")


def test_the_tracking_endpoints_are_in_the_openapi_schema_with_examples(client):
    schema = client.get("/openapi.json").json()
    for path in (
        "/api/model_runs/start",
        "/api/model_runs/{run_id}/end",
        "/api/model_runs/{run_id}/heartbeat",
        "/api/model_runs/{run_id}/metrics",
        "/api/model_runs/{run_id}/metrics/{key}",
        "/api/metrics/history",
    ):
        assert path in schema["paths"], path
    batch = schema["paths"]["/api/model_runs/{run_id}/metrics"]["post"]["requestBody"]["content"]["application/json"]
    rows, columns = batch["schema"]["oneOf"]
    assert rows["examples"] and columns["examples"]
    assert rows["properties"]["points"]["items"]["properties"]["step"]["minimum"] == 0
    assert columns["properties"]["steps"]["items"]["minimum"] == 0
    assert set(columns["required"]) == {"batch_id", "keys", "steps", "values"}


def test_histories_come_as_columns_with_nan_and_infinities_as_strings(client):
    run = start(client)
    values = [0.5, "NaN", "Infinity", "-Infinity", 0.25]
    send(client, run["id"], [{"key": "loss", "step": step, "value": value} for step, value in enumerate(values)])
    [series] = client.get("/api/metrics/history", params={"key": "loss", "run_id": run["id"]}).json()
    assert series["steps"] == [0, 1, 2, 3, 4] and series["values"] == values and series["reduced"] is False
    assert all(isinstance(stamp, float) for stamp in series["timestamps"])


def test_histories_read_a_range_of_steps(client):
    run = start(client)
    send(client, run["id"], [{"key": "loss", "step": step, "value": float(step)} for step in range(100)])
    [series] = client.get(
        "/api/metrics/history", params={"key": "loss", "run_id": run["id"], "start_step": 10, "end_step": 12}
    ).json()
    assert series["steps"] == [10, 11, 12] and series["values"] == [10.0, 11.0, 12.0]
    response = client.get("/api/metrics/history", params={"key": "loss", "run_id": run["id"], "start_step": 5, "end_step": 4})
    assert_error(response, 422, "invalid_input", "start_step")


def test_one_run_s_history_says_when_it_was_reduced(client):
    run = start(client)
    send(client, run["id"], [{"key": "loss", "step": step, "value": float(step % 5)} for step in range(500)])
    reduced = client.get(f"/api/model_runs/{run['id']}/metrics/loss", params={"max_points": 20})
    assert reduced.headers["X-Reduced"] == "true" and len(reduced.json()) <= 20
    whole = client.get(f"/api/model_runs/{run['id']}/metrics/loss")
    assert whole.headers["X-Reduced"] == "false" and len(whole.json()) == 500
