"""One run's metric points on the client: buffered in memory, written as batches by a thread of their own.

``MetricBuffer.add`` only appends to the buffer; the writer thread writes it as batches every
``FLUSH_POINTS`` points or ``FLUSH_SECONDS`` seconds (and the caller on ``flush``). Each batch carries an
id of its own, so that a batch written again after a failure (its answer lost) is stored once. A write
that fails keeps its batch, in order, for the next flush, with one warning on the ``gemini.api`` logger
until writing works again: training never stops because the registry is unreachable.

A batch the registry refuses for good (``REFUSED_FOR_GOOD``: invalid, its run gone) is never retried as
it is, and never holds back the batches after it: an invalid batch is halved until the points refused
are alone, and those are given up with one error each time, counted in ``refused`` with the first
reasons in ``refusals``, so that the run's end can say what is missing.

The writes go to ``write_batch(run_id, batch_id, points)``, by default the registry's ``log_batch``
(``gemini.registry.registry()``, looked up at each write so that it follows the settings). Heartbeats are
not sent from here (``gemini.tracking.heartbeat`` has its own thread), so a write stuck in retries never
delays them.

Locks:

- ``_lock`` guards ``_pending`` (points not yet in a batch), ``_batches`` (batches taken from pending,
  not yet written: retried as they are), ``_next_step``, ``_flush_seconds``, ``_refused`` and
  ``_refusals``. It is never held while writing.
- ``_write_lock`` makes one writer at a time (the thread or a caller's ``flush``), so batches are
  written in order and each once; it also guards ``_failing``.
- ``_wake`` and ``_stopping`` are events: thread-safe by themselves.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from gemini.domain.checks import Point, new_batch_id
from gemini.domain.errors import ConflictError, InvalidInputError, NotFoundError
from gemini.registry import registry

logger = logging.getLogger("gemini.api")

FLUSH_POINTS = 10_000
"""Points buffered before the writer thread writes them (also the most points of one batch)."""
FLUSH_SECONDS = 5.0
"""Longest time a logged point waits in the buffer."""

REFUSED_FOR_GOOD = (InvalidInputError, NotFoundError, ConflictError)
"""What a write of the same batch would get again, however long it waited."""
KEPT_REFUSALS = 5
"""Refusal reasons kept for the run's end; the count covers the rest."""

_UTC = dt.timezone.utc

WriteBatch = Callable[[Any, str, list[Point]], Any]


def _registry_write(run_id: Any, batch_id: str, points: list[Point]) -> Any:
    # registry() at each write: the registry of the settings now.
    return registry().log_batch(run_id=run_id, batch_id=batch_id, points=points)


