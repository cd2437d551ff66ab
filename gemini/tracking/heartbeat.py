"""The heartbeat of a run this process started: a thread of its own that tells the registry the run is alive.

A ``running`` run whose heartbeat is older than ``GEMINI_HEARTBEAT_TIMEOUT`` reads as ``lost``. The
heartbeat has its own timer thread, apart from the metric buffer's writer, so a batch write that is
slow or stuck in retries never delays it. A heartbeat that fails is logged and simply missed (the next
one comes a period later); a ``ConflictError`` (the run was ended elsewhere) stops it for good. A
written metric batch renews the run's heartbeat on the registry's side too.

``send(run_id)`` does the sending, by default the registry's ``heartbeat`` (``gemini.registry.registry()``,
looked up at each beat so that it follows the settings).

Locks: ``_condition`` (with its lock) guards ``_seconds`` and ``_stopped``, and wakes the thread when
either changes. It is never held while a heartbeat is sent, so ``stop`` and the ``seconds`` setter never
wait for the registry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from gemini.config import get_settings
from gemini.domain.errors import ConflictError
from gemini.registry import registry
from gemini.tracking.timer_thread import TimerThread

logger = logging.getLogger("gemini.api")

HEARTBEAT_SECONDS = 30.0
"""How often a tracked run tells it is alive (at most a third of ``GEMINI_HEARTBEAT_TIMEOUT``)."""
MIN_HEARTBEAT_SECONDS = 0.1
"""The shortest period derived from the settings (a zero timeout must not make the thread spin)."""
STOP_WAIT_SECONDS = 2.0
"""How long ``stop`` waits for a heartbeat being sent (one stuck in retries finishes on its own)."""

SendHeartbeat = Callable[[Any], Any]


def _registry_heartbeat(run_id: Any) -> Any:
    # registry() at each beat: the registry of the settings now.
    return registry().heartbeat(run_id=run_id)


def default_seconds() -> float:
    """``HEARTBEAT_SECONDS``, or a third of ``GEMINI_HEARTBEAT_TIMEOUT`` when that is shorter."""
    return max(MIN_HEARTBEAT_SECONDS, min(HEARTBEAT_SECONDS, get_settings().heartbeat_timeout / 3))


class Heartbeat(TimerThread):
    """Sends ``send(run_id)`` every ``seconds`` (``default_seconds()`` when not given) from a thread
    started here, until ``stop`` or a ``ConflictError``."""

    def __init__(self, run_id: Any, *, send: SendHeartbeat | None = None, seconds: float | None = None) -> None:
        super().__init__()
        self.run_id = run_id
        self._send = send or _registry_heartbeat
        self._seconds = default_seconds() if seconds is None else seconds
        self._start(f"gemini-heartbeat-{run_id}")

    @property
    def seconds(self) -> float:
        with self._condition:
            return self._seconds

    @seconds.setter
    def seconds(self, seconds: float) -> None:
        """A new period, counted from the last heartbeat."""
        with self._condition:
            self._seconds = seconds
            self._condition.notify_all()

    def stop(self) -> None:
        """No more heartbeats; waits up to ``STOP_WAIT_SECONDS`` for one being sent."""
        self._stop_and_join(STOP_WAIT_SECONDS)

    def _run(self) -> None:
        last_beat = time.monotonic()
        while self._wait_until(lambda: last_beat + self._seconds):
            self._beat()  # outside the lock: stop() and the setter never wait for the registry
            last_beat = time.monotonic()

    def _beat(self) -> None:
        try:
            self._send(self.run_id)
        except ConflictError as exc:  # the run was ended (elsewhere, or by this process meanwhile)
            with self._condition:
                stopped_here, self._stopped = self._stopped, True
            if not stopped_here:
                logger.warning("heartbeat of run %s stopped: %s", self.run_id, exc)
        except Exception as exc:  # noqa: BLE001 - a missed heartbeat is followed by the next one
            if self.running:
                logger.warning("heartbeat of run %s failed: %s", self.run_id, exc)
