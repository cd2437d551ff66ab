"""A training's metrics on its run page: numbers rounded for reading (the full value in the tooltip), keys
grouped by prefix with results first, a key of one point as a number, the pointer's readout, smoothing and
the x axis as time."""

import datetime as dt
import re
import uuid

from playwright.sync_api import expect
from test_accessibility import CONTRAST, UNLABELLED

START = 1_796_065_200  # seconds since 1970: a training's first point
LR = 0.000030422749999999952
MAP = 0.9516666666666667


def tracked_run(api, model_name: str, histories: dict[str, list[float]]) -> str:
    """A finished tracked run with a point a step for each key, ten seconds apart."""
    response = api.post("/model_runs/start", json={"model_name": model_name, "model_run_info": {"seed": uuid.uuid4().hex}})
    response.raise_for_status()
    run_id = response.json()["id"]
    points = [
        {"key": key, "step": step, "value": value, "timestamp": dt.datetime.fromtimestamp(START + 10 * step, dt.UTC).isoformat()}
        for key, values in histories.items()
        for step, value in enumerate(values)
    ]
    api.post(f"/model_runs/{run_id}/metrics", json={"batch_id": uuid.uuid4().hex, "points": points}).raise_for_status()
    api.post(f"/model_runs/{run_id}/end", json={"status": "finished"}).raise_for_status()
    return run_id


def yolo_like(api, model_name: str) -> str:
    ramp = [0.1 * step for step in range(8)]
    return tracked_run(
        api,
        model_name,
        {
            "system/cpu_percent": [50.0, 60.0, 55.0],
            "lr/pg0": [LR * (8 - step) for step in range(8)],
            "train/box_loss": [3 - x for x in ramp],
            "val/box_loss": [2.5 - x for x in ramp],
            "metrics/mAP50(B)": [*ramp[:-1], MAP],
            "time": [10.0 * step for step in range(8)],
            "best/metrics/mAP50(B)": [MAP],
        },
    )


def test_groups_results_first_and_a_key_of_one_point_is_a_number(page, server, api, model_name, screenshot):
    run_id = yolo_like(api, model_name)
    page.goto(f"{server.url}/#/runs/{run_id}")
    groups = page.locator("#metric-charts > details.metric-group")
    expect(groups).to_have_count(7)
    assert groups.evaluate_all("all => all.map((g) => g.dataset.group)") == ["metrics/", "val/", "train/", "lr/", "best/", "", "system/"]
    expect(groups.nth(5).locator("summary")).to_contain_text("Other metrics")

    number = page.locator('.metric-number[data-key="best/metrics/mAP50(B)"]')
    expect(number.locator("dd.value")).to_have_text("0.9517")
    expect(number.locator("dd.value span")).to_have_attribute("title", str(MAP))
    expect(page.locator('#metric-charts figure[data-key="best/metrics/mAP50(B)"]')).to_have_count(0)
    expect(page.locator('#metric-charts figure[data-key="metrics/mAP50(B)"]')).to_have_count(1)
    # The table of every key follows the same order.
    rows = page.locator("#metric-summaries tbody tr")
    assert rows.evaluate_all("all => all.map((r) => r.dataset.key)")[:2] == ["metrics/mAP50(B)", "val/box_loss"]
    screenshot("run-metric-groups")


def test_numbers_are_rounded_with_the_full_value_in_the_tooltip(page, server, api, model_name):
    run_id = yolo_like(api, model_name)
    page.goto(f"{server.url}/#/runs/{run_id}")
    lr = page.locator('#metric-summaries tr[data-key="lr/pg0"] td')
    expect(lr.nth(0)).to_have_text("3.042e-5")  # the last value
    assert float(lr.nth(0).get_attribute("title")) == LR
    mean = page.locator('#metric-summaries tr[data-key="metrics/mAP50(B)"] td')
    expect(mean.nth(0)).to_have_text("0.9517")
    assert mean.nth(0).get_attribute("title") == str(MAP)
    # Steps and counts are whole numbers, shown whole; the axis of a chart has one format for its ticks.
    expect(mean.nth(3)).to_have_text("7")
    tick_labels = page.locator('#metric-charts figure[data-key="lr/pg0"] svg g.tick text')
    expect(tick_labels.first).to_be_visible()  # the chart is drawn after the table: wait for its axis
    ticks = tick_labels.all_text_contents()
    y_labels = [t for t in ticks if "e-" in t]
    assert y_labels and all(re.fullmatch(r"\d(\.\d+)?e-\d", t) for t in y_labels), ticks


def test_the_pointer_reads_out_step_value_and_time(page, server, api, model_name):
    run_id = yolo_like(api, model_name)
    page.goto(f"{server.url}/#/runs/{run_id}")
    figure = page.locator('#metric-charts figure[data-key="metrics/mAP50(B)"]')
    chart = figure.locator("svg.line-chart")
    expect(chart.locator("g.series")).to_have_attribute("data-points", "8")
    box = chart.bounding_box()
    # The right edge of the plot is the last step.
    page.mouse.move(box["x"] + box["width"] - 30, box["y"] + box["height"] / 2)
    readout = figure.locator(".readout")
    expect(readout).to_be_visible()
    expect(readout).to_contain_text("0.9517")
    expect(readout).to_contain_text("step 7")
    expect(readout).to_contain_text("(1 min 10 s in)")
    assert page.evaluate(CONTRAST) == [] and page.evaluate(UNLABELLED) == []
    page.mouse.move(box["x"] - 40, box["y"] - 40)
    expect(readout).to_be_hidden()


def test_smoothing_and_time_on_the_x_axis_redraw_without_a_read(page, server, api, model_name):
    run_id = yolo_like(api, model_name)
    page.goto(f"{server.url}/#/runs/{run_id}")
    chart = page.locator('#metric-charts figure[data-key="train/box_loss"] svg.line-chart')
    expect(chart.locator("polyline")).to_have_count(1)
    reads = []
    page.on("request", lambda request: "/api/" in request.url and reads.append(request.url))

    page.get_by_label("Smoothing").select_option("0.9")
    expect(chart.locator("polyline.smoothed")).to_have_count(1)
    expect(chart.locator("polyline.raw")).to_have_count(1)
    page.get_by_label("X axis").select_option("relative")
    expect(chart.locator("text.axis-label").first).to_have_text("time since start")
    labels = chart.locator("g.tick text").all_text_contents()
    assert "0 s" in labels and "1 min" in labels, labels
    assert reads == [], "the points held are drawn again, not read again"
    assert "xaxis=relative" in page.url and "smooth=0.9" in page.url

    # The address keeps the view: a reload draws it the same.
    page.reload()
    expect(page.get_by_label("X axis")).to_have_value("relative")
    expect(chart.locator("polyline.smoothed")).to_have_count(1)
