"""Load on the team server: ``gemini serve --workers 2`` on PostgreSQL and on SQLite, and ``mlflow server``.

Each server runs as its own processes on a free 127.0.0.1 port over a fresh database; wrk (16
connections, 2 threads, --duration seconds per scenario) drives one scenario at a time:

- get run: ``GET`` one run by id;
- create run: ``POST`` a new run (a new info every request);
- metric batch, in both bodies the server accepts: ``POST`` batches of 1,000 metric points, as rows
  (``points``: one object per point, no timestamps) and as columns (``keys``, ``steps``, ``values``,
  ``timestamps``: what ``gemini.remote`` sends). Each wrk thread is a training job: one connection, a
  tracked run of its own, and its batches one after another, each with a new batch id and the next
  1,000 steps (16 threads; then 1, for the latency a lone job sees). Every scenario has fresh runs, so no
  batch rewrites the steps of another;
- search page: ``GET`` the first 50 runs matching a ``where`` expression, newest first, with the count;
- get run during batches: the get-run scenario with 4 connections while another wrk writes metric
  batches (columns) with 16: how long a read waits behind writes (a server that writes on its event loop makes
  every read queue behind the batch in progress).

MLflow's server (same machine, same wrk settings, one process: its uvicorn workers are killed by the
supervisor's 5 s health check while they start on a busy machine, and it has no option to lengthen it) answers get-run, create-run and log-batch
(1,000 metrics, 16 jobs with a run each, as ours). Loopback only; every scenario is bounded by --duration. Prints a table and writes JSON
(req/s, p50, p99, non-2xx responses) to --out, then the metric ingestion side by side: points/s of each
body on each database, p99 of a batch, and the ratio to mlflow server's log-batch on the same database.
``--ingestion-only`` runs only the metric batch scenarios (and MLflow's log-batch).

Example:

    .venv-bench/bin/python benchmarks/server_load.py --duration 10 --out benchmarks/results/server_load.json
"""

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import sqlalchemy as sa

TOKEN = "server-load-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
CONNECTIONS = 16
THREADS = 2
WORKERS = 2
SEED_RUNS = 10_000
POINTS_PER_BATCH = 1_000

# Lua for wrk: each thread numbers its requests, so that every create and every batch is new. A script
# that lists ``runs`` gives each thread one of them (``run_id``).
LUA_PRELUDE = """
local counter = 0
local thread_number = 0
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("thread_number", threads)
  if runs then
    thread:set("run_id", runs[(threads - 1) %% #runs + 1])
  end
end
function init(args)
  math.randomseed(os.time() * 1000 + (thread_number or 0))
  tag = tostring(math.random(1, 2147483647))
end
"""

LUA_CREATE_RUN = LUA_PRELUDE + """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  counter = counter + 1
  local body = '{"model_name":"load","model_run_info":{"params":{"lr":0.001,"batch":32},"tag":"' .. tag ..
    '","n":' .. counter .. '}}'
  return wrk.format(nil, "/api/model_runs", nil, body)
end
"""

# The metric batches: each wrk thread is one training job with its own run and one connection, sending
# its batches one after another, each with the next 1,000 steps of its series.
LUA_RUNS = """
runs = {%(runs)s}
"""

LUA_METRIC_BATCH = LUA_RUNS + LUA_PRELUDE + """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  counter = counter + 1
  local base = counter * %(points)d
  local points = {}
  for i = 0, %(points)d - 1 do
    points[#points + 1] = '{"key":"loss","step":' .. (base + i) .. ',"value":0.5}'
  end
  local body = '{"batch_id":"' .. tag .. '-' .. counter .. '","points":[' .. table.concat(points, ",") .. ']}'
  return wrk.format(nil, "/api/model_runs/" .. run_id .. "/metrics", nil, body)
end
"""

LUA_METRIC_COLUMNS = LUA_RUNS + LUA_PRELUDE + """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer %(token)s"
request = function()
  counter = counter + 1
  local base = counter * %(points)d
  local keys, steps, values, timestamps = {}, {}, {}, {}
  local now = string.format("%%.6f", os.time() + 0.123456)
  for i = 0, %(points)d - 1 do
    keys[#keys + 1] = '"loss"'
    steps[#steps + 1] = base + i
    values[#values + 1] = "0.5"
    timestamps[#timestamps + 1] = now
  end
  local body = '{"batch_id":"' .. tag .. '-' .. counter .. '","keys":[' .. table.concat(keys, ",") ..
    '],"steps":[' .. table.concat(steps, ",") .. '],"values":[' .. table.concat(values, ",") ..
    '],"timestamps":[' .. table.concat(timestamps, ",") .. ']}'
  return wrk.format(nil, "/api/model_runs/" .. run_id .. "/metrics", nil, body)
end
"""

