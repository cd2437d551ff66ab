"""Track Ultralytics YOLO training in gemini with one line before ``model.train(...)``.

```python
from ultralytics import YOLO
from gemini.integrations.ultralytics import track_yolo

model = YOLO("yolov8n.yaml")
track_yolo(model, model_name="stand_counter")
model.train(data="plots.yaml", epochs=50)
```

Each ``model.train`` call is one run, named as its training directory (``train2``): started once the
trainer has read its dataset, with the arguments it was given as ``args.yaml`` has them (``params``), the
values the trainer resolved differently (``resolved_params``: ``optimizer: auto`` became ``AdamW``) and
the dataset description (``data``) as its info; every column of each epoch's ``results.csv`` row (losses,
metrics, learning rates, ``time``) logged under Ultralytics' own names with the epoch (as ``results.csv``
counts it) as step; the files of the training directory (weights ``best.pt`` and ``last.pt``, ``results.csv``,
``args.yaml``, plots) logged as artifacts when training ends; the run ends ``finished``, ``failed`` when
training raises, ``killed`` on KeyboardInterrupt and on SIGTERM (which, while the run is open, stops the
training with ``TrainingTerminated``, exit status 143). With ``register_best=True``, a training that ends
``finished`` also registers its ``weights/best.pt`` as the next version of ``model_name``, with the metrics
of Ultralytics' final validation of those weights as its ``version_info``. Importing this module imports
no Ultralytics; ``track_yolo`` without it installed raises an ``ImportError`` naming the extra to install.
"""

import csv
import logging
import sys
from pathlib import Path
from typing import Any

from gemini.api.model_run import ModelRun
from gemini.api.model_version import ModelVersion
from gemini.api.tracking import RunTerminated
from gemini.integrations._runs import SigtermGuard, json_safe, missing_framework, start_run, versions

logger = logging.getLogger("gemini.integrations")

BEST_PREFIX = "best/"
"""Prefix of the metrics of Ultralytics' final validation of ``best.pt``, logged at the step of the
epoch that produced those weights."""

KEPT_WEIGHTS = frozenset({"best.pt", "last.pt"})
"""The files of ``weights/`` logged; the per-epoch copies of ``save_period`` stay on disk only."""

BEST_WEIGHTS = "weights/best.pt"
"""The artifact ``register_best`` registers as a version."""

TIME_KEY = "time"
"""The ``results.csv`` column of the seconds since the training started, logged under its own name."""


