"""Tracking benchmarks: ``python -m benchmarks.tracking_bench`` (part of ``make bench``).

On each database, fresh:

- logging: one run logs 100,000 points (10 keys x 10,000 steps) through ``log_metrics``: the time spent
  inside those calls, and the time from ``end()`` until every point is durable (committed); MLflow's SQL
  store on the same kind of database does the same work with ``log_metric`` (one call a point) and
  ``log_batch`` (1,000 points a call), each timed for ``--mlflow-seconds`` at most and, when it did not
  finish, extrapolated from the calls made (the report says so);
- histories, on series inserted for them in bulk (``registry().log_batch``, 10,000 points a call): one
  key of 10,000 points (among 10 keys of one run) through ``ModelRun.get_metric_histories`` (columns),
  the core ``registry().metric_histories`` and ``run.get_metric_history`` (dicts), beside the raw
  driver's fetch of the same rows, the series' chunks of packed points (``sqlite3`` / ``psycopg``, one
  connection kept open); one key of 20
  runs x 10,000 points, whole and reduced to 500 points a series; one run of 1,000,000 points reduced to
  1,000, and a zoom into 10% of its steps at 1,000 points. MLflow beside it, on the same data written
  into its own ``metrics`` table in bulk (its ``log_batch`` writes ~7,000 points a second: 1.3 million
  would take minutes), the last point of each series through ``store.log_batch`` so that MLflow keeps
  its ``latest_metrics`` itself: ``MlflowClient.get_metric_history`` (one key; 20 runs one by one) and
  the store's ``get_metric_history_bulk_interval`` (what the tracking server's
  ``get-history-bulk-interval`` handler calls) for the reduced reads and the zoom. Both databases are
  analyzed (``ANALYZE``) after the set-up, as a server's would be by then;
- search ``max(metric.map50) > x`` ordered by ``-max(metric.map50)``, limit 100, over 100,000 tracked
  runs (the runs and their summary rows are inserted in bulk, as a registry that tracked them holds them).

``--only histories`` runs the history part alone (about 5 minutes with MLflow, most of it MLflow's reads;
1 to 2 minutes with ``--no-mlflow``) and writes ``tracking-histories.{md,json}``; ``--only logging,search``
the others. Every MLflow history read stops sampling after ``--mlflow-read-seconds`` (3 samples at least).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gc
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
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from benchmarks.run import PostgresDatabases, _libpq, _server_version, log

KEYS = [f"key_{index}" for index in range(10)]
STEPS = 10_000
COMPARE_RUNS = 20
SEARCH_RUNS = 100_000
REDUCED_POINTS = 500
LONG_STEPS = 1_000_000
LONG_POINTS = 1_000
ZOOM = (450_000, 549_999)  # 10% of the long series' steps
HISTORY_BATCH = 10_000  # points a log_batch call (ours), a chunk of the bulk insert (MLflow's)
BASE_MS = 1_767_225_600_000  # 2026-01-01 00:00 UTC: the time of step 0; each step 10 ms later
STEP_MS = 10
PARTS = ("logging", "histories", "search")


def _median_ms(function, samples: int, seconds: float | None = None) -> tuple[float, float]:
    """Median and p95 in ms of ``samples`` calls; with ``seconds``, fewer once that time has passed (3 at
    least)."""
    durations = []
    deadline = None if seconds is None else time.perf_counter() + seconds
    for _ in range(samples):
        start = time.perf_counter()
        function()
        durations.append((time.perf_counter() - start) * 1000)
        if deadline is not None and len(durations) >= 3 and time.perf_counter() > deadline:
            break
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


@contextlib.contextmanager
def _mlflow_store(url: str, experiment_name: str) -> Iterator[tuple[Any, str]]:
    """MLflow's SQL store on ``url`` (its own logs quiet), an experiment in it, and a scratch artifact
    root removed at the end."""
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    artifacts = tempfile.mkdtemp(prefix="mlflow-artifacts-")
    try:
        store = SqlAlchemyStore(url, artifacts)
        yield store, store.create_experiment(experiment_name)
        store.engine.dispose()
    finally:
        shutil.rmtree(artifacts, ignore_errors=True)


def bench_mlflow(url: str, seconds: float, results: dict) -> None:
    from mlflow.entities import Metric

    with _mlflow_store(url, "tracking-bench") as (store, experiment):
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


# -- histories ------------------------------------------------------------------------------------------


@dataclass
class HistoryData:
    """The series both registries get: values by step 0, 1, ..., the time of step s BASE_MS + STEP_MS * s."""

    one_run: dict[str, array]  # KEYS x STEPS: the one-key reads take key_0 among 10
    compared: list[array]  # COMPARE_RUNS series of "loss", STEPS points each
    long: array  # "loss", LONG_STEPS points

    @property
    def points(self) -> int:
        return len(KEYS) * STEPS + COMPARE_RUNS * STEPS + LONG_STEPS


def history_data(seed: int = 11) -> HistoryData:
    generator = random.Random(seed)

    def series(length: int, scale: float) -> array:  # a falling loss curve with noise
        noise = generator.random
        return array("d", (scale / (1 + step / 2000) + 0.05 * noise() for step in range(length)))

    return HistoryData(
        one_run={key: series(STEPS, 1 + index / 10) for index, key in enumerate(KEYS)},
        compared=[series(STEPS, 1 + index / 20) for index in range(COMPARE_RUNS)],
        long=series(LONG_STEPS, 2.0),
    )


def _gemini_log(run_id: uuid.UUID, series: dict[str, array]) -> None:
    """Every point of ``series`` through ``registry().log_batch``, ``HISTORY_BATCH`` points a call, step by
    step across the keys (as the client's buffer sends them)."""
    from gemini.registry import registry

    keys = list(series)
    length = len(series[keys[0]])
    steps_a_batch = max(1, HISTORY_BATCH // len(keys))
    utc = dt.timezone.utc
    for first in range(0, length, steps_a_batch):
        points = []
        for step in range(first, min(length, first + steps_a_batch)):
            stamp = dt.datetime.fromtimestamp((BASE_MS + STEP_MS * step) / 1000, utc)
            points += [(key, step, series[key][step], stamp) for key in keys]
        registry().log_batch(run_id=run_id, batch_id=uuid.uuid4().hex, points=points)


def _gemini_history_runs(data: HistoryData) -> dict:
    from gemini.db.engine import unit_of_work
    from gemini.registry import registry

    def tracked(label: str, series: dict[str, array]) -> uuid.UUID:
        run = registry().start_run(model_run_info={"bench": "history", "series": label})
        _gemini_log(run.id, series)
        registry().end_run(run_id=run.id)
        return run.id

    runs = {
        "one": tracked("one", data.one_run),
        "compared": [tracked(f"compared {index}", {"loss": values}) for index, values in enumerate(data.compared)],
        "long": tracked("long", {"loss": data.long}),
    }
    with unit_of_work(write=True) as connection:  # the statistics a database that has run a while holds
        connection.exec_driver_sql("ANALYZE")
    return runs


class RawReader:
    """The driver alone on gemini's database: one connection kept open, the rows as they are stored."""

    def __init__(self, url: str) -> None:
        parsed = sa.engine.make_url(url)
        if parsed.get_backend_name() == "sqlite":
            self.connection = sqlite3.connect(parsed.database)
            marker = "?"
            self.to_id = lambda run_id: run_id.hex  # sa.Uuid on SQLite: 32 hex digits
        else:
            import psycopg

            self.connection = psycopg.connect(_libpq(url), autocommit=True)
            marker = "%s"
            self.to_id = lambda run_id: run_id
        self.sql = (
            f'SELECT steps, "values", times FROM run_metric_chunks WHERE run_id = {marker} AND key = {marker} ORDER BY chunk'
        )

    def read(self, run_id: uuid.UUID, key: str) -> list:
        """The rows holding the series' points (a chunk of up to 64 points each), fetched and nothing more."""
        return self.connection.execute(self.sql, (self.to_id(run_id), key)).fetchall()

    def close(self) -> None:
        self.connection.close()


def _measure(results: dict, name: str, function, samples: int, check, seconds: float | None = None) -> None:  # noqa: ANN001
    """Once to warm up and check the answer (``check`` returns what to keep of it, or raises), then timed."""
    answer = function()
    kept = check(answer)
    if kept is not None:
        results[f"{name}_points"] = kept
    del answer
    gc.collect()
    calls = [0]

    def counted() -> None:
        calls[0] += 1
        function()

    results[f"{name}_ms"] = _median_ms(counted, samples, seconds)
    results[f"{name}_samples"] = calls[0]


def _series_lengths(answer: dict, run_ids: list, *, at_most: int | None = None, exactly: int | None = None) -> int:
    assert list(answer) == list(run_ids), (len(answer), len(run_ids))
    lengths = set()
    for series in answer.values():
        steps = series["steps"] if isinstance(series, dict) else series.steps
        lengths.add(len(steps))
        assert steps == sorted(steps)
    assert exactly is None or lengths == {exactly}, lengths
    assert at_most is None or max(lengths) <= at_most, lengths
    return max(lengths)


def bench_histories(url: str, data: HistoryData, results: dict) -> None:
    from gemini.api.model_run import ModelRun
    from gemini.registry import registry

    start = time.perf_counter()
    runs = _gemini_history_runs(data)
    results["history_setup_s"] = time.perf_counter() - start
    results["history_setup_points"] = data.points
    one, compared, long = runs["one"], runs["compared"], runs["long"]
    histories = registry().metric_histories
    run = ModelRun.get_by_id(one)
    raw = RawReader(url)
    try:
        # 1. one key of 10,000 points
        _measure(
            results,
            "history_one_key_public",
            lambda: ModelRun.get_metric_histories([one], "key_0"),
            50,
            lambda answer: _series_lengths(answer, [one], exactly=STEPS),
        )
        _measure(
            results,
            "history_one_key_core",
            lambda: histories(run_ids=[one], key="key_0"),
            50,
            lambda answer: _series_lengths(answer, [one], exactly=STEPS),
        )

        def dicts_check(answer: list) -> int:
            assert len(answer) == STEPS and answer[-1]["value"] == data.one_run["key_0"][-1], len(answer)
            return len(answer)

        _measure(results, "history_one_key_dicts", lambda: run.get_metric_history("key_0"), 50, dicts_check)

        def raw_check(answer: list) -> int:
            assert sum(len(row[0]) for row in answer) == 8 * STEPS, len(answer)  # 8 bytes a step
            return STEPS

        _measure(results, "history_one_key_raw", lambda: raw.read(one, "key_0"), 50, raw_check)

        # 2. one key of 20 runs x 10,000 points, whole and reduced
        _measure(
            results,
            "history_20_runs_core",
            lambda: histories(run_ids=compared, key="loss"),
            20,
            lambda answer: _series_lengths(answer, compared, exactly=STEPS),
        )
        _measure(
            results,
            "history_20_runs_public",
            lambda: ModelRun.get_metric_histories(compared, "loss"),
            20,
            lambda answer: _series_lengths(answer, compared, exactly=STEPS),
        )

        def raw_20_check(answer: list) -> int:
            assert [sum(len(row[0]) for row in rows) for rows in answer] == [8 * STEPS] * COMPARE_RUNS
            return STEPS

        _measure(results, "history_20_runs_raw", lambda: [raw.read(run_id, "loss") for run_id in compared], 20, raw_20_check)
        _measure(
            results,
            "history_20_runs_reduced_core",
            lambda: histories(run_ids=compared, key="loss", max_points=REDUCED_POINTS),
            50,
            lambda answer: _series_lengths(answer, compared, at_most=REDUCED_POINTS),
        )
        _measure(
            results,
            "history_20_runs_reduced_public",
            lambda: ModelRun.get_metric_histories(compared, "loss", max_points=REDUCED_POINTS),
            50,
            lambda answer: _series_lengths(answer, compared, at_most=REDUCED_POINTS),
        )

        # 3. one run of 1,000,000 points reduced to 1,000, and a zoom into 10% of its steps
        _measure(
            results,
            "history_long_reduced_core",
            lambda: histories(run_ids=[long], key="loss", max_points=LONG_POINTS),
            50,
            lambda answer: _series_lengths(answer, [long], at_most=LONG_POINTS),
        )
        _measure(
            results,
            "history_long_reduced_public",
            lambda: ModelRun.get_metric_histories([long], "loss", max_points=LONG_POINTS),
            50,
            lambda answer: _series_lengths(answer, [long], at_most=LONG_POINTS),
        )

        def zoom_check(answer: dict) -> int:
            steps = answer[long].steps
            assert ZOOM[0] <= steps[0] and steps[-1] <= ZOOM[1], (steps[0], steps[-1])
            return _series_lengths(answer, [long], at_most=LONG_POINTS)

        _measure(
            results,
            "history_long_zoom_core",
            lambda: histories(run_ids=[long], key="loss", max_points=LONG_POINTS, start_step=ZOOM[0], end_step=ZOOM[1]),
            50,
            zoom_check,
        )
    finally:
        raw.close()


def _mlflow_insert(store, run_id: str, series: dict[str, array]) -> None:  # noqa: ANN001
    """Every point but each key's last straight into MLflow's ``metrics`` table (the rows its ``log_batch``
    writes: key, value, time in ms, run, step, is_nan); then the last points through ``store.log_batch``,
    so that MLflow updates its ``latest_metrics`` itself."""
    from mlflow.entities import Metric

    columns = "key, value, timestamp, run_uuid, step, is_nan"
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if store.engine.dialect.name == "sqlite":
            sql = f"INSERT INTO metrics ({columns}) VALUES (?, ?, ?, ?, ?, ?)"
            for key, values in series.items():
                last = len(values) - 1
                for first in range(0, last, HISTORY_BATCH):
                    steps = range(first, min(last, first + HISTORY_BATCH))
                    rows = [(key, values[step], BASE_MS + STEP_MS * step, run_id, step, 0) for step in steps]
                    cursor.executemany(sql, rows)
        else:
            with cursor.copy(f"COPY metrics ({columns}) FROM STDIN") as copy:
                for key, values in series.items():
                    for step in range(len(values) - 1):
                        copy.write_row((key, values[step], BASE_MS + STEP_MS * step, run_id, step, False))
        cursor.close()
        raw.commit()
    finally:
        raw.close()
    last_points = [
        Metric(key, values[-1], BASE_MS + STEP_MS * (len(values) - 1), len(values) - 1) for key, values in series.items()
    ]
    store.log_batch(run_id, metrics=last_points, params=[], tags=[])


def bench_mlflow_histories(url: str, data: HistoryData, seconds: float, results: dict) -> None:
    """MLflow's reads of the same series; each measure stops after ``seconds`` (3 samples at least)."""
    from mlflow.tracking import MlflowClient

    with _mlflow_store(url, "history-bench") as (store, experiment):

        def tracked(label: str, series: dict[str, array]) -> str:
            run_id = store.create_run(experiment, "bench", BASE_MS, [], label).info.run_id
            _mlflow_insert(store, run_id, series)
            return run_id

        start = time.perf_counter()
        one = tracked("one", data.one_run)
        compared = [tracked(f"compared-{index}", {"loss": values}) for index, values in enumerate(data.compared)]
        long = tracked("long", {"loss": data.long})
        with store.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
        results["mlflow_history_setup_s"] = time.perf_counter() - start

        client = MlflowClient(tracking_uri=url)

        def history_check(answer: list) -> int:
            assert len(answer) == STEPS and answer[-1].value == data.one_run["key_0"][-1], len(answer)
            return len(answer)

        _measure(
            results, "mlflow_history_one_key", lambda: client.get_metric_history(one, "key_0"), 50, history_check, seconds
        )

        def all_check(answer: list) -> int:
            assert [len(history) for history in answer] == [STEPS] * COMPARE_RUNS
            return STEPS

        _measure(
            results,
            "mlflow_history_20_runs",
            lambda: [client.get_metric_history(run_id, "loss") for run_id in compared],
            20,
            all_check,
            seconds,
        )

        def interval(  # noqa: ANN202
            run_ids: list[str], max_results: int, start_step: int | None = None, end_step: int | None = None
        ):
            return lambda: store.get_metric_history_bulk_interval(
                run_ids=run_ids, metric_key="loss", max_results=max_results, start_step=start_step, end_step=end_step
            )

        def per_run(run_ids: list[str], at_most: int, steps: tuple[int, int] | None = None):  # noqa: ANN202
            def check(answer: list) -> int:
                counts: dict[str, int] = {}
                for item in answer:
                    counts[item.run_id] = counts.get(item.run_id, 0) + 1
                    assert steps is None or steps[0] <= item.step <= steps[1]
                assert sorted(counts) == sorted(run_ids) and max(counts.values()) <= at_most, counts
                return max(counts.values())

            return check

        _measure(
            results,
            "mlflow_history_20_runs_reduced",
            interval(compared, REDUCED_POINTS),
            50,
            per_run(compared, REDUCED_POINTS),
            seconds,
        )
        _measure(
            results, "mlflow_history_long_reduced", interval([long], LONG_POINTS), 20, per_run([long], LONG_POINTS), seconds
        )
        _measure(
            results,
            "mlflow_history_long_zoom",
            interval([long], LONG_POINTS, *ZOOM),
            20,
            per_run([long], LONG_POINTS, ZOOM),
            seconds,
        )
        client_store = getattr(getattr(client, "_tracking_client", None), "store", None)
        if client_store is not None and client_store is not store:
            client_store.engine.dispose()


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


def run_backend(
    backend: str, url: str, mlflow_url: str | None, args: argparse.Namespace, parts: set[str], data: HistoryData | None
) -> dict:
    from gemini.db import engine as db_engine

    os.environ["GEMINI_DATABASE_URL"] = url
    db_engine.dispose_engines()
    results: dict = {"backend": backend}
    if "logging" in parts:
        log(f"{backend}: 100,000 points through log_metrics")
        bench_logging(results)
    if "histories" in parts:
        log(f"{backend}: histories ({data.points:,} points through log_batch, then the reads)")
        bench_histories(url, data, results)
    if "search" in parts:
        log(f"{backend}: search over {SEARCH_RUNS:,} tracked runs")
        bench_search(results)
    db_engine.dispose_engines()
    if mlflow_url is not None and "logging" in parts:
        log(f"{backend}: MLflow log_metric and log_batch")
        bench_mlflow(mlflow_url, args.mlflow_seconds, results)
    if mlflow_url is not None and "histories" in parts:
        log(f"{backend}: MLflow histories (the same points in bulk, then the reads)")
        bench_mlflow_histories(mlflow_url, data, args.mlflow_read_seconds, results)
    return results


def _ms_text(value: tuple[float, float], bold: bool = False) -> str:
    median, p95 = (f"{number:,.1f}" if number < 100 else f"{number:,.0f}" for number in value)
    return f"**{median} ms** (p95 {p95})" if bold else f"{median} ms (p95 {p95})"


def markdown(all_results: list[dict], meta: dict) -> str:
    lines = [
        f"Measured {meta['date']} on {meta['machine']} (shared with other work; load average at the start "
        f"{meta['load_average']}); Python {meta['python']}, SQLite {meta['sqlite']}, PostgreSQL "
        f"{meta['postgresql']}, MLflow {meta['mlflow']}. Medians (p95).",
        "",
    ]
    if any("log_metrics_inside_s" in item or "search_max_gt_0.9_ms" in item for item in all_results):
        lines += _logging_search_table(all_results) + [""]
    if any("history_one_key_core_ms" in item for item in all_results):
        lines += _history_table(all_results)
    return "\n".join(lines) + "\n"


def _logging_search_table(all_results: list[dict]) -> list[str]:
    lines = [
        "| measure | goal | " + " | ".join(item["backend"] for item in all_results) + " |",
        "|---|---|" + "---|" * len(all_results),
    ]

    def row(label: str, goal: str, render) -> None:  # noqa: ANN001
        if any(render(item) != "–" for item in all_results):
            lines.append(f"| {label} | {goal} | " + " | ".join(render(item) for item in all_results) + " |")

    def ms(key: str):  # noqa: ANN202
        return lambda item: f"{item[key][0]:.1f} ms (p95 {item[key][1]:.1f})" if key in item else "–"

    def seconds(key: str):  # noqa: ANN202
        return lambda item: f"{item[key]:.3f} s" if key in item else "–"

    row("100,000 points: time inside `log_metrics`", "≤ 0.5 s", seconds("log_metrics_inside_s"))
    row("… then from `end()` until all are durable", "≤ 3 s", seconds("end_to_durable_s"))

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
            if key not in item or "log_metrics_inside_s" not in item:
                return "–"
            ours = item["log_metrics_inside_s"] + item["end_to_durable_s"]
            return f"{item[key] / ours:,.0f}× (ours: logging + end)"

        return render

    row("gemini vs MLflow `log_metric`", "≥ 50×", ratio("mlflow_log_metric_s"))
    row("gemini vs MLflow `log_batch`", "≥ 5×", ratio("mlflow_log_batch_s"))
    row("search `max(metric.map50) > 0.9`, `-max(metric.map50)`, limit 100, 100k runs", "≤ 20 ms", ms("search_max_gt_0.9_ms"))
    row("… with `> 0.5` (half the runs match)", "≤ 20 ms", ms("search_max_gt_0.5_ms"))
    row('… `status = "failed"` (none match), same order', "", ms("search_status_failed_ms"))
    return lines


# The history rows: label, the target as text, the target in ms by database (bold when met), our key, and
# the MLflow measure beside it (its key, and how it is read).
_ONE_KEY_GOAL = {"sqlite": 5.0, "postgresql": 10.0}
_HISTORY_ROWS = [
    (
        "one key, 10,000 points (of 10 keys): `ModelRun.get_metric_histories([id], key)`, columns",
        "≤ 5 ms SQLite, ≤ 10 ms PostgreSQL; ≤ 3× raw",
        _ONE_KEY_GOAL,
        "history_one_key_public",
        "mlflow_history_one_key",
    ),
    ("… core `registry().metric_histories(run_ids=[id], key=…)`", "same", _ONE_KEY_GOAL, "history_one_key_core", None),
    ("… `run.get_metric_history(key)`, a dict with a `datetime` a point", "", None, "history_one_key_dicts", None),
    (
        "… raw driver: `SELECT steps, \"values\", times FROM run_metric_chunks WHERE run_id=? AND key=? ORDER BY chunk`, fetchall",
        "",
        None,
        "history_one_key_raw",
        None,
    ),
    ("one key of 20 runs × 10,000 points, whole: core", "≤ 100 ms", 100.0, "history_20_runs_core", None),
    (
        "… `ModelRun.get_metric_histories(ids, key)` (MLflow: `get_metric_history` run by run)",
        "≤ 100 ms",
        100.0,
        "history_20_runs_public",
        "mlflow_history_20_runs",
    ),
    ("… raw driver, the 20 reads one after another", "", None, "history_20_runs_raw", None),
    (
        f"… reduced to {REDUCED_POINTS} points a series: core (MLflow: store `get_metric_history_bulk_interval`)",
        "≤ 15 ms",
        15.0,
        "history_20_runs_reduced_core",
        "mlflow_history_20_runs_reduced",
    ),
    (
        f"… `ModelRun.get_metric_histories(ids, key, max_points={REDUCED_POINTS})`",
        "≤ 15 ms",
        15.0,
        "history_20_runs_reduced_public",
        None,
    ),
    (
        f"1 run × 1,000,000 points reduced to {LONG_POINTS:,}: core (MLflow: `get_metric_history_bulk_interval`)",
        "≤ 20 ms",
        20.0,
        "history_long_reduced_core",
        "mlflow_history_long_reduced",
    ),
    (
        f"… `ModelRun.get_metric_histories([id], key, max_points={LONG_POINTS})`",
        "≤ 20 ms",
        20.0,
        "history_long_reduced_public",
        None,
    ),
    (
        f"… zoom: steps {ZOOM[0]:,}–{ZOOM[1]:,} (10%) at {LONG_POINTS:,} points: core with `start_step`, `end_step`",
        "",
        None,
        "history_long_zoom_core",
        "mlflow_history_long_zoom",
    ),
]
_RAW_OF = {  # the rows given with their ratio to the raw driver's read of the same rows
    "history_one_key_public",
    "history_one_key_core",
    "history_one_key_dicts",
    "history_20_runs_core",
    "history_20_runs_public",
}
_RAW_GOAL = {"history_one_key_public", "history_one_key_core"}  # within 3x of it


def _history_table(all_results: list[dict]) -> list[str]:
    backends = [item for item in all_results if "history_one_key_core_ms" in item]
    with_mlflow = [item for item in backends if "mlflow_history_one_key_ms" in item]
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    header = ["measure", "target"] + [names.get(item["backend"], item["backend"]) for item in backends]
    header += [f"MLflow on {names.get(item['backend'], item['backend'])}" for item in with_mlflow]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for label, target, goal, ours, theirs in _HISTORY_ROWS:
        cells = [label, target]
        for item in backends:
            if f"{ours}_ms" not in item:
                cells.append("–")
                continue
            median = item[f"{ours}_ms"][0]
            limit = goal.get(item["backend"]) if isinstance(goal, dict) else goal
            text = _ms_text(item[f"{ours}_ms"], bold=limit is not None and median <= limit)
            raw = "history_one_key_raw_ms" if ours.startswith("history_one_key") else "history_20_runs_raw_ms"
            if ours in _RAW_OF and raw in item:
                times = median / item[raw][0]
                shown = f"{times:.1f}× raw"
                text += f", **{shown}**" if ours in _RAW_GOAL and times <= 3 else f", {shown}"
            if "reduced" in ours or "zoom" in ours:
                text += f", {item.get(f'{ours}_points', '?')} points"
            cells.append(text)
        for item in with_mlflow:
            if theirs is None or f"{theirs}_ms" not in item or f"{ours}_ms" not in item:
                cells.append("")
                continue
            text = _ms_text(item[f"{theirs}_ms"])
            text += f", {item[f'{theirs}_ms'][0] / item[f'{ours}_ms'][0]:,.1f}× ours"
            if "reduced" in theirs or "zoom" in theirs:
                text += f", {item.get(f'{theirs}_points', '?')} points"
            cells.append(text)
        lines.append("| " + " | ".join(cells) + " |")
    setup = [f"set-up: the {backends[0]['history_setup_points']:,} points of these series", ""]
    setup += [f"{item['history_setup_s']:.1f} s through `log_batch`, 10,000 a call" for item in backends]
    setup += [f"{item['mlflow_history_setup_s']:.1f} s, bulk insert" for item in with_mlflow]
    lines.append("| " + " | ".join(setup) + " |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--only", default=",".join(PARTS), help=f"the parts to run, of {', '.join(PARTS)} (default: all)")
    parser.add_argument("--mlflow-seconds", type=float, default=60.0, help="longest time each MLflow logging measure runs")
    parser.add_argument(
        "--mlflow-read-seconds",
        type=float,
        default=20.0,
        help="time after which an MLflow history read stops sampling (3 samples at least)",
    )
    parser.add_argument("--no-mlflow", action="store_true")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    parts = {part.strip() for part in args.only.split(",") if part.strip()}
    if not parts or parts - set(PARTS):
        parser.error(f"--only takes parts of {', '.join(PARTS)}, got {args.only!r}")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # no usage reports sent from the measured calls
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
        "parts": sorted(parts),
    }
    if not args.no_mlflow:
        import mlflow

        meta["mlflow"] = mlflow.__version__
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    # The whole benchmark writes tracking.{json,md}; a run of some parts only writes its own files beside them.
    stem = "tracking" if parts == set(PARTS) else "tracking-" + "-".join(part for part in PARTS if part in parts)

    def write(all_results: list[dict]) -> str:
        (out / f"{stem}.json").write_text(json.dumps({"meta": meta, "results": all_results}, indent=2, default=str))
        table = markdown(all_results, meta)
        (out / f"{stem}.md").write_text(table)
        return table

    data = history_data() if "histories" in parts else None
    all_results = []
    try:
        for backend in args.backends.split(","):
            if backend == "sqlite":
                url = f"sqlite:///{scratch / 'gemini.db'}"
                mlflow_url = f"sqlite:///{scratch / 'mlflow.db'}"
            else:
                url = databases.new("tracking")
                mlflow_url = databases.new("tracking_mlflow")
            all_results.append(run_backend(backend, url, None if args.no_mlflow else mlflow_url, args, parts, data))
            write(all_results)  # a database's results survive a failure on the next
    finally:
        from gemini.db import engine as db_engine

        db_engine.dispose_engines()
        shutil.rmtree(scratch, ignore_errors=True)
        if "postgresql" in args.backends:
            databases.drop_all()
    print(write(all_results))


if __name__ == "__main__":
    main()