LUA_MLFLOW_CREATE = LUA_PRELUDE + """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local body = '{"experiment_id":"%(experiment_id)s","start_time":' .. counter .. ',"run_name":"r-' .. tag .. '-' .. counter .. '"}'
  return wrk.format(nil, "/api/2.0/mlflow/runs/create", nil, body)
end
"""

LUA_MLFLOW_BATCH = LUA_RUNS + LUA_PRELUDE + """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  counter = counter + 1
  local base = counter * %(points)d
  local metrics = {}
  for i = 0, %(points)d - 1 do
    metrics[#metrics + 1] = '{"key":"loss","value":0.5,"timestamp":1,"step":' .. (base + i) .. '}'
  end
  local body = '{"run_id":"' .. run_id .. '","metrics":[' .. table.concat(metrics, ",") .. ']}'
  return wrk.format(nil, "/api/2.0/mlflow/runs/log-batch", nil, body)
end
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_healthy(process: subprocess.Popen, url: str, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"no answer from {url} within {seconds} s")


@contextlib.contextmanager
def running(command: list[str], environment: dict[str, str], health_url: str, log: Path) -> Iterator[subprocess.Popen]:
    with open(log, "wb") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_healthy(process, health_url)
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def wrk_command(
    url: str, duration: int, script: str | None, workdir: Path, connections: int = CONNECTIONS, threads: int = THREADS
) -> list[str]:
    command = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s"]
    if script is not None:
        path = workdir / f"script-{uuid.uuid4().hex[:8]}.lua"
        path.write_text(script)
        command += ["-s", str(path)]
    return [*command, url]


def wrk(
    url: str, duration: int, script: str | None, workdir: Path, connections: int = CONNECTIONS, threads: int = THREADS
) -> dict:
    command = wrk_command(url, duration, script, workdir, connections, threads)
    return parse_wrk(subprocess.run(command, capture_output=True, text=True, timeout=duration + 60).stdout)


def reads_during_writes(read_url: str, write_url: str, duration: int, write_script: str, workdir: Path) -> dict:
    """The get-run scenario (4 connections) while a second wrk writes with ``write_script`` (16)."""
    writes = subprocess.Popen(
        wrk_command(write_url, duration, write_script, workdir, threads=CONNECTIONS), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    try:
        time.sleep(0.5)  # the writes are under way before the first read
        reads = subprocess.run(
            wrk_command(read_url, max(1, duration - 1), None, workdir, connections=4),
            capture_output=True,
            text=True,
            timeout=duration + 60,
        )
    finally:
        written = writes.communicate(timeout=duration + 60)[0]
    result = parse_wrk(reads.stdout)
    result["writes_rps"] = parse_wrk(written)["rps"]
    return result


def _milliseconds(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}[unit]


def parse_wrk(output: str) -> dict:
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    result = {
        "requests": requests,
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),
        "p50_ms": _milliseconds(re.search(r"\s50%\s+(\S+)", output).group(1)),
        "p99_ms": _milliseconds(re.search(r"\s99%\s+(\S+)", output).group(1)),
        "non_2xx": int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", output)) else 0,
        "socket_errors": sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", output)),
    }
    return result


def new_postgres_database(server_url: str) -> tuple[str, callable]:
    name = f"gemini_load_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop() -> None:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return sa.engine.make_url(server_url).set(database=name).render_as_string(hide_password=False), drop


BATCH_ROWS = "metric batch (1,000 points)"
BATCH_COLUMNS = "metric batch, columns (1,000 points)"
BATCH_ROWS_ALONE = "metric batch, 1 connection"
BATCH_COLUMNS_ALONE = "metric batch, columns, 1 connection"
MLFLOW_BATCH = "metric batch (1,000 points)"


def batches(url: str, duration: int, script: str, run_ids: list[str], workdir: Path, connections: int = CONNECTIONS) -> dict:
    """``script``'s metric batches, one wrk thread (one connection, one run) per training job."""
    runs = ", ".join(f'"{run_id}"' for run_id in run_ids)
    return wrk(url, duration, script.replace("%(runs)s", runs), workdir, connections, threads=connections)


