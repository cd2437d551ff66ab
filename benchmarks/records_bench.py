"""Model records at GEMINI's scale: ``python -m benchmarks.records_bench`` (``make bench-records``).

On SQLite (a fresh file) and PostgreSQL (a fresh database on ``GEMINI_BENCH_POSTGRES_URL``), side by
side with the raw driver in the same run:

1. **Insert** N records (default 1,000,000): 5 models, 3 experiments x 2 seasons x 4 sites, a small
   ``model_data`` each (``{"plot": "P-00042", "count": 37, "confidence": 0.91}``). The records come in
   flights: one flight is one (experiment, season, site, day), flown once and processed by each of the
   5 models, 10,000 plots each, one record a plot, a second apart; the flights are spread over the
   season. gemini inserts them in one call: ``ModelRecord.insert(records)`` with the records built by
   ``ModelRecord.create(..., insert_on_create=False)`` (built outside the clock), or, with
   ``--layer front``, ``registry().insert_model_records(records=<generator of dicts>)`` (the generator
   runs inside the clock; its own cost is measured apart and reported). The raw driver writes the same
   rows (generated outside the clock, 10,000 at a time) into the same table of another fresh database
   whose schema gemini made (the same indexes): ``COPY model_records FROM STDIN`` with psycopg on
   PostgreSQL, ``executemany`` in one transaction with sqlite3 on SQLite (gemini's pragmas).
2. **Filter**: one model's records for one experiment, season and site over one day (one flight:
   10,000 records at any N >= 50,000), streamed to the end; median milliseconds over ``--query-repeats``
   repetitions, and the time to the first record. ``Model.filter_records`` or the front's
   ``stream_model_records``; the raw driver's ``SELECT`` of the same rows (fetch all, ``model_data``
   decoded) beside it. PostgreSQL gets ``ANALYZE`` first (what autovacuum does within a minute of such an
   insert); the first query before it is reported too.
3. **REST memory**: ``gemini serve`` on loopback over the PostgreSQL database; every record streamed
   from ``GET /api/model_records/stream`` (NDJSON) with httpx while the server's resident memory is
   sampled every 100 ms (psutil when installed, else ``/proc/<pid>/status``): at the start, the peak,
   at the end, and the records a second. Skipped (with a message) while the route does not exist.

``--profile`` runs only the gemini insert under cProfile on each database (fresh) and prints the top
costs. Results: ``benchmarks/results/records_<N>.{md,json}``.

    .venv-bench/bin/python -m benchmarks.records_bench --records 100000
    .venv-bench/bin/python -m benchmarks.records_bench --records 100000 --profile
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import importlib.util
import io
import json
import os
import platform
import pstats
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg

from benchmarks.run import PostgresDatabases, _libpq, _server_version, log
from benchmarks.serving import served

MODELS = ["stand_counter", "plant_height", "canopy_cover", "flowering_stage", "lodging_score"]
EXPERIMENTS = ["Cowpea-MAGIC", "Sorghum-Diversity", "Maize-Hybrids"]
SEASONS = ["2024", "2025"]
SITES = ["Davis", "Kearney", "Tulare", "Riverside"]
PLACES = [(e, s, t) for e in EXPERIMENTS for s in SEASONS for t in SITES]  # 24
PLOTS = 10_000
"""Records of one model for one flight (one experiment, season, site and day)."""
CHUNK = 10_000
TOKEN = "records-bench-token"


# -- the workload ---------------------------------------------------------------------------------------


def _season_start(season: str) -> dt.datetime:
    return dt.datetime(int(season), 5, 1, tzinfo=dt.timezone.utc)


def _flight(group: int) -> tuple[str, tuple[str, str, str], dt.datetime]:
    """Group ``group`` of PLOTS records: its model, its place, and the flight's start. The 5 models
    process each flight; flight f is at place f % 24 on a day of the season that differs from the other
    flights at that place (for any N below 100 million)."""
    flight, model = divmod(group, len(MODELS))
    place = PLACES[flight % len(PLACES)]
    day = (flight * 7) % 113
    return MODELS[model], place, _season_start(place[1]) + dt.timedelta(days=day, hours=10)


def source(count: int) -> Iterator[dict[str, Any]]:
    """The records as dicts of ``new_model_output``'s arguments, deterministic."""
    second = dt.timedelta(seconds=1)
    for group_start in range(0, count, PLOTS):
        group = group_start // PLOTS
        model, (experiment, season, site), start = _flight(group)
        rng = random.Random(group)
        dataset = f"uav-rgb-{site}-{season}".lower()
        for plot in range(min(PLOTS, count - group_start)):
            yield {
                "model_name": model,
                "timestamp": start + plot * second,
                "model_data": {"plot": f"P-{plot:05d}", "count": rng.randrange(60), "confidence": round(rng.uniform(0.5, 0.99), 2)},
                "dataset_name": dataset,
                "experiment_name": experiment,
                "season_name": season,
                "site_name": site,
            }