class YoloTracker:
    """The callbacks ``track_yolo`` adds to a YOLO model, and the runs they started.

    ``run`` is the run of the latest (or current) ``model.train`` call, ``runs`` all of them in order.
    With ``register_best``, ``version`` is the version registered from the latest training (``None``
    while none was: before the end, after a training that did not finish, or when registration failed),
    ``versions`` those of every training, in order.
    """

    def __init__(
        self,
        *,
        model_name: str | None,
        model_run_info: dict | None,
        log_artifacts: bool,
        register_best: bool = False,
        system_metrics: bool = True,
    ) -> None:
        self.model_name = model_name
        self.model_run_info = dict(model_run_info or {})
        self.log_artifacts = log_artifacts
        self.register_best = register_best
        self.system_metrics = system_metrics
        self.runs: list[ModelRun] = []
        self.version: ModelVersion | None = None
        self.versions: list[ModelVersion] = []
        self._open: ModelRun | None = None
        self._guard: SigtermGuard | None = None
        self._trained_epoch: int | None = None
        self._best: dict[str, Any] | None = None

    @property
    def run(self) -> ModelRun | None:
        return self.runs[-1] if self.runs else None

    def callbacks(self) -> dict[str, Any]:
        return {
            "on_pretrain_routine_end": self.on_pretrain_routine_end,
            "on_train_epoch_end": self.on_train_epoch_end,
            "on_fit_epoch_end": self.on_fit_epoch_end,
            "on_train_end": self.on_train_end,
            "teardown": self.teardown,
        }

    # The dataset is read after on_pretrain_routine_start, so the run starts once it is known.
    def on_pretrain_routine_end(self, trainer: Any) -> None:
        save_dir = Path(trainer.save_dir)
        params, resolved = split_params(save_dir / "args.yaml", json_safe(vars(trainer.args)))
        info = {
            "params": params,
            "resolved_params": resolved,
            "data": json_safe(trainer.data),
            "framework": versions("ultralytics", "torch"),
            **self.model_run_info,
        }
        self._open = start_run(
            model_run_info=info,
            model_name=self.model_name,
            run_name=save_dir.name,
            system_metrics=self.system_metrics,
        )
        self._trained_epoch = None
        self._best = None
        self.version = None
        self.runs.append(self._open)
        # SIGTERM (SLURM, Kubernetes) then stops the training with an exception, as Ctrl-C does, so that
        # `teardown` stores the files and ends the run `killed`.
        self._guard = SigtermGuard()
        self._guard.install()

    def on_train_epoch_end(self, trainer: Any) -> None:
        self._trained_epoch = trainer.epoch

    def on_fit_epoch_end(self, trainer: Any) -> None:
        if self._open is None:
            return
        if trainer.epoch == self._trained_epoch:
            # The row results.csv gets for this epoch, under the same names and epoch number.
            values = {**trainer.label_loss_items(trainer.tloss, prefix="train"), **trainer.metrics, **trainer.lr}
            seconds = results_time(Path(trainer.save_dir) / "results.csv", trainer.epoch + 1)
            if seconds is not None:
                values[TIME_KEY] = seconds
            self._open.log_metrics(_numbers(values), step=trainer.epoch + 1)
        else:
            # Ultralytics' final validation of best.pt, after the last epoch; its early stopper counts
            # the epoch of the best fitness from 1, as results.csv does.
            best_epoch = getattr(getattr(trainer, "stopper", None), "best_epoch", None) or trainer.epoch
            best = _numbers(dict(trainer.metrics))
            self._best = {"epoch": best_epoch, **best}
            self._open.log_metrics({BEST_PREFIX + key: value for key, value in best.items()}, step=best_epoch)

    def on_train_end(self, trainer: Any) -> None:
        self._finish(trainer, "finished")

    # Runs in the trainer's `finally`: a run still open here means training raised.
    def teardown(self, trainer: Any) -> None:
        if self._open is not None:
            raised = sys.exc_info()[1]
            if self._guard is not None and self._guard.received and not isinstance(raised, RunTerminated):
                raised = RunTerminated()  # SIGTERM, though a previous handler of it raised something else
            killed = isinstance(raised, (KeyboardInterrupt, RunTerminated))
            self._finish(trainer, "killed" if killed else "failed", raised)

    def _finish(self, trainer: Any, status: str, error: BaseException | None = None) -> None:
        run, self._open = self._open, None
        guard, self._guard = self._guard, None
        if run is None:
            return
        if guard is not None:
            guard.ending()
        best, self._best = self._best, None
        register = self.register_best and status == "finished"
        stored = False
        try:
            files = training_files(Path(trainer.save_dir))
            if not self.log_artifacts:  # register_best stores the file it registers, and only that one
                files = [(path, name) for path, name in files if register and name == BEST_WEIGHTS]
            for path, name in files:
                if run.log_artifact(str(path), name=name) is None:
                    logger.warning("gemini could not store %s with run %s", path, run.id)
            stored = True
        finally:
            try:
                run.end(status=status, error=error)
                if register and stored:  # after the files are stored, and only a finished training
                    self._register(run, best)
            finally:
                if guard is not None:
                    guard.restore(error)

    def _register(self, run: ModelRun, best: dict[str, Any] | None) -> None:
        """Register the run's ``weights/best.pt`` with the metrics of its final validation (``best``);
        a failure is a warning, never an error of the training."""
        try:
            if best is None:
                logger.warning("run %s: Ultralytics did not validate best.pt; its version has no metrics", run.id)
            version = run.register_version(BEST_WEIGHTS, version_info=json_safe(best or {}))
        except Exception:
            logger.warning("gemini could not register %s of run %s as a version", BEST_WEIGHTS, run.id, exc_info=True)
            return
        if version is None:  # the gemini.api log line says why
            logger.warning("gemini could not register %s of run %s as a version", BEST_WEIGHTS, run.id)
            return
        self.version = version
        self.versions.append(version)
        logger.info("registered %s of run %s as %s@%d", BEST_WEIGHTS, run.id, version.model_name, version.version)