def gemini_scenarios(database_url: str, duration: int, workdir: Path, ingestion_only: bool = False) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    executable = Path(sys.executable).with_name("gemini")
    command = [str(executable), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS)]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GEMINI_")}
    environment |= {"GEMINI_DATABASE_URL": database_url, "GEMINI_API_TOKEN": TOKEN}
    with running(command, environment, f"{base}/api/health", workdir / f"gemini-{port}.log"):
        with httpx.Client(base_url=base, headers=AUTH, timeout=120) as http:
            for start in range(0, 0 if ingestion_only else SEED_RUNS, 5_000):
                infos = [{"params": {"lr": (i % 100) / 10_000, "batch": 32}, "n": i} for i in range(start, start + 5_000)]
                http.post("/api/model_runs/bulk", json={"model_name": "load", "model_run_infos": infos}).raise_for_status()
            run_id = http.get("/api/model_runs", params={"limit": 1}).json()[0]["id"] if not ingestion_only else None

            def tracked_runs() -> list[str]:  # fresh runs for each scenario: its steps follow no one's
                started = [
                    http.post("/api/model_runs/start", json={"model_name": "load", "model_run_info": {"job": job}})
                    for job in range(CONNECTIONS)
                ]
                return [response.raise_for_status().json()["id"] for response in started]

            search = "/api/model_runs?where=params.lr%20%3C%200.001&order_by=-n&limit=50"
            values = {"token": TOKEN, "points": POINTS_PER_BATCH, "runs": "%(runs)s"}
            rows, columns = LUA_METRIC_BATCH % values, LUA_METRIC_COLUMNS % values
            results = {}
            if not ingestion_only:
                results["get run"] = wrk(f"{base}/api/model_runs/{run_id}", duration, None, workdir)
                results["create run"] = wrk(base, duration, LUA_CREATE_RUN % values, workdir)
            results[BATCH_ROWS] = batches(base, duration, rows, tracked_runs(), workdir)
            results[BATCH_COLUMNS] = batches(base, duration, columns, tracked_runs(), workdir)
            results[BATCH_ROWS_ALONE] = batches(base, duration, rows, tracked_runs(), workdir, connections=1)
            results[BATCH_COLUMNS_ALONE] = batches(base, duration, columns, tracked_runs(), workdir, connections=1)
            if not ingestion_only:
                results["search page"] = wrk(f"{base}{search}", duration, None, workdir)
                runs = ", ".join(f'"{tracked}"' for tracked in tracked_runs())
                results["get run during batches"] = reads_during_writes(
                    f"{base}/api/model_runs/{run_id}", base, duration, columns.replace("%(runs)s", runs), workdir
                )
    for scenario in (BATCH_ROWS, BATCH_COLUMNS, BATCH_ROWS_ALONE, BATCH_COLUMNS_ALONE):
        results[scenario]["points_per_s"] = results[scenario]["rps"] * POINTS_PER_BATCH
    return results


def mlflow_scenarios(backend_uri: str, duration: int, workdir: Path, ingestion_only: bool = False) -> dict:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    mlflow = Path(sys.executable).with_name("mlflow")
    artifacts = workdir / f"mlflow-artifacts-{port}"
    command = [
        str(mlflow), "server", "--backend-store-uri", backend_uri, "--default-artifact-root", str(artifacts),
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(WORKERS),
    ]
    log = workdir / f"mlflow-{port}.log"
    with running(command, dict(os.environ), f"{base}/health", log):
        with httpx.Client(base_url=base, timeout=120) as http:
            experiment = http.post("/api/2.0/mlflow/experiments/create", json={"name": f"load-{uuid.uuid4().hex[:6]}"})
            experiment.raise_for_status()
            experiment_id = experiment.json()["experiment_id"]
            run_ids = []
            for job in range(CONNECTIONS):
                created = http.post("/api/2.0/mlflow/runs/create", json={"experiment_id": experiment_id, "start_time": job})
                run_ids.append(created.raise_for_status().json()["run"]["info"]["run_id"])
        run_id = run_ids[0]
        values = {"experiment_id": experiment_id, "points": POINTS_PER_BATCH, "runs": "%(runs)s"}
        results = {}
        if not ingestion_only:
            results["get run"] = wrk(f"{base}/api/2.0/mlflow/runs/get?run_id={run_id}", duration, None, workdir)
            results["create run"] = wrk(base, duration, LUA_MLFLOW_CREATE % values, workdir)
        results[MLFLOW_BATCH] = batches(base, duration, LUA_MLFLOW_BATCH % values, run_ids, workdir)
    results[MLFLOW_BATCH]["points_per_s"] = results[MLFLOW_BATCH]["rps"] * POINTS_PER_BATCH
    return results


def print_table(all_results: dict, header: bool = True) -> None:
    if header:
        print(f"{'server':38} {'scenario':28} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'non-2xx':>8}")
    for server, scenarios in all_results.items():
        if "error" in scenarios:
            print(f"{server:38} failed: {scenarios['error']}")
            continue
        for scenario, result in scenarios.items():
            print(
                f"{server:38} {scenario:28} {result['rps']:9.0f} {result['p50_ms']:8.2f} {result['p99_ms']:8.2f} "
                f"{result['non_2xx'] + result['socket_errors']:8d}"
            )


