"""Tracking benchmarks: ``python -m benchmarks.tracking_bench`` (part of ``make bench``).

On each database, fresh:

- one run logs 100,000 points (10 keys x 10,000 steps) through ``log_metrics``: the time spent inside
  those calls, and the time from ``end()`` until every point is durable (committed);
- MLflow's SQL store on the same kind of database, the same work: ``log_metric`` (one call a point)
  and ``log_batch`` (1,000 points a call). Each is timed for ``--mlflow-seconds`` at most and, when it
  did not finish, extrapolated from the calls made (the report says so);
- history of one key with 10,000 points; one key for 20 runs of 10,000 points, whole and reduced to
  500 points a series;
- search ``max(metric.map50) > x`` ordered by ``-max(metric.map50)``, limit 100, over 100,000 tracked
  runs (the runs and their summary rows are inserted in bulk, as a registry that tracked them holds them).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import shutil
import sqlite3
import statistics
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

from benchmarks.run import PostgresDatabases, _server_version, log

KEYS = [f"key_{index}" for index in range(10)]
STEPS = 10_000
COMPARE_RUNS = 20
SEARCH_RUNS = 100_000
REDUCED_POINTS = 500


def _median_ms(function, samples: int) -> tuple[float, float]:
    durations = []
    for _ in range(samples):
        start = time.perf_counter()
        function()
        durations.append((time.perf_counter() - start) * 1000)
    ordered = sorted(durations)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]


def bench_logging(results: dict) -> None:
    from gemini.api.model_run import ModelRun
    from gemini.registry import registry

    values = [[random.random() for _ in KEYS] for _ in range(STEPS)]
    rows = [dict(zip(KEYS, step_values)) for step_values in values]
    run = ModelRun.start(model_run_info={"bench": "logging"})
    inside = 0.0
    wall_start = time.perf_counter()
    for step, metrics in enumerate(rows):
        start = time.perf_counter()
        run.log_metrics(metrics, step=step)
        inside += time.perf_counter() - start
    logged = time.perf_counter()
    run.end()
    durable = time.perf_counter()
    stored = sum(summary.count for summary in registry().metric_summaries(run_id=run.id).values())
    assert stored == len(KEYS) * STEPS, stored
    results["log_metrics_inside_s"] = inside
    results["log_metrics_loop_s"] = logged - wall_start
    results["end_to_durable_s"] = durable - logged
    results["points"] = stored
    results["logging_run_id"] = str(run.id)


def bench_mlflow(url: str, seconds: float, results: dict) -> None:
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    from mlflow.entities import Metric
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    artifacts = tempfile.mkdtemp(prefix="mlflow-artifacts-")
    try:
        store = SqlAlchemyStore(url, artifacts)
        experiment = store.create_experiment("tracking-bench")
        points = [(key, step) for step in range(STEPS) for key in KEYS]
        total = len(points)

        run_id = store.create_run(experiment, "bench", int(time.time() * 1000), [], "log_metric").info.run_id
        start = time.perf_counter()
        done = 0
        for key, step in points:
            store.log_metric(run_id, Metric(key, random.random(), int(time.time() * 1000), step))
            done += 1
            if time.perf_counter() - start > seconds:
                break
        elapsed = time.perf_counter() - start
        results["mlflow_log_metric_points"] = done
        results["mlflow_log_metric_s"] = elapsed * total / done

        run_id = store.create_run(experiment, "bench", int(time.time() * 1000), [], "log_batch").info.run_id
        start = time.perf_counter()
        done = 0
        for offset in range(0, total, 1000):
            now = int(time.time() * 1000)
            batch = [Metric(key, random.random(), now, step) for key, step in points[offset : offset + 1000]]
            store.log_batch(run_id, metrics=batch, params=[], tags=[])
            done += len(batch)
            if time.perf_counter() - start > seconds:
                break
        elapsed = time.perf_counter() - start
        results["mlflow_log_batch_points"] = done
        results["mlflow_log_batch_s"] = elapsed * total / done
        store.engine.dispose()
    finally:
        shutil.rmtree(artifacts, ignore_errors=True)


def bench_histories(results: dict) -> None:
    from gemini.api.model_run import ModelRun
    from gemini.registry import registry

    run_id = results["logging_run_id"]
    results["history_one_key_ms"] = _median_ms(lambda: registry().metric_history(run_id=run_id, key="key_0"), 20)
    run = ModelRun.get_by_id(run_id)
    results["history_one_key_api_ms"] = _median_ms(lambda: run.get_metric_history("key_0"), 20)

    now = dt.datetime.now(dt.timezone.utc)
    run_ids = []
    for index in range(COMPARE_RUNS):
        compared = registry().start_run(model_run_info={"bench": "compare", "index": index})
        points = [("loss", step, random.random(), now) for step in range(STEPS)]
        registry().log_batch(run_id=compared.id, batch_id=uuid.uuid4().hex, points=points)
        registry().end_run(run_id=compared.id)
        run_ids.append(compared.id)
    results["history_20_runs_ms"] = _median_ms(lambda: registry().metric_histories(run_ids=run_ids, key="loss"), 10)
    results["history_20_runs_reduced_ms"] = _median_ms(
        lambda: registry().metric_histories(run_ids=run_ids, key="loss", max_points=REDUCED_POINTS), 20
    )


def _fill_tracked_runs(count: int) -> None:
    """``count`` finished runs, each with summaries of map50 and loss, inserted in bulk."""
    from gemini.domain.checks import check_info
    from gemini.db.engine import unit_of_work
    from gemini.db.ids import new_id
    from gemini.db.tables import ModelRunRow, run_metric_summaries

    runs = ModelRunRow.__table__
    now = dt.datetime.now(dt.timezone.utc)
    generator = random.Random(7)
    for start in range(0, count, 10_000):
        run_rows, summary_rows = [], []
        for index in range(start, min(count, start + 10_000)):
            info = check_info({"bench": "search", "index": index}, field="info")
            run_id = new_id()
            run_rows.append(
                dict(
                    id=run_id,
                    model_id=None,
                    model_run_info=info.value,
                    info_hash=info.hash,
                    created_at=now,
                    updated_at=now,
                    status="finished",
                    started_at=now,
                    ended_at=now,
                    heartbeat_at=now,
                )
            )
            map50 = generator.random()
            for key, last, low, high in (("map50", map50 * 0.9, map50 * 0.1, map50), ("loss", 1 - map50, 1 - map50, 2.0)):
                summary_rows.append(
                    dict(
                        run_id=run_id,
                        key=key,
                        last_value=last,
                        last_step=99,
                        min_value=low,
                        max_value=high,
                        value_count=100,
                        updated_at=now,
                    )
                )
        with unit_of_work(write=True) as connection:
            connection.execute(sa.insert(runs), run_rows)
            connection.execute(sa.insert(run_metric_summaries), summary_rows)
    with unit_of_work(write=True) as connection:
        connection.exec_driver_sql("ANALYZE")


def bench_search(results: dict) -> None:
    from gemini.registry import registry

    _fill_tracked_runs(SEARCH_RUNS)
    for threshold in (0.9, 0.5):
        where = f"max(metric.map50) > {threshold}"

        def search() -> None:
            page = registry().search_runs(where=where, order_by="-max(metric.map50)", limit=100)
            assert len(page.items) == 100

        search()
        results[f"search_max_gt_{threshold}_ms"] = _median_ms(search, 20)
    results["search_status_failed_ms"] = _median_ms(
        lambda: registry().search_runs(where='status = "failed"', order_by="-max(metric.map50)", limit=100), 20
    )


def run_backend(backend: str, url: str, mlflow_url: str | None, mlflow_seconds: float) -> dict:
    from gemini.db import engine as db_engine

    os.environ["GEMINI_DATABASE_URL"] = url
    db_engine.dispose_engines()
    results: dict = {"backend": backend}
    log(f"{backend}: 100,000 points through log_metrics")
    bench_logging(results)
    log(f"{backend}: histories")
    bench_histories(results)
    log(f"{backend}: search over {SEARCH_RUNS:,} tracked runs")
    bench_search(results)
    db_engine.dispose_engines()
    if mlflow_url is not None:
        log(f"{backend}: MLflow log_metric and log_batch")
        bench_mlflow(mlflow_url, mlflow_seconds, results)
    return results


def markdown(all_results: list[dict], meta: dict) -> str:
    lines = [
        f"Measured {meta['date']} on {meta['machine']} (shared with other work; load average at the start "
        f"{meta['load_average']}); Python {meta['python']}, SQLite {meta['sqlite']}, PostgreSQL "
        f"{meta['postgresql']}, MLflow {meta['mlflow']}.",
        "",
        "| measure | goal | " + " | ".join(item["backend"] for item in all_results) + " |",
        "|---|---|" + "---|" * len(all_results),
    ]

    def row(label: str, goal: str, render) -> None:  # noqa: ANN001
        lines.append(f"| {label} | {goal} | " + " | ".join(render(item) for item in all_results) + " |")

    def ms(key: str):  # noqa: ANN202
        return lambda item: f"{item[key][0]:.1f} ms (p95 {item[key][1]:.1f})" if key in item else "–"

    row("100,000 points: time inside `log_metrics`", "≤ 0.5 s", lambda item: f"{item['log_metrics_inside_s']:.3f} s")
    row("… then from `end()` until all are durable", "≤ 3 s", lambda item: f"{item['end_to_durable_s']:.3f} s")

    def mlflow(key: str, points: str):  # noqa: ANN202
        def render(item: dict) -> str:
            if key not in item:
                return "–"
            measured = item[points]
            note = "" if measured >= item["points"] else f" (extrapolated from {measured:,} points)"
            return f"{item[key]:,.1f} s{note}"

        return render

    row("MLflow `log_metric`, one call a point, same work", "", mlflow("mlflow_log_metric_s", "mlflow_log_metric_points"))
    row("MLflow `log_batch`, 1,000 points a call, same work", "", mlflow("mlflow_log_batch_s", "mlflow_log_batch_points"))

    def ratio(key: str):  # noqa: ANN202
        def render(item: dict) -> str:
            if key not in item:
                return "–"
            ours = item["log_metrics_inside_s"] + item["end_to_durable_s"]
            return f"{item[key] / ours:,.0f}× (ours: logging + end)"

        return render

    row("gemini vs MLflow `log_metric`", "≥ 50×", ratio("mlflow_log_metric_s"))
    row("gemini vs MLflow `log_batch`", "≥ 5×", ratio("mlflow_log_batch_s"))
    row("history of one key, 10,000 points (core)", "≤ 20 ms", ms("history_one_key_ms"))
    row("… through `run.get_metric_history` (dicts)", "", ms("history_one_key_api_ms"))
    row("one key for 20 runs × 10,000 points", "≤ 100 ms", ms("history_20_runs_ms"))
    row(f"… reduced to {REDUCED_POINTS} points a series", "≤ 30 ms", ms("history_20_runs_reduced_ms"))
    row("search `max(metric.map50) > 0.9`, `-max(metric.map50)`, limit 100, 100k runs", "≤ 20 ms", ms("search_max_gt_0.9_ms"))
    row("… with `> 0.5` (half the runs match)", "≤ 20 ms", ms("search_max_gt_0.5_ms"))
    row('… `status = "failed"` (none match), same order', "", ms("search_status_failed_ms"))
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--mlflow-seconds", type=float, default=60.0, help="longest time each MLflow measure runs")
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    databases = PostgresDatabases()
    scratch = Path(tempfile.mkdtemp(prefix="gemini-tracking-bench-"))
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _server_version() if "postgresql" in args.backends else "-",
        "mlflow": "-",
        "load_average": tuple(round(value, 2) for value in os.getloadavg()),
    }
    if not args.no_mlflow:
        import mlflow

        meta["mlflow"] = mlflow.__version__
    all_results = []
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{scratch / 'gemini.db'}"
                mlflow_url = f"sqlite:///{scratch / 'mlflow.db'}"
            else:
                url = databases.new("tracking")
                mlflow_url = databases.new("tracking_mlflow")
            all_results.append(run_backend(backend, url, None if args.no_mlflow else mlflow_url, args.mlflow_seconds))
    finally:
        from gemini.db import engine as db_engine

        db_engine.dispose_engines()
        shutil.rmtree(scratch, ignore_errors=True)
        if "postgresql" in args.backends:
            databases.drop_all()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tracking.json").write_text(json.dumps({"meta": meta, "results": all_results}, indent=2, default=str))
    table = markdown(all_results, meta)
    (out / "tracking.md").write_text(table)
    print(table)


if __name__ == "__main__":
    main()
