"""A model's page in a real browser: its versions with their aliases, each linked to its run with the
run's metrics at a glance."""

import hashlib
import uuid

import pytest
from playwright.sync_api import expect
from test_accessibility import CONTRAST, UNLABELLED

WEIGHTS = b"weights of epoch 10" * 100
NEWER = b"weights of epoch 20" * 300


@pytest.fixture
def versioned(api, model_name):
    """The model with a tracked, finished run that logged metrics and stored ``weights/best.pt`` twice,
    each time registered as a version (1 and 2); version 1 holds ``production``, version 2 ``candidate``."""
    api.post("/models", json={"model_name": model_name, "model_info": {"task": "stand counting"}}).raise_for_status()
    response = api.post("/model_runs/start", json={"model_name": model_name, "model_run_info": {"lr": 0.01}})
    response.raise_for_status()
    run_id = response.json()["id"]
    points = [{"key": "metrics/mAP50(B)", "step": step, "value": 0.5 + step / 100} for step in range(10)]
    points += [{"key": "loss", "step": step, "value": 1.0 / (step + 1)} for step in range(10)]
    api.post(f"/model_runs/{run_id}/metrics", json={"batch_id": uuid.uuid4().hex, "points": points}).raise_for_status()
    versions = []
    for content, info in ((WEIGHTS, {"map50": 0.91}), (NEWER, {"map50": 0.93})):
        api.put(f"/model_runs/{run_id}/artifacts/weights/best.pt", content=content).raise_for_status()
        body = {"artifact_name": "weights/best.pt", "version_info": info}
        response = api.post(f"/model_runs/{run_id}/versions", json=body)
        response.raise_for_status()
        versions.append(response.json())
    api.post(f"/model_runs/{run_id}/end", json={"status": "finished"}).raise_for_status()
    api.put(f"/models/versions/{versions[0]['id']}/aliases/production").raise_for_status()
    api.put(f"/models/versions/{versions[1]['id']}/aliases/candidate").raise_for_status()
    return {"run_id": run_id, "versions": versions}


def row(page, number: int):
    return page.locator(f'#versions-table tbody tr[data-version="{number}"]')


def test_the_model_page_lists_versions_aliases_runs_and_metrics(page, server, api, model_name, versioned, screenshot):
    # Straight to the model's page: the models list shows 50 a page, and the session's server holds the
    # models of every web test, so this one's row may be on any page of it.
    page.goto(f"{server.url}/#/models/{model_name}")
    expect(page.get_by_role("heading", name=f"Model {model_name}", level=1)).to_be_visible()
    expect(page.locator("#model-runs")).to_have_text("1 run")
    expect(page.locator("#versions-table tbody tr")).to_have_count(2)
    # Newest first.
    expect(page.locator("#versions-table tbody tr").first).to_have_attribute("data-version", "2")

    first, second = row(page, 1), row(page, 2)
    expect(first.locator("th")).to_have_text("v1")
    expect(first.locator(".alias")).to_have_text(["production"])
    expect(second.locator(".alias")).to_have_text(["candidate"])
    expect(first).to_contain_text("weights/best.pt")
    expect(first).to_contain_text(hashlib.sha256(WEIGHTS).hexdigest()[:12])
    expect(first).to_contain_text("1.9 KiB")
    expect(second).to_contain_text("5.6 KiB")
    expect(first).to_contain_text("map50: 0.91")
    expect(first.locator("time")).to_have_count(1)
    expect(page.locator("#model-versions")).not_to_contain_text("null")
    # The run's metrics at a glance: their last values.
    expect(first.locator('.run-metrics [data-metric="metrics/mAP50(B)"] dd')).to_have_text("0.59")
    expect(first.locator('.run-metrics [data-metric="loss"] dd')).to_have_text("0.1")
    # The artifact link downloads the version's own bytes.
    link = first.get_by_role("link", name="weights/best.pt")
    assert link.get_attribute("href") == f"/api/models/versions/{versioned['versions'][0]['id']}/file"
    with page.expect_download() as download:
        link.click()
    assert open(download.value.path(), "rb").read() == WEIGHTS
    screenshot("model-versions")

    page.eval_on_selector_all("main details", "all => all.forEach((d) => { d.open = true; })")
    assert page.evaluate(CONTRAST) == [], "text below the contrast minimum on the model page"
    assert page.evaluate(UNLABELLED) == [], "controls without a label on the model page"

    first.locator("a.run-link").click()
    expect(page.locator("#run-id")).to_have_text(versioned["run_id"])


def test_an_alias_moved_shows_on_its_new_version(page, server, api, model_name, versioned):
    api.put(f"/models/versions/{versioned['versions'][1]['id']}/aliases/production").raise_for_status()
    page.goto(f"{server.url}/#/models/{model_name}")
    expect(row(page, 2).locator(".alias")).to_have_text(["candidate", "production"])
    expect(row(page, 1).locator(".aliases")).to_have_text("—")


def test_the_runs_of_a_model_link_to_its_page(page, server, model_name, versioned):
    page.goto(f"{server.url}/#/runs?model={model_name}")
    page.get_by_role("link", name="The model's page").click()
    expect(page.get_by_role("heading", name=f"Model {model_name}", level=1)).to_be_visible()
    expect(page.locator("#versions-table tbody tr")).to_have_count(2)


def test_a_model_without_versions_and_an_unknown_model(page, server, api, model_name):
    api.post("/models", json={"model_name": model_name}).raise_for_status()
    page.goto(f"{server.url}/#/models/{model_name}")
    expect(page.locator("#versions-empty")).to_contain_text("no versions yet")
    expect(page.locator("#model-runs")).to_have_text("0 runs")
    page.goto(f"{server.url}/#/models/ghost-{uuid.uuid4().hex[:6]}")
    expect(page.get_by_role("heading", name="Model not found", level=1)).to_be_visible()
    expect(page.locator(".error")).to_contain_text("Not found")
