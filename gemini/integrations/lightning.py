"""``GeminiLogger``: a PyTorch Lightning logger that records a training as a gemini run.

```python
import lightning as L
from gemini.integrations.lightning import GeminiLogger

trainer = L.Trainer(logger=GeminiLogger(model_name="yield_predictor"), max_epochs=20)
trainer.fit(model, datamodule)
```

The run starts when Lightning first asks the logger for its experiment (at the start of ``fit``),
receives the module's and datamodule's hyperparameters as ``params`` in its info, every metric Lightning
logs at the global step Lightning gives, the checkpoints as artifacts when ``log_model`` is set, and ends
with the status Lightning finalizes it with (``killed`` after Ctrl-C or SIGTERM: while the run is open,
SIGTERM stops the training, at the end of the batch as Lightning's own handling does, and the process
exits with status 143). Lightning is imported when ``GeminiLogger`` is first named
(``from gemini.integrations.lightning import GeminiLogger``), not when this module is imported.
"""

import logging
import os
import sys
from argparse import Namespace
from typing import Any

from gemini.api.model_run import ModelRun
from gemini.api.tracking import RunTerminated
from gemini.integrations._runs import SigtermGuard, json_safe, start_run, versions

logger = logging.getLogger("gemini.integrations")

DEFAULT_NAME = "gemini"
"""``GeminiLogger.name`` (the checkpoint directory's parent) for runs without a model."""

CHECKPOINT_PREFIX = "checkpoints/"
"""Artifact names of checkpoints: this prefix and the checkpoint's file name."""

STATUSES = {"success": "finished", "finished": "finished", "failed": "failed"}
"""gemini's run status for each status Lightning finalizes a logger with."""


def run_status(lightning_status: str) -> str:
    """The run status for Lightning's ``finalize(status)``; a failure while KeyboardInterrupt (Ctrl-C:
    Lightning finalizes with "failed") or a SIGTERM is being handled is ``killed``."""
    status = STATUSES.get(lightning_status, "failed")
    if status == "failed" and _interrupted(sys.exc_info()[1]):
        return "killed"
    return status


def _interrupted(error: BaseException | None) -> bool:
    """Ctrl-C, or SIGTERM: gemini's ``RunTerminated``, or the ``SIGTERMException`` Lightning's own handler
    raises when gemini's is not installed (SIGTERM ignored before, training outside the main thread)."""
    if isinstance(error, (KeyboardInterrupt, RunTerminated)):
        return True
    return _is_lightning_sigterm(error)


def _is_lightning_sigterm(error: BaseException | None) -> bool:
    exceptions = sys.modules.get("lightning.pytorch.utilities.exceptions")
    sigterm = getattr(exceptions, "SIGTERMException", None)
    return isinstance(sigterm, type) and isinstance(error, sigterm)


def _is_lightning_handler(handler: Any) -> bool:
    """Whether the SIGTERM handler in place is Lightning's (installed for ``fit``, ``validate``...): it marks
    the trainer, whose loops then raise ``SIGTERMException`` at the end of the batch."""
    return type(handler).__module__.startswith("lightning.pytorch.")