def _query() -> dict[str, Any]:
    """The filter of part 2: the first group's model, place and day."""
    model, (experiment, season, site), start = _flight(0)
    day = start.replace(hour=0)
    return {
        "model_name": model,
        "experiment_name": experiment,
        "season_name": season,
        "site_name": site,
        "start": day,
        "end": day + dt.timedelta(days=1) - dt.timedelta(microseconds=1),
    }


def _expected_matches(count: int) -> int:
    return min(PLOTS, count)


# -- gemini's side ----------------------------------------------------------------------------------------


def pick_layer(requested: str) -> str:
    if requested != "auto":
        return requested
    if importlib.util.find_spec("gemini.api.model_record") is None:
        return "front"
    from gemini.api import model_record

    record_class = getattr(model_record, "ModelRecord", None)
    return "modelrecord" if record_class is not None and hasattr(record_class, "insert") else "front"


def _use_database(url: str) -> None:
    from gemini.db import engine as db_engine

    db_engine.dispose_engines()
    os.environ["GEMINI_DATABASE_URL"] = url


def gemini_insert(layer: str, count: int, profiler: cProfile.Profile | None = None) -> dict[str, Any]:
    """Insert ``count`` records through ``layer`` into the configured database; seconds and counts."""
    from gemini.registry import registry

    registry()  # the transport chosen and the schema made before the clock
    from gemini.db.engine import get_engine

    get_engine(write=True)
    out: dict[str, Any] = {}
    if layer == "modelrecord":
        from gemini.api.model_record import ModelRecord

        began = time.perf_counter()
        records = [ModelRecord.create(**fields, insert_on_create=False) for fields in source(count)]
        out["build_s"] = time.perf_counter() - began
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        success, ids = ModelRecord.insert(records)
        if profiler:
            profiler.disable()
        out["seconds"] = time.perf_counter() - began
        if not success:
            raise RuntimeError("ModelRecord.insert returned success=False (see the log line above)")
        out["inserted"] = len(ids)
        del records, ids
    else:
        began = time.perf_counter()
        for _ in source(count):
            pass
        out["source_s"] = time.perf_counter() - began  # the generator's own share of the clock below
        began = time.perf_counter()
        if profiler:
            profiler.enable()
        results = registry().insert_model_records(records=source(count))
        if profiler:
            profiler.disable()
        out["seconds"] = time.perf_counter() - began
        out["inserted"] = sum(1 for _, new in results if new)
        del results
    if out["inserted"] != count:
        raise RuntimeError(f"gemini inserted {out['inserted']} new records of {count}")
    return out


