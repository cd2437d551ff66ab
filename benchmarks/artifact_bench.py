"""Artifacts of 1 GiB: upload and download through the Python API and through ``gemini serve`` on loopback.

``python -m benchmarks.artifact_bench`` (part of ``make bench``). Each transfer runs in a process of its
own so that its peak resident memory (``ru_maxrss``) is the transfer's alone; the server's peak comes
from ``/proc/PID/status`` (``VmHWM``). Each transfer is made three times and the median kept (the peak
memory is the highest of the three). Every size is measured on each database, beside two baselines on
the same files: a plain copy (``shutil.copyfile``) and read + SHA-256 + write + fsync in one process,
the least work a verified store can do. Results go to ``benchmarks/results/artifacts.{json,md}``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import sqlalchemy as sa

MIB = 1024 * 1024
POSTGRES_URL = os.environ.get("GEMINI_BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
RESULTS = Path(__file__).parent / "results"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def make_file(path: Path, size: int) -> None:
    block = os.urandom(16 * MIB)
    with open(path, "wb") as stream:
        written = 0
        while written < size:
            # A counter in each block: no two blocks are equal, as in real weights.
            part = (written.to_bytes(8, "little") + block[8:])[: size - written]
            stream.write(part)
            written += len(part)


# -- what the child processes run -----------------------------------------------------------------------

CHILD = r"""
import hashlib, json, os, shutil, sys, time
import httpx
op, args = sys.argv[1], json.loads(sys.argv[2])
MIB = 1024 * 1024
def rss_kib():
    # VmHWM, not ru_maxrss: the latter keeps the parent's peak across fork and exec.
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
if op.startswith("api"):
    from gemini.api.model_run import ModelRun
    run = ModelRun.get_by_id(args["run_id"])
before = rss_kib()
import resource
_usage = resource.getrusage(resource.RUSAGE_SELF)
cpu_before = _usage.ru_utime + _usage.ru_stime
start = time.perf_counter()
if op == "api_upload":
    result = run.log_artifact(args["path"], name=args["name"])
    assert result is not None
elif op == "api_download":
    assert run.download_artifact(args["name"], args["dest"]) is not None
elif op == "rest_upload":
    def chunks():
        with open(args["path"], "rb") as stream:
            while chunk := stream.read(MIB):
                yield chunk
    size = os.path.getsize(args["path"])
    response = httpx.put(args["url"], content=chunks(), headers={"Content-Length": str(size)}, timeout=600)
    assert response.status_code in (200, 201), response.text
elif op == "rest_download":
    digest = hashlib.sha256()
    temporary = args["dest"] + ".part"
    with httpx.stream("GET", args["url"], timeout=600) as response, open(temporary, "wb") as out:
        assert response.status_code == 200
        for chunk in response.iter_raw():  # no Content-Encoding: the bytes as they arrive
            digest.update(chunk)
            out.write(chunk)
    assert f'"{digest.hexdigest()}"' == response.headers["etag"]
    os.replace(temporary, args["dest"])
elif op == "copy":
    shutil.copyfile(args["path"], args["dest"])
