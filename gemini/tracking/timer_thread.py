"""The thread of a periodic task of a tracked run (its heartbeat, its system metrics) and how it stops.

``_condition`` (with its lock) guards ``_stopped``, and whatever a task keeps beside it, and wakes the
thread when they change; a task's work runs outside it, so ``stop`` never waits for that work to start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TimerThread:
    """A daemon thread running ``_run`` (started by ``_start``), until ``_stop_and_join``."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._stopped = False
        self._thread: threading.Thread | None = None

    def _start(self, name: str) -> None:
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        raise NotImplementedError

    @property
    def running(self) -> bool:
        with self._condition:
            return not self._stopped

    def _stop_and_join(self, wait_seconds: float) -> None:
        """Stop, and wait up to ``wait_seconds`` for the thread to end (not when called from it)."""
        with self._condition:
            self._stopped = True
            self._condition.notify_all()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(wait_seconds)

    def _wait_until(self, deadline: Callable[[], float]) -> bool:
        """Sleep until ``time.monotonic()`` reaches ``deadline()`` (read again at each wake-up, so a
        change under the condition counts): ``True`` then, ``False`` when stopped first."""
        with self._condition:
            while not self._stopped:
                remaining = deadline() - time.monotonic()
                if remaining <= 0:
                    return True
                self._condition.wait(remaining)
            return False