def gemini_stream(layer: str) -> Callable[[], tuple[float, float, int]]:
    """A function streaming part 2's query to the end: (ms to the first record, ms in all, records)."""
    from gemini.registry import registry

    query = _query()
    from gemini.api.model import Model

    if layer == "modelrecord" and hasattr(Model, "filter_records"):
        model = Model.get(model_name=query["model_name"])

        def start() -> Iterator[Any]:
            return iter(
                model.filter_records(
                    start_timestamp=query["start"],
                    end_timestamp=query["end"],
                    experiment_names=[query["experiment_name"]],
                    season_names=[query["season_name"]],
                    site_names=[query["site_name"]],
                )
            )
    elif layer == "modelrecord":  # Model.filter_records not written yet: the same call on ModelRecord
        from gemini.api.model_record import ModelRecord

        def start() -> Iterator[Any]:
            return iter(
                ModelRecord.filter(
                    model_names=[query["model_name"]],
                    start_timestamp=query["start"],
                    end_timestamp=query["end"],
                    experiment_names=[query["experiment_name"]],
                    season_names=[query["season_name"]],
                    site_names=[query["site_name"]],
                )
            )
    else:
        front = registry()

        def start() -> Iterator[Any]:
            return iter(
                front.stream_model_records(
                    model_names=query["model_name"],
                    experiment_names=query["experiment_name"],
                    season_names=query["season_name"],
                    site_names=query["site_name"],
                    start_timestamp=query["start"],
                    end_timestamp=query["end"],
                )
            )

    call = ("Model.filter_records" if hasattr(Model, "filter_records") else "ModelRecord.filter") if layer == "modelrecord" \
        else "registry().stream_model_records"

    def run() -> tuple[float, float, int]:
        began = time.perf_counter()
        records = start()
        first = next(records, None)
        first_ms = (time.perf_counter() - began) * 1000
        count = 0 if first is None else 1 + sum(1 for _ in records)
        return first_ms, (time.perf_counter() - began) * 1000, count

    run.call = call  # type: ignore[attr-defined]
    return run


# -- the raw driver's side ------------------------------------------------------------------------------


_COLUMNS = (
    "id", "timestamp", "collection_date", "model_id", "dataset_id", "experiment_id", "season_id", "site_id",
    "model_data", "record_info", "record_file", "file_sha256", "file_size", "model_run_id", "model_version_id",
    "created_at", "identity",
)


def _raw_names(url: str) -> dict[str, dict[str, Any]]:
    """Make the raw database's schema with gemini (the same tables and indexes) and its names (models,
    datasets, experiments, seasons, sites), outside the clock; their ids by name."""
    from gemini.core.get_or_create import get_or_create_model_id
    from gemini.db.engine import get_engine
    from gemini.db.model_records import TagRepository

    datasets = sorted({f"uav-rgb-{site}-{season}".lower() for _, season, site in PLACES})
    engine = get_engine(url, write=True)
    with engine.begin() as connection:
        tags = TagRepository(connection)
        names = {
            "model": {name: get_or_create_model_id(connection, model_name=name) for name in MODELS},
            "dataset": tags.get_or_add_ids("dataset", datasets),
            "experiment": tags.get_or_add_ids("experiment", EXPERIMENTS),
            "season": tags.get_or_add_ids("season", SEASONS),
            "site": tags.get_or_add_ids("site", SITES),
        }
    return names


def _raw_rows(records: list[dict[str, Any]], names: dict[str, dict[str, Any]], dialect: str) -> list[tuple]:
    """The rows gemini writes for ``records``, in the forms it writes them (SQLite: SQLAlchemy's bind
    processors, as ``ModelRecordRepository._execute_many`` applies them)."""
    from gemini.db.engine import dumps_json
    from gemini.db.ids import new_id
    from gemini.db.model_records import record_identity
    from gemini.db.tables import model_records
    from gemini.domain.checks import check_info

    empty_hash = check_info({}, field="record_info").hash
    now = dt.datetime.now(dt.timezone.utc)
    rows = []
    for record in records:
        model_id = names["model"][record["model_name"]]
        tag_ids = [names[tag][record[f"{tag}_name"]] for tag in ("dataset", "experiment", "season", "site")]
        moment = record["timestamp"]
        rows.append((
            new_id(), moment, moment.date(), model_id, *tag_ids, dumps_json(record["model_data"]), "{}",
            None, None, None, None, None, now, record_identity(model_id, *tag_ids, moment, empty_hash),
        ))
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite as sqlite_dialect

        dialect_object = sqlite_dialect.dialect()
        processors = [
            None if name in ("model_data", "record_info") else
            model_records.c[name].type.dialect_impl(dialect_object).bind_processor(dialect_object)
            for name in _COLUMNS
        ]
        rows = [
            tuple(value if process is None or value is None else process(value) for value, process in zip(row, processors))
            for row in rows
        ]
    return rows