def training_files(save_dir: Path) -> list[tuple[Path, str]]:
    """The files of a training directory to keep with its run, with their names relative to it."""
    if not save_dir.is_dir():
        return []
    files = []
    for path in sorted(save_dir.rglob("*")):
        if not path.is_file():
            continue
        relative = path.relative_to(save_dir)
        if relative.parts[0] == "weights" and relative.name not in KEPT_WEIGHTS:
            continue
        files.append((path, relative.as_posix()))
    return files


def split_params(args_yaml: Path, resolved: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The trainer's arguments as given (``args.yaml``, which the trainer writes before it resolves any),
    and, of the values it runs with (``resolved``), those that differ from them or that it added.

    When ``args.yaml`` cannot be read, the values it runs with are the arguments (a warning says so)."""
    import yaml  # Ultralytics' own dependency, there whenever its trainer is

    try:
        with open(args_yaml, encoding="utf-8") as file:
            given = yaml.safe_load(file)
    except (OSError, yaml.YAMLError) as exc:
        given = exc
    if not isinstance(given, dict):
        logger.warning(
            "gemini could not read the trainer's arguments from %s (%s); params holds the values it runs with",
            args_yaml,
            given,
        )
        return resolved, {}
    given = json_safe(given)
    return given, {key: value for key, value in resolved.items() if key not in given or given[key] != value}


def results_time(results_csv: Path, epoch: int) -> float | None:
    """The ``time`` column of ``results.csv``'s row for ``epoch`` (counted from 1, as the file does);
    ``None`` when the file has no such row."""
    try:
        with open(results_csv, newline="", encoding="utf-8") as file:
            rows = list(csv.reader(file))  # a row an epoch: small
    except OSError:
        return None
    if len(rows) < 2:
        return None
    row = dict(zip((name.strip() for name in rows[0]), (value.strip() for value in rows[-1])))
    try:
        if int(float(row["epoch"])) != epoch:
            return None
        return float(row[TIME_KEY])
    except (KeyError, ValueError):
        return None


def _numbers(values: dict[str, Any]) -> dict[str, float]:
    """The values that are numbers, as floats (numpy and torch scalars included)."""
    numbers = {}
    for key, value in values.items():
        try:
            numbers[key] = float(value)
        except (TypeError, ValueError):
            logger.warning("not logging %r: %r is not a number", key, value)
    return numbers


def track_yolo(
    model: Any,
    model_name: str | None = None,
    *,
    model_run_info: dict | None = None,
    log_artifacts: bool = True,
    register_best: bool = False,
    system_metrics: bool = True,
) -> YoloTracker:
    """Log every ``model.train(...)`` of this Ultralytics ``model`` as a gemini run of ``model_name``.

    ``model_name`` is created in the registry when it does not exist. ``model_run_info`` adds top-level
    keys to each run's info (beside ``params``, ``data`` and ``framework``, which it may replace).
    ``log_artifacts=False`` keeps the training directory's files out of the registry.
    ``register_best=True`` registers ``weights/best.pt`` of each training that ends ``finished`` as the
    next version of ``model_name`` (which it then requires), its ``version_info`` the epoch that produced
    the weights and the metrics of Ultralytics' final validation of them (``{"epoch": 2,
    "metrics/mAP50(B)": ..., ...}``); with ``log_artifacts=False``, ``weights/best.pt`` is the one file
    stored. A registration that fails logs a warning and leaves the training and its run as they are.
    ``system_metrics=False`` keeps the machine's own measures out of the runs (``ModelRun.start``'s
    ``system_metrics``). Each run is named as its training directory (Ultralytics' ``name``: ``train``,
    ``train2``, ...). Returns the tracker, whose ``run`` is the run of the latest training and ``version``
    its version.
    """
    try:
        import ultralytics  # noqa: F401 - imported already by whoever made the model
    except ModuleNotFoundError as exc:
        raise missing_framework("track_yolo", "Ultralytics", "ultralytics", exc) from exc
    if register_best and not model_name:
        raise ValueError("register_best=True needs a model_name: a version belongs to a model")
    tracker = YoloTracker(
        model_name=model_name,
        model_run_info=model_run_info,
        log_artifacts=log_artifacts,
        register_best=register_best,
        system_metrics=system_metrics,
    )
    for event, callback in tracker.callbacks().items():
        model.add_callback(event, callback)
    return tracker
