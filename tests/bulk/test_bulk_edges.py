"""Bulk through the edges: POST /api/model_runs/bulk, gemini runs import/export, gemini db index."""

import csv
import io
import json

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from gemini.registry import registry
from gemini.cli.main import cli
from gemini.rest_api.app import create_app


@pytest.fixture
def client(db) -> TestClient:
    return TestClient(create_app(), raise_server_exceptions=False)


def test_rest_bulk_creates_in_order_and_is_idempotent(client):
    registry().create_model(model_name="m")
    body = {"model_name": "m", "model_run_infos": [{"i": 1}, {"i": 2}, {"i": 1}]}
    first = client.post("/api/model_runs/bulk", json=body)
    assert first.status_code == 200, first.text
    payload = first.json()
    assert [run["model_run_info"] for run in payload["data"]] == [{"i": 1}, {"i": 2}, {"i": 1}]
    assert payload["created"] == [True, True, False] and payload["created_count"] == 2
    assert payload["data"][0]["id"] == payload["data"][2]["id"]
    again = client.post("/api/model_runs/bulk", json=body).json()
    assert again["created_count"] == 0 and again["existing_count"] == 3
    assert [run["id"] for run in again["data"]] == [run["id"] for run in payload["data"]]


def test_rest_bulk_refuses_bad_input_and_writes_nothing(client):
    response = client.post("/api/model_runs/bulk", json={"model_run_infos": [{"a": 1}, "x"]})
    assert response.status_code == 422
    response = client.post("/api/model_runs/bulk", json={"model_name": "", "model_run_infos": [{"a": 1}]})
    assert response.status_code == 422
    assert registry().count_runs() == 0
    assert registry().search_models(limit=0, with_total=True).total == 0


def test_rest_bulk_with_a_new_model_name_creates_the_model(client):
    response = client.post("/api/model_runs/bulk", json={"model_name": "ghost", "model_run_infos": [{"a": 1}]})
    assert response.status_code == 200, response.text
    model = registry().get_model_by_name(model_name="ghost")
    assert [run["model_id"] for run in response.json()["data"]] == [str(model.id)]


def test_rest_search_with_where_and_cursor(client):
    registry().create_runs(model_run_infos=[{"n": index} for index in range(5)])
    page = client.get("/api/model_runs", params={"where": "n >= 1", "order_by": "-n", "limit": 2})
    assert [run["model_run_info"]["n"] for run in page.json()] == [4, 3]
    following = client.get(page.links["next"]["url"])
    assert [run["model_run_info"]["n"] for run in following.json()] == [2, 1]
    bad = client.get("/api/model_runs", params={"where": "n >="})
    assert bad.status_code == 422 and "column 5" in bad.text


def test_cli_import_then_export_round_trips(db, tmp_path):
    registry().create_model(model_name="m")
    source = tmp_path / "runs.jsonl"
    source.write_text('{"a": 1, "p": {"lr": 0.1}}\n\n{"a": 2, "p": {"lr": 0.01}, "l": [1]}\n{"a": 1, "p": {"lr": 0.1}}\n')
    runner = CliRunner()
    result = runner.invoke(cli, ["runs", "import", str(source), "--model", "m"])
    assert result.exit_code == 0, result.output
    assert "2 runs created, 1 already existed" in result.output
    exported = runner.invoke(cli, ["runs", "export", "--format", "jsonl", "--where", "p.lr < 0.05"])
    lines = [json.loads(line) for line in exported.stdout.splitlines() if line.startswith("{")]
    assert [(line["model_name"], line["model_run_info"]) for line in lines] == [("m", {"a": 2, "p": {"lr": 0.01}, "l": [1]})]
    everything = tmp_path / "all.jsonl"
    assert runner.invoke(cli, ["runs", "export", "-o", str(everything)]).exit_code == 0
    again = runner.invoke(cli, ["runs", "import", str(everything)])
    assert "0 runs created, 2 already existed" in again.output


def test_cli_export_csv_flattens_info(db, tmp_path):
    registry().create_runs(model_run_infos=[{"a": 1, "p": {"lr": 0.1}}, {"b": "x", "l": [1, 2]}])
    target = tmp_path / "runs.csv"
    result = CliRunner().invoke(cli, ["runs", "export", "--format", "csv", "-o", str(target)])
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(target.read_text())))
    assert list(rows[0])[:5] == ["id", "run_name", "model_name", "created_at", "updated_at"]
    assert [(row["info.a"], row["info.p.lr"], row["info.b"], row["info.l"]) for row in rows] == [
        ("1", "0.1", "", ""),
        ("", "", "x", "[1, 2]"),
    ]


def test_cli_import_reports_the_bad_line(db, tmp_path):
    source = tmp_path / "bad.jsonl"
    source.write_text('{"a": 1}\n[1, 2]\n')
    result = CliRunner().invoke(cli, ["runs", "import", str(source)])
    assert result.exit_code == 1
    assert "line 2: expected a JSON object, got list" in result.output


def test_cli_db_index(db):
    runner = CliRunner()
    assert "indexed params.lr" in runner.invoke(cli, ["db", "index", "add", "params.lr"]).output
    assert runner.invoke(cli, ["db", "index", "list"]).stdout.strip() == "params.lr"
    assert runner.invoke(cli, ["db", "index", "drop", "params.lr"]).exit_code == 0
    missing = runner.invoke(cli, ["db", "index", "drop", "params.lr"])
    assert missing.exit_code == 1 and "not an indexed path" in missing.output
    malformed = runner.invoke(cli, ["db", "index", "add", "params."])
    assert malformed.exit_code == 1 and "column 8" in malformed.output