def _chunks(count: int) -> Iterator[list[dict[str, Any]]]:
    iterator = source(count)
    while True:
        chunk = [record for _, record in zip(range(CHUNK), iterator)]
        if not chunk:
            return
        yield chunk


def raw_insert_sqlite(path: str, count: int) -> dict[str, Any]:
    from gemini.db.engine import SQLITE_BUSY_TIMEOUT_MS, SQLITE_CACHE_KIB

    names = _raw_names(f"sqlite:///{path}")
    _dispose_url(f"sqlite:///{path}")
    connection = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}", "foreign_keys=ON",
                   f"cache_size=-{SQLITE_CACHE_KIB}"):
        connection.execute(f"PRAGMA {pragma}")
    statement = f"INSERT INTO model_records ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
    total = 0.0
    began = time.perf_counter()
    connection.execute("BEGIN IMMEDIATE")
    total += time.perf_counter() - began
    for chunk in _chunks(count):
        rows = _raw_rows(chunk, names, "sqlite")
        began = time.perf_counter()
        connection.executemany(statement, rows)
        total += time.perf_counter() - began
    began = time.perf_counter()
    connection.execute("COMMIT")
    total += time.perf_counter() - began
    inserted = connection.execute("SELECT count(*) FROM model_records").fetchone()[0]
    connection.close()
    if inserted != count:
        raise RuntimeError(f"raw sqlite3 inserted {inserted} of {count}")
    return {"seconds": total, "inserted": inserted}


def raw_insert_postgres(url: str, count: int) -> dict[str, Any]:
    names = _raw_names(url)
    _dispose_url(url)
    copy_statement = f"COPY model_records ({', '.join(_COLUMNS)}) FROM STDIN"
    total = 0.0
    with psycopg.connect(_libpq(url)) as connection:
        began = time.perf_counter()
        with connection.transaction(), connection.cursor() as cursor:
            total += time.perf_counter() - began
            for chunk in _chunks(count):
                rows = _raw_rows(chunk, names, "postgresql")
                began = time.perf_counter()
                with cursor.copy(copy_statement) as copy:
                    for row in rows:
                        copy.write_row(row)
                total += time.perf_counter() - began
            began = time.perf_counter()
        total += time.perf_counter() - began  # the commit
        inserted = connection.execute("SELECT count(*) FROM model_records").fetchone()[0]
    if inserted != count:
        raise RuntimeError(f"raw psycopg inserted {inserted} of {count}")
    return {"seconds": total, "inserted": inserted}


def _dispose_url(url: str) -> None:
    from gemini.db import engine as db_engine

    with db_engine._engines_lock:
        engines = db_engine._engines.pop(url, None)
    if engines is not None:
        engines.read.dispose()


def raw_stream(backend: str, target: str, names: dict[str, dict[str, Any]]) -> Callable[[], tuple[float, float, int]]:
    """Part 2's query with the driver: execute, fetch every row, decode ``model_data``."""
    query = _query()
    where = (
        "model_id = {p} AND experiment_id = {p} AND season_id = {p} AND site_id = {p} "
        "AND timestamp >= {p} AND timestamp <= {p} ORDER BY timestamp, id"
    )
    ids = [names["model"][query["model_name"]], names["experiment"][query["experiment_name"]],
           names["season"][query["season_name"]], names["site"][query["site_name"]]]
    columns = ", ".join(_COLUMNS[:-1])
    if backend == "sqlite":
        connection = sqlite3.connect(target, isolation_level=None)
        statement = f"SELECT {columns} FROM model_records WHERE " + where.format(p="?")
        # The forms gemini writes: hex ids, naive UTC text.
        parameters = [value.hex for value in ids] + [
            query["start"].replace(tzinfo=None).isoformat(sep=" "), query["end"].replace(tzinfo=None).isoformat(sep=" ")
        ]

        def fetch() -> list:
            return connection.execute(statement, parameters).fetchall()

        decode = True
    else:
        connection = psycopg.connect(_libpq(target), autocommit=True)
        statement = f"SELECT {columns} FROM model_records WHERE " + where.format(p="%s")
        parameters = [*ids, query["start"], query["end"]]

        def fetch() -> list:
            return connection.execute(statement, parameters).fetchall()

        decode = False  # psycopg decodes json columns itself

    def run() -> tuple[float, float, int]:
        began = time.perf_counter()
        rows = fetch()
        first_ms = (time.perf_counter() - began) * 1000
        if decode:
            for row in rows:
                json.loads(row[8])
        return first_ms, (time.perf_counter() - began) * 1000, len(rows)

    run.close = connection.close  # type: ignore[attr-defined]
    return run


