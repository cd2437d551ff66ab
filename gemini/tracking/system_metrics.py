"""System metrics of a run this process started: the machine it trains on, sampled on a thread of its own.

Every ``GEMINI_SYSTEM_METRICS_INTERVAL`` seconds (15 by default) the sampler reads the machine and hands
the values to ``log(values, step)``, the run's ``MetricBuffer.add``: they are metric points like the
user's own, written in the same batches, spooled the same way when the server is away. The keys:

- ``system/cpu_percent``: the time all the machine's cores were busy since the previous sample, in
  percent of the time they had (idle and I/O wait count as not busy);
- ``system/memory_percent``: the machine's memory in use, ``(total - available) / total``;
- per visible GPU ``i``: ``system/gpu{i}/utilization_percent`` (the share of the interval NVML saw a
  kernel running), ``system/gpu{i}/memory_percent`` (its memory in use) and
  ``system/gpu{i}/power_watts``.

The step of a sample is its number, 0, 1, 2, ... Tracking has no run-wide step (each key's step is the
caller's), so the sampler counts its own; each point's timestamp places it beside the training's.
The first sample comes one interval after the start (CPU use is a difference between two readings),
and a run that ends sooner has none.

Sources: on Linux ``/proc/stat`` and ``/proc/meminfo`` (no dependency, and what psutil reads there);
elsewhere ``psutil`` when it can be imported; GPUs through NVIDIA's management library (``pynvml``, from
the ``nvidia-ml-py`` package) when it can be imported and a driver answers. Whatever is missing is left
out without a word, and a reading that fails is skipped for that sample. "Visible" GPUs are those
``CUDA_VISIBLE_DEVICES`` lists (by NVML index or ``GPU-`` UUID, up to the first entry it cannot
resolve, as CUDA does), numbered from 0 in that order as the training sees them; all of them when it is
unset. Inside a container, ``/proc`` and psutil describe the whole host.

The sources are opened on the sampler's thread (importing pynvml and starting NVML take time the
training should not wait for) and closed there when the sampler stops.

Locks: ``_condition`` (with its lock) guards ``_stopped`` and wakes the thread on ``stop``. It is held
while a sample is handed to ``log`` (a few appends to the buffer), so that no sample lands after ``stop``
returns, when the run's last write may be under way; never while the machine is read.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, Protocol

from gemini.config import get_settings
from gemini.tracking.timer_thread import TimerThread

logger = logging.getLogger("gemini.api")

CPU_PERCENT = "system/cpu_percent"
MEMORY_PERCENT = "system/memory_percent"
STOP_WAIT_SECONDS = 2.0
"""How long ``stop`` waits for a sample being taken."""

Log = Callable[[list[tuple[str, float]], int], Any]


def gpu_key(index: int, measure: str) -> str:
    """``system/gpu{index}/{measure}``: ``utilization_percent``, ``memory_percent`` or ``power_watts``."""
    return f"system/gpu{index}/{measure}"


class Source(Protocol):
    def read(self) -> list[tuple[str, float]]: ...

    def close(self) -> None: ...


# -- CPU and memory -----------------------------------------------------------------------------------


def proc_cpu_times(root: Path = Path("/proc")) -> tuple[float, float]:
    """``(busy, total)`` clock ticks of all cores since boot, from ``/proc/stat``. Guest time is already
    counted in user time, so it is left out of the total; idle and I/O wait are not busy."""
    with open(root / "stat", "rb") as stat:
        fields = stat.readline().split()
    if fields[:1] != [b"cpu"]:
        raise OSError(f"unexpected first line in {root / 'stat'}")
    ticks = [int(field) for field in fields[1:9]]  # user nice system idle iowait irq softirq steal
    total = float(sum(ticks))
    idle = float(ticks[3] + (ticks[4] if len(ticks) > 4 else 0))
    return total - idle, total


def proc_memory_percent(root: Path = Path("/proc")) -> float:
    """Memory in use, in percent, from ``MemTotal`` and ``MemAvailable`` of ``/proc/meminfo``."""
    found: dict[bytes, int] = {}
    with open(root / "meminfo", "rb") as meminfo:
        for line in meminfo:
            name, _, rest = line.partition(b":")
            if name in (b"MemTotal", b"MemAvailable"):
                found[name] = int(rest.split()[0])
                if len(found) == 2:
                    break
    total, available = found[b"MemTotal"], found[b"MemAvailable"]
    return 100.0 * (total - available) / total


def psutil_cpu_times(psutil: Any) -> tuple[float, float]:
    """``(busy, total)`` seconds of all cores from ``psutil.cpu_times()``, counted as on Linux. The
    sampler keeps its own previous reading: ``psutil.cpu_percent`` keeps one for the whole process,
    which any other caller (a framework's own monitor) would move."""
    times = psutil.cpu_times()
    total = sum(times) - getattr(times, "guest", 0.0) - getattr(times, "guest_nice", 0.0)
    idle = times.idle + getattr(times, "iowait", 0.0)
    return total - idle, total


class MachineSource:
    """``system/cpu_percent`` and ``system/memory_percent`` from two functions: ``cpu_times()`` →
    ``(busy, total)`` since some origin, and ``memory_percent()``."""

    def __init__(self, cpu_times: Callable[[], tuple[float, float]], memory_percent: Callable[[], float]) -> None:
        self._cpu_times = cpu_times
        self._memory_percent = memory_percent
        self._previous = cpu_times()  # raises when the machine cannot be read: no source then

    def read(self) -> list[tuple[str, float]]:
        values = []
        try:
            busy, total = self._cpu_times()
        except Exception:  # noqa: BLE001 - a reading that fails is skipped for this sample
            pass
        else:
            previous_busy, previous_total = self._previous
            self._previous = busy, total
            if total > previous_total:
                share = (busy - previous_busy) / (total - previous_total)
                values.append((CPU_PERCENT, min(100.0, max(0.0, 100.0 * share))))
        try:
            values.append((MEMORY_PERCENT, float(self._memory_percent())))
        except Exception:  # noqa: BLE001 - as above
            pass
        return values

    def close(self) -> None:
        pass


def open_machine_source(proc: Path = Path("/proc")) -> MachineSource | None:
    """``/proc`` when it can be read (Linux), else psutil when it can be imported, else ``None``."""
    try:
        proc_memory_percent(proc)
        return MachineSource(lambda: proc_cpu_times(proc), lambda: proc_memory_percent(proc))
    except (OSError, ValueError, KeyError, IndexError, ZeroDivisionError):
        pass
    try:
        import psutil
    except ImportError:
        return None
    try:
        return MachineSource(lambda: psutil_cpu_times(psutil), lambda: psutil.virtual_memory().percent)
    except Exception:  # noqa: BLE001 - psutil that cannot read this machine: nothing to sample
        return None


# -- GPUs ---------------------------------------------------------------------------------------------


def visible_gpus(nvml: Any, visible: str | None) -> list[Any]:
    """NVML handles of the GPUs the training sees, in its order: those ``CUDA_VISIBLE_DEVICES``
    (``visible``) lists, or every GPU when it is unset. An entry NVML cannot resolve ends the list, as
    CUDA ignores the entries after one it cannot use; an empty value means no GPU."""
    if visible is None:
        return [nvml.nvmlDeviceGetHandleByIndex(index) for index in range(nvml.nvmlDeviceGetCount())]
    handles = []
    for entry in (part.strip() for part in visible.split(",")):
        try:
            if entry.isdigit():
                handles.append(nvml.nvmlDeviceGetHandleByIndex(int(entry)))
            elif entry.startswith("GPU-"):
                handles.append(nvml.nvmlDeviceGetHandleByUUID(entry))
            else:
                break
        except Exception:  # noqa: BLE001 - NVML's own error for a device it does not have
            break
    return handles


class GpuSource:
    """Utilization, memory and power of each visible GPU, through an initialized NVML module."""

    def __init__(self, nvml: Any, handles: list[Any]) -> None:
        self._nvml = nvml
        self._handles = handles

    def read(self) -> list[tuple[str, float]]:
        nvml = self._nvml
        values = []
        for index, handle in enumerate(self._handles):
            # Each reading alone: a GPU may not report power, or one may fall off the bus.
            try:
                utilization = nvml.nvmlDeviceGetUtilizationRates(handle).gpu
                values.append((gpu_key(index, "utilization_percent"), float(utilization)))
            except Exception:  # noqa: BLE001 - skipped for this sample
                pass
            try:
                memory = nvml.nvmlDeviceGetMemoryInfo(handle)
                values.append((gpu_key(index, "memory_percent"), 100.0 * memory.used / memory.total))
            except Exception:  # noqa: BLE001
                pass
            try:
                values.append((gpu_key(index, "power_watts"), nvml.nvmlDeviceGetPowerUsage(handle) / 1000.0))
            except Exception:  # noqa: BLE001
                pass
        return values

    def close(self) -> None:
        try:
            self._nvml.nvmlShutdown()
        except Exception:  # noqa: BLE001 - nothing left to do with a library that will not shut down
            pass


def open_gpu_source() -> GpuSource | None:
    """The visible GPUs through ``pynvml``; ``None`` when it cannot be imported, no driver answers, or
    no GPU is visible."""
    try:
        import pynvml
    except ImportError:
        return None
    try:
        pynvml.nvmlInit()
    except Exception:  # noqa: BLE001 - no driver, no GPU: nothing to sample
        return None
    try:
        handles = visible_gpus(pynvml, os.environ.get("CUDA_VISIBLE_DEVICES"))
    except Exception:  # noqa: BLE001
        handles = []
    source = GpuSource(pynvml, handles)
    if not handles:
        source.close()
        return None
    return source


def open_sources() -> list[Source]:
    """Every source this machine has: CPU and memory, then the GPUs."""
    return [source for source in (open_machine_source(), open_gpu_source()) if source is not None]


# -- the sampler --------------------------------------------------------------------------------------


class SystemMetrics(TimerThread):
    """Reads the machine every ``seconds`` (``GEMINI_SYSTEM_METRICS_INTERVAL`` when not given) from a
    thread started here and hands each sample to ``log(values, step)``, until ``stop``.

    ``sources()`` opens what is read (``open_sources`` by default), on the thread; with none, the thread
    ends at once."""

    def __init__(
        self,
        log: Log,
        *,
        seconds: float | None = None,
        sources: Callable[[], Iterable[Source]] | None = None,
        name: str = "gemini-system-metrics",
    ) -> None:
        super().__init__()
        self._log = log
        self.seconds = get_settings().system_metrics_interval if seconds is None else seconds
        self._open_sources = sources or open_sources
        self.samples = 0
        """Samples handed to ``log`` so far (the next sample's step)."""
        self._start(name)

    def stop(self) -> None:
        """No more samples: none is logged after this returns. Waits up to ``STOP_WAIT_SECONDS`` for the
        thread to close its sources (a reading that hangs longer is dropped when it returns)."""
        self._stop_and_join(STOP_WAIT_SECONDS)

    def _run(self) -> None:
        try:
            sources = list(self._open_sources())
        except Exception:  # noqa: BLE001 - a machine that cannot be read is not sampled
            logger.debug("system metrics: the machine cannot be read", exc_info=True)
            return
        if not sources:
            return
        try:
            next_sample = time.monotonic() + self.seconds
            while self._wait_until(lambda: next_sample):
                self._sample(sources)  # outside the lock: stop() never waits for a reading to start
                # On the interval's grid; samples missed (a machine too busy to wake the thread) are
                # not caught up.
                next_sample += self.seconds
                now = time.monotonic()
                if next_sample <= now:
                    next_sample = now + self.seconds
        finally:
            for source in sources:
                source.close()

    def _sample(self, sources: list[Source]) -> None:
        values: list[tuple[str, float]] = []
        for source in sources:
            try:
                values.extend(source.read())
            except Exception:  # noqa: BLE001 - one source failing leaves the others
                continue
        if not values:
            return
        with self._condition:
            if self._stopped:  # stop() came while reading: the run's last write may be under way
                return
            self._log(values, self.samples)
        self.samples += 1