def _build_logger_class() -> type:
    from lightning.pytorch.loggers import Logger
    from lightning.pytorch.loggers.logger import rank_zero_experiment
    from lightning.pytorch.utilities.rank_zero import rank_zero_only

    class GeminiLogger(Logger):
        """Log a Lightning training as a gemini run of ``model_name``.

        Args:
            model_name: the registry's model the run belongs to (created when it does not exist); also
                Lightning's ``name``, so checkpoints go to ``<save_dir>/<model_name>/<run id>/checkpoints``.
            log_model: ``False`` logs no checkpoint; ``True`` logs the checkpoints each ``ModelCheckpoint``
                keeps (its best ``save_top_k`` and ``last``) when training ends; ``"all"`` logs every
                checkpoint as soon as it is saved.
            model_run_info: extra top-level keys for the run's info, beside ``params`` and ``framework``.
            save_dir: where Lightning writes checkpoints (the trainer's ``default_root_dir`` when None).
            prefix: put before every metric key (``"fold1"`` logs ``fold1-loss``), as Lightning's loggers do.
        """

        LOGGER_JOIN_CHAR = "-"

        def __init__(
            self,
            model_name: str | None = None,
            log_model: bool | str = False,
            *,
            model_run_info: dict | None = None,
            save_dir: str | os.PathLike | None = None,
            prefix: str = "",
        ) -> None:
            super().__init__()
            if log_model not in (True, False, "all"):
                raise ValueError(f"log_model must be True, False or 'all', got {log_model!r}")
            self._model_name = model_name
            self._log_model = log_model
            self._extra_info = dict(model_run_info or {})
            self._save_dir = os.fspath(save_dir) if save_dir is not None else None
            self._prefix = prefix
            self._run: ModelRun | None = None
            self._guard: SigtermGuard | None = None
            self._ended = False
            self._params: dict[str, Any] = {}
            self._checkpoint_callbacks: list[Any] = []
            self._logged_checkpoints: dict[str, tuple[float, int]] = {}

        # -- what Lightning reads --------------------------------------------------------------------

        @property
        def name(self) -> str:
            return self._model_name or DEFAULT_NAME

        @property
        def version(self) -> str | None:
            """The run's id, which Lightning puts in the checkpoint directory's path."""
            return self.run_id

        @property
        def run_id(self) -> str | None:
            if rank_zero_only.rank > 0:  # only rank 0 has the run
                return None
            return str(self.experiment.id)

        @property
        def save_dir(self) -> str | None:
            return self._save_dir

        @property
        @rank_zero_experiment
        def experiment(self) -> ModelRun:
            """The gemini run, started on first use (on the process of global rank 0 only)."""
            if self._run is None:
                self._run = start_run(model_run_info=self._info(), model_name=self._model_name)
                # SIGTERM (SLURM, Kubernetes) then stops the training, and Lightning's cleanup answers
                # with finalize("failed"): the run ends `killed`. This handler is in place before
                # Lightning's own, which calls it once it has marked the trainer: from then on Lightning
                # stops the training itself at the end of the batch, on every process.
                self._guard = SigtermGuard(framework_stops=_is_lightning_handler)
                self._guard.install()
            return self._run

        # -- what Lightning calls --------------------------------------------------------------------

        @rank_zero_only
        def log_hyperparams(self, params: dict[str, Any] | Namespace, *args: Any, **kwargs: Any) -> None:
            if isinstance(params, Namespace):
                params = vars(params)
            self._params.update(json_safe(dict(params)))
            run = self.experiment
            if run.set_info(self._info()) is None:
                logger.warning("gemini could not record the hyperparameters of run %s", run.id)

        @rank_zero_only
        def log_metrics(self, metrics: dict[str, float], step: int | None = None) -> None:
            if self._prefix:
                metrics = {f"{self._prefix}{self.LOGGER_JOIN_CHAR}{key}": value for key, value in metrics.items()}
            self.experiment.log_metrics(dict(metrics), step=step)

        @rank_zero_only
        def after_save_checkpoint(self, checkpoint_callback: Any) -> None:
            if not self._log_model:
                return
            if self._log_model == "all":
                self._log_checkpoints(checkpoint_callback)
            elif checkpoint_callback not in self._checkpoint_callbacks:
                self._checkpoint_callbacks.append(checkpoint_callback)

        @rank_zero_only
        def finalize(self, status: str) -> None:
            if self._run is None:
                return
            if self._ended:
                # A test or validate after fit: the run keeps the status of its first end.
                self._run.flush()
                return
            guard, self._guard = self._guard, None
            if guard is not None:
                guard.ending()
            try:
                for checkpoint_callback in self._checkpoint_callbacks:
                    self._log_checkpoints(checkpoint_callback)
            finally:
                self._ended = True
                # Lightning finalizes "failed" while handling the exception, so it is still at hand here.
                raised = error = sys.exc_info()[1]
                status = run_status(status)
                sigterm = (guard is not None and guard.received) or _is_lightning_sigterm(raised)
                if status != "finished" and sigterm and not isinstance(raised, RunTerminated):
                    # SIGTERM, which Lightning's own handling stopped the training for with its
                    # SIGTERMException (or a previous handler with an exception of its own)
                    status, error = "killed", RunTerminated()
                try:
                    self._run.end(status=status, error=error if status != "finished" else None)
                finally:
                    if guard is not None:
                        guard.restore(raised if status != "finished" else None)

        # -- helpers ---------------------------------------------------------------------------------

        def _info(self) -> dict[str, Any]:
            return {
                "params": dict(self._params),
                "framework": versions("lightning", "torch"),
                **self._extra_info,
            }

        def _log_checkpoints(self, checkpoint_callback: Any) -> None:
            """Log the checkpoints ``checkpoint_callback`` keeps that are new or rewritten since logged."""
            # Without a monitored metric, best_k_models stays empty and best_model_path is the latest.
            paths = [
                *(getattr(checkpoint_callback, "best_k_models", None) or {}),
                getattr(checkpoint_callback, "best_model_path", ""),
                getattr(checkpoint_callback, "last_model_path", ""),
            ]
            for path in dict.fromkeys(path for path in paths if path):
                try:
                    stat = os.stat(path)
                except OSError:
                    continue
                fingerprint = (stat.st_mtime, stat.st_size)
                if self._logged_checkpoints.get(path) == fingerprint:
                    continue
                name = CHECKPOINT_PREFIX + os.path.basename(path)
                if self.experiment.log_artifact(path, name=name) is None:
                    logger.warning("gemini could not store the checkpoint %s with run %s", path, self._run.id)
                    continue
                self._logged_checkpoints[path] = fingerprint

    # Named as if defined at module level, so pickling (DDP spawn) finds it.
    GeminiLogger.__module__ = __name__
    GeminiLogger.__qualname__ = "GeminiLogger"
    return GeminiLogger


def __getattr__(name: str) -> Any:
    # PEP 562: the class is built, and Lightning imported, the first time it is named.
    if name == "GeminiLogger":
        cls = _build_logger_class()
        globals()["GeminiLogger"] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["GeminiLogger", "run_status"]
