"""Metric curves read for the width they are drawn at, zoomed into a range of steps and read again finer
there: on the run page (one chart per key) and on the compare page (the runs overlaid)."""

import math
import re
import uuid
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect
from tests.web.conftest import web_server

LONG = 20_000

# The CSS pixels across a line chart's plot: its viewBox scaled to the element ("meet"), less the margins
# (72 left, 20 right) of charts.js.
PLOT_PIXELS = """(chart) => {
  const rect = chart.getBoundingClientRect();
  const box = chart.viewBox.baseVal;
  return (box.width - 92) * Math.min(rect.width / box.width, rect.height / box.height);
}"""

# The viewport x of a step on a drawn line chart.
CLIENT_X = """(chart, step) => {
  const start = Number(chart.dataset.startStep);
  const end = Number(chart.dataset.endStep);
  const box = chart.viewBox.baseVal;
  const x = 72 + ((step - start) / (end - start)) * (box.width - 92);
  const m = chart.getScreenCTM();
  return m.a * x + m.e;
}"""


def log_points(api, model_name: str, steps: int) -> str:
    """A finished tracked run with `steps` points of "loss": a slow decline with a spike every 1,000 steps."""
    response = api.post("/model_runs/start", json={"model_name": model_name, "model_run_info": {"seed": uuid.uuid4().hex}})
    response.raise_for_status()
    run_id = response.json()["id"]
    points = [
        {"key": "loss", "step": step, "value": (5.0 if step % 1000 == 500 else 0.0) + math.exp(-step / 5000)}
        for step in range(steps)
    ]
    api.post(f"/model_runs/{run_id}/metrics", json={"batch_id": uuid.uuid4().hex, "points": points}).raise_for_status()
    api.post(f"/model_runs/{run_id}/end", json={"status": "finished"}).raise_for_status()
    return run_id


def is_history_read(request) -> bool:
    return urlparse(request.url).path == "/api/metrics/history"


class HistoryReads:
    """The /api/metrics/history requests the page sends, as their query parameters."""

    def __init__(self, page) -> None:
        self.queries: list[dict[str, list[str]]] = []
        page.on("request", lambda request: is_history_read(request) and self.queries.append(query_of(request)))

    def max_points(self) -> list[int]:
        return [int(query["max_points"][0]) for query in self.queries]


def query_of(request) -> dict[str, list[str]]:
    return parse_qs(urlparse(request.url).query)


def expected_points(pixels: float) -> int:
    """Two points per CSS pixel of plot, within 100 and 4,000 (curves.js)."""
    return min(4000, max(100, round(pixels * 2)))


def drawn(page, chart: str):
    """The chart once its points are drawn (not while they, or finer ones, are being read)."""
    expect(page.locator(f"{chart}-box")).to_have_attribute("data-state", "drawn")
    return page.locator(chart)


def steps_shown(page, chart: str) -> tuple[int, int]:
    svg = drawn(page, chart)
    return int(svg.get_attribute("data-start-step")), int(svg.get_attribute("data-end-step"))


def points_of(page, chart: str) -> list[int]:
    return [int(n) for n in drawn(page, chart).locator("g.series").evaluate_all("all => all.map((g) => g.dataset.points)")]


def drag(page, chart: str, from_step: int, to_step: int) -> None:
    """Drag across the plot from one step to another, as a mouse does."""
    svg = drawn(page, chart)
    start_x = svg.evaluate(CLIENT_X, from_step)
    end_x = svg.evaluate(CLIENT_X, to_step)
    box = svg.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(start_x, y)
    page.mouse.down()
    page.mouse.move(end_x, y, steps=8)
    page.mouse.up()


@pytest.fixture(scope="module")
def server(tmp_path_factory, gemini_server):
    """A server of this module's own: its models stay off the first page of models that the other
    pages' tests read from the shared server."""
    with web_server(gemini_server, tmp_path_factory.mktemp("web-curves")) as served:
        yield served


@pytest.fixture
def long_run(api, model_name) -> str:
    return log_points(api, model_name, LONG)


