"""The physical limit: the drivers alone (sqlite3, psycopg) writing and reading the same rows."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import sqlite3
import time
import uuid
from collections.abc import Callable

import psycopg

from benchmarks import workload
from benchmarks.timing import Result, measure, result


def _rows(start: int, count: int) -> list[tuple]:
    now = dt.datetime.now(dt.timezone.utc).isoformat()
    rows = []
    for _, info in workload.runs(count, start=start):
        text = json.dumps(info, separators=(",", ":"))
        rows.append((uuid.uuid4().hex, None, text, hashlib.sha256(text.encode()).hexdigest(), now, now))
    return rows


def _scans(size: int) -> int:
    return 20 if size < 500_000 else 3


def _decode(rows: list[tuple]) -> None:
    """What any client does with the rows: the info as a dict, the id as a UUID."""
    for row in rows:
        uuid.UUID(str(row[0]))
        json.loads(row[2]) if isinstance(row[2], str) else row[2]


def _load(insert: Callable[[list[tuple]], object], size: int) -> tuple[float, list[str]]:
    """Insert ``size`` rows in chunks (a million rows would not fit in memory at once); returns the seconds
    spent inserting, rows generated outside the clock, and the ids."""
    total, ids = 0.0, []
    for start in range(0, size, 10_000):
        rows = _rows(start, min(10_000, size - start))
        ids += [row[0] for row in rows]
        began = time.perf_counter()
        insert(rows)
        total += time.perf_counter() - began
    return total, ids


def sqlite(path: str, size: int, log: Callable[[str], None]) -> list[Result]:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.execute(
        "CREATE TABLE raw_runs (id CHAR(32) PRIMARY KEY, model_id CHAR(32), info TEXT NOT NULL, "
        "info_hash VARCHAR(64) NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL)"
    )
    results: list[Result] = []
    connection.execute("BEGIN")
    total, ids = _load(lambda rows: connection.executemany("INSERT INTO raw_runs VALUES (?, ?, ?, ?, ?, ?)", rows), size)
    start = time.perf_counter()
    connection.execute("COMMIT")
    total += time.perf_counter() - start
    results.append(result("sqlite", size, "raw driver", "executemany (one transaction)", [total * 1000], rate_per_s=round(size / total)))
    extra = _rows(size, 300)

    def insert_commit(i: int) -> None:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("INSERT INTO raw_runs VALUES (?, ?, ?, ?, ?, ?)", extra[i])
        connection.execute("COMMIT")

    results.append(result("sqlite", size, "raw driver", "insert + commit", measure(insert_commit, len(extra))))
    connection.execute("CREATE INDEX raw_runs_site ON raw_runs (json_extract(info, '$.data.site'))")

    def broad(i: int) -> None:
        site = workload.SITES[i % len(workload.SITES)]
        rows = connection.execute("SELECT * FROM raw_runs WHERE json_extract(info, '$.data.site') = ?", (site,)).fetchall()
        _decode(rows)

    results.append(result("sqlite", size, "raw driver", "fetch + decode N/20 matches", measure(broad, _scans(size))))
    rng = random.Random(1)
    keys = [ids[rng.randrange(size)] for _ in range(500)]
    results.append(
        result("sqlite", size, "raw driver", "primary-key lookup",
               measure(lambda i: connection.execute("SELECT * FROM raw_runs WHERE id = ?", (keys[i],)).fetchone(), 500))
    )
    connection.close()
    for item in results:
        log(f"  raw sqlite3 {item.operation}: median {item.median_ms:.3f} ms")
    return results


def postgres(url: str, size: int, log: Callable[[str], None]) -> list[Result]:
    results: list[Result] = []
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(
            "CREATE TABLE raw_runs (id uuid PRIMARY KEY, model_id uuid, info json NOT NULL, "
            "info_hash varchar(64) NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)"
        )
        with connection.transaction(), connection.cursor() as cursor:
            total, ids = _load(lambda rows: cursor.executemany("INSERT INTO raw_runs VALUES (%s, %s, %s, %s, %s, %s)", rows), size)
            start = time.perf_counter()
        total += time.perf_counter() - start  # the commit
        results.append(result("postgresql", size, "raw driver", "executemany (one transaction)", [total * 1000], rate_per_s=round(size / total)))
        extra = _rows(size, 300)

        def insert_commit(i: int) -> None:
            with connection.transaction():
                connection.execute("INSERT INTO raw_runs VALUES (%s, %s, %s, %s, %s, %s)", extra[i])

        results.append(result("postgresql", size, "raw driver", "insert + commit", measure(insert_commit, len(extra))))
        rng = random.Random(1)
        keys = [ids[rng.randrange(size)] for _ in range(500)]
        results.append(
            result("postgresql", size, "raw driver", "primary-key lookup",
                   measure(lambda i: connection.execute("SELECT * FROM raw_runs WHERE id = %s", (keys[i],)).fetchone(), 500))
        )
        connection.execute("CREATE INDEX raw_runs_gin ON raw_runs USING gin ((info::jsonb) jsonb_path_ops)")
        connection.execute("ANALYZE raw_runs")
        picks = [rng.randrange(size) for _ in range(200)]

        def containment(i: int) -> None:
            pattern = json.dumps({"data": {"sample_id": f"S{picks[i]:09d}"}})
            found = connection.execute("SELECT * FROM raw_runs WHERE info::jsonb @> %s::jsonb", (pattern,)).fetchall()
            assert len(found) == 1

        results.append(result("postgresql", size, "raw driver", "GIN containment, one match", measure(containment, 200)))

        def broad(i: int) -> None:
            pattern = json.dumps({"data": {"site": workload.SITES[i % len(workload.SITES)]}})
            # The info as text, decoded here as gemini decodes it (psycopg would otherwise parse the json).
            rows = connection.execute(
                "SELECT id, model_id, info::text, created_at FROM raw_runs WHERE info::jsonb @> %s::jsonb", (pattern,)
            ).fetchall()
            _decode(rows)

        results.append(result("postgresql", size, "raw driver", "fetch + decode N/20 matches", measure(broad, _scans(size))))
        connection.execute("DROP TABLE raw_runs")
    for item in results:
        log(f"  raw psycopg {item.operation}: median {item.median_ms:.3f} ms")
    return results
