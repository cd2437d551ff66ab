"""The compare page at a glance: ``python -m benchmarks.compare_page_bench`` (``make bench-web``).

20 runs x 100,000 points of one key ("loss"), written through the registry (``log_batch``, 100,000 points
a batch) into a fresh SQLite file and a fresh PostgreSQL database (``GEMINI_BENCH_POSTGRES_URL``), each
served by a real ``gemini serve`` on loopback. Debian's Chromium (through Playwright, as the web tests
drive it) opens ``#/compare?ids=<the 20 runs>`` in a fresh browser context each time (nothing cached)
and reads the page's own figure with the Performance API: from navigation start to the
``gemini:curves-drawn`` mark, which the page sets once the frame showing the curves is painted. One load
warms the server and is not counted; the median of ``--loads`` loads must be at most ``--limit-ms``
(1,000 ms), or the command exits with status 1 after printing every figure.

Beside the total, from the page's resource timings: when the 20 runs had been read, the history
read alone (request start to response end) and its size, and the points the curves are drawn from.
Results: ``benchmarks/results/compare_page.{json,md}``.

    .venv/bin/python -m benchmarks.compare_page_bench --backends sqlite --points 10000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


from benchmarks.run import PostgresDatabases, _server_version, log
from benchmarks.serving import served

RESULTS = Path(__file__).parent / "results"
CHROMIUM = os.environ.get("GEMINI_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
VIEWPORT = {"width": 1366, "height": 900}
BATCH = 100_000
KEY = "loss"

# Waits for the page's mark; then navigation start to the mark as a measure, with the resource timings.
MEASURE = """() => new Promise((resolve) => {
  const wait = () => {
    const [mark] = performance.getEntriesByName("gemini:curves-drawn", "mark");
    if (!mark) return setTimeout(wait, 10);
    const measure = performance.measure("gemini:navigation-to-curves", { end: "gemini:curves-drawn" });
    const resources = performance.getEntriesByType("resource");
    const runs = resources.filter((e) => new URL(e.name).pathname.startsWith("/api/model_runs/"));
    const history = resources.find((e) => new URL(e.name).pathname === "/api/metrics/history");
    resolve({
      drawn_ms: measure.duration,
      series: mark.detail.series,
      points: mark.detail.points,
      runs_read_ms: Math.max(...runs.map((e) => e.responseEnd)),
      history_start_ms: history.startTime,
      history_ms: history.responseEnd - history.startTime,
      history_bytes: history.encodedBodySize,
    });
  };
  wait();
})"""


def seed(database_url: str, runs: int, points: int) -> list[str]:
    """`runs` finished runs with `points` steps of KEY each, written through the registry."""
    os.environ["GEMINI_DATABASE_URL"] = database_url
    from gemini.db import engine as db_engine
    from gemini.registry import registry

    store = registry()
    start = dt.datetime(2025, 3, 1, tzinfo=dt.timezone.utc)
    ids = []
    for index in range(runs):
        run = store.start_run(model_name="compare-bench", model_run_info={"seed": index})
        for first in range(0, points, BATCH):
            batch = [
                (KEY, step, math.exp(-step / points) + 0.05 * math.sin(step / 500 + index), start + dt.timedelta(seconds=step))
                for step in range(first, min(points, first + BATCH))
            ]
            store.log_batch(run_id=run.id, batch_id=f"seed-{index}-{first}", points=batch)
        store.end_run(run_id=run.id)
        ids.append(str(run.id))
    db_engine.dispose_engines()
    return ids


def load_once(browser: Any, address: str, runs: int) -> dict[str, Any]:
    """One navigation to the compare page in a fresh context; the page's figures."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-US", timezone_id="UTC")
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(address)
        figures = page.evaluate(MEASURE)
        drawn = page.locator("#metric-curves-chart g.series").count()
        if errors or drawn != runs or figures["series"] != runs:
            raise RuntimeError(f"the page drew {drawn} curves of {runs} (script errors: {errors})")
        return figures
    finally:
        context.close()


