"""MLflow's SQL tracking store on the same database: create_run + log_batch, get_run, search_runs.

Each run's info is logged the way MLflow can hold it: nested keys flattened to dotted names, params as
strings (MLflow's params are flat strings), metrics as metrics, tags as tags.
"""

from __future__ import annotations

import json
import random
import shutil
import tempfile
import time
from collections.abc import Callable

from benchmarks import workload
from benchmarks.timing import Result, measure, result


def _entities(info: dict):
    from mlflow.entities import Metric, Param, RunTag

    now = int(time.time() * 1000)
    flat = workload.flatten({key: value for key, value in info.items() if key not in ("metrics", "tags")})
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

    generated = list(workload.runs(size))
    durations = measure(lambda i: create(i, generated[i][1]), size)
    results.append(result(backend, size, "mlflow", "create_run + log_batch", durations))
    log(f"  mlflow create_run + log_batch: median {results[-1].median_ms:.3f} ms")

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
