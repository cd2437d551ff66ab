"""gemini itself, through the Python API users call (``ModelRun``) and the core for cursors and hot keys."""

from __future__ import annotations

import random
import time
from collections.abc import Callable

from benchmarks import workload
from benchmarks.timing import Result, measure, result
from gemini.registry import registry
from gemini.api.model_run import ModelRun
from gemini.core import info_indexes

BATCH = 1_000
RANGE_WHERE = "params.lr < 0.00002 and metrics.map50 >= 0.5"
RANGE_ORDER = "-metrics.map50"


def run(backend: str, size: int, log: Callable[[str], None]) -> list[Result]:
    results: list[Result] = []
    add = results.append
    rng = random.Random(size)

    def record(operation: str, durations: list[float], **kwargs) -> None:
        add(result(backend, size, "gemini", operation, durations, **kwargs))
        log(f"  gemini {operation}: median {results[-1].median_ms:.3f} ms")

    def scans(samples: int) -> int:
        """Fewer samples of the operations that read every run: seconds each at a million runs."""
        return samples if size < 500_000 else min(samples, 3)

    for index in range(workload.MODEL_COUNT):
        registry().create_model(model_name=workload.model_name(index))

    # Bulk load: batches of 1,000 runs, each batch one model's. Infos are generated batch by batch (a
    # million of them would not fit in memory at once); only the ones looked up later are kept.
    picks = [rng.randrange(size) for _ in range(300)]
    by_index: dict[int, dict] = {}
    wanted = set(picks)
    ids: list = []
    batch_durations: list[float] = []
    for start in range(0, size, BATCH):
        infos = [info for _, info in workload.runs(min(BATCH, size - start), start=start)]
        by_index.update((index, infos[index - start]) for index in wanted if start <= index < start + len(infos))
        model_name = workload.model_name((start // BATCH) % workload.MODEL_COUNT)
        batch_start = time.perf_counter()
        created = ModelRun.create_many(infos, model_name=model_name)
        batch_durations.append((time.perf_counter() - batch_start) * 1000)
        assert created is not None and len(created) == len(infos)
        ids.extend(run.id for run in created)
        if start and start % 100_000 == 0:
            log(f"  {start:,} runs loaded")
    total = sum(batch_durations) / 1000
    record("create_many (batches of 1,000)", batch_durations, rate_per_s=round(size / total))

    extra = list(workload.runs(300, start=size))
    record(
        "create one run (own transaction)",
        measure(lambda i: ModelRun.create(model_run_info=extra[i][1], model_name=extra[i][0]), len(extra)),
    )

    sample_ids = [rng.choice(ids) for _ in range(500)]
    record("get_by_id", measure(lambda i: ModelRun.get_by_id(sample_ids[i]), len(sample_ids)))

    def get_by_info(i: int) -> None:
        index = picks[i]
        found = ModelRun.get(model_run_info=by_index[index], model_name=workload.model_name((index // BATCH) % workload.MODEL_COUNT))
        assert found is not None

    record("get(info)", measure(get_by_info, len(picks)))

    def containment(i: int) -> None:
        found = ModelRun.search(model_run_info={"data": {"sample_id": f"S{picks[i]:09d}"}})
        assert found is not None and len(found) == 1

    record("search: containment, one match", measure(containment, 200))

    def where_equality(i: int) -> None:
        found = ModelRun.search(where=f'data.sample_id = "S{picks[i]:09d}"')
        assert found is not None and len(found) == 1

    record("search: where nested equality, one match", measure(where_equality, 200))

    def by_site(i: int) -> None:
        found = ModelRun.search(model_run_info={"data": {"site": workload.SITES[i % len(workload.SITES)]}})
        assert found is not None and len(found) >= size // len(workload.SITES)

    record(f"search: containment, {size // len(workload.SITES):,} matches", measure(by_site, scans(20)))

    def ranged(i: int) -> None:
        found = ModelRun.search(where=RANGE_WHERE, order_by=RANGE_ORDER, limit=100)
        assert found is not None

    def count(i: int) -> None:
        assert ModelRun.count(where="params.lr < 0.00002") is not None

    record("where range + order_by + limit 100, no index", measure(ranged, scans(10)))
    record("count(where range), no index", measure(count, scans(10)))
    start = time.perf_counter()
    info_indexes.add_hot_key(path="params.lr")
    info_indexes.add_hot_key(path="metrics.map50")
    record("declare 2 hot keys (build indexes)", [(time.perf_counter() - start) * 1000])
    record("where range + order_by + limit 100, hot keys", measure(ranged, 20))
    record("count(where range), hot keys", measure(count, 20))

    record("page 1 (limit 100)", measure(lambda i: registry().search_runs(limit=100), 20))
    deep = int(size * 0.9)
    record(f"deep page by offset ({deep:,})", measure(lambda i: registry().search_runs(limit=100, offset=deep), scans(5)))
    cursor = registry().search_runs(limit=100, offset=deep - 100).next_cursor
    assert cursor is not None

    def by_cursor(i: int) -> None:
        page = registry().search_runs(limit=100, cursor=cursor)
        assert len(page.items) == 100

    record(f"deep page by cursor ({deep:,})", measure(by_cursor, 20))
    return results
