"""Timing helpers and the result record every benchmark appends to."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Result:
    backend: str  # "sqlite" or "postgresql"
    size: int  # runs in the registry when measured
    system: str  # "gemini", "raw driver", "mlflow"
    operation: str
    median_ms: float
    p95_ms: float
    samples: int
    rate_per_s: float | None = None  # for bulk loads: rows per second
    note: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure(function: Callable[[int], Any], samples: int) -> list[float]:
    """Milliseconds taken by ``function(i)`` for i in range(samples)."""
    durations = []
    for index in range(samples):
        start = time.perf_counter()
        function(index)
        durations.append((time.perf_counter() - start) * 1000)
    return durations


def summarise(durations: list[float]) -> tuple[float, float]:
    ordered = sorted(durations)
    p95 = ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
    return statistics.median(ordered), p95


def result(backend: str, size: int, system: str, operation: str, durations: list[float], **kwargs: Any) -> Result:
    median, p95 = summarise(durations)
    return Result(backend, size, system, operation, round(median, 4), round(p95, 4), len(durations), **kwargs)
