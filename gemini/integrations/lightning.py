"""``GeminiLogger``: a PyTorch Lightning logger that records a training as a gemini run.

```python
import lightning as L
from gemini.integrations.lightning import GeminiLogger

trainer = L.Trainer(logger=GeminiLogger(model_name="yield_predictor"), max_epochs=20)
trainer.fit(model, datamodule)
```

The run starts when Lightning first asks the logger for its experiment (at the start of ``fit``), named
``version_N`` as Lightning numbers the versions of a logger's name (or ``run_name``), receives the
module's and datamodule's hyperparameters as ``params`` in its info, every metric Lightning
logs at the global step Lightning gives, the checkpoints as artifacts when ``log_model`` is set, and ends
with the status Lightning finalizes it with (``killed`` after Ctrl-C or SIGTERM: while the run is open,
SIGTERM stops the training, at the end of the batch as Lightning's own handling does, and the process
exits with status 143). With ``register_best=True``, a fit that ends with success also registers the
best checkpoint as the next version of ``model_name``. Lightning is imported when ``GeminiLogger`` is
first named (``from gemini.integrations.lightning import GeminiLogger``), not when this module is imported;
without Lightning installed, that raises an ``ImportError`` naming the extra that installs it.
"""

import logging
import os
import re
import sys
import uuid
from argparse import Namespace
from typing import Any

from gemini.api.model_run import ModelRun
from gemini.api.model_version import ModelVersion
from gemini.api.tracking import RunTerminated
from gemini.domain.errors import GeminiError, NotFoundError
from gemini.integrations._runs import SigtermGuard, json_safe, missing_framework, start_run, versions
from gemini.registry import registry

logger = logging.getLogger("gemini.integrations")

DEFAULT_NAME = "gemini"
"""``GeminiLogger.name`` (the checkpoint directory's parent) for runs without a model."""

CHECKPOINT_PREFIX = "checkpoints/"
"""Artifact names of checkpoints: this prefix and the checkpoint's file name."""

STATUSES = {"success": "finished", "finished": "finished", "failed": "failed"}
"""gemini's run status for each status Lightning finalizes a logger with."""

VERSION_PREFIX = "version_"
"""Default run names are ``version_0``, ``version_1``, ... per model, as Lightning names the versions of a
logger (``lightning_logs/version_3``)."""
_VERSION_NAME = re.compile(re.escape(VERSION_PREFIX) + r"(\d+)")
_RECENT_VERSIONS = 20
"""How many of the model's latest ``version_*`` runs are read to number the next one."""


def next_version_name(model_name: str | None) -> str | None:
    """``version_N`` for a new run of ``model_name`` (of no model: ``None``): ``N`` one more than the
    highest number among the model's latest runs named ``version_<number>``, 0 for the first. Two
    trainings starting at once may get the same name (names need not be unique). ``None`` when the
    registry cannot be read: the run's start then says why."""
    where = f'name glob "{VERSION_PREFIX}*"'
    if model_name is None:
        where += " and not exists(model.name)"
    try:
        page = registry().search_runs(
            model_name=model_name, where=where, order_by="-created_at", limit=_RECENT_VERSIONS
        )
    except NotFoundError:  # a model that does not exist yet: its first run
        return f"{VERSION_PREFIX}0"
    except GeminiError as exc:
        logger.warning("gemini could not number the new run of %r: %s", model_name, exc)
        return None
    numbers = [int(found.group(1)) for run in page.items if (found := _VERSION_NAME.fullmatch(run.run_name or ""))]
    return f"{VERSION_PREFIX}{max(numbers) + 1 if numbers else 0}"


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


def _best_checkpoint_callback(checkpoint_callbacks: list[Any]) -> Any:
    """The ``ModelCheckpoint`` whose best checkpoint ``register_best`` registers: the first (in the order
    they first saved) that monitors a metric and has a best checkpoint, else the first with one (without a
    monitored metric, Lightning's ``best_model_path`` is the latest checkpoint); ``None`` when no checkpoint
    was saved."""
    saved = [callback for callback in checkpoint_callbacks if getattr(callback, "best_model_path", "")]
    monitoring = [callback for callback in saved if getattr(callback, "monitor", None)]
    return (monitoring or saved or [None])[0]


