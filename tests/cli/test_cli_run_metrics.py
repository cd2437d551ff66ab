"""``gemini runs metrics RUN [KEY]`` and the lifecycle fields of ``gemini runs show``."""

import math

from gemini.api.model_run import ModelRun


def tracked_run() -> ModelRun:
    with ModelRun.track(model_run_info={"lr": 0.01}) as run:
        for step, loss in enumerate([0.9, 0.4, math.nan]):
            run.log_metrics({"loss": loss, "metrics/mAP50(B)": step / 10}, step=step)
    return run


def test_summary_table(gemini):
    run = tracked_run()
    lines = gemini.ok("runs", "metrics", str(run.id)).stdout.splitlines()
    assert lines[0].split() == ["KEY", "LAST", "MIN", "MAX", "STEP", "COUNT"]
    assert lines[1].split() == ["loss", "NaN", "0.4", "0.9", "2", "3"]
    assert lines[2].split()[0] == "metrics/mAP50(B)"


def test_summary_as_json(gemini):
    run = tracked_run()
    summaries = gemini.json("runs", "metrics", str(run.id))
    assert summaries[0] == {"key": "loss", "last": "NaN", "min": 0.4, "max": 0.9, "step": 2, "count": 3}


def test_history_of_a_key(gemini):
    run = tracked_run()
    history = gemini.json("runs", "metrics", str(run.id), "metrics/mAP50(B)")
    assert [(point["step"], point["value"]) for point in history] == [(0, 0.0), (1, 0.1), (2, 0.2)]
    table = gemini.ok("runs", "metrics", str(run.id), "loss").stdout.splitlines()
    assert table[0].split() == ["STEP", "VALUE", "TIMESTAMP"]
    assert table[3].split()[:2] == ["2", "NaN"]


def test_a_run_without_metrics_says_so(gemini):
    run = ModelRun.create(model_run_info={"a": 1})
    result = gemini.ok("runs", "metrics", str(run.id))
    assert result.stdout == "" and "has no metrics" in result.stderr


def test_an_unknown_run_fails_with_one_line(gemini):
    assert "no model run" in gemini.fails("runs", "metrics", "00000000-0000-0000-0000-000000000009")


def test_show_prints_the_status_of_a_tracked_run(gemini):
    run = tracked_run()
    shown = gemini.ok("runs", "show", str(run.id)).stdout
    assert "status" in shown and "finished" in shown
    assert gemini.json("runs", "show", str(run.id))["status"] == "finished"
