"""The hostile-input matrix: every field of every JSON request of the REST API, and every query parameter
of its reads, given each value of ``HOSTILE_VALUES`` in turn, on SQLite and PostgreSQL.

The rule it enforces: no 5xx and no error logged by the server; an input refused is a 4xx whose text
names what was wrong; and whatever was accepted reads back, through the API and through a whole export.
The operations come from the app's own OpenAPI schema, so a new operation without a base request here
fails the test instead of going untried.
"""

import io
import json
import logging
import uuid
from collections import Counter
from typing import Any
from urllib.parse import quote

import pytest

from gemini.registry import registry
from tests.rest_api.conftest import app, client, token  # noqa: F401 - fixtures

# JSON text, not Python values: the lone surrogate and NUL travel as JSON escapes, the number literals
# as written, exactly what a hostile client can send.
HOSTILE_VALUES: list[str] = [
    "null",
    "true",
    "0",
    "-1",
    "9223372036854775807",  # the largest step
    "9223372036854775808",
    "-9223372036854775809",
    "1" + "0" * 400,
    "1e309",
    "-0.0",
    "1.5",
    "1e-320",
    '""',
    '" "',
    '"' + "n" * 255 + '"',
    '"' + "n" * 256 + '"',
    '"' + "x" * 20_000 + '"',
    '"\\u0000"',
    '"a\\u0000b"',
    '"\\ud800"',
    '"\\udfff tail"',
    '"\\u202eevil"',
    '"' + "🌽" * 300 + '"',
    '"NaN"',
    '"Infinity"',
    '"-Infinity"',
    '"../../etc/passwd"',
    "\"'; DROP TABLE model_runs; --\"",
    '"0001-01-01T00:00:00+05:00"',
    '"9999-12-31T23:00:00-05:00"',
    '"2026-13-01T00:00:00Z"',
    '"2026-12-04T00:00:00Z"',
    '"00000000-0000-0000-0000-000000000000"',
    "[]",
    "[null]",
    '["a", 1]',
    "{}",
    '{"": null}',
    '{"a": {"b": {"c": [1, 2, {"d": "\\u0000"}]}}}',
    '{"' + "k" * 300 + '": 1}',
    "[" * 70 + "]" * 70,
    '{"x": ' * 70 + "1" + "}" * 70,
]

