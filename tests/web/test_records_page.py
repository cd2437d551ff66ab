"""A model's records in a real browser: the table with its filters and pages (all in the address), the
count on the model page, on each version and on the run page, each linked to the records it counts."""

import datetime as dt
import uuid
from urllib.parse import parse_qs

import pytest
from playwright.sync_api import expect
from test_accessibility import CONTRAST, UNLABELLED
from tests.web.conftest import web_server

DAVIS = 60
KEARNEY = 15
HOSTILE_SITE = '<img src=x onerror="window.__xss = 1">'
START = dt.datetime(2024, 6, 1, 8, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(scope="module")
def server(tmp_path_factory, gemini_server):
    """A server of this module's own: its models stay off the first page of models that the other
    pages' tests read from the shared server."""
    with web_server(gemini_server, tmp_path_factory.mktemp("web-records")) as served:
        yield served


def _record(model_name: str, moment: dt.datetime, site: str, **extra) -> dict:
    return {
        "model_name": model_name,
        "timestamp": moment.isoformat(),
        "dataset_name": "flight-1",
        "experiment_name": "Exp-A",
        "season_name": "2024",
        "site_name": site,
        "model_data": {"count": 10, "confidence": 0.9},
        **extra,
    }


@pytest.fixture
def seeded(api, model_name):
    """The model with a tracked run whose weights are version 1 and a second, untracked run. The
    version's run produced 60 records at Davis on 1 June 2024 (with ``model_version`` name@1); the
    other run 15 at Kearney on 3 June; one more record, of no run, has a site named like HTML."""
    api.post("/models", json={"model_name": model_name}).raise_for_status()
    response = api.post("/model_runs/start", json={"model_name": model_name, "model_run_info": {"lr": 0.01}})
    response.raise_for_status()
    trained = response.json()["id"]
    api.put(f"/model_runs/{trained}/artifacts/weights/best.pt", content=b"weights" * 100).raise_for_status()
    api.post(f"/model_runs/{trained}/versions", json={"artifact_name": "weights/best.pt"}).raise_for_status()
    api.post(f"/model_runs/{trained}/end", json={"status": "finished"}).raise_for_status()
    response = api.post("/model_runs", json={"model_name": model_name, "model_run_info": {"flight": 2}})
    response.raise_for_status()
    counting = response.json()["id"]

    records = [
        _record(model_name, START + dt.timedelta(minutes=i), "Davis", model_run_id=trained, model_version=f"{model_name}@1")
        for i in range(DAVIS)
    ]
    records += [
        _record(model_name, START + dt.timedelta(days=2, minutes=i), "Kearney", model_run_id=counting)
        for i in range(KEARNEY)
    ]
    records.append(
        _record(model_name, START + dt.timedelta(days=5), HOSTILE_SITE, model_data={"label": "<b>not bold</b>"})
    )
    response = api.post("/model_records", json={"records": records})
    assert response.status_code == 201, response.text
    assert all(response.json()["new"])
    return {"trained": trained, "counting": counting, "total": len(records)}


def status(page):
    return page.locator(".pager-status").first


def hash_params(page) -> dict[str, list[str]]:
    fragment = page.url.split("#", 1)[1]
    return parse_qs(fragment.split("?", 1)[1]) if "?" in fragment else {}


def test_filter_by_site_page_forward_and_share_the_view(page, server, model_name, seeded, screenshot):
    page.goto(f"{server.url}/#/models/{model_name}")
    link = page.locator("#model-records a")
    expect(link).to_have_text(f"Records ({seeded['total']})")
    link.click()
    expect(page.get_by_role("heading", name=f"Records of {model_name}", level=1)).to_be_visible()
    expect(status(page)).to_have_text(f"records 1–50 of {seeded['total']}")
    expect(page.locator("#records-table tbody tr")).to_have_count(50)
    first = page.locator("#records-table tbody tr").first
    expect(first.locator('[data-col="site"]')).to_have_text("Davis")
    expect(first.locator('[data-col="experiment"]')).to_have_text("Exp-A")
    expect(first).to_contain_text("2024-06-01")
    expect(first).to_contain_text("count: 10, confidence: 0.9")
    expect(first.locator("a.version-link")).to_have_text(f"{model_name}@1")
    expect(first.locator("a.run-link")).to_have_attribute("href", f"#/runs/{seeded['trained']}")

    page.get_by_label("Site").fill("Davis")
    page.get_by_role("button", name="Apply filters").click()
    expect(status(page)).to_have_text(f"records 1–50 of {DAVIS}")
    assert hash_params(page)["site"] == ["Davis"]
    expect(page.locator("main")).not_to_contain_text("null")
    page.get_by_role("link", name="Next ›").first.click()
    expect(status(page)).to_have_text(f"records 51–{DAVIS} of {DAVIS}")
    expect(page.locator("#records-table tbody tr")).to_have_count(DAVIS - 50)
    expect(page.locator('#records-table [data-col="site"]', has_text="Kearney")).to_have_count(0)
    assert hash_params(page)["page"] == ["2"]
    screenshot("records")

    # The address is the view: opened afresh, it shows the same page of the same filter.
    shared = page.url
    page.goto(f"{server.url}/#/models")
    page.goto(shared)
    expect(status(page)).to_have_text(f"records 51–{DAVIS} of {DAVIS}")
    expect(page.get_by_label("Site")).to_have_value("Davis")
    page.get_by_role("link", name="‹ Previous").first.click()
    expect(status(page)).to_have_text(f"records 1–50 of {DAVIS}")

    page.eval_on_selector_all("main details", "all => all.forEach((d) => { d.open = true; })")
    assert page.evaluate(CONTRAST) == [], "text below the contrast minimum on the records page"
    assert page.evaluate(UNLABELLED) == [], "controls without a label on the records page"


def test_filter_by_date_range_and_other_names(page, server, model_name, seeded):
    page.goto(f"{server.url}/#/models/{model_name}/records")
    expect(status(page)).to_have_text(f"records 1–50 of {seeded['total']}")
    page.get_by_label("Since").fill("2024-06-02")
    page.get_by_label("Until").fill("2024-06-03")
    page.get_by_role("button", name="Apply filters").click()
    expect(status(page)).to_have_text(f"records 1–{KEARNEY} of {KEARNEY}")
    expect(page.locator('#records-table [data-col="site"]')).to_have_text(["Kearney"] * KEARNEY)
    assert hash_params(page)["since"] == ["2024-06-02"]

    page.get_by_role("button", name="Clear filters").click()
    expect(status(page)).to_have_text(f"records 1–50 of {seeded['total']}")
    page.get_by_label("Experiment").fill("Exp-B")
    page.get_by_role("button", name="Apply filters").click()
    expect(page.locator("#records-empty")).to_contain_text("No records of this model match")
    page.goto(f"{server.url}/#/models/{model_name}/records?season=2024&dataset=flight-1&size=25")
    expect(status(page)).to_have_text(f"records 1–25 of {seeded['total']}")

    # A range that ends before it starts is refused in the page, before any request.
    page.goto(f"{server.url}/#/models/{model_name}/records?since=2024-06-03&until=2024-06-01")
    expect(page.locator(".error")).to_contain_text("ends (2024-06-01) before it starts (2024-06-03)")


def test_a_run_page_shows_the_records_it_produced_with_a_link(page, server, model_name, seeded, screenshot):
    page.goto(f"{server.url}/#/runs/{seeded['counting']}")
    expect(page.locator("#run-records")).to_have_text(str(KEARNEY))
    screenshot("run-records-count")
    page.locator("#run-records a").click()
    expect(page.get_by_role("heading", name=f"Records of {model_name}", level=1)).to_be_visible()
    expect(status(page)).to_have_text(f"records 1–{KEARNEY} of {KEARNEY}")
    assert hash_params(page)["run"] == [seeded["counting"]]
    expect(page.get_by_label("Run id")).to_have_value(seeded["counting"])
    expect(page.locator("#records-scope")).to_contain_text("produced by run")
    expect(page.locator("main")).not_to_contain_text("null")
    runs = page.locator("#records-table a.run-link")
    expect(runs).to_have_count(KEARNEY)
    assert set(runs.evaluate_all("links => links.map((a) => a.title)")) == {seeded["counting"]}

    page.goto(f"{server.url}/#/runs/{seeded['trained']}")
    expect(page.locator("#run-records")).to_have_text(str(DAVIS))


def test_each_version_counts_its_records_and_links_both_ways(page, server, model_name, seeded, screenshot):
    page.goto(f"{server.url}/#/models/{model_name}")
    cell = page.locator('#versions-table tbody tr[data-version="1"] .version-records')
    expect(cell).to_have_text(str(DAVIS))
    screenshot("model-records-counts")
    cell.get_by_role("link").click()
    expect(status(page)).to_have_text(f"records 1–50 of {DAVIS}")
    assert hash_params(page)["version"] == [f"{model_name}@1"]
    expect(page.locator("#records-scope")).to_contain_text(f"made with version {model_name}@1")

    # A record's version leads to that version on the model's page, marked.
    page.locator("#records-table a.version-link").first.click()
    expect(page.get_by_role("heading", name=f"Model {model_name}", level=1)).to_be_visible()
    expect(page.locator('#versions-table tbody tr[data-version="1"]')).to_have_class("highlight")

    page.goto(f"{server.url}/#/models/{model_name}/records?version={model_name}@9")
    expect(page.locator(".error")).to_contain_text("Not found")


def test_names_and_data_are_text_never_markup(page, server, model_name, seeded):
    page.goto(f"{server.url}/#/models/{model_name}/records")
    page.get_by_label("Site").fill(HOSTILE_SITE)
    page.get_by_role("button", name="Apply filters").click()
    expect(status(page)).to_have_text("records 1–1 of 1")
    row = page.locator("#records-table tbody tr")
    expect(row.locator('[data-col="site"]')).to_have_text(HOSTILE_SITE)
    expect(row).to_contain_text("label: <b>not bold</b>")
    expect(page.locator("#records-table img, #records-table b")).to_have_count(0)
    assert page.evaluate("window.__xss") is None


def test_a_record_file_downloads_from_the_table(page, server, api, model_name):
    model = api.post("/models", json={"model_name": model_name}).json()
    content = b"plot,count\n1,12\n" * 50
    response = api.post(
        f"/models/id/{model['id']}/records",
        data={"timestamp": "2024-07-01T09:00:00+00:00", "site_name": "Davis", "model_data": '{"count": 12}'},
        files={"record_file": ("counts.csv", content, "text/csv")},
    )
    assert response.status_code == 201, response.text
    record = response.json()
    page.goto(f"{server.url}/#/models/{model_name}/records")
    link = page.locator("#records-table a.file-link")
    expect(link).to_have_text("counts.csv")
    assert link.get_attribute("href") == f"/api/models/records/id/{record['id']}/download"
    with page.expect_download() as download:
        link.click()
    assert open(download.value.path(), "rb").read() == content


def test_an_unknown_model_and_a_model_without_records(page, server, api, model_name):
    api.post("/models", json={"model_name": model_name}).raise_for_status()
    page.goto(f"{server.url}/#/models/{model_name}")
    expect(page.locator("#model-records")).to_have_text("Records (0)")
    page.goto(f"{server.url}/#/models/{model_name}/records")
    expect(page.locator("#records-empty")).to_contain_text("has no records yet")
    expect(status(page)).to_have_text("No records")
    page.goto(f"{server.url}/#/models/ghost-{uuid.uuid4().hex[:6]}/records")
    expect(page.get_by_role("heading", name="Model not found", level=1)).to_be_visible()
