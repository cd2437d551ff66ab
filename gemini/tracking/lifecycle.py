"""The runs this process tracks, and how they end: at interpreter exit, on SIGTERM, after an error.

- ``register``/``unregister`` keep the table of active runs: each with the function that ends it at
  interpreter exit (installed as an ``atexit`` hook on first use), its heartbeat and its system-metrics
  sampler, stopped when the run is unregistered (the sampler earlier, by ``stop_system_metrics``, before
  the run's last write), and the ``DeferredStart`` of a run the registry could not be reached for at its
  start. At exit, a run this process started ends ``failed`` when an uncaught exception is ending the
  interpreter, ``finished`` otherwise; a run it only logged to gets its points written.
- ``write_remaining`` writes what a buffer still holds when its run ends: ``END_ATTEMPTS`` tries, then
  the points left are given up with an error on the ``gemini.api`` logger.
- ``terminate_raises`` turns SIGTERM into ``RunTerminated`` inside ``ModelRun.track``, so the run ends
  ``killed`` before the signal's previous handling follows.
- ``error_fields`` names the error a run ended with (``error_type``, ``error_message``); ``end_fields``
  adds the metric points that were not stored, so that such a run never reads as a clean end.

Locks: ``_active_lock`` guards ``_active`` and ``_exit_hook_installed``; it is never held while a run
ends. SIGTERM's handler is only changed from the main thread (Python runs handlers there).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from gemini.tracking import spool as _spool  # noqa: F401 - its exit report must be registered first
from gemini.tracking.buffer import MetricBuffer
from gemini.tracking.heartbeat import Heartbeat
from gemini.tracking.starting import DeferredStart
from gemini.tracking.system_metrics import SystemMetrics

logger = logging.getLogger("gemini.api")

END_ATTEMPTS = 3
"""Tries of the last write when a run ends, before its remaining points are given up."""
END_PAUSE_SECONDS = 0.5
"""The pause after the n-th failed last write is n times this."""


class RunTerminated(BaseException):
    """Raised inside ``ModelRun.track`` when the process receives SIGTERM, so that the run ends ``killed``.

    A ``BaseException``, as ``KeyboardInterrupt``: ``except Exception`` in training code does not
    swallow it."""


# -- errors a run ends with ---------------------------------------------------------------------------


def error_type(exc: BaseException) -> str:
    """The exception's class as a run keeps it: ``ValueError`` for builtins, ``module.Class`` otherwise."""
    kind = type(exc)
    return kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"


def error_fields(error: BaseException | None) -> tuple[str | None, str | None]:
    """``(error_type, error_message)`` of a run ended by ``error`` (``None, None`` without one)."""
    if error is None:
        return None, None
    if isinstance(error, RunTerminated):
        return "SIGTERM", "the process received SIGTERM"
    if isinstance(error, KeyboardInterrupt):
        return "KeyboardInterrupt", "interrupted"
    return error_type(error), storable_text(str(error))


NOT_STORED_ERROR_TYPE = "MetricPointsNotStored"
"""The ``error_type`` of a run that ended without an error of its own but with points not stored."""


def end_fields(error: BaseException | None, buffer: MetricBuffer | None) -> tuple[str | None, str | None]:
    """``error_fields(error)``, with a sentence on the points of ``buffer`` that were not stored (refused
    for good, or left unwritten) added to the message."""
    error_type, error_message = error_fields(error)
    missing = None if buffer is None else not_stored(buffer)
    if missing is None:
        return error_type, error_message
    if error_type is None:
        return NOT_STORED_ERROR_TYPE, missing
    return error_type, f"{error_message}\n{missing}" if error_message else missing


def not_stored(buffer: MetricBuffer) -> str | None:
    """What of ``buffer``'s points is not in the registry, in one sentence (``None``: nothing)."""
    refused, left = buffer.refused, buffer.unwritten()
    if not refused and not left:
        return None
    parts = []
    if refused:
        parts.append(f"{refused} refused by the registry ({'; '.join(buffer.refusals)})")
    if left:
        parts.append(f"{left} could not be written")
    return f"{refused + left} metric points were not stored: {', '.join(parts)}"


def storable_text(text: str) -> str:
    """``text`` with what no database stores spelled out: NUL as ``\\x00``, a lone surrogate as
    ``\\udXXX``. An exception's message is whatever the failing code put there, and the run's end must
    not be refused for it."""
    return text.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode("utf-8")


