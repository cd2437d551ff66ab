"""A tracked run's page in a real browser: status and duration, a chart per metric, artifact downloads,
a failed run's error, and a running run that updates itself."""

import datetime as dt
import re
import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect
from test_accessibility import CONTRAST, UNLABELLED

from gemini.db.tables import ModelRunRow

WEIGHTS = bytes(range(256)) * 40 + b"end"


@pytest.fixture
def tracked(api, model_name):
    """Start a tracked run of this test's model; returns helpers to log points, store artifacts and end it."""

    class Tracked:
        def __init__(self) -> None:
            response = api.post("/model_runs/start", json={"model_name": model_name, "model_run_info": {"lr": 0.01}})
            response.raise_for_status()
            self.id = response.json()["id"]

        def log(self, key: str, steps: range, value=lambda step: 1.0 / (step + 1)) -> None:
            points = [{"key": key, "step": step, "value": value(step)} for step in steps]
            body = {"batch_id": uuid.uuid4().hex, "points": points}
            api.post(f"/model_runs/{self.id}/metrics", json=body).raise_for_status()

        def store(self, name: str, content: bytes) -> None:
            api.put(f"/model_runs/{self.id}/artifacts/{name}", content=content).raise_for_status()

        def end(self, status: str = "finished", **error) -> None:
            api.post(f"/model_runs/{self.id}/end", json={"status": status, **error}).raise_for_status()

    return Tracked


def series(page, key: str):
    return page.locator(f'#metric-charts figure[data-key="{key}"] g.series')


def test_a_finished_run_shows_status_duration_and_a_chart_per_metric(page, server, tracked, screenshot):
    run = tracked()
    run.log("loss", range(50))
    run.log("metrics/mAP50(B)", range(20), lambda step: step / 20)
    run.end()
    page.goto(f"{server.url}/#/runs/{run.id}")
    expect(page.locator("#run-status")).to_have_text("finished")
    expect(page.locator("#run-duration")).to_have_text(re.compile(r"^\d+ s$"))
    expect(page.locator("#metric-charts figure")).to_have_count(2)
    expect(series(page, "loss")).to_have_attribute("data-points", "50")
    expect(series(page, "metrics/mAP50(B)")).to_have_attribute("data-points", "20")
    expect(page.locator('#metric-summaries tr[data-key="loss"]')).to_contain_text("50")
    expect(page.locator("#metric-charts svg title").first).to_contain_text("by step")
    screenshot("run-tracked")


def test_the_status_badge_takes_its_colour_from_the_statuses_the_server_lists(page, server, tracked):
    run = tracked()
    run.end()
    page.goto(f"{server.url}/#/runs/{run.id}")
    expect(page.locator("#run-status .status")).to_have_class("status status-finished")


def test_a_status_the_server_does_not_list_is_drawn_as_other(page, server, tracked):
    run = tracked()
    run.end()

    def without_finished(route):
        body = route.fetch().json()
        body["run_statuses"] = [status for status in body["run_statuses"] if status != "finished"]
        route.fulfill(json=body)

    page.route("**/api/health", without_finished)
    page.goto(f"{server.url}/#/runs/{run.id}")
    expect(page.locator("#run-status .status")).to_have_class("status status-other")
    expect(page.locator("#run-status")).to_have_text("finished")


def test_a_long_history_is_drawn_downsampled(page, server, tracked):
    run = tracked()
    run.log("loss", range(5000), lambda step: (step % 97) / 97)
    run.end()
    page.goto(f"{server.url}/#/runs/{run.id}")
    expect(page.locator("#metric-chart-0-box")).to_have_attribute("data-state", "drawn")
    drawn = int(series(page, "loss").get_attribute("data-points"))
    assert 2 <= drawn < 5000
    expect(page.locator('#metric-charts figure[data-key="loss"]')).to_contain_text(f"Drawn from {drawn} of 5000 points")