def repeat(function: Callable[[], tuple[float, float, int]], repeats: int, expected: int) -> dict[str, Any]:
    firsts, totals = [], []
    for _ in range(repeats):
        first_ms, total_ms, count = function()
        if count != expected:
            raise RuntimeError(f"the query returned {count} records, expected {expected}")
        firsts.append(first_ms)
        totals.append(total_ms)
    ordered = sorted(totals)
    return {
        "median_ms": statistics.median(totals),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "min_ms": ordered[0],
        "first_record_median_ms": statistics.median(firsts),
        "repeats": repeats,
        "records": expected,
    }


# -- REST: memory while streaming everything ------------------------------------------------------------


def _tree_rss_kib(pid: int) -> int | None:
    """Resident memory of ``pid`` and its descendants (uvicorn's workers, if any), KiB."""
    try:
        import psutil
    except ImportError:
        psutil = None
    if psutil is not None:
        try:
            process = psutil.Process(pid)
            return sum(p.memory_info().rss for p in [process, *process.children(recursive=True)]) // 1024
        except psutil.Error:
            return None
    total, pending, seen = 0, [pid], set()
    while pending:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            status = Path(f"/proc/{current}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
        with contextlib.suppress(OSError):
            for task in Path(f"/proc/{current}/task").iterdir():
                pending += [int(child) for child in (task / "children").read_text().split()]
    return total or None


class RssSampler(threading.Thread):
    def __init__(self, pid: int, interval: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        began = time.perf_counter()
        while not self.stopped.is_set():
            rss = _tree_rss_kib(self.pid)
            if rss is not None:
                self.samples.append((time.perf_counter() - began, rss))
            self.stopped.wait(self.interval)

    def stop(self) -> list[tuple[float, int]]:
        self.stopped.set()
        self.join()
        return self.samples


def rest_stream(database_url: str, count: int, scratch: Path) -> dict[str, Any]:
    """Stream every record over REST from a real ``gemini serve``, sampling the server's memory."""
    import httpx

    if importlib.util.find_spec("gemini.rest_api.routers.model_records") is None:
        return {"skipped": "gemini/rest_api/routers/model_records.py does not exist yet: no GET /api/model_records/stream"}
    auth = {"Authorization": f"Bearer {TOKEN}"}
    with served(database_url, scratch, {"GEMINI_API_TOKEN": TOKEN}) as server:
        with httpx.Client(base_url=server.url, headers=auth, timeout=httpx.Timeout(60, read=300)) as http:
            probe = http.get("/api/model_records/stream", params={"limit": 1})
            if probe.status_code == 404:
                return {"skipped": "the server has no GET /api/model_records/stream yet (404)"}
            probe.raise_for_status()
            time.sleep(0.5)
            sampler = RssSampler(server.pid)
            sampler.start()
            time.sleep(0.3)  # a few samples of the idle server first
            began = time.perf_counter()
            received = 0
            first_line = last_line = None
            first_s = None
            with http.stream("GET", "/api/model_records/stream") as response:
                response.raise_for_status()
                content_type = response.headers.get("content-type", "")
                for line in response.iter_lines():
                    if not line:
                        continue
                    if first_line is None:
                        first_s = time.perf_counter() - began
                        first_line = line
                    last_line = line
                    received += 1
            elapsed = time.perf_counter() - began
            time.sleep(0.3)
            samples = sampler.stop()
    if received != count:
        raise RuntimeError(f"the stream gave {received} records, expected {count}")
    json.loads(first_line)
    json.loads(last_line)
    start_kib = samples[0][1]
    end_kib = samples[-1][1]
    peak_kib = max(rss for _, rss in samples)
    # Memory along the stream, in tenths of it, to show whether it grows with the records sent.
    during = [rss for moment, rss in samples if 0.3 <= moment <= 0.3 + elapsed]
    deciles = [during[min(len(during) - 1, len(during) * k // 10)] for k in range(11)] if during else []
    return {
        "records": received,
        "seconds": elapsed,
        "records_per_s": received / elapsed,
        "first_record_ms": first_s * 1000,
        "content_type": content_type,
        "rss_start_mib": start_kib / 1024,
        "rss_peak_mib": peak_kib / 1024,
        "rss_end_mib": end_kib / 1024,
        "rss_deciles_mib": [round(value / 1024, 1) for value in deciles],
        "samples": len(samples),
        "rss_source": "psutil" if importlib.util.find_spec("psutil") else "/proc/<pid>/status VmRSS",
    }


# -- running ------------------------------------------------------------------------------------------------


def _load() -> float:
    return round(os.getloadavg()[0], 2)


def bench_backend(backend: str, args: argparse.Namespace, layer: str, databases: PostgresDatabases, scratch: Path) -> dict:
    count = args.records
    out: dict[str, Any] = {"backend": backend, "records": count, "layer": layer}
    if backend == "sqlite":
        gemini_url = f"sqlite:///{scratch / 'gemini.db'}"
        raw_target = str(scratch / "raw.db")
    else:
        gemini_url = databases.new("records_g")
        raw_target = databases.new("records_r")

    # 1. insert: gemini, then the raw driver, each into its own fresh database
    _use_database(gemini_url)
    log(f"{backend}: gemini inserts {count:,} records ({layer}), load {_load()}")
    out["load_before"] = _load()
    out["gemini_insert"] = gemini_insert(layer, count)
    log(f"  gemini: {out['gemini_insert']['seconds']:.2f} s, {count / out['gemini_insert']['seconds']:,.0f} records/s")
    log(f"{backend}: raw driver inserts {count:,} records, load {_load()}")
    if backend == "sqlite":
        out["raw_insert"] = raw_insert_sqlite(raw_target, count)
    else:
        out["raw_insert"] = raw_insert_postgres(raw_target, count)
    log(f"  raw: {out['raw_insert']['seconds']:.2f} s, {count / out['raw_insert']['seconds']:,.0f} records/s")
    out["insert_ratio"] = out["gemini_insert"]["seconds"] / out["raw_insert"]["seconds"]
    out["load_after_insert"] = _load()

    # 2. filter: one model, place and day, streamed to the end
    expected = _expected_matches(count)
    stream = gemini_stream(layer)
    if backend == "postgresql":
        first_ms, total_ms, found = stream()
        out["gemini_filter_before_analyze"] = {"first_record_ms": first_ms, "total_ms": total_ms, "records": found}
        with psycopg.connect(_libpq(gemini_url), autocommit=True) as connection:
            connection.execute("ANALYZE")
        with psycopg.connect(_libpq(raw_target), autocommit=True) as connection:
            connection.execute("ANALYZE")
    stream()  # warm: the names, the statement caches, the pages
    out["gemini_filter"] = repeat(stream, args.query_repeats, expected)
    out["gemini_filter"]["call"] = stream.call  # type: ignore[attr-defined]
    raw_names = _raw_names(f"sqlite:///{raw_target}" if backend == "sqlite" else raw_target)
    _dispose_url(f"sqlite:///{raw_target}" if backend == "sqlite" else raw_target)
    raw = raw_stream(backend, raw_target, raw_names)
    raw()
    out["raw_filter"] = repeat(raw, args.query_repeats, expected)
    raw.close()  # type: ignore[attr-defined]
    log(
        f"  filter {expected:,} records: gemini median {out['gemini_filter']['median_ms']:.1f} ms "
        f"(first {out['gemini_filter']['first_record_median_ms']:.1f} ms), raw {out['raw_filter']['median_ms']:.1f} ms"
    )

    # 3. REST memory (PostgreSQL only)
    if backend == "postgresql" and not args.no_rest:
        from gemini.db import engine as db_engine

        db_engine.dispose_engines()
        log(f"{backend}: streaming all {count:,} records over REST, load {_load()}")
        out["rest_stream"] = rest_stream(gemini_url, count, scratch)
        if "skipped" in out["rest_stream"]:
            log(f"  REST: skipped: {out['rest_stream']['skipped']}")
        else:
            rest = out["rest_stream"]
            log(
                f"  REST: {rest['records_per_s']:,.0f} records/s; server RSS start {rest['rss_start_mib']:.1f} MiB, "
                f"peak {rest['rss_peak_mib']:.1f}, end {rest['rss_end_mib']:.1f}"
            )
    out["load_end"] = _load()
    from gemini.db import engine as db_engine

    db_engine.dispose_engines()
    return out


def profile_backend(backend: str, args: argparse.Namespace, layer: str, databases: PostgresDatabases, scratch: Path) -> str:
    url = f"sqlite:///{scratch / 'profile.db'}" if backend == "sqlite" else databases.new("records_p")
    _use_database(url)
    profiler = cProfile.Profile()
    measured = gemini_insert(layer, args.records, profiler)
    path = Path(args.out) / f"records_profile_{backend}_{args.records}.prof"
    path.parent.mkdir(parents=True, exist_ok=True)
    profiler.dump_stats(str(path))
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    text.write(f"== {backend}: {args.records:,} records through {layer}: {measured['seconds']:.2f} s under cProfile "
               f"(load {_load()}); saved to {path}\n")
    stats.sort_stats("tottime").print_stats(args.profile_top)
    stats.sort_stats("cumulative").print_stats(args.profile_top)
    print(text.getvalue(), flush=True)
    text = io.StringIO()
    # The filter of part 2, five times, on the database just filled.
    stream = gemini_stream(layer)
    stream()
    reader = cProfile.Profile()
    reader.enable()
    for _ in range(5):
        stream()
    reader.disable()
    reader.dump_stats(str(path.with_name(path.stem + "_filter.prof")))
    text.write(f"== {backend}: part 2's filter ({_expected_matches(args.records):,} records) x 5 under cProfile\n")
    stats = pstats.Stats(reader, stream=text)
    stats.sort_stats("tottime").print_stats(args.profile_top)
    from gemini.db import engine as db_engine

    db_engine.dispose_engines()
    return text.getvalue()


def markdown(results: list[dict], meta: dict) -> str:
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    lines = [
        f"Measured {meta['date']} on {meta['machine']}; Python {meta['python']}, SQLite {meta['sqlite']}, "
        f"PostgreSQL {meta['postgresql']}; {meta['records']:,} records through `{meta['layer']}`; "
        f"load average {meta['load_average'][0]:.1f} at the start.",
        "",
        "| measure | " + " | ".join(names[item["backend"]] for item in results) + " |",
        "|---|" + "---:|" * len(results),
    ]

    def row(label: str, cell: Callable[[dict], str]) -> None:
        cells = []
        for item in results:
            try:
                cells.append(cell(item))
            except (KeyError, TypeError):
                cells.append("–")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")

    n = meta["records"]
    row(f"insert {n:,}: gemini, s", lambda i: f"{i['gemini_insert']['seconds']:.2f}")
    row("… records/s", lambda i: f"{n / i['gemini_insert']['seconds']:,.0f}")
    row("… of which the source generator, s", lambda i: f"{i['gemini_insert']['source_s']:.2f}")
    row("… building the ModelRecords first (outside the clock), s", lambda i: f"{i['gemini_insert']['build_s']:.2f}")
    row(f"insert {n:,}: raw driver (COPY / executemany), s", lambda i: f"{i['raw_insert']['seconds']:.2f}")
    row("… records/s", lambda i: f"{n / i['raw_insert']['seconds']:,.0f}")
    row("gemini ÷ raw (time)", lambda i: f"{i['insert_ratio']:.2f}×")
    row("filter one model, place, day: gemini median ms (p95)",
        lambda i: f"{i['gemini_filter']['median_ms']:.1f} ({i['gemini_filter']['p95_ms']:.1f})")
    row("… records; the call", lambda i: f"{i['gemini_filter']['records']:,}; `{i['gemini_filter']['call']}`")
    row("… first record, median ms", lambda i: f"{i['gemini_filter']['first_record_median_ms']:.2f}")
    row("… first query after the insert, before ANALYZE: ms (first record)",
        lambda i: f"{i['gemini_filter_before_analyze']['total_ms']:.1f} ({i['gemini_filter_before_analyze']['first_record_ms']:.1f})")
    row("… raw driver: fetch all + decode, median ms", lambda i: f"{i['raw_filter']['median_ms']:.1f}")
    row("REST stream of all records: records/s", lambda i: i["rest_stream"].get("skipped") and "skipped" or f"{i['rest_stream']['records_per_s']:,.0f}")
    row("… server RSS start / peak / end, MiB",
        lambda i: f"{i['rest_stream']['rss_start_mib']:.1f} / {i['rest_stream']['rss_peak_mib']:.1f} / {i['rest_stream']['rss_end_mib']:.1f}")
    row("load average before / after the inserts / at the end", lambda i: f"{i['load_before']} / {i['load_after_insert']} / {i['load_end']}")
    for item in results:
        if item.get("rest_stream", {}).get("skipped"):
            lines += ["", f"REST on {names[item['backend']]}: skipped: {item['rest_stream']['skipped']}."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--layer", choices=("auto", "modelrecord", "front"), default="auto",
                        help="modelrecord: ModelRecord.create/insert and Model.filter_records; front: "
                             "registry().insert_model_records / stream_model_records; auto: modelrecord when it exists")
    parser.add_argument("--query-repeats", type=int, default=21)
    parser.add_argument("--no-rest", action="store_true", help="skip part 3 (REST memory)")
    parser.add_argument("--profile", action="store_true", help="only profile gemini's insert (cProfile) on each database")
    parser.add_argument("--profile-top", type=int, default=30)
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    for key in [key for key in os.environ if key.startswith("GEMINI_") and key != "GEMINI_BENCH_POSTGRES_URL"]:
        del os.environ[key]  # the local database, whatever the shell says
    layer = pick_layer(args.layer)
    backends = [backend for backend in args.backends.split(",") if backend]
    databases = PostgresDatabases()
    scratch = Path(tempfile.mkdtemp(prefix="gemini-records-bench-"))
    os.environ["GEMINI_ARTIFACT_ROOT"] = str(scratch / "artifacts")
    meta = {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _server_version() if "postgresql" in backends else "-",
        "records": args.records,
        "layer": layer,
        "load_average": os.getloadavg(),
        "command": " ".join(sys.argv),
    }
    results: list[dict] = []
    try:
        for backend in backends:
            if args.profile:
                print(profile_backend(backend, args, layer, databases, scratch), flush=True)
                continue
            results.append(bench_backend(backend, args, layer, databases, scratch))
            for path in scratch.glob("*.db*"):
                path.unlink()
            _write(results, meta, Path(args.out))  # partial results survive a stop
    finally:
        from gemini.db import engine as db_engine

        db_engine.dispose_engines()
        shutil.rmtree(scratch, ignore_errors=True)
        if "postgresql" in backends:
            databases.drop_all()
    if results:
        print(_write(results, meta, Path(args.out)))


def _write(results: list[dict], meta: dict, directory: Path) -> str:
    directory.mkdir(parents=True, exist_ok=True)
    stem = directory / f"records_{meta['records']}"
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "results": results}, indent=1, default=str))
    table = markdown(results, meta)
    stem.with_suffix(".md").write_text(table)
    return table


if __name__ == "__main__":
    main()