def test_the_points_asked_follow_the_drawn_width_of_the_chart(page, server, long_run):
    reads = HistoryReads(page)
    page.set_viewport_size({"width": 640, "height": 900})
    page.goto(f"{server.url}/#/runs/{long_run}")
    chart = drawn(page, "#metric-chart-0")
    narrow = chart.evaluate(PLOT_PIXELS)
    assert reads.max_points() == [expected_points(narrow)]
    points = points_of(page, "#metric-chart-0")[0]
    assert 2 <= points <= expected_points(narrow)
    expect(page.locator('#metric-charts figure[data-key="loss"]')).to_contain_text(f"Drawn from {points} of {LONG} points")
    # The tooltip names the last point, its time from the epoch seconds of the answer, in UTC.
    assert re.fullmatch(
        rf"loss: {points} points, last [\d.]+ at step {LONG - 1} \(\d{{4}}-\d\d-\d\dT[\d:.]+Z\)",
        chart.locator("g.series > title").text_content(),
    )

    # A chart that grows much wider reads its points again, for its new width.
    with page.expect_response(is_history_read) as wider:
        page.set_viewport_size({"width": 1366, "height": 900})
    wide = drawn(page, "#metric-chart-0").evaluate(PLOT_PIXELS)
    assert wide > narrow
    assert int(query_of(wider.value.request)["max_points"][0]) == expected_points(wide)


def test_a_drag_zooms_into_steps_read_finer_and_reset_shows_every_step(page, server, long_run, screenshot):
    reads = HistoryReads(page)
    page.goto(f"{server.url}/#/runs/{long_run}")
    assert steps_shown(page, "#metric-chart-0") == (0, LONG - 1)
    coarse = points_of(page, "#metric-chart-0")[0]
    assert coarse < LONG

    with page.expect_request(is_history_read) as zoom_read:
        drag(page, "#metric-chart-0", 4000, 4400)
    query = query_of(zoom_read.value)
    start, end = steps_shown(page, "#metric-chart-0")
    assert abs(start - 4000) <= 40 and abs(end - 4400) <= 40
    assert (query["start_step"], query["end_step"]) == ([str(start)], [str(end)])
    assert query["run_id"] == [long_run]
    # The range holds fewer points than the chart's width asks for: every one of them is drawn.
    assert points_of(page, "#metric-chart-0") == [end - start + 1]
    figure = page.locator('#metric-charts figure[data-key="loss"]')
    expect(figure).to_contain_text(f"Steps {start} to {end}: every point ({end - start + 1}).")
    expect(page.get_by_label("From step")).to_have_value(str(start))
    screenshot("run-chart-zoomed")

    page.get_by_role("button", name="Reset zoom").click()
    assert steps_shown(page, "#metric-chart-0") == (0, LONG - 1)
    assert points_of(page, "#metric-chart-0") == [coarse]
    expect(page.get_by_role("button", name="Reset zoom")).to_be_disabled()
    assert len(reads.queries) == 2, "the whole series is held: a reset reads nothing"


def test_the_step_fields_zoom_from_the_keyboard_and_a_double_click_resets(page, server, long_run):
    page.goto(f"{server.url}/#/runs/{long_run}")
    drawn(page, "#metric-chart-0")
    page.get_by_label("From step").fill("12000")
    page.get_by_label("to step").fill("12099")
    page.get_by_label("to step").press("Enter")
    assert steps_shown(page, "#metric-chart-0") == (12000, 12099)
    assert points_of(page, "#metric-chart-0") == [100]

    page.get_by_label("From step").fill("50")
    page.get_by_label("to step").fill("10")
    page.get_by_role("button", name="Zoom", exact=True).click()
    expect(page.locator("#metric-chart-0-box")).to_contain_text("Give two whole steps, the first below the last.")
    assert steps_shown(page, "#metric-chart-0") == (12000, 12099)

    page.locator("#metric-chart-0").dblclick()
    assert steps_shown(page, "#metric-chart-0") == (0, LONG - 1)


def test_a_wide_zoom_is_reduced_again_and_keeps_the_spikes(page, server, long_run):
    page.goto(f"{server.url}/#/runs/{long_run}")
    drawn(page, "#metric-chart-0")
    page.get_by_label("From step").fill("2000")
    page.get_by_label("to step").fill("17999")
    page.get_by_label("to step").press("Enter")
    assert steps_shown(page, "#metric-chart-0") == (2000, 17999)
    expect(page.locator('#metric-charts figure[data-key="loss"]')).to_contain_text("Steps 2000 to 17999 drawn from")
    # The highest points of the range are its spikes: reduced, the range still reaches them.
    top = page.locator("#metric-chart-0 g.tick text").evaluate_all("all => all.map((t) => Number(t.textContent))")
    assert max(top) >= 5


