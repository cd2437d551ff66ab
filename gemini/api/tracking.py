"""Tracking a run as it happens: ``ModelRun.track``/``start``, buffered metrics, heartbeat and end.

``log_metrics`` only appends to a buffer in memory; a background thread per run writes the buffer as
batches (every ``FLUSH_POINTS`` points or ``FLUSH_SECONDS`` seconds, on ``flush``, on ``end`` and at
interpreter exit), each batch one transaction with an id of its own, so that a batch written again
after a failure is stored once. A write that fails keeps its points and is tried again later, with a
warning on the ``gemini.api`` logger: training never stops because the registry is unreachable. The
same thread renews the run's heartbeat every ``HEARTBEAT_SECONDS`` (a written batch renews it too).
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Optional

from gemini.api.base import logger, seed_operation
from gemini.backend import tracking as core
from gemini.config import get_settings
from gemini.core import metric_values
from gemini.errors import ConflictError

FLUSH_POINTS = 10_000
"""Points buffered before the background thread writes them (also the most points of one batch)."""
FLUSH_SECONDS = 5.0
"""Longest time a logged point waits in the buffer."""
HEARTBEAT_SECONDS = 30.0
"""How often a tracked run tells it is alive (at most a third of ``GEMINI_HEARTBEAT_TIMEOUT``)."""
END_ATTEMPTS = 3
"""Tries of the last write when a run ends, before its remaining points are given up."""

_UTC = dt.timezone.utc


def _error_type(exc: BaseException) -> str:
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


class RunTerminated(BaseException):
    """Raised inside ``ModelRun.track`` when the process receives SIGTERM, so that the run ends ``killed``."""


class MetricBuffer:
    """The client side of one run's metrics: the points not yet written and the thread that writes them.

    ``write_batch(run_id, batch_id, points)`` and ``send_heartbeat(run_id)`` do the writing (the core's
    functions by default), so the same buffer can send its batches elsewhere.
    """

    def __init__(
        self,
        run_id: Any,
        *,
        heartbeat: bool,
        write_batch: Callable[..., Any] | None = None,
        send_heartbeat: Callable[..., Any] | None = None,
        flush_points: int = FLUSH_POINTS,
        flush_seconds: float = FLUSH_SECONDS,
        heartbeat_seconds: float | None = None,
    ) -> None:
        self.run_id = run_id
        self._write_batch = write_batch or (lambda run_id, batch_id, points: core.log_batch(run_id=run_id, batch_id=batch_id, points=points))
        self._send_heartbeat = send_heartbeat or (lambda run_id: core.heartbeat(run_id=run_id))
        self.flush_points = flush_points
        self.flush_seconds = flush_seconds
        if heartbeat_seconds is None:
            heartbeat_seconds = min(HEARTBEAT_SECONDS, get_settings().heartbeat_timeout / 3)
        self.heartbeat_seconds = heartbeat_seconds if heartbeat else None
        self._pending: list[tuple[str, int, float, dt.datetime]] = []
        self._batches: list[tuple[str, list]] = []  # taken from pending, not yet written: retried as they are
        self._next_step: dict[str, int] = {}
        self._lock = threading.Lock()  # guards pending, batches and next steps
        self._write_lock = threading.Lock()  # one writer at a time, batches in order
        self._wake = threading.Event()
        self._stopping = False
        self._failing = False
        self._last_beat = time.monotonic()
        self._thread = threading.Thread(target=self._run, name=f"gemini-metrics-{run_id}", daemon=True)
        self._thread.start()

    # -- the caller's side ---------------------------------------------------------------------------

    def add(self, values: list[tuple[str, float]], step: int | None) -> None:
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

    def flush(self) -> bool:
        """Write every point logged so far; ``False`` (points kept, a warning logged) when a write failed."""
        return self._write_all()

    def stop(self) -> None:
        """Stop the background thread (the caller writes what remains)."""
        self._stopping = True
        self._wake.set()
        if self._thread is not threading.current_thread():
            self._thread.join()

    # -- the writer ----------------------------------------------------------------------------------

    def _take_pending(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, []
            for start in range(0, len(pending), self.flush_points):
                self._batches.append((metric_values.new_batch_id(), pending[start : start + self.flush_points]))

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
                self._last_beat = time.monotonic()
                if self._failing:
                    logger.warning("writing metrics of run %s works again", self.run_id)
                    self._failing = False
            return True

    def _beat(self) -> None:
        try:
            self._send_heartbeat(self.run_id)
        except ConflictError as exc:  # the run was ended elsewhere: nothing left to keep alive
            logger.warning("heartbeat of run %s stopped: %s", self.run_id, exc)
            self.heartbeat_seconds = None
        except Exception as exc:  # noqa: BLE001 - a missed heartbeat is retried at the next one
            logger.warning("heartbeat of run %s failed: %s", self.run_id, exc)
        self._last_beat = time.monotonic()

    def _run(self) -> None:
        last_write = time.monotonic()
        while not self._stopping:
            timeout = self.flush_seconds
            if self.heartbeat_seconds is not None:
                timeout = min(timeout, max(0.0, self._last_beat + self.heartbeat_seconds - time.monotonic()))
            self._wake.wait(timeout)
            self._wake.clear()
            if self._stopping:
                break
            now = time.monotonic()
            if self.unwritten() >= self.flush_points or now - last_write >= self.flush_seconds:
                if self.unwritten():
                    self._write_all()
                last_write = time.monotonic()
            if self.heartbeat_seconds is not None and time.monotonic() - self._last_beat >= self.heartbeat_seconds:
                self._beat()


# The buffers of this process's runs, written (and the tracked runs ended) at interpreter exit.
_active: dict[Any, "TrackingMixin"] = {}
_active_lock = threading.Lock()
_exit_hook_installed = False


def _register(run: "TrackingMixin") -> None:
    global _exit_hook_installed
    with _active_lock:
        _active[run.id] = run
        if not _exit_hook_installed:
            atexit.register(_at_exit)
            _exit_hook_installed = True


def _unregister(run: "TrackingMixin") -> None:
    with _active_lock:
        _active.pop(run.id, None)


def _at_exit() -> None:
    """Write what is buffered; end the runs this process started: ``failed`` when an uncaught exception
    is ending the interpreter, ``finished`` otherwise."""
    with _active_lock:
        runs = list(_active.values())
    failure = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    for run in runs:
        if run._owns_run:
            if failure is not None:
                run._end(status="failed", error=failure)
            else:
                run._end(status="finished")
        else:
            run._finish_buffer()


def _seed_operation(name: str, fallback: Any) -> Callable:
    """``seed_operation`` with the log line naming ``ModelRun.<method>``, as the seed's own methods do."""

    def decorate(function: Callable) -> Callable:
        function.__qualname__ = f"ModelRun.{name}"
        return seed_operation(fallback=fallback)(function)

    return decorate


