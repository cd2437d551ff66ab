"""The columnar body of a metric batch (``keys``, ``steps``, ``values``, ``timestamps``), beside the rows."""

import datetime as dt

import pytest

from tests.rest_api.conftest import assert_error

MOMENT = dt.datetime(2026, 11, 30, 19, 0, 0, 250_000, tzinfo=dt.timezone.utc)


def start(client) -> str:
    response = client.post("/api/model_runs/start", json={})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def send(client, run_id: str, body: dict):
    return client.post(f"/api/model_runs/{run_id}/metrics", json=body)


def columns(batch_id: str = "c1", **fields) -> dict:
    return {"batch_id": batch_id, "keys": ["loss"], "steps": [0], "values": [0.5], **fields}


def history(client, run_id: str, key: str) -> list[tuple]:
    response = client.get(f"/api/model_runs/{run_id}/metrics/{key}")
    assert response.status_code == 200, response.text
    return [(point["step"], point["value"], point["timestamp"]) for point in response.json()]


def summaries(client, run_id: str) -> list[dict]:
    response = client.get(f"/api/model_runs/{run_id}/metrics")
    assert response.status_code == 200, response.text
    return response.json()


def test_columns_store_what_the_same_rows_store(client):
    points = [
        ("loss", 0, 0.9, MOMENT),
        ("metrics/mAP50(B)", 0, 0.41, MOMENT),
        ("loss", 1, "NaN", MOMENT + dt.timedelta(seconds=1.5)),
        ("loss", 2, 7, MOMENT + dt.timedelta(microseconds=1)),
        ("lr", 0, "-Infinity", MOMENT),
    ]
    by_rows, by_columns = start(client), start(client)
    rows = [{"key": key, "step": step, "value": value, "timestamp": stamp.isoformat()} for key, step, value, stamp in points]
    assert send(client, by_rows, {"batch_id": "b", "points": rows}).json() == {"batch_id": "b", "written": True}
    body = {
        "batch_id": "b",
        "keys": [point[0] for point in points],
        "steps": [point[1] for point in points],
        "values": [point[2] for point in points],
        "timestamps": [point[3].timestamp() for point in points],
    }
    assert send(client, by_columns, body).json() == {"batch_id": "b", "written": True}
    assert summaries(client, by_columns) == summaries(client, by_rows)
    for key in ("loss", "metrics/mAP50(B)", "lr"):
        assert history(client, by_columns, key) == history(client, by_rows, key)
    assert [value for _, value, _ in history(client, by_columns, "loss")] == [0.9, "NaN", 7.0]


def test_non_finite_values_are_the_strings_of_the_rows(client):
    run = start(client)
    body = columns(keys=["x", "x", "x"], steps=[0, 1, 2], values=["NaN", "Infinity", "-Infinity"])
    assert send(client, run, body).status_code == 200
    assert [value for _, value, _ in history(client, run, "x")] == ["NaN", "Infinity", "-Infinity"]
    assert summaries(client, run) == [
        {"key": "x", "last": "-Infinity", "min": "-Infinity", "max": "Infinity", "step": 2, "count": 3}
    ]


def test_timestamps_are_seconds_since_1970_and_now_when_omitted_or_null(client):
    run = start(client)
    before = dt.datetime.now(dt.timezone.utc)
    assert send(client, run, columns("a", keys=["omitted"])).status_code == 200
    body = columns("b", keys=["given"] * 3, steps=[0, 1, 2], values=[1, 2, 3], timestamps=[0, None, 1796061600.5])
    assert send(client, run, body).status_code == 200
    after = dt.datetime.now(dt.timezone.utc)

    def moment(text: str) -> dt.datetime:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))

    [(_, _, omitted)] = history(client, run, "omitted")
    assert before <= moment(omitted) <= after
    epoch, null, given = (moment(stamp) for _, _, stamp in history(client, run, "given"))
    assert epoch == dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    assert before <= null <= after
    assert given == dt.datetime(2026, 11, 30, 18, 0, 0, 500_000, tzinfo=dt.timezone.utc)


def test_a_batch_id_sent_again_changes_nothing(client):
    run = start(client)
    assert send(client, run, columns("again", values=[1.0])).json()["written"] is True
    assert send(client, run, columns("again", values=[2.0])).json() == {"batch_id": "again", "written": False}
    assert send(client, run, {"batch_id": "again", "points": [{"key": "loss", "step": 0, "value": 3.0}]}).json()[
        "written"
    ] is False
    assert [value for _, value, _ in history(client, run, "loss")] == [1.0]


def test_a_key_and_step_given_twice_keeps_the_last(client):
    run = start(client)
    assert send(client, run, columns(keys=["loss", "loss", "acc"], steps=[3, 3, 3], values=[1.0, 2.0, 3.0])).status_code == 200
    assert [value for _, value, _ in history(client, run, "loss")] == [2.0]
    assert [summary["key"] for summary in summaries(client, run)] == ["acc", "loss"]


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"steps": [0, 1]}, "steps"),
        ({"values": []}, "values"),
        ({"timestamps": [1.0, 2.0]}, "timestamps"),
        ({"keys": "loss"}, "keys"),
        ({"keys": ["loss", 3], "steps": [0, 1], "values": [1, 2]}, "keys.1"),
        ({"keys": [""]}, "keys.0"),
        ({"keys": ["nul\u0000"]}, "keys[0]"),
        ({"keys": ["k" * 251]}, "keys[0]"),
        ({"steps": [-1]}, "steps.0"),
        ({"steps": [1.0]}, "steps.0"),
        ({"steps": ["1"]}, "steps.0"),
        ({"steps": [2**63]}, "steps[0]"),
        ({"values": ["nan"]}, "values.0"),
        ({"values": [True]}, "values.0"),
        ({"values": [None]}, "values.0"),
        ({"timestamps": ["2026-11-30T19:00:00Z"]}, "timestamps.0"),
        ({"timestamps": [1e20]}, "timestamps[0]"),
        ({"timestamps": [-1e12]}, "timestamps[0]"),
        ({"batch_id": ""}, "batch_id"),
        ({"points": []}, "keys"),
        ({"extra": 1}, "extra"),
    ],
)
def test_a_malformed_column_is_422_naming_it_and_nothing_is_written(client, fields, named):
    run = start(client)
    assert_error(send(client, run, {**columns("bad"), **fields}), 422, "invalid_input", named)
    assert summaries(client, run) == []
    # The batch id was not used up by the refusal.
    assert send(client, run, columns("bad")).json()["written"] is True


def test_a_missing_column_is_422_naming_it(client):
    run = start(client)
    assert_error(send(client, run, {"batch_id": "b", "keys": ["loss"], "steps": [0]}), 422, "invalid_input", "values")
    assert summaries(client, run) == []


def test_columns_for_an_unknown_run_are_404(client):
    assert_error(send(client, "00000000-0000-0000-0000-000000000001", columns()), 404, "not_found")