def bench_backend(backend: str, database_url: str, args: argparse.Namespace, browser: Any, scratch: Path) -> dict[str, Any]:
    log(f"{backend}: writing {args.runs} runs x {args.points:,} points")
    began = time.perf_counter()
    ids = seed(database_url, args.runs, args.points)
    seed_s = time.perf_counter() - began
    log(f"{backend}: written in {seed_s:.1f} s; loading the compare page {args.loads} times (and once to warm up)")
    with served(database_url, scratch) as server:
        url = server.url
        address = f"{url}/#/compare?ids={','.join(ids)}"
        load_once(browser, address, args.runs)
        loads = [load_once(browser, address, args.runs) for _ in range(args.loads)]
    median = {key: statistics.median(load[key] for load in loads) for key in loads[0]}
    log(
        f"{backend}: curves drawn {median['drawn_ms']:.0f} ms after navigation (median of {len(loads)}; "
        f"{min(load['drawn_ms'] for load in loads):.0f}-{max(load['drawn_ms'] for load in loads):.0f})"
    )
    return {"backend": backend, "seed_s": seed_s, "median": median, "loads": loads}


def markdown(results: list[dict], meta: dict) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    lines = [
        f"# The compare page: {meta['runs']} runs x {meta['points']:,} points",
        "",
        f"{meta['date']}; {meta['machine']}; Python {meta['python']}; SQLite {meta['sqlite']}; "
        f"PostgreSQL {meta['postgresql']}; Chromium {meta['chromium']}; load average before {meta['load_average']}.",
        f"Median of {meta['loads']} loads, each in a fresh browser context (nothing cached), after one to warm the server.",
        "",
        "| | " + " | ".join(names[item["backend"]] for item in results) + " |",
        "|---|" + "---|" * len(results),
    ]

    def row(label: str, cell) -> None:
        lines.append(f"| {label} | " + " | ".join(cell(item) for item in results) + " |")

    def spread(item: dict) -> str:
        drawn = [load["drawn_ms"] for load in item["loads"]]
        return f"**{item['median']['drawn_ms']:.0f}** ({min(drawn):.0f}–{max(drawn):.0f})"

    row("**curves drawn after navigation, ms**", spread)
    row("… the 20 runs read, ms", lambda i: f"{i['median']['runs_read_ms']:.0f}")
    row("… the history read starts, ms", lambda i: f"{i['median']['history_start_ms']:.0f}")
    row("… the history read (request to last byte), ms", lambda i: f"{i['median']['history_ms']:.0f}")
    row("… its size, KiB", lambda i: f"{i['median']['history_bytes'] / 1024:,.0f}")
    row("points drawn (all curves)", lambda i: f"{i['median']['points']:,.0f}")
    row(f"within {meta['limit_ms']:,} ms?", lambda i: "yes" if i["median"]["drawn_ms"] <= meta["limit_ms"] else "**no**")
    row("writing the points (log_batch), s", lambda i: f"{i['seed_s']:.1f}")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--points", type=int, default=100_000)
    parser.add_argument("--loads", type=int, default=7)
    parser.add_argument("--limit-ms", type=float, default=1000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    kept = ("GEMINI_BENCH_POSTGRES_URL", "GEMINI_TEST_CHROMIUM")
    for key in [key for key in os.environ if key.startswith("GEMINI_") and key not in kept]:
        del os.environ[key]  # the databases made here, whatever the shell says
    from playwright.sync_api import sync_playwright

    backends = [backend for backend in args.backends.split(",") if backend]
    databases = PostgresDatabases()
    scratch = Path(tempfile.mkdtemp(prefix="gemini-compare-bench-"))
    os.environ["GEMINI_ARTIFACT_ROOT"] = str(scratch / "artifacts")
    results: list[dict] = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            meta = {
                "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                "python": platform.python_version(),
                "sqlite": sqlite3.sqlite_version,
                "postgresql": _server_version() if "postgresql" in backends else "-",
                "chromium": browser.version,
                "runs": args.runs,
                "points": args.points,
                "loads": args.loads,
                "limit_ms": args.limit_ms,
                "load_average": tuple(round(load, 1) for load in os.getloadavg()),
                "command": " ".join(sys.argv),
            }
            for backend in backends:
                database_url = f"sqlite:///{scratch / 'compare.db'}" if backend == "sqlite" else databases.new("compare")
                results.append(bench_backend(backend, database_url, args, browser, scratch))
            browser.close()
    finally:
        from gemini.db import engine as db_engine

        db_engine.dispose_engines()
        shutil.rmtree(scratch, ignore_errors=True)
        if "postgresql" in backends:
            databases.drop_all()
    directory = Path(args.out)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "compare_page.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    table = markdown(results, meta)
    (directory / "compare_page.md").write_text(table)
    print(table)
    slow = [item["backend"] for item in results if item["median"]["drawn_ms"] > args.limit_ms]
    if slow:
        raise SystemExit(f"curves drawn later than {args.limit_ms:,.0f} ms after navigation on {', '.join(slow)}")


if __name__ == "__main__":
    main()
