"""The Compare page overlays one metric's curves for the compared runs, with a picker of shared keys."""

import uuid

from playwright.sync_api import expect


def tracked_run(api, model_name: str, histories: dict[str, int]) -> str:
    """A finished tracked run with `steps` points for each key."""
    response = api.post("/model_runs/start", json={"model_name": model_name, "model_run_info": {"seed": uuid.uuid4().hex}})
    response.raise_for_status()
    run_id = response.json()["id"]
    points = [{"key": key, "step": step, "value": step * 0.1} for key, steps in histories.items() for step in range(steps)]
    api.post(f"/model_runs/{run_id}/metrics", json={"batch_id": uuid.uuid4().hex, "points": points}).raise_for_status()
    api.post(f"/model_runs/{run_id}/end", json={"status": "finished"}).raise_for_status()
    return run_id


def test_compare_overlays_one_metric_of_every_run(page, server, api, model_name, screenshot):
    first = tracked_run(api, model_name, {"loss": 30, "map50": 10})
    second = tracked_run(api, model_name, {"loss": 20, "map50": 12})
    third = tracked_run(api, model_name, {"loss": 25, "val/loss": 5})
    page.goto(f"{server.url}/#/compare?ids={first},{second},{third}")
    picker = page.get_by_label("Metric", exact=True)
    expect(picker).to_have_value("loss")
    # loss is logged by all three runs, so it comes first; map50 by two; val/loss by one is not offered.
    assert picker.locator("option").evaluate_all("all => all.map((o) => o.value)") == ["loss", "map50"]
    chart = page.locator("#metric-curves-chart")
    expect(chart.locator("g.series")).to_have_count(3)
    points = chart.locator("g.series").evaluate_all("all => all.map((g) => [g.dataset.runId, g.dataset.points])")
    assert points == [[first, "30"], [second, "20"], [third, "25"]]
    screenshot("compare-curves")

    # From the keyboard: the picker is a native select.
    picker.focus()
    page.keyboard.press("ArrowDown")
    expect(chart.locator("g.series")).to_have_count(2)
    expect(page.locator("#metric-curves")).to_contain_text("1 run(s) did not log map50")
    assert "metric=map50" in page.url


def test_runs_without_metrics_say_so(page, server, make_runs):
    ids = make_runs([{"seed": 1}, {"seed": 2}])
    page.goto(f"{server.url}/#/compare?ids={','.join(ids)}")
    expect(page.locator("#metric-curves")).to_contain_text("None of these runs has logged metrics.")