# -- the active runs ----------------------------------------------------------------------------------


@dataclass
class ActiveRun:
    owner: object
    """The object tracking the run (a ``ModelRun``): kept so that its key, ``id(owner)``, stays its own."""
    on_exit: Callable[[BaseException | None], Any]
    """Called at interpreter exit with the uncaught exception ending it, or ``None``."""
    heartbeat: Heartbeat | None
    system_metrics: SystemMetrics | None = None
    deferred_start: DeferredStart | None = None
    """Set when the registry could not be reached at the run's start (``gemini.tracking.starting``)."""

    def stop_threads(self, keep: "ActiveRun | None" = None) -> None:
        """Stop the sampler and the heartbeat (those ``keep`` does not share)."""
        for thread in (self.system_metrics, self.heartbeat):
            if thread is not None and (keep is None or thread not in (keep.system_metrics, keep.heartbeat)):
                thread.stop()


_active: dict[int, ActiveRun] = {}
_active_lock = threading.Lock()
_exit_hook_installed = False


def register(
    owner: object,
    *,
    on_exit: Callable[[BaseException | None], Any],
    heartbeat: Heartbeat | None = None,
    system_metrics: SystemMetrics | None = None,
    deferred_start: DeferredStart | None = None,
) -> None:
    """Track ``owner``'s run until ``unregister``: ``on_exit`` ends it if the interpreter exits first.

    Keyed by the object, not the run id: two objects of one run each get their points written."""
    global _exit_hook_installed
    entry = ActiveRun(owner, on_exit, heartbeat, system_metrics, deferred_start)
    with _active_lock:
        previous = _active.get(id(owner))
        _active[id(owner)] = entry
        if not _exit_hook_installed:
            atexit.register(_at_exit)
            _exit_hook_installed = True
    if previous is not None:
        previous.stop_threads(keep=entry)


def unregister(owner: object) -> None:
    """Forget ``owner``'s run and stop its sampler and heartbeat (no-op when it is not registered)."""
    with _active_lock:
        found = _active.pop(id(owner), None)
    if found is not None:
        found.stop_threads()


def stop_system_metrics(owner: object) -> None:
    """Stop the sampler of ``owner``'s run, if it has one: no sample is logged after this returns."""
    with _active_lock:
        found = _active.get(id(owner))
    if found is not None and found.system_metrics is not None:
        found.system_metrics.stop()


def system_metrics_of(owner: object) -> SystemMetrics | None:
    """The system-metrics sampler of ``owner``'s run (``None``: not registered, or not sampled)."""
    with _active_lock:
        found = _active.get(id(owner))
    return None if found is None else found.system_metrics


def deferred_start_of(owner: object) -> DeferredStart | None:
    """The ``DeferredStart`` of ``owner``'s run (``None``: not registered, or recorded at its start at once)."""
    with _active_lock:
        found = _active.get(id(owner))
    return None if found is None else found.deferred_start


def heartbeat_of(owner: object) -> Heartbeat | None:
    """The heartbeat of ``owner``'s run (``None``: not registered, or a run this process did not start)."""
    with _active_lock:
        found = _active.get(id(owner))
    return None if found is None else found.heartbeat


def active_count() -> int:
    with _active_lock:
        return len(_active)


def _at_exit() -> None:
    with _active_lock:
        runs = list(_active.values())
    failure = getattr(sys, "last_exc", None) or getattr(sys, "last_value", None)
    for run in runs:
        try:
            run.on_exit(failure)
        except Exception:  # noqa: BLE001 - the other runs must still end
            logger.exception("ending a tracked run at interpreter exit failed")


def write_remaining(buffer: MetricBuffer) -> bool:
    """Stop ``buffer``'s writer and write what it holds, ``END_ATTEMPTS`` tries; ``False`` (one error
    logged) when points are left, which are then given up."""
    buffer.stop()
    for attempt in range(END_ATTEMPTS):
        if buffer.flush():
            break
        if attempt + 1 < END_ATTEMPTS:
            time.sleep(END_PAUSE_SECONDS * (attempt + 1))
    left = buffer.unwritten()
    if left:
        logger.error("run %s: %d metric points could not be written and are lost", buffer.run_id, left)
    return left == 0


# -- SIGTERM ------------------------------------------------------------------------------------------


@contextlib.contextmanager
def terminate_raises() -> Iterator[list]:
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
