"""ModelRun.to_dataframe: info flattened to dotted columns, the search filters, creation order."""

import math

import pytest

from gemini.registry import registry
from gemini.api.model_run import ModelRun

pandas = pytest.importorskip("pandas")


@pytest.fixture
def db(registry_url) -> str:
    """The same tests on SQLite, on PostgreSQL and through a server (``GEMINI_API_URL``)."""
    return registry_url


def test_to_dataframe_flattens_info(db):
    registry().create_model(model_name="m")
    registry().create_runs(model_run_infos=[{"p": {"lr": 0.1}, "tags": ["a"]}, {"p": {"lr": 0.01}, "site": "Davis"}], model_name="m")
    frame = ModelRun.to_dataframe()
    assert list(frame.columns) == [
        *["id", "run_name", "model_name", "created_at", "updated_at", "status", "started_at", "ended_at"],
        *["info.p.lr", "info.tags", "info.site"],
    ]
    assert frame["info.p.lr"].tolist() == [0.1, 0.01]
    assert frame["info.tags"][0] == ["a"] and pandas.isna(frame["info.tags"][1])
    assert frame["model_name"].tolist() == ["m", "m"]


def test_to_dataframe_takes_the_search_filters(db):
    registry().create_runs(model_run_infos=[{"n": index} for index in range(5)])
    frame = ModelRun.to_dataframe(where="n >= 2", order_by="-n")
    assert frame["info.n"].tolist() == [4, 3, 2]
    assert ModelRun.to_dataframe(where="n >") is None
    empty = ModelRun.to_dataframe(where="n > 10")
    assert len(empty) == 0
    assert list(empty.columns) == [
        "id", "run_name", "model_name", "created_at", "updated_at", "status", "started_at", "ended_at"
    ]


def test_cli_export_parquet(db, tmp_path):
    pytest.importorskip("pyarrow")
    from click.testing import CliRunner

    from gemini.cli.main import cli

    registry().create_runs(model_run_infos=[{"a": 1, "l": [1, 2]}, {"b": "x"}])
    target = tmp_path / "runs.parquet"
    result = CliRunner().invoke(cli, ["runs", "export", "--format", "parquet", "-o", str(target)])
    assert result.exit_code == 0, result.output
    frame = pandas.read_parquet(target)
    assert frame["info.l"].tolist()[0] == "[1, 2]" and frame["info.b"].tolist()[1] == "x"


def test_tracked_runs_bring_their_status_times_and_last_metric_values(db):
    with ModelRun.track(model_run_info={"lr": 0.1}) as run:
        run.log_metrics({"loss": 0.9, "metrics/mAP50(B)": 0.2}, step=0)
        run.log_metrics({"loss": 0.5}, step=1)
    ModelRun.create(model_run_info={"lr": 0.2})
    frame = ModelRun.to_dataframe()
    assert list(frame.columns) == [
        "id", "run_name", "model_name", "created_at", "updated_at", "status", "started_at", "ended_at",
        "info.lr", "metric.loss", "metric.metrics/mAP50(B)",
    ]
    tracked, recorded = frame.to_dict("records")
    assert (tracked["status"], tracked["metric.loss"], tracked["metric.metrics/mAP50(B)"]) == ("finished", 0.5, 0.2)
    assert tracked["ended_at"] >= tracked["started_at"]
    assert pandas.isna(recorded["status"]) and math.isnan(recorded["metric.loss"])


def test_a_run_name_is_a_column_of_the_frame_and_of_a_csv_export(db, tmp_path):
    import csv

    from click.testing import CliRunner

    from gemini.cli.main import cli

    named = ModelRun.create(model_run_info={"lr": 0.1})
    named.rename("baseline")
    ModelRun.create(model_run_info={"lr": 0.2})
    frame = ModelRun.to_dataframe(order_by="created_at")
    assert frame["run_name"][0] == "baseline" and frame["run_name"].isna()[1]  # no name: missing
    target = tmp_path / "runs.csv"
    result = CliRunner().invoke(cli, ["runs", "export", "--format", "csv", "--order-by", "created_at", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert [row["run_name"] for row in csv.DictReader(target.open())] == ["baseline", ""]
