"""Does sampling the machine slow training? ``python -m benchmarks.system_metrics_bench`` (about 6 minutes).

A fake training loop, CPU-bound, logs three metrics a step into a tracked run on a fresh SQLite registry,
with system metrics off, on at the default interval (15 s), on at a short one (``--fast-interval``,
0.1 s: 150 times the default rate), and on at an absurd one (``--amplified-interval``, 0.001 s) that
makes the cost of a sample large enough to stand out of a busy machine's noise. Each repetition runs the
variants one after the other, in an order rotated from one repetition to the next, so that all see the
same load from other processes. Reported per variant: the time per step (median over repetitions); the
overhead, as the median of its ratio to "off" within each repetition (paired: less sensitive to a busy
machine than the ratio of medians, also shown); the process's CPU time per step (all its threads, so
the sampler's own work is in it, and other processes do not stretch it as they stretch the wall clock);
the samples a run took; and the loop time one sample cost (the paired difference over the samples). The
last, measured at the amplified rate, gives the overhead implied at 0.1 s and at the default.

Two workloads: ``python`` (pure-Python arithmetic that holds the GIL for the whole step: the worst case
for a sampler thread, which needs the GIL to run) and ``numpy`` (products of 128 x 128 matrices, which
release it, as a framework's kernels do; one BLAS thread unless ``OPENBLAS_NUM_THREADS`` says
otherwise). Also measured apart: what one sample costs on its own (reading ``/proc`` and, when present,
NVML).

Options: ``--steps`` per run, ``--repetitions``, ``--step-ms`` (each workload is calibrated to about this
much CPU time a step), ``--workloads``, ``--json PATH`` to keep the figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path

# One BLAS thread: a pool of spinning BLAS threads on a shared machine varies far more than any sampler.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")
DIRECTORY = Path(tempfile.mkdtemp(prefix="gemini-system-metrics-bench-"))
os.environ["GEMINI_DATABASE_URL"] = f"sqlite:///{DIRECTORY / 'gemini.db'}"
os.environ["GEMINI_ARTIFACT_ROOT"] = str(DIRECTORY / "artifacts")
os.environ.pop("GEMINI_API_URL", None)

from gemini.api.model_run import ModelRun  # noqa: E402 - after the registry is chosen
from gemini.tracking import lifecycle  # noqa: E402
from gemini.tracking import system_metrics as sm  # noqa: E402

DEFAULT_INTERVAL = 15.0


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- workloads: one call is one training step -----------------------------------------------------------


def python_step(size: int) -> float:
    total = 0.0
    for index in range(size):
        total += (index % 7) * 0.5 - (index % 3)
    return total


_matrices: list = []


def numpy_step(size: int) -> float:
    """``size`` products of two 128 x 128 matrices."""
    if not _matrices:
        import numpy

        _matrices.append(numpy.full((128, 128), 0.5))
    matrix = _matrices[0]
    total = 0.0
    for _ in range(size):
        total += float((matrix @ matrix)[0, 0])
    return total


WORKLOADS = {"python": (python_step, 2_000), "numpy": (numpy_step, 1)}


def calibrate(workload: str, step_ms: float) -> int:
    """The size that makes one step of ``workload`` take about ``step_ms`` of CPU time (not of the
    wall clock, which other processes stretch)."""
    step, size = WORKLOADS[workload]
    step(size)  # the first call imports
    while True:
        start = time.thread_time()
        for _ in range(20):
            step(size)
        took_ms = (time.thread_time() - start) * 1000 / 20
        if took_ms >= step_ms / 4 or size > 10_000_000:
            break
        size *= 2
    return max(1, round(size * step_ms / took_ms))


# -- one run -------------------------------------------------------------------------------------------


def train(workload: str, size: int, steps: int, interval: float | None) -> dict:
    """One tracked run of ``steps`` steps; ``interval`` ``None``: system metrics off. The loop alone is
    timed; the start and the end (thread start, last write, join) apart."""
    step_function = WORKLOADS[workload][0]
    if interval is not None:
        os.environ["GEMINI_SYSTEM_METRICS_INTERVAL"] = str(interval)
    gc.collect()
    opened = time.perf_counter()
    with ModelRun.track(model_run_info={"bench": workload}, system_metrics=interval is not None) as run:
        sampler = lifecycle.system_metrics_of(run)
        began, process, thread = time.perf_counter(), time.process_time(), time.thread_time()
        for index in range(steps):
            value = step_function(size)
            run.log_metrics({"loss": value, "accuracy": 1.0 / (index + 1), "lr": 0.01}, step=index)
        loop = time.perf_counter() - began
        training_cpu = time.thread_time() - thread
        other_cpu = time.process_time() - process - training_cpu
        ending = time.perf_counter()
    ended = time.perf_counter()
    return {
        "per_step_ms": loop * 1000 / steps,
        "training_cpu_per_step_ms": training_cpu * 1000 / steps,
        "other_cpu_s": other_cpu,
        "samples": 0 if sampler is None else sampler.samples,
        "loop_s": loop,
        "start_ms": (began - opened) * 1000,
        "end_ms": (ended - ending) * 1000,
    }


def sample_cost(count: int = 2_000) -> dict:
    """Microseconds one sample takes on this machine (every source read once), and the keys it gives."""
    sources = sm.open_sources()
    try:
        time.sleep(0.1)  # CPU use is a difference: let some ticks go by before the first reading
        keys = [key for source in sources for key, _ in source.read()]
        start = time.thread_time()
        for _ in range(count):
            for source in sources:
                source.read()
        took = (time.thread_time() - start) / count
    finally:
        for source in sources:
            source.close()
    return {"sample_us": took * 1e6, "keys": keys}


# -- the report ----------------------------------------------------------------------------------------


def variants(amplified: float, fast: float) -> list[tuple[str, float | None]]:
    return [
        ("off", None),
        (f"every {DEFAULT_INTERVAL:g} s (default)", DEFAULT_INTERVAL),
        (f"every {fast:g} s", fast),
        (f"every {amplified:g} s (to measure a sample)", amplified),
    ]


def paired_percent(runs: list[dict], base: list[dict], field: str) -> list[float]:
    return [(run[field] / other[field] - 1) * 100 for run, other in zip(runs, base)]


def measure(workload: str, size: int, steps: int, repetitions: int, amplified: float, fast: float) -> dict:
    chosen = variants(amplified, fast)
    runs: dict[str, list[dict]] = {name: [] for name, _ in chosen}
    train(workload, size, min(steps, 200), fast)  # warm: imports, the registry's first writes
    for repetition in range(repetitions):
        shift = repetition % len(chosen)
        for name, interval in chosen[shift:] + chosen[:shift]:
            runs[name].append(train(workload, size, steps, interval))
        log(
            f"{workload} {repetition + 1}/{repetitions}: "
            + ", ".join(f"{name} {runs[name][-1]['per_step_ms']:.3f} ms" for name, _ in chosen)
        )
    off = runs["off"]
    off_median = statistics.median(run["per_step_ms"] for run in off)
    summary = {}
    for name, interval in chosen:
        mine = runs[name]
        per_step = [run["per_step_ms"] for run in mine]
        wall = paired_percent(mine, off, "per_step_ms")
        # The CPU the sampler took, one sample: the other threads' CPU time (the metric writer's too, in
        # both runs of a pair) beyond the run without sampling, over the samples taken.
        per_sample = [
            (run["other_cpu_s"] - other["other_cpu_s"]) / run["samples"] * 1e6
            for run, other in zip(mine, off)
            if run["samples"]
        ]
        summary[name] = {
            "interval_s": interval,
            "samples": statistics.median(run["samples"] for run in mine),
            "loop_s": statistics.median(run["loop_s"] for run in mine),
            "per_step_ms": statistics.median(per_step),
            "per_step_ms_range": [min(per_step), max(per_step)],
            "overhead_percent_paired": statistics.median(wall),
            "overhead_percent_paired_range": [min(wall), max(wall)],
            "overhead_percent_of_medians": (statistics.median(per_step) / off_median - 1) * 100,
            "training_cpu_per_step_ms": statistics.median(run["training_cpu_per_step_ms"] for run in mine),
            "training_cpu_percent_paired": statistics.median(paired_percent(mine, off, "training_cpu_per_step_ms")),
            "sampler_cpu_us_per_sample": statistics.median(per_sample) if per_sample else None,
            "start_ms": statistics.median(run["start_ms"] for run in mine),
            "end_ms": statistics.median(run["end_ms"] for run in mine),
        }
    return summary


def implied(summary: dict, interval: float) -> str:
    """The share of a GIL-bound training's time that sampling every ``interval`` takes, from the CPU one
    sample took at the amplified rate (the worst case: all of it comes out of the training thread)."""
    amplified = [row for row in summary.values() if row["interval_s"] is not None][-1]
    return f"{amplified['sampler_cpu_us_per_sample'] / (interval * 1e6) * 100:.4f} % at one sample every {interval:g} s"


def markdown(results: dict, cost: dict, arguments: argparse.Namespace) -> str:
    lines = [
        f"{arguments.steps} steps a run, {arguments.repetitions} repetitions, about {arguments.step_ms:g} ms of CPU a "
        f"step; reading the machine once takes {cost['sample_us']:.0f} µs of CPU here "
        f"({', '.join(cost['keys']) or 'nothing to read'})",
        "",
        "| workload | system metrics | samples a run | time per step, median (range) | overhead, paired median "
        "(range) | overhead, ratio of medians | training thread's CPU per step (paired) | sampler's CPU a sample "
        "| start / end of the run |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for workload, summary in results.items():
        for name, row in summary.items():
            low, high = row["per_step_ms_range"]
            on = row["interval_s"] is not None
            overhead = (
                f"{row['overhead_percent_paired']:+.1f} % ({row['overhead_percent_paired_range'][0]:+.1f} to "
                f"{row['overhead_percent_paired_range'][1]:+.1f})"
                if on
                else "–"
            )
            of_medians = f"{row['overhead_percent_of_medians']:+.1f} %" if on else "–"
            training = f"{row['training_cpu_per_step_ms']:.3f} ms"
            if on:
                training += f" ({row['training_cpu_percent_paired']:+.1f} %)"
            sampler = "–" if row["sampler_cpu_us_per_sample"] is None else f"{row['sampler_cpu_us_per_sample']:.0f} µs"
            lines.append(
                f"| {workload} | {name} | {row['samples']:g} in {row['loop_s']:.1f} s | {row['per_step_ms']:.3f} ms "
                f"({low:.3f}–{high:.3f}) | {overhead} | {of_medians} | {training} | {sampler} | "
                f"{row['start_ms']:.1f} / {row['end_ms']:.1f} ms |"
            )
    lines.append("")
    for workload, summary in results.items():
        shares = ", ".join(implied(summary, interval) for interval in (arguments.fast_interval, DEFAULT_INTERVAL))
        lines.append(f"- {workload}: sampling takes at most {shares}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=1_500)
    parser.add_argument("--repetitions", type=int, default=9)
    parser.add_argument("--step-ms", type=float, default=2.0)
    parser.add_argument("--fast-interval", type=float, default=0.1)
    parser.add_argument("--amplified-interval", type=float, default=0.001)
    parser.add_argument("--workloads", default="python,numpy")
    parser.add_argument("--json", type=Path, default=None)
    arguments = parser.parse_args()
    try:
        run_all(arguments)
    finally:
        shutil.rmtree(DIRECTORY, ignore_errors=True)


def run_all(arguments: argparse.Namespace) -> None:
    cost = sample_cost()
    log(f"one sample: {cost['sample_us']:.1f} µs, keys {cost['keys']}")
    results = {}
    for workload in arguments.workloads.split(","):
        size = calibrate(workload, arguments.step_ms)
        log(f"{workload}: size {size} for about {arguments.step_ms} ms a step")
        results[workload] = measure(
            workload,
            size,
            arguments.steps,
            arguments.repetitions,
            arguments.amplified_interval,
            arguments.fast_interval,
        )
    report = markdown(results, cost, arguments)
    print()
    load = os.getloadavg()[0]
    print(f"Python {platform.python_version()}, {os.cpu_count()} cores, load average {load:.2f} at the end")
    print(report)
    if arguments.json is not None:
        figures = {"sample": cost, "results": results, "arguments": vars(arguments)}
        arguments.json.write_text(json.dumps(figures, default=str, indent=2))


if __name__ == "__main__":
    main()