def test_on_compare_a_complete_series_is_not_read_again(page, server, api, model_name):
    short = log_points(api, model_name, 1000)
    long = log_points(api, model_name, LONG)
    reads = HistoryReads(page)
    page.goto(f"{server.url}/#/compare?ids={short},{long}")
    chart = "#metric-curves-chart"
    assert points_of(page, chart)[0] == 1000, "a series shorter than the chart's points is whole"
    assert len(reads.queries) == 1

    with page.expect_request(is_history_read) as zoom_read:
        drag(page, chart, 200, 800)
    assert query_of(zoom_read.value)["run_id"] == [long], "the short run's points are all held already"
    start, end = steps_shown(page, chart)
    assert points_of(page, chart) == [end - start + 1, end - start + 1]

    # Inside a range held whole, a zoom reads nothing; nor does the way back.
    page.get_by_label("From step").fill(str(start + 100))
    page.get_by_label("to step").fill(str(start + 200))
    page.get_by_label("to step").press("Enter")
    assert steps_shown(page, chart) == (start + 100, start + 200)
    assert points_of(page, chart) == [101, 101]
    page.get_by_role("button", name="Reset zoom").click()
    assert steps_shown(page, chart) == (0, LONG - 1)
    assert len(reads.queries) == 2


def test_a_late_answer_for_an_earlier_zoom_is_not_drawn(page, server, long_run):
    held = []

    def hold_the_first_zoom(route):
        if "start_step" in query_of(route.request) and not held:
            held.append(route)
        else:
            route.continue_()

    page.route("**/api/metrics/history?**", hold_the_first_zoom)
    page.goto(f"{server.url}/#/runs/{long_run}")
    drawn(page, "#metric-chart-0")
    page.get_by_label("From step").fill("1000")
    page.get_by_label("to step").fill("1999")
    page.get_by_label("to step").press("Enter")
    expect(page.locator("#metric-chart-0-box")).to_have_attribute("data-state", "refining")
    page.get_by_label("From step").fill("7000")
    page.get_by_label("to step").fill("7099")
    page.get_by_label("to step").press("Enter")
    assert steps_shown(page, "#metric-chart-0") == (7000, 7099)
    assert points_of(page, "#metric-chart-0") == [100]

    with page.expect_response(lambda response: "start_step=1000" in response.url):
        held[0].continue_()
    page.evaluate("() => new Promise((resolve) => setTimeout(resolve, 100))")
    assert steps_shown(page, "#metric-chart-0") == (7000, 7099)
    assert points_of(page, "#metric-chart-0") == [100]


def test_a_running_run_keeps_its_zoom_while_points_arrive(page, server, api, model_name):
    response = api.post("/model_runs/start", json={"model_name": model_name, "model_run_info": {"seed": uuid.uuid4().hex}})
    response.raise_for_status()
    run_id = response.json()["id"]

    def log(steps: range) -> None:
        points = [{"key": "loss", "step": step, "value": 1 / (step + 1)} for step in steps]
        api.post(f"/model_runs/{run_id}/metrics", json={"batch_id": uuid.uuid4().hex, "points": points}).raise_for_status()

    log(range(LONG))
    page.goto(f"{server.url}/#/runs/{run_id}")
    drawn(page, "#metric-chart-0")
    page.get_by_label("From step").fill("100")
    page.get_by_label("to step").fill("199")
    page.get_by_label("to step").press("Enter")
    assert steps_shown(page, "#metric-chart-0") == (100, 199)

    with page.expect_request(lambda request: is_history_read(request) and "start_step" in query_of(request)):
        log(range(LONG, LONG + 500))
    expect(page.locator('#metric-summaries tr[data-key="loss"]')).to_contain_text(str(LONG + 500))
    assert steps_shown(page, "#metric-chart-0") == (100, 199)
    assert points_of(page, "#metric-chart-0") == [100]
    api.post(f"/model_runs/{run_id}/end", json={"status": "finished"}).raise_for_status()
