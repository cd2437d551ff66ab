"""Runs by their readable names: renamed in place on the run page, and shown instead of the id's end in
the runs table and on the compare page."""

import pytest
from playwright.sync_api import expect


@pytest.fixture
def named_runs(api, make_runs):
    ids = make_runs([{"params": {"lr0": 0.01}}, {"params": {"lr0": 0.02}}])
    if "run_name" not in api.get(f"/model_runs/{ids[0]}").json():
        pytest.skip("this server's runs have no run_name")
    return ids


def test_rename_a_run_in_place_and_clear_the_name(page, server, api, named_runs):
    run_id = named_runs[0]
    page.goto(f"{server.url}/#/runs/{run_id}")
    expect(page.locator("#run-name")).to_contain_text("none")
    page.get_by_role("button", name="Name it").click()
    field = page.get_by_label("Run name")
    expect(field).to_be_focused()
    field.fill("  baseline-lr0.01 ")
    field.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("baseline-lr0.01")
    assert api.get(f"/model_runs/{run_id}").json()["run_name"] == "baseline-lr0.01"

    # Escape leaves the name as it was.
    page.get_by_role("button", name="Rename").click()
    page.get_by_label("Run name").fill("something else")
    page.get_by_label("Run name").press("Escape")
    expect(page.locator("#run-name")).to_contain_text("baseline-lr0.01")
    expect(page.get_by_role("button", name="Rename")).to_be_focused()

    # An empty name removes it.
    page.get_by_role("button", name="Rename").click()
    page.get_by_label("Run name").fill("")
    page.get_by_role("button", name="Save name").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Model run {run_id.replace('-', '')[-8:]}")
    assert api.get(f"/model_runs/{run_id}").json()["run_name"] is None


def test_a_name_the_server_refuses_is_explained(page, server, api, named_runs):
    page.goto(f"{server.url}/#/runs/{named_runs[0]}")
    page.get_by_role("button", name="Name it").click()
    page.get_by_label("Run name").fill("x" * 5000)
    page.get_by_role("button", name="Save name").click()
    expect(page.locator("#run-name").get_by_role("alert")).to_contain_text("Invalid input")
    assert api.get(f"/model_runs/{named_runs[0]}").json()["run_name"] is None


def test_tables_and_legends_show_the_names(page, server, api, model_name, named_runs):
    first, second = named_runs
    api.patch(f"/model_runs/{first}", json={"run_name": "train"}).raise_for_status()
    api.patch(f"/model_runs/{second}", json={"run_name": "train2"}).raise_for_status()
    page.goto(f"{server.url}/#/runs?model={model_name}")
    expect(page.locator(f'#runs-table tr[data-run-id="{first}"] th a')).to_have_text("train")
    expect(page.locator(f'#runs-table tr[data-run-id="{first}"] th a')).to_have_attribute("title", first)

    page.goto(f"{server.url}/#/compare?ids={first},{second}")
    expect(page.locator(f'#compare-table thead th[data-run-id="{second}"] a')).to_have_text("train2")
    expect(page.locator("#charts-title ~ .legend li")).to_have_text(["train", "train2"])
    expect(page.locator("#scatter-chart .point-label")).to_have_text(["train", "train2"])

    # Two runs of one name are told apart by the end of their ids.
    api.patch(f"/model_runs/{second}", json={"run_name": "train"}).raise_for_status()
    page.reload()
    expect(page.locator("#charts-title ~ .legend li").first).to_have_text(f"train · {first.replace('-', '')[-8:]}")