elif op == "hash_copy":
    digest = hashlib.sha256()
    with open(args["path"], "rb") as source, open(args["dest"], "wb") as out:
        while chunk := source.read(MIB):
            digest.update(chunk)
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
seconds = time.perf_counter() - start
import resource
usage = resource.getrusage(resource.RUSAGE_SELF)
cpu = usage.ru_utime + usage.ru_stime - cpu_before
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "rss_before_kib": before, "rss_peak_kib": rss_kib()}))
"""


REPEATS = 3


def median_of(op: str, env: dict[str, str], after=None, server_pid: int | None = None, **args: str) -> dict:  # noqa: ANN001
    """The run with the median time of ``REPEATS`` (``after`` undoes what one run left, e.g. a file)."""
    outcomes = []
    for _ in range(REPEATS):
        if "path" in args:
            drop_caches_of(Path(args["path"]))
        server_cpu = cpu_seconds_of(server_pid) if server_pid else 0.0
        outcome = child(op, env, **args)
        if server_pid:
            outcome["server_cpu_seconds"] = cpu_seconds_of(server_pid) - server_cpu
        outcomes.append(outcome)
        if after is not None:
            after()
    outcomes.sort(key=lambda outcome: outcome["seconds"])
    chosen = dict(outcomes[len(outcomes) // 2])
    chosen["rss_peak_kib"] = max(outcome["rss_peak_kib"] for outcome in outcomes)
    chosen["all_seconds"] = [round(outcome["seconds"], 3) for outcome in outcomes]
    return chosen


def child(op: str, env: dict[str, str], **args: str) -> dict:
    completed = subprocess.run(
        [sys.executable, "-c", CHILD, op, json.dumps(args)], env=env, capture_output=True, text=True, check=False
    )
    if completed.returncode != 0:
        raise RuntimeError(f"{op} failed:\n{completed.stderr}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def drop_caches_of(path: Path) -> None:
    """Evict a file from the page cache, so that every transfer starts from the same state."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        finally:
            os.close(fd)


# -- the server -------------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def cpu_seconds_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def vm_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