def _saved_at(path: str) -> dict[str, int]:
    """The ``epoch`` and ``step`` (Lightning's global step) a checkpoint was saved at, read from the file
    (memory-mapped: its tensors are not read); ``{}`` when the file does not say, or does not load without
    unpickling arbitrary objects."""
    try:
        import torch

        checkpoint = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except Exception:
        return {}
    saved = {}
    for key, name in (("epoch", "epoch"), ("global_step", "step")):
        value = checkpoint.get(key) if isinstance(checkpoint, dict) else None
        if isinstance(value, int) and not isinstance(value, bool):
            saved[name] = value
    return saved


def _is_lightning_handler(handler: Any) -> bool:
    """Whether the SIGTERM handler in place is Lightning's (installed for ``fit``, ``validate``...): it marks
    the trainer, whose loops then raise ``SIGTERMException`` at the end of the batch."""
    return type(handler).__module__.startswith("lightning.pytorch.")


def _build_logger_class() -> type:
    try:
        from lightning.pytorch.loggers import Logger
        from lightning.pytorch.loggers.logger import rank_zero_experiment
        from lightning.pytorch.utilities.rank_zero import rank_zero_only
    except ModuleNotFoundError as exc:
        raise missing_framework("GeminiLogger", "PyTorch Lightning", "lightning", exc) from exc

    class GeminiLogger(Logger):
        """Log a Lightning training as a gemini run of ``model_name``.

        Args:
            model_name: the registry's model the run belongs to (created when it does not exist); also
                Lightning's ``name``, so checkpoints go to ``<save_dir>/<model_name>/<run id>/checkpoints``.
            log_model: ``False`` logs no checkpoint; ``True`` logs the checkpoints each ``ModelCheckpoint``
                keeps (its best ``save_top_k`` and ``last``) when training ends; ``"all"`` logs every
                checkpoint as soon as it is saved.
            register_best: when ``fit`` ends with success (the run ``finished``), register the best
                checkpoint (the ``best_model_path`` of the first ``ModelCheckpoint`` that monitors a metric,
                else of the first one) as the next version of ``model_name``, which it then requires, with
                ``version_info`` ``{"monitor", "best_model_score", "epoch", "step"}``; the version is
                ``model_version``. It stores that checkpoint (as ``checkpoints/<file name>``) also when
                ``log_model`` is ``False``. A registration that fails logs a warning, never raises.
            model_run_info: extra top-level keys for the run's info, beside ``params`` and ``framework``.
            run_name: the run's readable name; by default ``version_N``, numbered per model as Lightning
                numbers a logger's versions (``version`` itself, the checkpoint directory, stays the run's id).
            system_metrics: ``False`` keeps the machine's own measures out of the run (``ModelRun.start``'s
                ``system_metrics``).
            save_dir: where Lightning writes checkpoints (the trainer's ``default_root_dir`` when None).
            prefix: put before every metric key (``"fold1"`` logs ``fold1-loss``), as Lightning's loggers do.
        """

        LOGGER_JOIN_CHAR = "-"

        def __init__(
            self,
            model_name: str | None = None,
            log_model: bool | str = False,
            *,
            register_best: bool = False,
            model_run_info: dict | None = None,
            save_dir: str | os.PathLike | None = None,
            prefix: str = "",
            run_name: str | None = None,
            system_metrics: bool = True,
        ) -> None:
            super().__init__()
            if log_model not in (True, False, "all"):
                raise ValueError(f"log_model must be True, False or 'all', got {log_model!r}")
            if register_best and not model_name:
                raise ValueError("register_best=True needs a model_name: a version belongs to a model")
            self._model_name = model_name
            self._log_model = log_model
            self._register_best = bool(register_best)
            self.model_version: ModelVersion | None = None  # what register_best registered
            self._extra_info = dict(model_run_info or {})
            self._save_dir = os.fspath(save_dir) if save_dir is not None else None
            self._prefix = prefix
            self._run_name = run_name
            self._system_metrics = bool(system_metrics)
            self._run: ModelRun | None = None
            self._guard: SigtermGuard | None = None
            self._ended = False
            self._params: dict[str, Any] = {}
            self._checkpoint_callbacks: list[Any] = []
            self._logged_checkpoints: dict[str, tuple[float, int]] = {}
            self._version: str | None = None

        # -- what Lightning reads --------------------------------------------------------------------

        @property
        def name(self) -> str:
            return self._model_name or DEFAULT_NAME

        @property
        def version(self) -> str | None:
            """The run's id, which Lightning puts in the checkpoint directory's path. A run whose start
            has not reached the registry yet (it could not be reached) has no id: its checkpoints go
            under a name of this training's own, fixed from the first time Lightning asks."""
            if rank_zero_only.rank > 0:
                return None
            if self._version is None:
                run_id = self.experiment.id
                self._version = str(run_id) if run_id is not None else f"unrecorded-{uuid.uuid4().hex[:12]}"
            return self._version

        @property
        def run_id(self) -> str | None:
            if rank_zero_only.rank > 0:  # only rank 0 has the run
                return None
            run_id = self.experiment.id
            return None if run_id is None else str(run_id)

        @property
        def save_dir(self) -> str | None:
            return self._save_dir

        @property
        @rank_zero_experiment
        def experiment(self) -> ModelRun:
            """The gemini run, started on first use (on the process of global rank 0 only)."""
            if self._run is None:
                self._run = start_run(
                    model_run_info=self._info(),
                    model_name=self._model_name,
                    run_name=self._run_name if self._run_name is not None else next_version_name(self._model_name),
                    system_metrics=self._system_metrics,
                )
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
            if not self._log_model and not self._register_best:
                return
            if self._log_model == "all":
                self._log_checkpoints(checkpoint_callback)
            if checkpoint_callback not in self._checkpoint_callbacks:
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
            best = None
            try:
                if self._log_model is True:
                    for checkpoint_callback in self._checkpoint_callbacks:
                        self._log_checkpoints(checkpoint_callback)
                if self._register_best and STATUSES.get(status) == "finished":
                    best = self._store_best_checkpoint()
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
                    if best is not None and status == "finished":
                        self._register_best_checkpoint(*best)
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
                self._log_checkpoint(path)

        def _log_checkpoint(self, path: str) -> str | None:
            """Store the checkpoint at ``path`` unless it is stored unchanged; its artifact name, ``None``
            when the file is gone or could not be stored."""
            try:
                stat = os.stat(path)
            except OSError:
                return None
            fingerprint = (stat.st_mtime, stat.st_size)
            name = CHECKPOINT_PREFIX + os.path.basename(path)
            if self._logged_checkpoints.get(path) == fingerprint:
                return name
            if self.experiment.log_artifact(path, name=name) is None:
                logger.warning("gemini could not store the checkpoint %s with run %s", path, self._run.id)
                return None
            self._logged_checkpoints[path] = fingerprint
            return name

        def _store_best_checkpoint(self) -> tuple[str, dict[str, Any]] | None:
            """Store the best checkpoint (when ``log_model`` has not stored it unchanged): its artifact name
            and its ``version_info``; ``None``, with a warning, when there is none or it cannot be stored."""
            run = self._run
            try:
                callback = _best_checkpoint_callback(self._checkpoint_callbacks)
                if callback is None:
                    logger.warning("run %s saved no checkpoint: register_best registers no version", run.id)
                    return None
                path = callback.best_model_path
                name = self._log_checkpoint(path)
                if name is None:
                    logger.warning("gemini could not register the checkpoint %s of run %s: not stored", path, run.id)
                    return None
                score = callback.best_model_score
                info = {
                    "monitor": callback.monitor,
                    "best_model_score": None if score is None else float(score),
                    **_saved_at(path),
                }
                return name, json_safe(info)
            except Exception:
                logger.warning("gemini could not store the best checkpoint of run %s", run.id, exc_info=True)
                return None

        def _register_best_checkpoint(self, name: str, version_info: dict[str, Any]) -> None:
            """Register the stored best checkpoint ``name`` as a version of the run's model; a failure is a
            warning."""
            run = self._run
            try:
                version = run.register_version(name, version_info=version_info)
            except Exception:
                logger.warning("gemini could not register the best checkpoint of run %s", run.id, exc_info=True)
                return
            if version is None:  # the gemini.api log line says why
                logger.warning("gemini could not register %s of run %s as a version", name, run.id)
                return
            self.model_version = version
            logger.info("registered %s of run %s as %s@%d", name, run.id, version.model_name, version.version)

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


__all__ = ["GeminiLogger", "next_version_name", "run_status"]
