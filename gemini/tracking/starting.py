"""The start of a tracked run that the registry could not take when the training began.

When ``registry().start_run`` raises ``DatabaseUnavailableError`` (a server that cannot be reached once
the HTTP layer's repeats are spent, a database that does not answer), ``ModelRun.track``/``start`` hand
out the run anyway, not yet recorded (its ``id`` is ``None``), and the training goes on. A
``DeferredStart`` tries the start again:

- from the run's heartbeat thread, every ``START_RETRY_SECONDS`` until the run is recorded
  (``heartbeat``, the heartbeat's ``send``);
- before each batch the run's metric buffer writes (``write_batch``, the buffer's writer): the points
  wait in the buffer, in memory, until the run exists;
- when the run ends (``try_start``).

The first start that works calls ``on_started(record)``, which gives the run object its id; from then
on the run is like any other. A start the registry refuses for good (a token refused, the model name
rejected) is not tried again: the run's points are then given up, each batch with an error, as for a
run deleted meanwhile.

A start is repeated only after it failed without an answer, so in the rare case where the registry
recorded a start whose answer was lost, that first run is left empty and reads ``lost`` once its
heartbeat is old.

Locks: ``_lock`` makes one start attempt at a time and guards ``_record`` and ``_refusal``; it is held
while a start is tried (the heartbeat and writer threads, and ``end``, wait for each other rather than
starting the run twice), never by ``log_metrics``.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from typing import Any

from gemini.domain.checks import Point
from gemini.domain.errors import DatabaseUnavailableError, GeminiError, NotFoundError
from gemini.domain.records import ModelRunRecord
from gemini.registry import registry

logger = logging.getLogger("gemini.api")

START_RETRY_SECONDS = 5.0
"""How often the heartbeat thread tries again to start a run the registry could not take."""


class DeferredStart:
    """``start()`` (the registry's ``start_run`` with the run's arguments), tried again until it works;
    ``on_started(record)`` is called once, with the run as the registry recorded it."""

    def __init__(self, start: Callable[[], ModelRunRecord], on_started: Callable[[ModelRunRecord], Any]) -> None:
        self._start = start
        self._on_started = on_started
        self._lock = threading.Lock()
        self._record: ModelRunRecord | None = None
        self._refusal: GeminiError | None = None

    @property
    def started(self) -> bool:
        with self._lock:
            return self._record is not None

    def ensure(self) -> uuid.UUID:
        """The run's id, starting it first when it is not recorded yet. Raises ``DatabaseUnavailableError``
        when the registry still cannot be reached, ``NotFoundError`` when it refused the start for good."""
        with self._lock:
            if self._record is not None:
                return self._record.id
            if self._refusal is not None:
                raise NotFoundError(f"the run was never recorded: the registry refused its start ({self._refusal})")
            try:
                record = self._start()
            except DatabaseUnavailableError as exc:
                raise DatabaseUnavailableError(f"the run is not recorded yet: {exc}") from exc
            except GeminiError as exc:
                self._refusal = exc
                logger.error("the registry refused the start of a run it could not be reached for: %s", exc)
                raise NotFoundError(f"the run was never recorded: the registry refused its start ({exc})") from exc
            self._record = record
            self._on_started(record)
        logger.warning("the registry answers again: the run is recorded as %s", record.id)
        return record.id

    def try_start(self) -> bool:
        """``ensure``, answering whether the run is recorded instead of raising."""
        try:
            self.ensure()
        except GeminiError:
            return False
        return True

    def heartbeat(self, run_id: Any) -> None:
        """The heartbeat's ``send``: a start attempt while the run is not recorded, a heartbeat after."""
        if not self.try_start():
            return
        with self._lock:
            record_id = self._record.id
        registry().heartbeat(run_id=record_id)

    def write_batch(self, run_id: Any, batch_id: str, points: list[Point]) -> Any:
        """The metric buffer's ``write_batch``: the run is started first if it was not."""
        return registry().log_batch(run_id=self.ensure(), batch_id=batch_id, points=points)
