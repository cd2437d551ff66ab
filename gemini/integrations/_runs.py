"""What both integrations share: turning a framework's settings into info, starting a run, stopping its
training on SIGTERM (``SigtermGuard``), and saying which extra brings a framework that is missing."""

import logging
import math
import os
import signal
import threading
from collections.abc import Callable, Mapping
from importlib import metadata
from typing import Any

from gemini.api.model_run import ModelRun
from gemini.api.tracking import RunTerminated

logger = logging.getLogger("gemini.integrations")

TERMINATED_EXIT_STATUS = 128 + signal.SIGTERM
"""The exit status of a process whose training SIGTERM stopped (143), as for a ``ModelRun.track`` block."""


def json_safe(value: Any) -> Any:
    """``value`` as plain JSON for a run's info: mappings with string keys, lists, strings, finite numbers.

    Paths become their text, tuples and sets lists, numpy and torch scalars numbers, NaN and infinities
    and any other object their ``repr``: a trainer's settings are recorded as they were, never refused.
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else repr(float(value))
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    if isinstance(value, (set, frozenset)):
        return sorted((json_safe(item) for item in value), key=repr)
    item = getattr(value, "item", None)  # numpy and torch scalars
    if callable(item) and getattr(value, "ndim", None) == 0:
        return json_safe(item())
    return repr(value)


def versions(*distributions: str) -> dict[str, str]:
    """The installed version of each distribution that is installed."""
    found = {}
    for name in distributions:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def start_run(
    *, model_run_info: dict, model_name: str | None, run_name: str | None = None, system_metrics: bool = True
) -> ModelRun:
    """Start a tracked run of ``model_name`` (which ``ModelRun.start`` creates when it does not exist),
    named ``run_name``; ``system_metrics=False`` asks ``ModelRun.start`` not to sample the machine.

    Raises ``RuntimeError`` when the registry refuses: a training is better stopped at its start than
    run for hours untracked. The ``gemini.api`` log line before it says why.
    """
    run = ModelRun.start(
        model_run_info=model_run_info, model_name=model_name, run_name=run_name, system_metrics=system_metrics
    )
    if run is None:
        raise RuntimeError(f"gemini could not start a run of {model_name!r}; see the gemini.api log")
    return run


# -- frameworks that are missing ---------------------------------------------------------------------


DISTRIBUTION = "gemini-model-registry"
"""The name gemini is published under, for when no installed distribution says it (a source tree)."""


def distribution_name(extra: str) -> str:
    """The name of the installed distribution that provides the ``gemini`` package and offers ``extra``
    (what ``pip install`` takes): another distribution may provide a ``gemini`` package too."""
    names = metadata.packages_distributions().get("gemini") or []
    for name in dict.fromkeys(names):
        if extra in (metadata.metadata(name).get_all("Provides-Extra") or []):
            return name
    return names[0] if names else DISTRIBUTION


def missing_framework(needed_by: str, framework: str, extra: str, error: BaseException | None = None) -> ImportError:
    """The ``ImportError`` to raise when ``needed_by`` cannot import its framework: it names the extra
    that installs it, ``pip install '<distribution>[<extra>]'``."""
    cause = f" ({error})" if error is not None else ""
    return ImportError(
        f"{needed_by} needs {framework}, which is not installed{cause}; install it with "
        f"pip install '{distribution_name(extra)}[{extra}]'"
    )


# -- SIGTERM ------------------------------------------------------------------------------------------


class TrainingTerminated(RunTerminated, SystemExit):
    """Raised in the main thread when the process receives SIGTERM while a tracked training runs.

    A ``RunTerminated``, so the integration ends the run ``killed`` (``error_type`` ``SIGTERM``), and a
    ``SystemExit`` with code 143 (128 + SIGTERM): the frameworks' own cleanup runs as for any exception
    (Ultralytics' ``teardown`` callbacks, Lightning's ``on_exception`` hooks and teardown), ``except
    Exception`` in training code does not stop it, and the process exits with status 143 unless the
    caller catches it."""

    def __init__(self) -> None:
        super().__init__(TERMINATED_EXIT_STATUS)


class SigtermGuard:
    """SIGTERM while a run of an integration is open: its training stops, and the run can end ``killed``.

    ``install`` (when the run starts; main thread only, and not when SIGTERM is ignored) puts the handler
    in place; ``restore`` (once the run has ended) puts the previous one back. On SIGTERM, ``received`` is
    set, a previous handler that is a Python function is called (as Lightning chains the handlers it
    finds), and ``TrainingTerminated`` is raised: unless ``framework_stops(handler)`` says that the handler
    in place is the framework's own, which calls this one and stops the training itself (Lightning, at
    the end of the batch, on every process of a multi-GPU training). A repeated SIGTERM is ignored.

    A SIGTERM arriving while the run ends (after ``ending``: its files are being stored) does not
    interrupt that; ``restore`` raises it again once the run has ended, for its previous handling, as it
    does for a SIGTERM that did not stop the training. After ``restore`` (Lightning puts back the handler
    it found when it tears down after an exception), and in processes forked from this one (data loader
    workers), the handler, if something still calls it, does what SIGTERM would do without it.
    """

    def __init__(self, framework_stops: Callable[[Any], bool] | None = None) -> None:
        self.received = False
        self._framework_stops = framework_stops
        self._previous: Any = None
        self._pid: int | None = None
        self._armed = False
        self._ending = False
        self._pending = False

    def __reduce__(self) -> tuple:
        # A logger pickled for spawned processes takes no handler along.
        return (type(self), (self._framework_stops,))

    def install(self) -> None:
        if threading.current_thread() is not threading.main_thread():
            return
        previous = signal.getsignal(signal.SIGTERM)
        if previous is None or previous == signal.SIG_IGN:  # None: a handler not set from Python
            return
        stale = getattr(previous, "__self__", None)
        if isinstance(stale, SigtermGuard) and not stale._armed:
            # The handler of an ended run, put back by a framework restoring the handler it found.
            previous = stale._previous
        self._previous, self._pid, self._armed = previous, os.getpid(), True
        signal.signal(signal.SIGTERM, self._handle)

    def ending(self) -> None:
        """The run is ending: a SIGTERM from now on waits for ``restore``."""
        self._ending = True

    def restore(self, error: BaseException | None = None) -> None:
        """Put the previous handler back (when this one is still in place), once the run has ended with
        ``error`` (the exception the training raised, or ``None``).

        A SIGTERM that arrived while the run ended, or that did not stop the training (``error`` is
        ``None``) and found no previous handler to call, is raised again for its previous handling. A
        ``SystemExit`` by which the framework stopped the training on SIGTERM (Lightning's
        ``SIGTERMException``, status 0) gets status 143 when no previous handler took the signal: the
        status SIGTERM asks for."""
        if not self._armed:
            return
        self._armed = False
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == self._handle:
            signal.signal(signal.SIGTERM, self._previous)
        handled = callable(self._previous)  # called when the signal came
        if self.received and not handled and isinstance(error, SystemExit) and not error.code:
            error.code = TERMINATED_EXIT_STATUS
        if self._pending or (self.received and not handled and error is None):
            self._pending = False
            signal.raise_signal(signal.SIGTERM)

    def _handle(self, signum: int, frame: Any) -> None:
        if not self._armed or os.getpid() != self._pid:
            self._follow_previous(signum, frame)
            return
        if self.received:
            return
        if self._ending:
            self._pending = True
            return
        self.received = True
        if callable(self._previous):
            self._previous(signum, frame)
        if self._framework_stops is not None and self._framework_stops(signal.getsignal(signal.SIGTERM)):
            logger.warning("SIGTERM: the training stops at the end of its step; its run ends killed")
            return
        logger.warning("SIGTERM: stopping the training; its run ends killed")
        raise TrainingTerminated()

    def _follow_previous(self, signum: int, frame: Any) -> None:
        """What SIGTERM would do without this handler: the previous handler is called; the default action
        (the process ends) is taken only when this handler is the one in place, not when another one
        (Lightning's) calls it, which would not have called a default handler either."""
        if callable(self._previous):
            self._previous(signum, frame)
        elif self._previous == signal.SIG_DFL and signal.getsignal(signal.SIGTERM) == self._handle:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.raise_signal(signal.SIGTERM)
