"""How soon the compare page draws 20 runs' curves after a navigation, measured in the page with the
Performance API: from navigation start to the "gemini:curves-drawn" mark the page sets once the curves
are painted. The suite's size is 20 runs x 10,000 points; `make bench-web` measures 100,000 and holds it
to a second."""

import datetime as dt
import math

import httpx
import pytest
from playwright.sync_api import expect

from gemini.registry import registry

RUNS = 20
POINTS = 10_000
BATCH = 100_000

# Navigation start to the page's mark, as a measure; with what the mark says it drew.
MEASURE = """() => new Promise((resolve) => {
  const wait = () => {
    const [mark] = performance.getEntriesByName("gemini:curves-drawn", "mark");
    if (!mark) return setTimeout(wait, 10);
    const measure = performance.measure("gemini:navigation-to-curves", { end: "gemini:curves-drawn" });
    resolve({ ms: measure.duration, ...mark.detail });
  };
  wait();
})"""


def seed_runs(runs: int, points: int) -> list[str]:
    """`runs` finished runs of one model with `points` steps of "loss" each, written in large batches."""
    store = registry()
    start = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
    ids = []
    for index in range(runs):
        run = store.start_run(model_name="curves-timing", model_run_info={"seed": index})
        for first in range(0, points, BATCH):
            batch = [
                ("loss", step, math.exp(-step / points) + 0.05 * math.sin(step / 50 + index), start + dt.timedelta(seconds=step))
                for step in range(first, min(points, first + BATCH))
            ]
            store.log_batch(run_id=run.id, batch_id=f"seed-{index}-{first}", points=batch)
        store.end_run(run_id=run.id)
        ids.append(str(run.id))
    return ids


@pytest.fixture(scope="module")
def long_runs(tmp_path_factory, gemini_server):
    """A server of this module's own, its database seeded directly through the registry."""
    database_url = f"sqlite:///{tmp_path_factory.mktemp('web-timing') / 'timing.db'}"
    with gemini_server(database_url) as served, pytest.MonkeyPatch.context() as environment:
        environment.delenv("GEMINI_API_URL", raising=False)
        environment.setenv("GEMINI_DATABASE_URL", database_url)
        ids = seed_runs(RUNS, POINTS)
        # Each kind of request once first: the figure is the page's, not a fresh server's first answers.
        with httpx.Client(base_url=served.url, timeout=30) as client:
            for path in ("/", "/web/app.js", f"/api/model_runs/{ids[0]}"):
                client.get(path).raise_for_status()
            client.post("/api/metrics/summaries", json={"run_ids": ids}).raise_for_status()
            client.get("/api/metrics/history", params={"key": "loss", "run_id": ids, "max_points": 1000}).raise_for_status()
        yield served.url, ids


def test_the_compare_page_draws_20_runs_of_curves_and_says_when(page, long_runs, record_property):
    url, ids = long_runs
    page.goto(f"{url}/#/compare?ids={','.join(ids)}")
    expect(page.locator("#metric-curves-chart g.series")).to_have_count(RUNS)
    drawn = page.evaluate(MEASURE)
    assert drawn["series"] == RUNS
    assert 0 < drawn["points"] < RUNS * POINTS, "each curve is reduced to the chart's width"
    record_property("curves_drawn_ms", round(drawn["ms"]))
    print(
        f"compare page, {RUNS} runs x {POINTS:,} points: curves drawn {drawn['ms']:.0f} ms after navigation "
        f"({drawn['points']:,} points drawn)"
    )
