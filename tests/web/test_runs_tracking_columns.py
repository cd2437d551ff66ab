"""The Runs table's tracking columns: status and the last value of chosen metrics, sorted by the server."""

import re
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


def training(api, model_name: str, lr0: float, peak: float) -> str:
    info = {"params": {**{f"arg{index}": index for index in range(10)}, "lr0": lr0, "name": f"train-{lr0}"}}
    response = api.post("/model_runs/start", json={"model_name": model_name, "model_run_info": info})
    response.raise_for_status()
    run_id = response.json()["id"]
    curves = {
        "lr/pg0": lambda step: lr0,
        "train/box_loss": lambda step: 3 - step,
        "metrics/mAP50(B)": lambda step: peak if step == 2 else peak / 2,
        "val/box_loss": lambda step: 2 - step / 10,
    }
    points = [{"key": key, "step": step, "value": curve(step)} for key, curve in curves.items() for step in range(4)]
    api.post(f"/model_runs/{run_id}/metrics", json={"batch_id": uuid.uuid4().hex, "points": points}).raise_for_status()
    api.post(f"/model_runs/{run_id}/end", json={"status": "finished"}).raise_for_status()
    return run_id


def test_default_columns_are_what_tells_the_runs_apart(page, server, api, model_name, screenshot):
    low, high = training(api, model_name, 0.01, 0.5), training(api, model_name, 0.02, 0.9123456)
    page.goto(f"{server.url}/#/runs?model={model_name}")
    table = page.locator("#runs-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    # 12 info keys, of which two differ; the results' metrics, not the learning rate or the training loss.
    headers = table.locator("thead th").all_inner_texts()
    columns = [text.rstrip(" ↕▲▼") for text in headers[2:]]
    assert columns == ["Model", "Created", "Status", "Duration", "metrics/mAP50(B)", "val/box_loss", "params.lr0", "params.name"]
    # A metric's best value (the highest mAP, the lowest loss), its last under it when it is another.
    cell = table.locator(f'tr[data-run-id="{high}"] td[data-metric="metrics/mAP50(B)"]')
    expect(cell).to_contain_text("0.9123")
    expect(cell.locator(".metric-last")).to_have_text("last 0.4562")
    assert "0.9123456" in cell.get_attribute("title")
    expect(table.locator(f'tr[data-run-id="{high}"] td[data-metric="val/box_loss"]')).to_have_text("1.7")
    expect(table.locator(f'tr[data-run-id="{low}"] td[data-key="duration"]')).to_have_text(re.compile(r"^\d+ s$"))
    screenshot("runs-default-columns")

    # Sorting by a default metric column sorts by what it shows and keeps the column in the address.
    table.get_by_role("button", name="metrics/mAP50(B)", exact=True).click()
    # The first sort has landed before the second click: clicked at once, both could meet one page.
    expect(page.locator('#runs-table th[aria-sort="ascending"]')).to_contain_text("metrics/mAP50(B)")
    table.get_by_role("button", name="metrics/mAP50(B)", exact=True).click()
    expect(page.locator('#runs-table th[aria-sort="descending"]')).to_contain_text("metrics/mAP50(B)")
    assert row_ids(page) == [high, low]
    assert "sort=-max" in page.url and "metrics=" in page.url
