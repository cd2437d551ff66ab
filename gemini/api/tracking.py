"""Tracking a run as it happens: the ``ModelRun`` methods ``track``, ``start``, ``end``, ``log_metrics``...

This is the facade; the machinery is ``gemini.tracking``: ``log_metrics`` only appends to the run's
``MetricBuffer`` (``gemini.tracking.buffer``), whose thread writes batches (every ``FLUSH_POINTS``
points or ``FLUSH_SECONDS`` seconds, on ``flush``, on ``end`` and at interpreter exit); a run this
process started has a ``Heartbeat`` (``gemini.tracking.heartbeat``) on a thread of its own every
``HEARTBEAT_SECONDS``, and a ``SystemMetrics`` sampler (``gemini.tracking.system_metrics``) that logs
the machine's CPU, memory and GPUs into the same buffer every ``GEMINI_SYSTEM_METRICS_INTERVAL`` seconds
unless ``system_metrics=False``; ``gemini.tracking.lifecycle`` ends the runs at interpreter exit and on
SIGTERM. A write that fails keeps its points and is tried again later, with a warning on the
``gemini.api`` logger: training never stops because the registry is unreachable, not even at the start
(the run is then handed out not yet recorded, and recorded once the registry answers:
``gemini.tracking.starting``). ``gemini.tracking``'s docstring says which layer retries what.

Like the seed's methods, an operation the registry refuses returns ``None`` (``flush``: ``False``) with
one log line (``seed_operation``). Only ``track`` raises it, since a ``with`` block has no run to hand out
instead; and ``log_metrics``/``end`` raise ``TypeError``/``ValueError`` for arguments of the wrong kind,
as Python's own checks do.

The constants and ``MetricBuffer``/``RunTerminated`` are re-exported from ``gemini.tracking`` (patch
them there: the threads read them from their own modules).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Optional

from gemini.api.base import seed_operation
from gemini.domain.checks import check_metric_key, check_metric_value, check_step, parse_id
from gemini.domain.errors import DatabaseUnavailableError
from gemini.domain.records import ModelRunRecord
from gemini.registry import registry
from gemini.tracking import lifecycle, starting
from gemini.tracking.buffer import FLUSH_POINTS, FLUSH_SECONDS, MetricBuffer
from gemini.tracking.heartbeat import HEARTBEAT_SECONDS, Heartbeat, default_seconds
from gemini.tracking.lifecycle import END_ATTEMPTS, RunTerminated
from gemini.tracking.starting import DeferredStart
from gemini.tracking.system_metrics import SystemMetrics

logger = logging.getLogger("gemini.api")

__all__ = [
    "END_ATTEMPTS",
    "FLUSH_POINTS",
    "FLUSH_SECONDS",
    "HEARTBEAT_SECONDS",
    "MetricBuffer",
    "RunTerminated",
    "TrackingMixin",
]


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
    def start(
        cls, model_run_info: dict = None, model_name: str = None, *, run_name: str = None, system_metrics: bool = True
    ) -> Optional[Any]:
        """Start a new tracked run (status ``running``) of ``model_name`` (created when missing) or of no
        model, named ``run_name`` when given; end it with ``end``. Always a new run, even when another run
        has the same info. The machine's CPU, memory and GPUs are logged as ``system/...`` metrics every
        ``GEMINI_SYSTEM_METRICS_INTERVAL`` seconds unless ``system_metrics=False``.

        When the registry cannot be reached, the run is returned not yet recorded (``id`` ``None``, one
        warning logged) and recorded as soon as the registry answers; ``None`` when the registry refuses it."""
        return cls._open_tracked("start", model_run_info, model_name, run_name, system_metrics)

    @classmethod
    @contextlib.contextmanager
    def track(
        cls, model_run_info: dict = None, model_name: str = None, *, run_name: str = None, system_metrics: bool = True
    ) -> Iterator[Any]:
        """A new tracked run for the ``with`` block (named ``run_name`` when given): ``finished`` after a
        normal exit, ``failed`` after an exception (its type and message kept with the run, the exception
        raised again), ``killed`` on KeyboardInterrupt or SIGTERM. ``system_metrics`` as for ``start``.

        Unlike ``start``, a run the registry refuses raises the error. One it cannot reach is handed out
        not yet recorded, as by ``start``: the training is not stopped for a registry that is down."""
        run = cls._open_tracked("track", model_run_info, model_name, run_name, system_metrics)
        with lifecycle.terminate_raises() as terminated:
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

    # -- the machinery (gemini.tracking) ---------------------------------------------------------------

    @classmethod
    def _open_tracked(
        cls, method: str, model_run_info: Any, model_name: Any, run_name: Any, system_metrics: bool
    ) -> Any:
        """A run started by this process, with its threads; not yet recorded when the registry cannot be
        reached (any other refusal raises)."""

        def start() -> ModelRunRecord:
            # registry() at each try: the registry of the settings now.
            return registry().start_run(model_run_info=model_run_info, model_name=model_name, run_name=run_name)

        try:
            run = cls.from_record(start())
        except DatabaseUnavailableError as exc:
            # Arguments are checked before the registry is reached: what failed here can only be the reach.
            logger.warning(
                "ModelRun.%s: the registry cannot be reached (%s); the training goes on, and the run is recorded "
                "as soon as the registry answers (its metric points wait in memory until then)",
                method,
                exc,
            )
            run = cls(model_run_info=model_run_info, run_name=run_name)
            run._attach_buffer(owned=True, system_metrics=system_metrics, start=start)
        else:
            run._attach_buffer(owned=True, system_metrics=system_metrics)
        return run

    def _attach_buffer(
        self, *, owned: bool, system_metrics: bool = False, start: Callable[[], ModelRunRecord] | None = None
    ) -> MetricBuffer:
        """A buffer for this object's points; for a run this process started (``owned``), a heartbeat and,
        with ``system_metrics``, a sampler of the machine. ``start``: the run is not recorded yet, and is
        started by its threads as soon as the registry answers (``gemini.tracking.starting``)."""
        deferred = None
        if start is not None:

            def recorded(record: ModelRunRecord) -> None:
                self._recorded_late(record, buffer, heartbeat)

            deferred = DeferredStart(start, on_started=recorded)
            buffer = MetricBuffer(None, write_batch=deferred.write_batch)
            heartbeat = Heartbeat(None, send=deferred.heartbeat, seconds=starting.START_RETRY_SECONDS)
        else:
            buffer = MetricBuffer(self.id)
            heartbeat = Heartbeat(self.id) if owned else None
        sampler = SystemMetrics(buffer.add) if owned and system_metrics else None
        self._buffer = buffer
        self._owns_run = owned
        lifecycle.register(
            self, on_exit=self._end_at_exit, heartbeat=heartbeat, system_metrics=sampler, deferred_start=deferred
        )
        return buffer

    def _recorded_late(self, record: ModelRunRecord, buffer: MetricBuffer, heartbeat: Heartbeat) -> None:
        """The registry recorded the run after all: it gets its id, and its heartbeat its usual period."""
        self.id = record.id
        self._apply(record)
        buffer.run_id = record.id
        heartbeat.run_id = record.id
        heartbeat.seconds = default_seconds()

    def _finish_buffer(self) -> bool:
        """Stop sampling the machine, write what remains (``END_ATTEMPTS`` tries), then stop the heartbeat;
        ``False`` if points were given up. The heartbeat goes on while the last writes are tried: the run
        is still running."""
        lifecycle.stop_system_metrics(self)  # no sample may land after the last write
        buffer, self._buffer = self._buffer, None
        written = True if buffer is None else lifecycle.write_remaining(buffer)
        lifecycle.unregister(self)
        return written

    def _end_at_exit(self, failure: BaseException | None) -> None:
        """At interpreter exit: a run this process started ends ``failed`` when an uncaught exception is
        ending the interpreter, ``finished`` otherwise; another run only gets its points written."""
        if self._owns_run:
            self._end(status="failed" if failure is not None else "finished", error=failure)
        else:
            self._finish_buffer()

    def _end(self, *, status: str, error: BaseException | None = None) -> Optional[Any]:
        buffer = self._buffer
        deferred = lifecycle.deferred_start_of(self)
        self._finish_buffer()  # writing the points starts a run not yet recorded, when it can
        if deferred is not None and not deferred.try_start():
            logger.error(
                "ModelRun.end failed: the run was never recorded (the registry could not be reached from its "
                "start to its end, %s); nothing of it is stored",
                status,
            )
            return None
        # Points not stored are said with the end: such a run never reads as a clean `finished`.
        error_type, error_message = lifecycle.end_fields(error, buffer)
        return self._end_record(status, error_type, error_message)

    @_seed_operation("end", fallback=None)
    def _end_record(self, status: str, error_type: str | None, error_message: str | None) -> Optional[Any]:
        record = registry().end_run(run_id=self.id, status=status, error_type=error_type, error_message=error_message)
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
        # The domain's checks, called here rather than through the registry's front: this runs per logged
        # value in the training loop: a key already seen costs a set lookup, a float value one type test.
        if not isinstance(metrics, Mapping):
            raise TypeError(f"metrics must be a dict of key to value, got {type(metrics).__name__}")
        if step is not None:
            step = check_step(step)
        values = []
        for key, value in metrics.items():
            check_metric_key(key)  # a set lookup for a key already seen
            if type(value) is not float:
                value = check_metric_value(key, value)
            values.append((key, value))
        buffer = self._buffer
        if buffer is None:
            buffer = self._attach_buffer(owned=False)
        buffer.add(values, step)

    def log_metric(self, key: str, value: Any, step: int | None = None) -> None:
        """``log_metrics({key: value}, step)``."""
        self.log_metrics({key: value}, step=step)

    @_seed_operation("get_metric_history", fallback=None)
    def get_metric_history(self, key: str, max_points: int = None) -> Optional[list[dict]]:
        """Every point of ``key`` (buffered ones written first), by step:
        ``[{"step": 0, "value": 0.41, "timestamp": datetime}, ...]``. With ``max_points``, a longer
        series is reduced to at most that many points, each block of steps keeping its first, lowest,
        highest and last point (NaN points left out)."""
        self.flush()
        series = registry().metric_history(run_id=self.id, key=key, max_points=max_points)
        return [{"step": point.step, "value": point.value, "timestamp": point.timestamp} for point in series.points()]

    @classmethod
    @_seed_operation("get_metric_histories", fallback=None)
    def get_metric_histories(cls, run_ids: list, key: str, max_points: int = None) -> Optional[dict]:
        """One key's history for many runs in one read, as columns:
        ``{run_id: {"steps": [...], "values": [...], "timestamps": [...]}}``, timestamps in seconds since
        1970 (UTC), runs that never logged ``key`` left out. ``run_ids``: ids (``UUID`` or text, each
        answer keyed as it was given) or ``ModelRun`` objects (keyed by their ``id``; their buffered
        points written first). ``max_points`` reduces each longer series as ``get_metric_history`` does."""
        given = []
        for item in run_ids if isinstance(run_ids, (list, tuple)) else [run_ids]:
            if isinstance(item, cls):
                item.flush()
                item = item.id
            given.append(item)
        histories = registry().metric_histories(run_ids=given, key=key, max_points=max_points)
        answer_key = {parse_id(item): item for item in given}
        return {answer_key[run_id]: series.columns() for run_id, series in histories.items()}

    @_seed_operation("get_metrics", fallback=None)
    def get_metrics(self) -> Optional[dict[str, dict]]:
        """Each key's summary (buffered points written first):
        ``{"map50": {"last": .., "min": .., "max": .., "step": .., "count": ..}, ...}``."""
        self.flush()
        return {
            key: {"last": summary.last, "min": summary.min, "max": summary.max, "step": summary.step, "count": summary.count}
            for key, summary in registry().metric_summaries(run_id=self.id).items()
        }