# What each JSON-body operation is sent when nothing is hostile: field -> JSON text. {run}, {model},
# {experiment} and {model_name} are the ids and names of records made for the test.
BASE_BODIES: dict[tuple[str, str], dict[str, str]] = {
    ("POST", "/api/models"): {
        "model_name": '"matrix-{n}"',
        "model_url": '"https://example.org/m"',
        "model_info": '{"arch": "yolo"}',
        "experiment_name": '"trial"',
    },
    ("PATCH", "/api/models/{model_id}"): {"model_url": '"https://example.org/u"', "model_info": '{"v": 2}'},
    ("PATCH", "/api/models/id/{model_id}"): {"model_url": '"https://example.org/u"', "model_info": '{"v": 3}'},
    ("POST", "/api/models/{model_id}/runs"): {"model_run_info": '{"n": {n}}'},
    ("POST", "/api/models/id/{model_id}/runs"): {"model_run_info": '{"n": {n}}'},
    ("POST", "/api/models/{model_id}/experiments"): {"experiment_name": '"trial-{n}"'},
    ("POST", "/api/model_runs"): {"model_run_info": '{"n": {n}}', "model_name": '"{model_name}"'},
    ("POST", "/api/model_runs/lookup"): {"model_run_info": '{"n": 1}', "model_name": '"{model_name}"'},
    ("POST", "/api/model_runs/bulk"): {"model_run_infos": '[{"n": {n}}]', "model_name": '"{model_name}"'},
    ("PATCH", "/api/model_runs/{run_id}"): {"model_run_info": '{"patched": {n}}'},
    ("PUT", "/api/model_runs/{run_id}/model"): {"model_name": '"{model_name}"'},
    ("POST", "/api/model_runs/start"): {"model_run_info": '{"tracked": {n}}', "model_name": '"{model_name}"'},
    ("POST", "/api/model_runs/{run_id}/end"): {
        "status": '"failed"',
        "error_type": '"RuntimeError"',
        "error_message": '"diverged"',
    },
    ("POST", "/api/model_runs/{run_id}/metrics"): {
        "batch_id": '"b-{n}"',
        "points": '[{"key": "loss", "step": {n}, "value": 0.5}]',
    },
    ("POST", "/api/metrics/summaries"): {"run_ids": '["{run_id}"]'},
    ("POST", "/api/experiments"): {"experiment_name": '"exp-{n}"', "experiment_info": '{"site": "Davis"}'},
    ("POST", "/api/tokens"): {"name": '"token-{n}"', "scope": '"read"'},
    ("POST", "/api/model_runs/{run_id}/versions"): {"artifact_name": '"weights/best.pt"', "version_info": '{"map50": 0.5}'},
    ("POST", "/api/model_runs/{run_id}/artifact_uploads"): {
        "artifacts": '[{"name": "weights/{n}.pt", "sha256": "' + "ab" * 32 + '", "size": 7}]',
    },
    ("POST", "/api/model_runs/{run_id}/artifact_records"): {
        "artifacts": '[{"name": "weights/{n}.pt", "sha256": "' + "ab" * 32 + '", "size": 7}]',
    },
    ("PATCH", "/api/models/versions/{version_id}"): {"version_info": '{"map50": {n}}'},
    ("POST", "/api/model_records"): {
        "records": '[{"model_name": "{model_name}", "timestamp": "2026-06-01T10:00:00Z", "model_data": {"n": {n}}}]'
    },
    ("PATCH", "/api/models/records/id/{record_id}"): {"model_data": '{"n": {n}}', "record_info": '{"plot": {n}}'},
}

# The fields of one metric point, given hostile values inside the batch.
POINT_FIELDS = ("key", "step", "value", "timestamp")

# The same operation's other body, a metric batch as columns: each field, then the one entry of each
# column, given hostile values.
METRIC_BATCH = ("POST", "/api/model_runs/{run_id}/metrics")
METRIC_COLUMNS: dict[str, str] = {
    "batch_id": '"c-{n}"',
    "keys": '["loss"]',
    "steps": "[{n}]",
    "values": "[0.5]",
    "timestamps": "[1796065200.25]",
}
COLUMN_ENTRIES = ("keys", "steps", "values", "timestamps")

QUERY_READS: dict[str, dict[str, str]] = {
    "/api/model_runs": {"limit": "5", "where": "params.lr < 0.1", "order_by": "-created_at"},
    "/api/models": {"limit": "5"},
    "/api/experiments": {"limit": "5"},
    "/api/metrics/history": {"key": "loss", "run_id": "{run_id}", "max_points": "10"},
    "/api/models/lookup/versions": {"ref": "matrix-base@latest"},
    "/api/model_records": {
        "limit": "5",
        "site_names": "Davis",
        "start_timestamp": "2026-06-01T00:00:00Z",
        "collection_date": "2026-06-01",
        "model_data": '{"n": 1}',
        "model_version": "matrix-base@latest",
    },
}
HOSTILE_QUERY_VALUES = [
    "",
    "-1",
    "0",
    "1" + "0" * 400,
    "9" * 5000,
    "1e309",
    "\x00",
    "\ud800",
    "%ff",
    "params.lr < " + "9" * 5000,
    "params.lr < 1e999",
    "(" * 300 + "x" + ")" * 300,
    "max(metric.loss) > NaN",
    'status = "' + "s" * 10_000 + '"',
    "order_by=-max(metric.",
]


def _fill(text: str, context: dict[str, Any]) -> str:
    for name, value in context.items():
        text = text.replace("{" + name + "}", str(value))
    return text


def _body(fields: dict[str, str]) -> str:
    return "{" + ", ".join(f'"{name}": {value}' for name, value in fields.items()) + "}"