class MetricBuffer:
    """The points of one run not yet written, and the thread that writes them.

    ``write_batch(run_id, batch_id, points)`` does the writing (the registry's ``log_batch`` by
    default), so the same buffer can send its batches elsewhere. The thread starts with the buffer;
    ``stop`` ends it, and the caller then writes what remains with ``flush``."""

    def __init__(
        self,
        run_id: Any,
        *,
        write_batch: WriteBatch | None = None,
        flush_points: int = FLUSH_POINTS,
        flush_seconds: float = FLUSH_SECONDS,
    ) -> None:
        self.run_id = run_id
        self._write_batch = write_batch or _registry_write
        self.flush_points = flush_points
        self._lock = threading.Lock()
        self._flush_seconds = flush_seconds
        self._pending: list[Point] = []
        self._batches: list[tuple[str, list[Point]]] = []
        self._next_step: dict[str, int] = {}
        self._refused = 0
        self._refusals: list[str] = []
        self._write_lock = threading.Lock()
        self._failing = False
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"gemini-metrics-{run_id}", daemon=True)
        self._thread.start()

    # -- the caller's side ---------------------------------------------------------------------------

    @property
    def flush_seconds(self) -> float:
        with self._lock:
            return self._flush_seconds

    @flush_seconds.setter
    def flush_seconds(self, seconds: float) -> None:
        with self._lock:
            self._flush_seconds = seconds
        self._wake.set()  # the writer waits with the new period from now on

    def add(self, values: list[tuple[str, float]], step: int | None) -> None:
        """Buffer checked ``(key, value)`` pairs at ``step`` (``None``: each key's next step)."""
        stamp = dt.datetime.now(_UTC)
        with self._lock:
            next_step = self._next_step
            pending = self._pending
            for key, value in values:
                point_step = next_step.get(key, 0) if step is None else step
                next_step[key] = point_step + 1
                pending.append((key, point_step, value, stamp))
            full = len(pending) >= self.flush_points
        if full:
            self._wake.set()

    def unwritten(self) -> int:
        with self._lock:
            return len(self._pending) + sum(len(points) for _, points in self._batches)

    @property
    def refused(self) -> int:
        """Points the registry refused for good, given up."""
        with self._lock:
            return self._refused

    @property
    def refusals(self) -> list[str]:
        """The first reasons the registry gave for refusing points (at most ``KEPT_REFUSALS``)."""
        with self._lock:
            return list(self._refusals)

    def flush(self) -> bool:
        """Write every point added so far; ``False`` (points kept, a warning logged) when a write failed."""
        return self._write_all()

    def stop(self) -> None:
        """Stop the writer thread, waiting for a write in progress (the caller writes what remains)."""
        self._stopping.set()
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    # -- the writer ----------------------------------------------------------------------------------

    def _take_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            for start in range(0, len(pending), self.flush_points):
                self._batches.append((new_batch_id(), pending[start : start + self.flush_points]))

    def _write_all(self) -> bool:
        with self._write_lock:
            self._take_pending()
            while True:
                with self._lock:
                    if not self._batches:
                        break
                    batch_id, points = self._batches[0]
                try:
                    self._write_batch(self.run_id, batch_id, points)
                except REFUSED_FOR_GOOD as exc:
                    self._set_aside(points, exc)
                    continue
                except Exception as exc:  # noqa: BLE001 - whatever the cause, training goes on
                    if not self._failing:
                        logger.warning(
                            "writing metrics of run %s failed, %d points kept to try again: %s",
                            self.run_id,
                            self.unwritten(),
                            exc,
                        )
                    self._failing = True
                    return False
                with self._lock:
                    self._batches.pop(0)
                if self._failing:
                    logger.warning("writing metrics of run %s works again", self.run_id)
                    self._failing = False
            return True

    def _set_aside(self, points: list[Point], refusal: Exception) -> None:
        """Replace the first batch, refused for good: by its halves when it is invalid and holds more than
        one point (the points the registry accepts are then written), else by nothing."""
        with self._lock:
            self._batches.pop(0)
            if isinstance(refusal, InvalidInputError) and len(points) > 1:
                middle = len(points) // 2
                self._batches[0:0] = [(new_batch_id(), points[:middle]), (new_batch_id(), points[middle:])]
                return
            self._refused += len(points)
            if len(self._refusals) < KEPT_REFUSALS:
                key, step = points[0][0], points[0][1]
                where = f"{key!r} at step {step}"
                if len(points) > 1:
                    where = f"{len(points)} points from {where}"
                self._refusals.append(f"{where}: {refusal}")
        logger.error(
            "the registry refused %d metric point%s of run %s for good, not stored: %s",
            len(points),
            "" if len(points) == 1 else "s",
            self.run_id,
            refusal,
        )

    def _run(self) -> None:
        last_write = time.monotonic()
        while True:
            self._wake.wait(max(0.0, last_write + self.flush_seconds - time.monotonic()))
            self._wake.clear()
            if self._stopping.is_set():
                return
            if self.unwritten() >= self.flush_points or time.monotonic() - last_write >= self.flush_seconds:
                if self.unwritten():
                    self._write_all()  # a failure is logged there and retried at the next period
                last_write = time.monotonic()
