"""MLflow's SQL tracking store on the same database: create_run + log_batch, get_run, search_runs.

Each run's info is logged the way MLflow can hold it: nested keys flattened to dotted names, params as
strings (MLflow's params are flat strings), metrics as metrics, tags as tags.

Loading 100,000 runs through ``create_run`` + ``log_batch`` (40-50 ms each here) would take over an
hour per database, so the registry is filled by copying the rows one real ``create_run`` + ``log_batch``
writes (its runs, tags, params, metrics and latest_metrics rows) for every run, in batches through
MLflow's own table definitions; ``create_run`` + ``log_batch`` is then timed on 300 further runs at that
size, and ``get_run`` and ``search_runs`` read the copied runs like any others.
"""

from __future__ import annotations

import itertools
import json
import random
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator

from benchmarks import workload
from benchmarks.timing import Result, measure, result
from gemini.api.run_export import flatten_info


def _entities(info: dict):
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    flat = flatten_info({key: value for key, value in info.items() if key not in ("metrics", "tags")})
    params = [Param(key, json.dumps(value) if isinstance(value, list) else str(value)) for key, value in flat.items()]
    metrics = [Metric(key, float(value), now, 0) for key, value in info["metrics"].items()]
    tags = [RunTag(f"tags.{key}", str(value)) for key, value in info["tags"].items()]
    return metrics, params, tags


def run(backend: str, url: str, size: int, log: Callable[[str], None]) -> list[Result]:
    import logging

    logging.getLogger("alembic").setLevel(logging.WARNING)
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore

    artifacts = tempfile.mkdtemp(prefix="mlflow-artifacts-")
    store = SqlAlchemyStore(url, artifacts)
    experiment_id = store.create_experiment("bench")
    results: list[Result] = []
    run_ids: list[str] = []

    def create(i: int, info: dict) -> None:
        metrics, params, tags = _entities(info)
        created = store.create_run(experiment_id, "bench", int(time.time() * 1000), [], f"run-{i}")
        store.log_batch(created.info.run_id, metrics=metrics, params=params, tags=tags)
        run_ids.append(created.info.run_id)

    create(0, next(workload.runs(1))[1])
    run_ids += _copy_runs(store, run_ids[0], workload.runs(size - 1, start=1))
    log(f"  mlflow: {size:,} runs loaded")
    extra = [info for _, info in workload.runs(300, start=size)]
    durations = measure(lambda i: create(size + i, extra[i]), 300)
    results.append(result(backend, size, "mlflow", "create_run + log_batch", durations))
    log(f"  mlflow create_run + log_batch: median {results[-1].median_ms:.3f} ms")
    del run_ids[size:]  # the timed runs are not searched for

    rng = random.Random(size)
    picks = [rng.randrange(size) for _ in range(300)]
    results.append(result(backend, size, "mlflow", "get_run", measure(lambda i: store.get_run(run_ids[picks[i]]), 300)))

    def one_match(i: int) -> None:
        found = store.search_runs([experiment_id], f"params.`data.sample_id` = 'S{picks[i]:09d}'", 1, 1000)
        assert len(found) == 1

    results.append(result(backend, size, "mlflow", "search_runs, one match", measure(one_match, 20)))

    def by_site(i: int) -> None:
        site = workload.SITES[i % len(workload.SITES)]
        found = store.search_runs([experiment_id], f"params.`data.site` = '{site}'", 1, 50_000)
        assert len(found) >= size // len(workload.SITES)

    results.append(result(backend, size, "mlflow", f"search_runs, {size // len(workload.SITES):,} matches", measure(by_site, 5)))
    for item in results[1:]:
        log(f"  mlflow {item.operation}: median {item.median_ms:.3f} ms")
    store.engine.dispose()
    shutil.rmtree(artifacts, ignore_errors=True)
    return results


def _copy_runs(store, template_id: str, generated: Iterator[tuple[str, dict]]) -> list[str]:
    """Insert one run per generated info, shaped like the rows MLflow wrote for run ``template_id``."""
    import sqlalchemy as sa
    from mlflow.store.tracking.dbmodels import models

    tables = {
        name: model.__table__
        for name, model in (("runs", models.SqlRun), ("tags", models.SqlTag), ("params", models.SqlParam),
                            ("metrics", models.SqlMetric), ("latest_metrics", models.SqlLatestMetric))
    }
    with store.engine.connect() as connection:
        template = dict(connection.execute(sa.select(tables["runs"]).where(tables["runs"].c.run_uuid == template_id)).mappings().one())
        system_tags = [
            dict(row) for row in connection.execute(
                sa.select(tables["tags"]).where(tables["tags"].c.run_uuid == template_id, tables["tags"].c.key.like("mlflow.%"))
            ).mappings()
        ]
    template_name = template["name"]
    run_ids: list[str] = []
    while batch := list(itertools.islice(generated, 1000)):
        rows: dict[str, list[dict]] = {name: [] for name in tables}
        for _, info in batch:
            run_id = uuid.uuid4().hex
            name = f"run-{len(run_ids) + 1}"
            run_ids.append(run_id)
            rows["runs"].append(template | {
                "run_uuid": run_id, "name": name, "start_time": int(time.time() * 1000),
                "artifact_uri": template["artifact_uri"].replace(template_id, run_id),
            })
            for tag in system_tags:
                value = name if tag["value"] == template_name else tag["value"]
                rows["tags"].append({"key": tag["key"], "value": value, "run_uuid": run_id})
            metrics, params, tags = _entities(info)
            rows["params"] += [{"key": p.key, "value": p.value, "run_uuid": run_id} for p in params]
            rows["tags"] += [{"key": t.key, "value": t.value, "run_uuid": run_id} for t in tags]
            for metric in metrics:
                row = {"key": metric.key, "value": metric.value, "timestamp": metric.timestamp, "step": metric.step,
                       "is_nan": False, "run_uuid": run_id}
                rows["metrics"].append(row)
                rows["latest_metrics"].append(row)
        with store.engine.begin() as connection:
            for name, table in tables.items():
                connection.execute(sa.insert(table), rows[name])
    return run_ids
