"""A remote ``ModelRun.create`` from Python over a kept-alive connection, and where its time goes.

``python -m benchmarks.remote_create [--samples 1000] [--database sqlite|postgresql] [--profile]``

Starts ``gemini serve`` on a free loopback port over a fresh database (an SQLite file in a temporary
directory, or a new PostgreSQL database on ``GEMINI_BENCH_POSTGRES_URL``), then measures in the same run,
each with new runs (an insert and a commit every time); the three remote measurements interleaved:

- ``ModelRun.create`` locally on the same database (the baseline: what the server itself must do);
- ``ModelRun.create`` through the server (``GEMINI_API_URL``): the number the target is about;
- the same ``POST /api/model_runs`` sent with a bare ``httpx.Client`` (the HTTP round trip and the
  server, without the client library);
- ``GET /api/health`` (a round trip whose server work is one ``SELECT``), for the transport's floor.

``--profile`` adds the top functions of the client side of a remote create under cProfile.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

POSTGRES_URL = os.environ.get("GEMINI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(database_url: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    executable = Path(sys.executable).with_name("gemini")
    environment = {k: v for k, v in os.environ.items() if not k.startswith("GEMINI_")}
    environment["GEMINI_DATABASE_URL"] = database_url
    server = subprocess.Popen(
        [str(executable), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                return server, url
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    sys.exit("gemini serve did not start")


def percentiles(durations: list[float]) -> dict[str, float]:
    ordered = sorted(durations)

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]

    return {"p50": statistics.median(ordered), "p90": at(0.90), "p99": at(0.99)}


def timed(function, samples: int) -> list[float]:  # noqa: ANN001
    durations = []
    for index in range(samples):
        start = time.perf_counter()
        function(index)
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--profile", action="store_true")
    arguments = parser.parse_args()

    directory = Path(tempfile.mkdtemp(prefix="gemini-remote-bench-"))
    dropped = None
    if arguments.database == "sqlite":
        database_url = f"sqlite:///{directory / 'gemini.db'}"
    else:
        name = f"gemini_bench_{uuid.uuid4().hex[:10]}"
        admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        database_url = sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
        dropped = (admin, name)

    os.environ.pop("GEMINI_API_URL", None)
    os.environ["GEMINI_DATABASE_URL"] = database_url
    server, url = start_server(database_url)
    try:
        from gemini.api.model import Model
        from gemini.api.model_run import ModelRun

        Model.create(model_name="bench")
        samples = arguments.samples
        tag = uuid.uuid4().hex
        rows: dict[str, dict[str, float]] = {}

        # Warm each path (imports, pools, the version check) before measuring.
        for index in range(50):
            ModelRun.create(model_run_info={"warm": index, "local": tag}, model_name="bench")
        rows["ModelRun.create, local (same database, no server)"] = percentiles(
            timed(lambda i: ModelRun.create(model_run_info={"epoch": i, "lr": 0.01, "local": tag}, model_name="bench"), samples)
        )

        os.environ["GEMINI_API_URL"] = url
        client = httpx.Client(base_url=url)
        for index in range(50):
            ModelRun.create(model_run_info={"warm": index, "remote": tag}, model_name="bench")
            client.post("/api/model_runs", json={"model_run_info": {"warm": index, "raw": tag}, "model_name": "bench"})
        # Interleaved, one of each per round, so that the load of a shared machine weighs on all alike.
        operations = {
            "ModelRun.create, remote (kept-alive connection)": lambda i: ModelRun.create(
                model_run_info={"epoch": i, "lr": 0.01, "remote": tag}, model_name="bench"
            ),
            "POST /api/model_runs, bare httpx.Client": lambda i: client.post(
                "/api/model_runs", json={"model_run_info": {"epoch": i, "lr": 0.01, "raw": tag}, "model_name": "bench"}
            ),
            "GET /api/health, bare httpx.Client": lambda i: client.get("/api/health"),
        }
        durations: dict[str, list[float]] = {name: [] for name in operations}
        for index in range(samples):
            for name, operation in operations.items():
                start = time.perf_counter()
                operation(index)
                durations[name].append((time.perf_counter() - start) * 1000)
        client.close()
        for name, values in durations.items():
            rows[name] = percentiles(values)

        print(f"\n{arguments.database}, {samples} samples each, milliseconds\n")
        print("| operation | p50 | p90 | p99 |")
        print("|---|---|---|---|")
        for name, values in rows.items():
            print(f"| {name} | {values['p50']:.3f} | {values['p90']:.3f} | {values['p99']:.3f} |")

        if arguments.profile:
            profile_tag = uuid.uuid4().hex
            profiler = cProfile.Profile()
            profiler.enable()
            for index in range(samples):
                ModelRun.create(model_run_info={"epoch": index, "profile": profile_tag}, model_name="bench")
            profiler.disable()
            text = io.StringIO()
            pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(18)
            print("\nclient side of a remote create, top functions by own time:\n")
            print(text.getvalue())
    finally:
        server.terminate()
        server.wait(15)
        if dropped is not None:
            from gemini.db import engine as db_engine

            db_engine.dispose_engines()
            admin, name = dropped
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()


if __name__ == "__main__":
    main()
