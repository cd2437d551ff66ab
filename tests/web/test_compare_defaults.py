"""The compare page for trainings with many arguments: the curves first, only the keys that differ, and
the metrics (last, min, max) as axes of the scatter and parallel coordinates, the differing keys chosen."""

import uuid

from playwright.sync_api import expect

ARGUMENTS = {f"arg{index:02d}": index for index in range(30)}


def training(api, model_name: str, lr0: float, peak: float) -> str:
    info = {"params": {**ARGUMENTS, "lr0": lr0, "optimizer": "SGD"}, "data": {"site": "Davis"}}
    response = api.post("/model_runs/start", json={"model_name": model_name, "model_run_info": info})
    response.raise_for_status()
    run_id = response.json()["id"]
    curves = {
        "lr/pg0": lambda step: lr0 / (step + 1),
        "metrics/mAP50(B)": lambda step: peak * min(step, 2) / 2 - (0.1 if step > 2 else 0),
        "val/box_loss": lambda step: 2 - peak * step / 4,
    }
    points = [{"key": key, "step": step, "value": curve(step)} for key, curve in curves.items() for step in range(5)]
    api.post(f"/model_runs/{run_id}/metrics", json={"batch_id": uuid.uuid4().hex, "points": points}).raise_for_status()
    api.post(f"/model_runs/{run_id}/end", json={"status": "finished"}).raise_for_status()
    return run_id


def test_many_keys_show_the_curves_first_and_the_differences(page, server, api, model_name, screenshot):
    ids = [training(api, model_name, lr0, peak) for lr0, peak in ((0.01, 0.6), (0.02, 0.7), (0.04, 0.5))]
    page.goto(f"{server.url}/#/compare?ids={','.join(ids)}")
    curves = page.locator("#metric-curves")
    table = page.locator("#compare-table")
    expect(table).to_be_visible()
    assert curves.evaluate("(curves, table) => !!(curves.compareDocumentPosition(table) & Node.DOCUMENT_POSITION_FOLLOWING)", table.element_handle())
    # The results come first among the keys, before learning rates that sort earlier by name.
    expect(page.get_by_label("Metric", exact=True)).to_have_value("metrics/mAP50(B)")

    # 33 keys, of which one differs: that one alone, the others a click away.
    expect(page.get_by_label("Show only keys that differ")).to_be_checked()
    expect(table.locator("tbody tr")).to_have_count(1)
    expect(table.locator("tbody tr")).to_have_attribute("data-key", "params.lr0")
    expect(page.get_by_text("(32 equal keys hidden)")).to_be_visible()

    # The scatter puts the differing argument against the main metric's best; the axes are the same
    # argument and the metrics that differ, each by its better side.
    expect(page.get_by_label("Horizontal axis (x)")).to_have_value("params.lr0")
    expect(page.get_by_label("Vertical axis (y)")).to_have_value("max(metrics/mAP50(B))")
    expect(page.locator("#scatter-chart circle")).to_have_count(3)
    options = page.get_by_label("Vertical axis (y)").locator("option").evaluate_all("all => all.map((o) => o.value)")
    assert {"last(metrics/mAP50(B))", "min(metrics/mAP50(B))", "max(metrics/mAP50(B))", "min(val/box_loss)"} <= set(options)
    axes = page.locator("#parallel-chart .pc-axis text.axis-label").all_text_contents()
    assert axes == ["params.lr0", "max(metrics/mAP50(B))", "min(val/box_loss)"]
    # A metric's best is its highest value, not its last: 0.7 at step 2 for the second training, 0.6 last.
    title = page.locator("#scatter-chart circle title").nth(1).text_content()
    assert "max(metrics/mAP50(B)) 0.7" in title
    screenshot("compare-defaults")

    page.get_by_label("Show only keys that differ").uncheck()
    expect(table.locator("tbody tr")).to_have_count(33)
    assert "diff=0" in page.url
    page.get_by_label("Vertical axis (y)").select_option("last(val/box_loss)")
    expect(page.locator("#scatter-chart title").first).to_contain_text("last(val/box_loss) against params.lr0")
