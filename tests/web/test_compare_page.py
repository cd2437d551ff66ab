"""The Compare page in a real browser: pick runs, see the keys that differ and the charts."""

import re

from playwright.sync_api import expect

INFOS = [
    {"params": {"lr": 0.1, "epochs": 10}, "metrics": {"map50": 0.52, "loss": 1.2}, "data": {"site": "Davis"}},
    {"params": {"lr": 0.01, "epochs": 30}, "metrics": {"map50": 0.81, "loss": 0.4}, "data": {"site": "Davis"}},
    {"params": {"lr": 0.001, "epochs": 50}, "metrics": {"map50": 0.67}, "data": {"site": "Davis"}},
]


def test_compare_three_runs_picked_in_the_table(page, server, make_runs, model_name, screenshot):
    ids = make_runs(INFOS)
    page.goto(f"{server.url}/#/runs?model={model_name}")
    for run_id in ids:
        page.locator(f'#runs-table tr[data-run-id="{run_id}"] input[type="checkbox"]').check()
    expect(page.locator("#compare-count")).to_have_text("3 selected for comparison")
    page.locator("#compare-link").click()

    expect(page.get_by_role("heading", name="Compare runs")).to_be_visible()
    table = page.locator("#compare-table")
    expect(table.locator("thead th[data-run-id]")).to_have_count(3)
    differing = table.locator("tbody tr.differs")
    assert sorted(differing.evaluate_all("rows => rows.map(r => r.dataset.key)")) == [
        "metrics.loss",
        "metrics.map50",
        "params.epochs",
        "params.lr",
    ]
    same = table.locator('tbody tr[data-key="data.site"]')
    expect(same).not_to_have_class("differs")
    # The highlight is visible: a differing row has another background than an equal one.
    background = "row => getComputedStyle(row).backgroundColor"
    assert differing.first.evaluate(background) != same.evaluate(background)
    expect(differing.first.locator("th")).to_contain_text("≠")
    # The run without a loss shows the gap rather than a made-up value.
    expect(table.locator('tbody tr[data-key="metrics.loss"] td.missing')).to_have_count(1)
    expect(page.locator("#compare-summary")).to_have_text("3 runs, 5 keys, of which 4 differ.")

    expect(page.locator("#scatter-chart circle")).to_have_count(3)
    expect(page.locator("#parallel-chart .pc-run")).to_have_count(3)
    expect(page.locator("#parallel-chart .pc-axis")).to_have_count(4)
    screenshot("compare")

    # A point of the scatter is a link to its run.
    page.locator("#scatter-chart a.point").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(re.compile(r"^Model run "))


def test_choose_the_scatter_axes_and_show_only_differences(page, server, make_runs):
    ids = make_runs(INFOS)
    page.goto(f"{server.url}/#/compare?ids={','.join(ids)}")
    page.get_by_label("Horizontal axis (x)").select_option("params.epochs")
    page.get_by_label("Vertical axis (y)").select_option("metrics.loss")
    # Only two runs have a loss, so only two points are drawn, and the page says why.
    expect(page.locator("#scatter-chart circle")).to_have_count(2)
    expect(page.get_by_text("1 run(s) lack one of these keys")).to_be_visible()
    expect(page.locator("#scatter-chart title").first).to_contain_text("metrics.loss against params.epochs")

    page.get_by_label("Show only keys that differ").check()
    expect(page.locator('#compare-table tbody tr[data-key="data.site"]')).to_have_count(0)
    expect(page.locator("#compare-table tbody tr")).to_have_count(4)
    assert "diff=1" in page.url and "x=params.epochs" in page.url


def test_a_parallel_view_of_one_key_is_drawn_as_bars(page, server, make_runs):
    ids = make_runs(INFOS)
    page.goto(f"{server.url}/#/compare?ids={','.join(ids)}&keys=metrics.map50")
    expect(page.get_by_role("heading", name="Bars")).to_be_visible()
    expect(page.locator("#parallel-chart .bar rect")).to_have_count(3)


def test_an_unknown_run_in_the_comparison_is_reported(page, server, make_runs):
    ids = make_runs(INFOS[:2])
    missing = "00000000-0000-0000-0000-000000000001"
    page.goto(f"{server.url}/#/compare?ids={','.join([*ids, missing])}")
    expect(page.get_by_role("alert").filter(has_text=missing)).to_contain_text("Not found")
    expect(page.locator("#compare-table thead th[data-run-id]")).to_have_count(2)
    page.get_by_role("button", name="Remove it").click()
    expect(page.get_by_role("alert")).to_have_count(0)
    assert missing not in page.url


def test_fewer_than_two_runs_explain_what_to_do(page, server, make_runs):
    ids = make_runs(INFOS[:1])
    page.goto(f"{server.url}/#/compare?ids={ids[0]}")
    expect(page.get_by_text("Pick at least 2 runs to compare")).to_be_visible()
    expect(page.locator("#compare-table")).to_have_count(0)