def test_artifact_links_download_the_stored_bytes(page, server, tracked):
    run = tracked()
    run.store("weights/best.pt", WEIGHTS)
    run.store("notes.txt", b"mAP went up\n")
    run.end()
    page.goto(f"{server.url}/#/runs/{run.id}")
    rows = page.locator("#artifacts-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator('#artifacts-table tr[data-name="weights/best.pt"]')).to_contain_text("10.0 KiB")
    expect(page.locator('#artifacts-table tr[data-name="notes.txt"]')).to_contain_text("12 bytes")
    with page.expect_download() as download:
        page.get_by_role("link", name="weights/best.pt").click()
    assert download.value.suggested_filename == "best.pt"
    with open(download.value.path(), "rb") as stream:
        assert stream.read() == WEIGHTS


def test_a_failed_run_shows_its_error(page, server, tracked, screenshot):
    run = tracked()
    run.end("failed", error_type="RuntimeError", error_message="loss diverged at step 12")
    page.goto(f"{server.url}/#/runs/{run.id}")
    expect(page.locator("#run-status")).to_have_text("failed")
    expect(page.locator("#run-error")).to_contain_text("RuntimeError")
    expect(page.locator("#run-error")).to_contain_text("loss diverged at step 12")
    expect(page.locator("#run-metrics")).to_contain_text("This run has no metrics.")
    screenshot("run-failed")


def test_a_running_run_updates_without_a_reload(page, server, tracked):
    run = tracked()
    run.log("loss", range(3))
    page.goto(f"{server.url}/#/runs/{run.id}")
    expect(page.locator("#run-status")).to_have_text("running")
    expect(page.locator("#run-duration")).to_contain_text("so far")
    expect(series(page, "loss")).to_have_attribute("data-points", "3")
    page.evaluate("window.__notReloaded = true")

    run.log("loss", range(3, 8))
    run.store("last.pt", b"weights")
    expect(series(page, "loss")).to_have_attribute("data-points", "8")
    expect(page.get_by_role("link", name="last.pt")).to_be_visible()
    run.end()
    expect(page.locator("#run-status")).to_have_text("finished")
    expect(page.locator("#run-status-live")).to_have_text("The run is now finished.")
    assert page.evaluate("window.__notReloaded") is True


def test_a_run_that_was_not_tracked_says_so(page, server, make_runs):
    (run_id,) = make_runs([{"seed": 1}])
    page.goto(f"{server.url}/#/runs/{run_id}")
    expect(page.locator("#run-status")).to_have_text("not tracked")
    expect(page.locator("#run-artifacts")).to_contain_text("This run has no artifacts.")


def test_tracked_pages_meet_contrast_and_labels(page, server, tracked, api):
    runs = []
    for status in ("running", "failed", "finished"):
        run = tracked()
        run.log("loss", range(5))
        run.store("best.pt", b"w")
        if status != "running":
            run.end(status, **({"error_type": "ValueError", "error_message": "bad"} if status == "failed" else {}))
        runs.append(run)
    fragments = [f"#/runs/{run.id}" for run in runs] + [f"#/compare?ids={','.join(run.id for run in runs)}"]
    for fragment in fragments:
        page.goto(f"{server.url}/{fragment}")
        expect(page.locator("main")).not_to_have_attribute("aria-busy", "true")
        expect(page.locator("#metric-charts, #metric-curves").first).to_be_visible()
        assert page.evaluate(CONTRAST) == [], f"text below the contrast minimum on {fragment}"
        assert page.evaluate(UNLABELLED) == [], f"controls without a label on {fragment}"


def test_the_page_stops_reading_the_run_once_it_has_ended_or_is_left(page, server, tracked):
    ended, left = tracked(), tracked()
    reads: list[str] = []
    page.on("request", lambda request: reads.append(request.url))

    page.goto(f"{server.url}/#/runs/{ended.id}")
    expect(page.locator("#run-status")).to_have_text("running")
    ended.end()
    expect(page.locator("#run-status")).to_have_text("finished")
    page.goto(f"{server.url}/#/runs/{left.id}")
    expect(page.locator("#run-status")).to_have_text("running")
    page.get_by_role("link", name="Models").click()
    expect(page.get_by_role("heading", name="Models", level=1)).to_be_visible()
    reads.clear()
    page.wait_for_timeout(2.5 * 3000)  # two and a half poll periods
    assert [url for url in reads if ended.id in url or left.id in url] == []


def test_a_run_whose_heartbeat_stopped_shows_lost(page, server, tracked):
    run = tracked()
    run.log("loss", range(4))
    # The process "dies": its last heartbeat is a day old, far past the server's timeout.
    engine = sa.create_engine(server.database_url)
    with engine.begin() as connection:
        stale = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
        connection.execute(sa.update(ModelRunRow).where(ModelRunRow.id == uuid.UUID(run.id)).values(heartbeat_at=stale))
    engine.dispose()
    page.goto(f"{server.url}/#/runs/{run.id}")
    expect(page.locator("#run-status")).to_have_text("lost")
    expect(page.locator("#run-duration")).to_contain_text("unknown")
    expect(page.locator("#run-lost")).to_contain_text("stopped sending heartbeats")
    expect(series(page, "loss")).to_have_attribute("data-points", "4")
