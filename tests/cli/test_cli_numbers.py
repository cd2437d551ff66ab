"""Floats for people in every table (4 significant digits), every digit under --json."""

import json

import pytest

from gemini.api.model_run import ModelRun
from gemini.cli.output import cell, compact_json, number

LR = 0.000030422749999999952
MAP50 = 0.9516666666666667


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (MAP50, "0.9517"),
        (LR, "3.042e-05"),
        (0.0001234567, "0.0001235"),
        (0.1 + 0.2, "0.3"),
        (1.0, "1"),
        (-0.5, "-0.5"),
        (1234.5678, "1235"),
        (9999.5, "10000"),
        (12345.678, "12346"),
        (123456789.123, "123456789"),
        (1e20, "1e+20"),
        (-2.5e-12, "-2.5e-12"),
        (0.0, "0"),
    ],
)
def test_a_float_keeps_four_significant_digits(value, shown):
    assert number(value) == shown
    assert cell(value) == shown


def test_integers_and_text_are_left_whole():
    assert cell(123456789) == "123456789"
    assert cell(True) == "True"
    assert cell("0.9516666666666667") == "0.9516666666666667"  # text is not a number to round


def test_floats_inside_an_info_column_are_rounded_and_it_stays_json():
    text = compact_json({"lr": LR, "map50": MAP50, "epochs": 30, "tags": ["a", 0.125], "note": "x"}, width=200)
    assert text == '{"lr":3.042e-05,"map50":0.9517,"epochs":30,"tags":["a",0.125],"note":"x"}'
    assert json.loads(text)["map50"] == 0.9517


def test_runs_list_rounds_the_info_column_and_json_keeps_every_digit(gemini):
    gemini.ok("runs", "create", json.dumps({"params": {"lr": LR}, "metrics": {"map50": MAP50}}))
    table = gemini.ok("runs", "list").stdout
    assert '{"params":{"lr":3.042e-05},"metrics":{"map50":0.9517}}' in table
    assert "0.9516666666666667" not in table
    [run] = gemini.json("runs", "list")
    assert run["model_run_info"] == {"params": {"lr": LR}, "metrics": {"map50": MAP50}}


def test_runs_show_keeps_the_info_exact(gemini):
    created = gemini.json("runs", "create", json.dumps({"metrics": {"map50": MAP50}}))
    assert '"map50": 0.9516666666666667' in gemini.ok("runs", "show", created["id"]).stdout


def test_metric_tables_round_and_json_does_not(gemini):
    with ModelRun.track(model_run_info={"lr": 0.01}) as run:
        for step, loss in enumerate([LR * 3, LR, MAP50]):
            run.log_metrics({"loss": loss}, step=step)
    summary = gemini.ok("runs", "metrics", str(run.id)).stdout.splitlines()
    assert summary[1].split() == ["loss", "0.9517", "3.042e-05", "0.9517", "2", "3"]
    history = gemini.ok("runs", "metrics", str(run.id), "loss").stdout.splitlines()
    assert [line.split()[1] for line in history[1:]] == ["9.127e-05", "3.042e-05", "0.9517"]
    [as_json] = gemini.json("runs", "metrics", str(run.id))
    assert (as_json["last"], as_json["min"]) == (MAP50, LR)


def test_records_search_rounds_the_data_column(gemini):
    from gemini.registry import registry

    registry().insert_model_records(
        records=[{"model_name": "counter", "timestamp": "2026-06-01T00:00:00Z", "model_data": {"height": MAP50}}]
    )
    table = gemini.ok("records", "search", "--model", "counter").stdout
    assert '{"height":0.9517}' in table
    [line] = gemini.ok("records", "search", "--model", "counter", "--json").stdout.splitlines()
    assert json.loads(line)["model_data"] == {"height": MAP50}