@contextlib.contextmanager
def served(env: dict[str, str], log_path: Path) -> Iterator[tuple[str, int]]:
    port = free_port()
    gemini = Path(sys.executable).with_name("gemini")
    with open(log_path, "wb") as out:
        process = subprocess.Popen(
            [str(gemini), "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"gemini serve did not start:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(timeout=60)


# -- one database -----------------------------------------------------------------------------------------


def measure(backend: str, database_url: str, scratch: Path, source: Path, size: int) -> list[dict]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GEMINI_")}
    env["GEMINI_DATABASE_URL"] = database_url
    env["GEMINI_ARTIFACT_ROOT"] = str(scratch / f"store-{backend}-{size}")
    env["GEMINI_MAX_ARTIFACT_BYTES"] = str(8 * 1024**3)
    run_id = subprocess.run(
        [sys.executable, "-c", "from gemini.registry import registry; print(registry().create_run(model_run_info={'bench': 'artifacts'})[0].id)"],
        env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()
    results = []

    def record(interface: str, direction: str, outcome: dict, server: dict | None = None) -> None:
        item = {
            "backend": backend,
            "size_bytes": size,
            "interface": interface,
            "direction": direction,
            "seconds": round(outcome["seconds"], 3),
            "all_seconds": outcome["all_seconds"],
            "mb_per_s": round(size / outcome["seconds"] / 1e6, 1),
            "client_cpu_seconds": round(outcome["cpu_seconds"], 2),
            "client_rss_before_mib": round(outcome["rss_before_kib"] / 1024, 1),
            "client_rss_peak_mib": round(outcome["rss_peak_kib"] / 1024, 1),
        }
        if server:
            item.update(server)
            item["server_cpu_seconds"] = round(outcome["server_cpu_seconds"], 2)
        results.append(item)
        log(f"  {interface} {direction}: {item['mb_per_s']} MB/s, client peak RSS {item['client_rss_peak_mib']} MiB"
            + (f", server peak RSS {server['server_rss_peak_mib']} MiB" if server else ""))

    dest = scratch / "download.bin"
    store = scratch / f"store-{backend}-{size}"

    def forget_blobs() -> None:
        # The same bytes again would be stored once, skipping the write: each upload starts from an empty store.
        shutil.rmtree(store / "blobs", ignore_errors=True)

    record("python api", "upload", median_of("api_upload", env, after=forget_blobs, run_id=run_id, path=str(source), name="weights.bin"))
    child("api_upload", env, run_id=run_id, path=str(source), name="weights.bin")
    record("python api", "download", median_of("api_download", env, after=lambda: dest.unlink(), run_id=run_id, name="weights.bin", dest=str(dest)))
    with served(env, scratch / f"serve-{backend}-{size}.log") as (url, pid):
        base = f"{url}/api/model_runs/{run_id}/artifacts/weights.bin"

        def server(start: int) -> dict:
            return {"server_rss_start_mib": round(start / 1024, 1), "server_rss_peak_mib": round(vm_kib(pid, "VmHWM") / 1024, 1)}

        server_start = vm_kib(pid, "VmRSS")
        record("rest", "upload", median_of("rest_upload", env, after=forget_blobs, server_pid=pid, url=base, path=str(source)), server(server_start))
        child("rest_upload", env, url=base, path=str(source))
        record("rest", "download", median_of("rest_download", env, after=lambda: dest.unlink(), server_pid=pid, url=base, dest=str(dest)), server(server_start))
    shutil.rmtree(scratch / f"store-{backend}-{size}")
    return results


def baselines(scratch: Path, source: Path, size: int) -> list[dict]:
    results = []
    for op, label in (("copy", "plain copy (shutil.copyfile)"), ("hash_copy", "read + SHA-256 + write + fsync")):
        outcome = median_of(op, dict(os.environ), after=(scratch / "baseline.bin").unlink, path=str(source), dest=str(scratch / "baseline.bin"))
        results.append({"backend": "-", "size_bytes": size, "interface": "baseline", "direction": label,
                        "seconds": round(outcome["seconds"], 3), "all_seconds": outcome["all_seconds"],
                        "client_cpu_seconds": round(outcome["cpu_seconds"], 2), "mb_per_s": round(size / outcome["seconds"] / 1e6, 1),
                        "client_rss_before_mib": round(outcome["rss_before_kib"] / 1024, 1),
                        "client_rss_peak_mib": round(outcome["rss_peak_kib"] / 1024, 1)})
        log(f"  baseline {label}: {results[-1]['mb_per_s']} MB/s")
    return results


def new_postgres_database() -> tuple[str, str]:
    name = f"gemini_bench_artifacts_{uuid.uuid4().hex[:8]}"
    libpq = sa.engine.make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return name, sa.engine.make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)


def drop_postgres_database(name: str) -> None:
    libpq = sa.engine.make_url(POSTGRES_URL).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(libpq, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def write_report(results: list[dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "artifacts.json").write_text(json.dumps(results, indent=2) + "\n")
    lines = [
        "| database | size | interface | direction | MB/s (median of 3) | CPU s client / server | client peak RSS (MiB, at start) | server peak RSS (MiB, at start) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for item in results:
        server = (f"{item['server_rss_peak_mib']} ({item['server_rss_start_mib']})" if "server_rss_peak_mib" in item else "–")
        lines.append(
            f"| {item['backend']} | {item['size_bytes'] / MIB:,.0f} MiB | {item['interface']} | {item['direction']} | "
            f"{item['mb_per_s']} | {item['client_cpu_seconds']} / {item.get('server_cpu_seconds', '–')} | "
            f"{item['client_rss_peak_mib']} ({item['client_rss_before_mib']}) | {server} |"
        )
    (out / "artifacts.md").write_text("\n".join(lines) + "\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes-mib", default="100,1024", help="artifact sizes in MiB")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--out", default=str(RESULTS))
    args = parser.parse_args()
    results: list[dict] = []
    scratch = Path(tempfile.mkdtemp(prefix="gemini-artifact-bench-"))
    try:
        for size in (int(text) * MIB for text in args.sizes_mib.split(",") if text):
            source = scratch / "weights.bin"
            make_file(source, size)
            log(f"{size / MIB:,.0f} MiB")
            results += baselines(scratch, source, size)
            for backend in args.backends.split(","):
                if backend == "sqlite":
                    results += measure(backend, f"sqlite:///{scratch / f'gemini-{size}.db'}", scratch, source, size)
                else:
                    name, url = new_postgres_database()
                    try:
                        results += measure(backend, url, scratch, source, size)
                    finally:
                        drop_postgres_database(name)
            source.unlink()
            write_report(results, Path(args.out))  # what is measured so far, should the run be stopped
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load = os.getloadavg()
    for item in results:
        item["load_average_at_end"] = [round(value, 1) for value in load]
    write_report(results, Path(args.out))
    log(f"results in {args.out}/artifacts.md")


if __name__ == "__main__":
    main()