class TrackingMixin:
    """The tracking methods of ``ModelRun``: lifecycle, buffered metrics and their reads.

    The class using it declares the fields ``status``, ``started_at``, ``ended_at`` and the private
    attributes ``_buffer`` and ``_owns_run``."""

    # -- starting ------------------------------------------------------------------------------------

    @classmethod
    @_seed_operation("start", fallback=None)
    def start(cls, model_run_info: dict = None, model_name: str = None) -> Optional[Any]:
        """Start a new tracked run (status ``running``) of ``model_name`` (created when missing) or of no
        model; end it with ``end``. Always a new run, even when another run has the same info."""
        run = cls.from_record(core.start_run(model_run_info=model_run_info, model_name=model_name))
        run._attach_buffer(owned=True)
        return run

    @classmethod
    @contextlib.contextmanager
    def track(cls, model_run_info: dict = None, model_name: str = None) -> Iterator[Any]:
        """A new tracked run for the ``with`` block: ``finished`` after a normal exit, ``failed`` after an
        exception (its type and message kept with the run, the exception raised again), ``killed`` on
        KeyboardInterrupt or SIGTERM. Unlike ``start``, a run that cannot be started raises the error."""
        run = cls.from_record(core.start_run(model_run_info=model_run_info, model_name=model_name))
        run._attach_buffer(owned=True)
        with _terminate_raises() as terminated:
            try:
                yield run
            except (KeyboardInterrupt, RunTerminated) as exc:
                run._end(status="killed", error=exc)
                if isinstance(exc, RunTerminated):
                    terminated.append(exc)
                else:
                    raise
            except BaseException as exc:
                run._end(status="failed", error=exc)
                raise
            else:
                run._end(status="finished")

    # -- the buffer ----------------------------------------------------------------------------------

    def _attach_buffer(self, *, owned: bool) -> MetricBuffer:
        buffer = MetricBuffer(self.id, heartbeat=owned)
        self._buffer = buffer
        self._owns_run = owned
        _register(self)
        return buffer

    def _finish_buffer(self) -> bool:
        """Stop the background thread and write what remains (a few tries); ``False`` if points remain."""
        buffer = self._buffer
        if buffer is None:
            return True
        buffer.stop()
        for attempt in range(END_ATTEMPTS):
            if buffer.flush():
                break
            time.sleep(0.5 * (attempt + 1))
        left = buffer.unwritten()
        if left:
            logger.error("run %s: %d metric points could not be written and are lost", self.id, left)
        self._buffer = None
        _unregister(self)
        return left == 0

    def _end(self, *, status: str, error: BaseException | None = None) -> Optional[Any]:
        self._finish_buffer()
        error_type = error_message = None
        if isinstance(error, RunTerminated):
            error_type, error_message = "SIGTERM", "the process received SIGTERM"
        elif isinstance(error, KeyboardInterrupt):
            error_type, error_message = "KeyboardInterrupt", "interrupted"
        elif error is not None:
            error_type, error_message = _error_type(error), str(error)
        return self._end_record(status, error_type, error_message)

    @_seed_operation("end", fallback=None)
    def _end_record(self, status: str, error_type: str | None, error_message: str | None) -> Optional[Any]:
        record = core.end_run(run_id=self.id, status=status, error_type=error_type, error_message=error_message)
        return self._apply(record)

    # -- public instance methods ---------------------------------------------------------------------

    def end(self, status: str = "finished", error: Optional[BaseException] = None) -> Optional[Any]:
        """Write the buffered points and end the run with ``status`` (``finished``, ``failed``, ``killed``);
        returns the run, or ``None`` (one log line) when it cannot end (already ended, not tracked).

        ``error``, the exception that stopped the training, is kept with the run as ``track`` keeps it:
        its type in ``error_type``, its message in ``error_message``."""
        if error is not None and not isinstance(error, BaseException):
            raise TypeError(f"error must be an exception, got {type(error).__name__}")
        return self._end(status=status, error=error)

    def flush(self) -> bool:
        """Write the points buffered now; ``False`` (points kept for a later try, a warning logged) when
        the write failed."""
        buffer = self._buffer
        return True if buffer is None else buffer.flush()

    def log_metrics(self, metrics: Mapping[str, Any], step: int | None = None) -> None:
        """Buffer one value per key at ``step``; returns at once. ``step=None``: for each key, one more
        than the step this run object last logged for it (0 the first time).

        A key that is not a non-empty string, or a value that is not a real number, raises ``TypeError``
        or ``ValueError`` here; NaN and ±inf are kept as they are."""
        # The checks are the same in both modes: called directly, not through gemini.backend, whose
        # settings read per value cost more than the logging itself.
        if not isinstance(metrics, Mapping):
            raise TypeError(f"metrics must be a dict of key to value, got {type(metrics).__name__}")
        if step is not None:
            step = metric_values.check_step(step)
        values = []
        for key, value in metrics.items():
            if type(key) is not str or not key or len(key) > metric_values.MAX_KEY_LENGTH or "\x00" in key:
                metric_values.check_metric_key(key)
            if type(value) is not float:
                value = metric_values.check_metric_value(key, value)
            values.append((key, value))
        buffer = self._buffer
        if buffer is None:
            buffer = self._attach_buffer(owned=False)
        buffer.add(values, step)

    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        """``log_metrics({key: value}, step)``."""
        self.log_metrics({key: value}, step=step)

    @_seed_operation("get_metric_history", fallback=None)
    def get_metric_history(self, key: str) -> Optional[list[dict]]:
        """Every point of ``key`` (buffered ones written first), by step:
        ``[{"step": 0, "value": 0.41, "timestamp": datetime}, ...]``."""
        self.flush()
        points = core.metric_history(run_id=self.id, key=key)
        return [{"step": point.step, "value": point.value, "timestamp": point.timestamp} for point in points]

    @_seed_operation("get_metrics", fallback=None)
    def get_metrics(self) -> Optional[dict[str, dict]]:
        """Each key's summary (buffered points written first):
        ``{"map50": {"last": .., "min": .., "max": .., "step": .., "count": ..}, ...}``."""
        self.flush()
        return {
            key: {"last": summary.last, "min": summary.min, "max": summary.max, "step": summary.step, "count": summary.count}
            for key, summary in core.metric_summaries(run_id=self.id).items()
        }


@contextlib.contextmanager
def _terminate_raises() -> Iterator[list]:
    """While the block runs, SIGTERM raises ``RunTerminated`` in the main thread. If the block reports
    one (appends it to the list), the signal's previous handling follows once the run has ended: the
    previous handler is called, or the process exits with status 143 (128 + SIGTERM)."""
    terminated: list = []
    installed = False
    previous: Any = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.getsignal(signal.SIGTERM)
        if previous is not signal.SIG_IGN:

            def raise_terminated(signum: int, frame: Any) -> None:
                raise RunTerminated()

            signal.signal(signal.SIGTERM, raise_terminated)
            installed = True
    try:
        yield terminated
    finally:
        if installed:
            signal.signal(signal.SIGTERM, previous)
    if terminated:
        if callable(previous) and previous is not signal.SIG_DFL:
            previous(signal.SIGTERM, None)
        else:
            raise SystemExit(128 + signal.SIGTERM)
