"""Load test: ``gemini serve`` on PostgreSQL on loopback, driven by a mixed read/write workload.

Starts the server as its own process on a free 127.0.0.1 port over a fresh PostgreSQL database (created
on the server that --postgres names, dropped afterwards unless --keep), seeds it, then runs --clients
concurrent HTTP clients from this process for --duration seconds and reports requests/s, latency
percentiles per operation, and errors (any transport failure or unexpected status). Exits 1 on errors.

Example:

    .venv/bin/python benchmarks/load_test.py --duration 60 --clients 16
"""

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import defaultdict
from pathlib import Path

import httpx
import sqlalchemy as sa

TOKEN = "load-test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
MODEL = "load-model"
SEED_RUNS = 2_000

# operation -> share of requests
MIX = {
    "create run": 0.20,
    "create existing run": 0.05,
    "replace run info": 0.10,
    "get run by id": 0.30,
    "search by containment": 0.20,
    "list runs of model": 0.15,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(database_url: str, port: int) -> subprocess.Popen:
    executable = Path(sys.executable).parent / "gemini"
    command = [str(executable) if executable.exists() else "gemini", "serve", "--host", "127.0.0.1", "--port", str(port)]
    environment = {**os.environ, "GEMINI_DATABASE_URL": database_url, "GEMINI_API_TOKEN": TOKEN}
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gemini serve exited with {server.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return server
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    server.kill()
    sys.exit("gemini serve did not become healthy within 60 s")


class Workload:
    """Picks operations by MIX and remembers the runs it knows, to read and change them."""

    def __init__(self, seed_ids: list[str]) -> None:
        self.run_ids = list(seed_ids)
        self.next_number = 0
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.error_samples: list[str] = []

    def request(self) -> tuple[str, str, str, dict]:
        operation = random.choices(list(MIX), weights=list(MIX.values()))[0]
        if operation == "create run":
            self.next_number += 1
            info = {"source": "load", "client_run": f"{uuid.uuid4()}", "params": {"lr": random.random()}}
            return operation, "POST", "/api/model_runs", {"json": {"model_name": MODEL, "model_run_info": info}}
        if operation == "create existing run":
            info = {"seed": random.randrange(SEED_RUNS), "params": {"lr": 0.001}, "data": {"site": "Davis"}}
            return operation, "POST", "/api/model_runs", {"json": {"model_name": MODEL, "model_run_info": info}}
        if operation == "replace run info":
            info = {"replaced": str(uuid.uuid4()), "epoch": random.randrange(100)}
            return operation, "PATCH", f"/api/model_runs/{random.choice(self.run_ids[SEED_RUNS:] or self.run_ids)}", {
                "json": {"model_run_info": info}
            }
        if operation == "get run by id":
            return operation, "GET", f"/api/model_runs/{random.choice(self.run_ids)}", {}
        if operation == "search by containment":
            pattern = json.dumps({"seed": random.randrange(SEED_RUNS)})
            return operation, "GET", "/api/model_runs", {"params": {"model_run_info": pattern, "limit": 20}}
        return operation, "GET", "/api/model_runs", {"params": {"model_name": MODEL, "limit": 50}}


EXPECTED = {"POST": {200, 201}, "PATCH": {200}, "GET": {200}}


async def client(http: httpx.AsyncClient, workload: Workload, deadline: float) -> None:
    while time.monotonic() < deadline:
        operation, method, path, options = workload.request()
        began = time.perf_counter()
        try:
            response = await http.request(method, path, headers=AUTH, **options)
            ok = response.status_code in EXPECTED[method]
            detail = f"{response.status_code} {response.text[:200]}"
            if ok and operation == "create run":
                workload.run_ids.append(response.json()["id"])
        except httpx.HTTPError as exc:
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        workload.latencies[operation].append(time.perf_counter() - began)
        if not ok:
            workload.errors[operation] += 1
            if len(workload.error_samples) < 5:
                workload.error_samples.append(f"{method} {path}: {detail}")


def seed(database_url: str) -> list[str]:
    """The model and SEED_RUNS runs, written straight through the core in one transaction (not timed)."""
    os.environ["GEMINI_DATABASE_URL"] = database_url
    from gemini.registry import registry

    registry().create_model(model_name=MODEL)
    infos = [{"seed": n, "params": {"lr": 0.001}, "data": {"site": "Davis"}} for n in range(SEED_RUNS)]
    return [str(run.id) for run, _ in registry().create_runs(model_run_infos=infos, model_name=MODEL)]


async def drive(base_url: str, clients: int, duration: float, workload: Workload) -> float:
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as http:
        began = time.monotonic()
        await asyncio.gather(*(client(http, workload, began + duration) for _ in range(clients)))
        return time.monotonic() - began


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=1000, method="inclusive")[int(share * 1000) - 1] if len(values) > 1 else values[0]


def report(workload: Workload, elapsed: float) -> int:
    everything = [latency for latencies in workload.latencies.values() for latency in latencies]
    errors = sum(workload.errors.values())
    print(f"{len(everything)} requests in {elapsed:.1f} s: {len(everything) / elapsed:.0f} requests/s, {errors} errors")
    print(f"{'operation':<24}{'count':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}")
    for operation in [*MIX, "all"]:
        latencies = everything if operation == "all" else workload.latencies.get(operation, [])
        if not latencies:
            continue
        failed = errors if operation == "all" else workload.errors.get(operation, 0)
        print(
            f"{operation:<24}{len(latencies):>8}{percentile(latencies, 0.5) * 1000:>9.1f}"
            f"{percentile(latencies, 0.99) * 1000:>9.1f}{max(latencies) * 1000:>9.1f}{failed:>8}"
        )
    for sample in workload.error_samples:
        print(f"error: {sample}")
    return 1 if errors else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load (default 60)")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients (default 16)")
    parser.add_argument(
        "--postgres",
        default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server URL where this user may CREATE DATABASE",
    )
    parser.add_argument("--keep", action="store_true", help="keep the load-test database afterwards")
    arguments = parser.parse_args()

    admin = sa.create_engine(arguments.postgres, isolation_level="AUTOCOMMIT")
    name = f"gemini_load_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    database_url = sa.engine.make_url(arguments.postgres).set(database=name).render_as_string(hide_password=False)
    port = free_port()
    server = start_server(database_url, port)
    try:
        base_url = f"http://127.0.0.1:{port}"
        started = time.monotonic()
        workload = Workload(seed(database_url))
        print(f"seeded {SEED_RUNS} runs in {time.monotonic() - started:.1f} s; "
              f"{arguments.clients} clients for {arguments.duration:.0f} s against {base_url} (PostgreSQL)")
        elapsed = asyncio.run(drive(base_url, arguments.clients, arguments.duration, workload))
        return report(workload, elapsed)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
        if not arguments.keep:
            with admin.connect() as connection:
                connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


if __name__ == "__main__":
    sys.exit(main())