def ingestion_summary(all_results: dict) -> dict:
    """Per database: points/s of each body and of mlflow server's log-batch, p99 of a batch under load
    and alone, and each body's ratio to mlflow server."""
    summary = {}
    for database in ("PostgreSQL", "SQLite"):
        ours = all_results.get(f"gemini, {database}, {WORKERS} workers", {})
        theirs = all_results.get(f"mlflow server, {database}, {WORKERS} workers", {}).get(MLFLOW_BATCH)
        if BATCH_ROWS not in ours:
            continue
        row: dict = {}
        for body, loaded, alone in (("columns", BATCH_COLUMNS, BATCH_COLUMNS_ALONE), ("rows", BATCH_ROWS, BATCH_ROWS_ALONE)):
            row[body] = {
                "points_per_s": ours[loaded]["points_per_s"],
                "p99_ms": ours[loaded]["p99_ms"],
                "p99_ms_alone": ours[alone]["p99_ms"],
                "errors": ours[loaded]["non_2xx"] + ours[loaded]["socket_errors"],
                "times_mlflow": ours[loaded]["points_per_s"] / theirs["points_per_s"] if theirs and theirs["points_per_s"] else None,
            }
        row["mlflow_points_per_s"] = theirs["points_per_s"] if theirs else None
        summary[database] = row
    return summary


def print_ingestion(summary: dict) -> None:
    print(f"\nmetric ingestion, batches of {POINTS_PER_BATCH:,} points ({CONNECTIONS} connections; p99 alone: 1 connection)")
    print(f"{'database':11} {'body':8} {'points/s':>10} {'p99 ms':>8} {'p99 alone':>10} {'errors':>7} {'x mlflow':>9}")
    for database, row in summary.items():
        for body in ("columns", "rows"):
            figures = row[body]
            ratio = f"{figures['times_mlflow']:9.1f}" if figures["times_mlflow"] is not None else f"{'-':>9}"
            print(
                f"{database:11} {body:8} {figures['points_per_s']:10,.0f} {figures['p99_ms']:8.1f} "
                f"{figures['p99_ms_alone']:10.1f} {figures['errors']:7d} {ratio}"
            )
        if row["mlflow_points_per_s"] is not None:
            print(f"{database:11} {'mlflow':8} {row['mlflow_points_per_s']:10,.0f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="Seconds per scenario (bounded: at most 60).")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--no-mlflow", action="store_true", help="Measure gemini only.")
    parser.add_argument("--mlflow-only", action="store_true", help="Measure MLflow's server only.")
    parser.add_argument(
        "--ingestion-only", action="store_true", help="Only the metric batch scenarios (and MLflow's log-batch)."
    )
    parser.add_argument("--out", type=Path, default=None, help="Write the results as JSON here.")
    options = parser.parse_args()
    duration = max(1, min(options.duration, 60))
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (apt-get install wrk)")
    results: dict = {"load_average_before": os.getloadavg()}
    servers = [("gemini, PostgreSQL, 2 workers", gemini_scenarios, True), ("gemini, SQLite, 2 workers", gemini_scenarios, False)]
    if not options.no_mlflow:
        servers += [
            ("mlflow server, PostgreSQL, 2 workers", mlflow_scenarios, True),
            ("mlflow server, SQLite, 2 workers", mlflow_scenarios, False),
        ]
    if options.mlflow_only:
        servers = [server for server in servers if server[0].startswith("mlflow")]
    with tempfile.TemporaryDirectory(prefix="gemini-server-load-") as directory:
        workdir = Path(directory)
        for name, scenarios, on_postgres in servers:
            url, drop = new_postgres_database(options.postgres) if on_postgres else (f"sqlite:///{workdir / uuid.uuid4().hex}.db", None)
            try:
                results[name] = scenarios(url, duration, workdir, options.ingestion_only)
            except (RuntimeError, subprocess.SubprocessError) as exc:  # one server failing keeps the others' figures
                results[name] = {"error": str(exc)}
            finally:
                if drop is not None:
                    drop()
            print_table({name: results[name]}, header=name == servers[0][0])
            if options.out is not None:  # after each server, so a stopped run keeps what it measured
                options.out.parent.mkdir(parents=True, exist_ok=True)
                options.out.write_text(json.dumps(results, indent=2) + "\n")
    results["load_average_after"] = os.getloadavg()
    results["ingestion"] = ingestion_summary(results)
    print_ingestion(results["ingestion"])
    if options.out is not None:
        options.out.write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