@pytest.fixture
def records(client, token) -> dict[str, Any]:
    """A model and a tracked run to aim at, with the server's admin token on every request (so that
    token creation is tried too)."""
    client.headers["Authorization"] = f"Bearer {token}"
    model = client.post("/api/models", json={"model_name": "matrix-base"}).json()
    run = client.post("/api/model_runs/start", json={"model_run_info": {"base": 1}, "model_name": "matrix-base"}).json()
    client.put(f"/api/model_runs/{run['id']}/artifacts/weights/best.pt", content=b"weights")
    version = client.post(f"/api/model_runs/{run['id']}/versions", json={"artifact_name": "weights/best.pt"}).json()
    record = client.post("/api/model_records", json={"records": [{"model_name": "matrix-base"}]}).json()
    return {
        "model_id": model["id"],
        "model_name": "matrix-base",
        "run_id": run["id"],
        "version_id": version["id"],
        "record_id": record["ids"][0],
    }


def test_every_json_operation_of_the_schema_has_a_base_request(app):
    declared = {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method, operation in operations.items()
        if "application/json" in operation.get("requestBody", {}).get("content", {})
    }
    assert declared == set(BASE_BODIES)


def _send(client, method: str, path: str, body: str):
    return client.request(method, path, content=body.encode("utf-8", "surrogatepass"), headers={"Content-Type": "application/json"})


def test_every_field_of_every_request_refuses_or_keeps_each_hostile_value(client, records, caplog):
    caplog.set_level(logging.WARNING)
    statuses: Counter[int] = Counter()
    failures: list[str] = []
    tried = 0
    bodies = [*BASE_BODIES.items(), (METRIC_BATCH, METRIC_COLUMNS)]
    for (method, template), base in bodies:
        nested = [f"points.{name}" for name in POINT_FIELDS] if "points" in base else []
        if base is METRIC_COLUMNS:
            nested = [f"{name}[0]" for name in COLUMN_ENTRIES]
        for field in [*base, *nested]:
            for value in HOSTILE_VALUES:
                tried += 1
                context = {**records, "n": tried}
                fields = {name: _fill(text, context) for name, text in base.items()}
                if field.startswith("points."):
                    point = {"key": '"loss"', "step": str(tried), "value": "0.5", "timestamp": "null"}
                    point[field.removeprefix("points.")] = value
                    fields["points"] = "[" + _body(point) + "]"
                elif field.endswith("[0]"):
                    fields[field.removesuffix("[0]")] = "[" + value + "]"
                else:
                    fields[field] = value
                path = _fill(template, context)
                response = _send(client, method, path, _body(fields))
                statuses[response.status_code] += 1
                if response.status_code >= 500:
                    failures.append(f"{method} {path} {field}={value[:60]}: {response.status_code} {response.text[:200]}")
                elif response.status_code >= 400 and not response.json().get("detail"):
                    failures.append(f"{method} {path} {field}={value[:60]}: {response.status_code} without a reason")
    server_errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert failures == [] and server_errors == [], (failures[:20], server_errors[:5])
    fields = sum(len(base) for _, base in bodies) + len(POINT_FIELDS) + len(COLUMN_ENTRIES)
    assert tried == fields * len(HOSTILE_VALUES)
    assert statuses[422] > 0 and sum(count for status, count in statuses.items() if status < 300) > 0
    _everything_reads_back(client)


def test_every_query_parameter_of_the_reads_refuses_or_answers_each_hostile_value(client, records, caplog):
    caplog.set_level(logging.WARNING)
    failures = []
    for path, base in QUERY_READS.items():
        for name in base:
            for value in HOSTILE_QUERY_VALUES:
                params = {key: _fill(text, records) for key, text in base.items()}
                params[name] = value
                response = client.get(path, params={key: text.encode("utf-8", "surrogatepass") for key, text in params.items()})
                if response.status_code >= 500:
                    failures.append(f"GET {path} {name}={value[:60]!r}: {response.status_code} {response.text[:200]}")
    server_errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert failures == [] and server_errors == [], (failures[:20], server_errors[:5])


