"""Run every benchmark: ``python -m benchmarks.run --sizes 10000,100000`` (``make bench``).

Each (database, size) gets fresh databases: one for gemini, one for the raw driver, one for MLflow.
PostgreSQL is the server at ``GEMINI_BENCH_POSTGRES_URL`` (default: the local one, user ``postgres``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import shutil
import sqlite3
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
import sqlalchemy as sa

from benchmarks import gemini_bench, raw_bench, report

POSTGRES_URL = os.environ.get("GEMINI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def _libpq(url: str) -> str:
    return sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class PostgresDatabases:
    def __init__(self) -> None:
        self.created: list[str] = []

    def new(self, label: str) -> str:
        name = f"gemini_bench_{label}_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as connection:
            connection.execute(f'CREATE DATABASE "{name}"')
        self.created.append(name)
        return sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)

    def drop_all(self) -> None:
        with psycopg.connect(_libpq(POSTGRES_URL), autocommit=True) as connection:
            for name in self.created:
                connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--mlflow-sizes", default="10000,100000", help="sizes at which MLflow is measured ('' for none)")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results"))
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",") if size]
    mlflow_sizes = {int(size) for size in args.mlflow_sizes.split(",") if size}
    from gemini.db import engine as db_engine

    results: list[dict] = []
    databases = PostgresDatabases()
    scratch = Path(tempfile.mkdtemp(prefix="gemini-bench-"))
    try:
        for backend in args.backends.split(","):
            for size in sizes:
                log(f"{backend}, {size:,} runs")
                if backend == "sqlite":
                    gemini_url = f"sqlite:///{scratch / f'gemini-{size}.db'}"
                else:
                    gemini_url = databases.new(f"gemini_{size}")
                os.environ["GEMINI_DATABASE_URL"] = gemini_url
                db_engine.dispose_engines()
                results += [item.as_dict() for item in gemini_bench.run(backend, size, log)]
                db_engine.dispose_engines()
                if backend == "sqlite":
                    results += [item.as_dict() for item in raw_bench.sqlite(str(scratch / f"raw-{size}.db"), size, log)]
                else:
                    results += [item.as_dict() for item in raw_bench.postgres(_libpq(databases.new(f"raw_{size}")), size, log)]
                if size in mlflow_sizes:
                    from benchmarks import mlflow_bench

                    url = f"sqlite:///{scratch / f'mlflow-{size}.db'}" if backend == "sqlite" else databases.new(f"mlflow_{size}")
                    results += [item.as_dict() for item in mlflow_bench.run(backend, url, size, log)]
                for path in scratch.glob("*.db*"):
                    path.unlink()
                report.write(results, _meta(args, mlflow_sizes, sizes), Path(args.out))  # partial results survive a stop
    finally:
        db_engine.dispose_engines()
        shutil.rmtree(scratch, ignore_errors=True)
        if "postgresql" in args.backends:
            databases.drop_all()
    meta = _meta(args, mlflow_sizes, sizes)
    table = report.write(results, meta, Path(args.out))
    print(table)


def _meta(args: argparse.Namespace, mlflow_sizes: set[int], sizes: list[int]) -> dict:
    return {
        "date": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgresql": _server_version() if "postgresql" in args.backends else "-",
        "mlflow": _mlflow_version() if mlflow_sizes else "-",
        "sizes": sizes,
        "load_average": os.getloadavg(),
        "command": " ".join(sys.argv),
    }


def _server_version() -> str:
    with psycopg.connect(_libpq(POSTGRES_URL)) as connection:
        return connection.execute("SHOW server_version").fetchone()[0]


def _mlflow_version() -> str:
    try:
        import mlflow

        return mlflow.__version__
    except ImportError:
        return "not installed"


if __name__ == "__main__":
    main()
