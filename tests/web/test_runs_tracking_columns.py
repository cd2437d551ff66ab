"""The Runs table's tracking columns: status and the last value of chosen metrics, sorted by the server."""

import uuid

from playwright.sync_api import expect


def tracked_run(api, model_name: str, map50: float, status: str = "finished") -> str:
    response = api.post("/model_runs/start", json={"model_name": model_name, "model_run_info": {"map50_goal": map50}})
    response.raise_for_status()
    run_id = response.json()["id"]
    points = [{"key": "map50", "step": step, "value": map50 * step / 4} for step in range(5)]
    api.post(f"/model_runs/{run_id}/metrics", json={"batch_id": uuid.uuid4().hex, "points": points}).raise_for_status()
    api.post(f"/model_runs/{run_id}/end", json={"status": status}).raise_for_status()
    return run_id


def row_ids(page) -> list[str]:
    return page.locator("#runs-table tbody tr").evaluate_all("rows => rows.map((r) => r.dataset.runId)")


def test_choose_a_metric_column_and_sort_by_it(page, server, api, model_name, screenshot):
    low, high, middle = (tracked_run(api, model_name, value) for value in (0.5, 0.9, 0.7))
    page.goto(f"{server.url}/#/runs?model={model_name}")
    expect(page.locator(f'#runs-table tr[data-run-id="{low}"] td[data-key="status"]')).to_have_text("finished")
    page.get_by_text("Metric columns").click()
    page.get_by_label("map50", exact=True).check()
    expect(page.locator(f'#runs-table tr[data-run-id="{high}"] td[data-metric="map50"]')).to_have_text("0.9")

    page.get_by_role("button", name="map50", exact=True).click()
    expect(page.locator('#runs-table th[aria-sort="ascending"]')).to_contain_text("map50")
    assert row_ids(page) == [low, middle, high]
    page.get_by_role("button", name="map50", exact=True).click()
    expect(page.locator('#runs-table th[aria-sort="descending"]')).to_contain_text("map50")
    assert row_ids(page) == [high, middle, low]
    assert "metrics=map50" in page.url
    screenshot("runs-metric-columns")


def test_sort_by_status_is_the_servers_order(page, server, api, model_name):
    ids = [tracked_run(api, model_name, 0.1 * n, status) for n, status in enumerate(["finished", "failed", "killed"])]
    page.goto(f"{server.url}/#/runs?model={model_name}")
    page.get_by_role("button", name="Status", exact=True).click()
    expect(page.locator('#runs-table th[aria-sort="ascending"]')).to_contain_text("Status")
    expected = [run["id"] for run in api.get("/model_runs", params={"model_name": model_name, "order_by": "status"}).json()]
    assert row_ids(page) == expected
    assert sorted(ids) == sorted(expected)