def _everything_reads_back(client) -> None:
    """Every record the matrix left is read by the API, every metric key's history too, and the whole
    registry exports."""
    runs = client.get("/api/model_runs", params={"limit": 1000})
    assert runs.status_code == 200, runs.text
    for run in runs.json():
        assert client.get(f"/api/model_runs/{run['id']}").status_code == 200
        summaries = client.get(f"/api/model_runs/{run['id']}/metrics")
        assert summaries.status_code == 200, summaries.text
        for summary in summaries.json():
            key = quote(summary["key"], safe="")
            history = client.get(f"/api/model_runs/{run['id']}/metrics/{key}")
            assert history.status_code == 200, (summary["key"], history.text)
            assert len(history.json()) == summary["count"], summary["key"]
    for path in ("/api/models", "/api/experiments", "/api/tokens"):
        assert client.get(path, params={"limit": 1000}).status_code == 200, path
    exported = io.StringIO()
    registry().export_registry(stream=exported)
    assert all(json.loads(line) for line in exported.getvalue().splitlines())
    assert str(uuid.UUID(runs.json()[0]["id"])) in exported.getvalue()


# -- the Python API, locally on both databases and through a server -------------------------------------

PYTHON_VALUES: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    10**400,
    float("nan"),
    float("inf"),
    -0.0,
    "",
    " ",
    "n" * 256,
    "\x00",
    "a\x00b",
    "\ud800",
    "\u202eevil",
    "🌽" * 300,
    "'; DROP TABLE model_runs; --",
    b"bytes",
    [],
    [None],
    {},
    {"": None},
    {"k" * 300: 1},
    {"nested": {"nul": "\x00"}},
    {"lone": "\udfff"},
    {"number": float("nan")},
    {1: "not a text key"},
    {"set": {1, 2}},
    uuid.UUID(int=0),
    object(),
]


@pytest.mark.parametrize("value", PYTHON_VALUES, ids=[f"value{index}" for index in range(len(PYTHON_VALUES))])
def test_the_seed_api_answers_none_or_keeps_each_hostile_value_in_every_mode(registry_url, value, caplog):
    from gemini.api.model_run import ModelRun

    as_info = ModelRun.create(model_run_info=value, model_name="matrix")
    as_name = ModelRun.create(model_run_info={"n": 1}, model_name=value)
    for created, given in ((as_info, value), (as_name, None)):
        if created is not None:
            again = ModelRun.get_by_id(created.id)
            assert again is not None and again.model_run_info == created.model_run_info
            if given is not None:
                assert created.model_run_info == given
    assert ModelRun.get_by_id(value) is None or isinstance(value, uuid.UUID)
    assert isinstance(ModelRun.search(model_run_info=value) or [], list)
    base = ModelRun.create(model_run_info={"base": True}, model_name="matrix")
    updated = base.set_info(value)
    assert updated is None or ModelRun.get_by_id(base.id).model_run_info == value
    refused = [record for record in caplog.records if record.levelno >= logging.WARNING]
    assert all(record.getMessage() for record in refused)


@pytest.mark.parametrize("value", PYTHON_VALUES, ids=[f"value{index}" for index in range(len(PYTHON_VALUES))])
def test_log_metrics_refuses_by_type_or_value_error_or_stores_each_hostile_key_and_value(registry_url, value):
    from gemini.api.model_run import ModelRun

    run = ModelRun.start(model_run_info={"matrix": True})
    kept: dict[str, Any] = {}
    for key, number in (("loss", value), (value, 0.5)):
        try:
            run.log_metrics({key: number}, step=1)
        except (TypeError, ValueError):
            continue
        kept[key] = number
    assert run.end() is not None
    summaries = registry().metric_summaries(run_id=run.id)
    assert sorted(summaries) == sorted(kept)
    for key, number in kept.items():
        (point,) = registry().metric_history(run_id=run.id, key=key).points()
        assert point.value == number or (point.value != point.value and number != number)
