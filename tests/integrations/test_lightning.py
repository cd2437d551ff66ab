"""GeminiLogger with real Lightning training on the CPU, on SQLite and PostgreSQL."""

import hashlib
import math
import pickle
import signal
import time
from pathlib import Path

import pytest

from tests.integrations.frameworks import require

pytestmark = pytest.mark.integrations

torch = require("torch")
L = require("lightning")

from lightning.pytorch.callbacks import ModelCheckpoint  # noqa: E402
from lightning.pytorch.loggers import Logger  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from gemini.api.model import Model  # noqa: E402
from gemini.api.model_run import ModelRun  # noqa: E402
from gemini.integrations.lightning import GeminiLogger  # noqa: E402

EPOCHS = 2
BATCHES_PER_EPOCH = 4


class Regressor(L.LightningModule):
    """A two-layer regressor; ``fail_at_step`` makes its training step raise there."""

    def __init__(self, lr: float = 0.05, hidden: int = 8, layers: list | None = None, fail_at_step: int | None = None):
        super().__init__()
        self.save_hyperparameters()
        self.net = torch.nn.Sequential(torch.nn.Linear(4, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 1))

    def training_step(self, batch, batch_index):
        if self.hparams.fail_at_step is not None and self.global_step >= self.hparams.fail_at_step:
            raise RuntimeError("diverged")
        features, target = batch
        loss = torch.nn.functional.mse_loss(self.net(features), target)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def validation_step(self, batch, batch_index):
        features, target = batch
        self.log("val_loss", torch.nn.functional.mse_loss(self.net(features), target))

    def test_step(self, batch, batch_index):
        features, target = batch
        self.log("test_loss", torch.nn.functional.mse_loss(self.net(features), target))

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=self.hparams.lr)


class Recorder(Logger):
    """A second logger: what Lightning reported, to compare with what gemini stored."""

    def __init__(self):
        super().__init__()
        self.points: dict[str, list[tuple[int, float]]] = {}
        self.hyperparameters: dict = {}
        self.statuses: list[str] = []

    name = "recorder"
    version = 0

    def log_metrics(self, metrics, step=None):
        for key, value in metrics.items():
            self.points.setdefault(key, []).append((step, float(value)))

    def log_hyperparams(self, params, *args, **kwargs):
        self.hyperparameters.update(params)

    def finalize(self, status):
        self.statuses.append(status)


def loaders():
    generator = torch.Generator().manual_seed(0)
    features = torch.randn(32, 4, generator=generator)
    target = features.sum(dim=1, keepdim=True)
    data = TensorDataset(features, target)
    return DataLoader(data, batch_size=32 // BATCHES_PER_EPOCH), DataLoader(data, batch_size=16)


def fit(tmp_path: Path, gemini_logger, module=None, recorder=None, callbacks=None) -> L.Trainer:
    torch.manual_seed(0)
    trainer = L.Trainer(
        logger=[gemini_logger, recorder or Recorder()],
        callbacks=callbacks,
        max_epochs=EPOCHS,
        default_root_dir=tmp_path,
        log_every_n_steps=1,
        accelerator="cpu",
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    train, validation = loaders()
    trainer.fit(module or Regressor(layers=[8, 1]), train, validation)
    return trainer


def stored_run(logger) -> ModelRun:
    return ModelRun.get_by_id(logger.run_id)


def test_gemini_logger_is_a_lightning_logger():
    assert issubclass(GeminiLogger, Logger)


def test_gemini_logger_pickles_as_lightning_does_for_spawned_processes():
    copy = pickle.loads(pickle.dumps(GeminiLogger(model_name="yield_predictor")))
    assert type(copy) is GeminiLogger
    assert copy.name == "yield_predictor"


def test_log_model_other_than_true_false_or_all_is_refused():
    with pytest.raises(ValueError, match="log_model"):
        GeminiLogger(model_name="yield_predictor", log_model="best")


def test_run_info_holds_the_hyperparameters_lightning_logged(db, tmp_path):
    gemini_logger, recorder = GeminiLogger(model_name="yield_predictor"), Recorder()
    fit(tmp_path, gemini_logger, recorder=recorder)
    info = stored_run(gemini_logger).model_run_info
    assert info["params"] == {"lr": 0.05, "hidden": 8, "layers": [8, 1], "fail_at_step": None}
    assert info["params"] == dict(recorder.hyperparameters)
    assert info["framework"]["lightning"] == L.__version__


def test_run_belongs_to_the_named_model_created_on_first_use(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor")
    fit(tmp_path, gemini_logger)
    assert stored_run(gemini_logger).model_id == Model.get("yield_predictor").id


def test_model_run_info_adds_keys_beside_the_hyperparameters(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor", model_run_info={"data": {"site": "Davis"}})
    fit(tmp_path, gemini_logger)
    info = stored_run(gemini_logger).model_run_info
    assert info["data"] == {"site": "Davis"}
    assert info["params"]["lr"] == 0.05


def test_metric_histories_hold_every_step_and_value_lightning_reported(db, tmp_path):
    gemini_logger, recorder = GeminiLogger(model_name="yield_predictor"), Recorder()
    fit(tmp_path, gemini_logger, recorder=recorder)
    run = stored_run(gemini_logger)
    assert set(recorder.points) == {"train_loss_step", "train_loss_epoch", "val_loss", "epoch"}
    for key, reported in recorder.points.items():
        # One point per step: Lightning reports "epoch" with each call, several at one step.
        expected = sorted(dict(reported).items())
        history = run.get_metric_history(key)
        assert [(point["step"], point["value"]) for point in history] == expected, key


def test_steps_are_lightnings_global_steps(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor")
    fit(tmp_path, gemini_logger)
    steps = [point["step"] for point in stored_run(gemini_logger).get_metric_history("train_loss_step")]
    assert steps == list(range(EPOCHS * BATCHES_PER_EPOCH))


def test_metric_summary_has_the_last_epoch_loss(db, tmp_path):
    gemini_logger, recorder = GeminiLogger(model_name="yield_predictor"), Recorder()
    fit(tmp_path, gemini_logger, recorder=recorder)
    summary = stored_run(gemini_logger).get_metrics()["val_loss"]
    assert summary["last"] == pytest.approx(recorder.points["val_loss"][-1][1])
    assert summary["count"] == EPOCHS


def test_prefix_goes_before_every_metric_key(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor", prefix="fold1")
    fit(tmp_path, gemini_logger)
    assert "fold1-val_loss" in stored_run(gemini_logger).get_metrics()


def test_version_is_the_run_id_and_names_the_checkpoint_directory(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor")
    trainer = fit(tmp_path, gemini_logger)
    assert gemini_logger.version == gemini_logger.run_id == str(stored_run(gemini_logger).id)
    assert Path(trainer.checkpoint_callback.dirpath) == tmp_path / "yield_predictor" / gemini_logger.version / "checkpoints"


def test_runs_are_named_version_n_per_model_as_lightning_numbers_versions(db, tmp_path):
    names = []
    for model_name in ("yield_predictor", "yield_predictor", "stand_counter", "yield_predictor"):
        gemini_logger = GeminiLogger(model_name=model_name)
        fit(tmp_path, gemini_logger)
        names.append(stored_run(gemini_logger).run_name)
    assert names == ["version_0", "version_1", "version_0", "version_2"]
    found = ModelRun.search(model_name="yield_predictor", where='name = "version_1"')
    assert [run.run_name for run in found] == ["version_1"]


def test_the_numbering_goes_on_from_the_highest_version_and_ignores_other_names(db, tmp_path):
    for name in ("version_4", "version_x", "baseline"):
        ModelRun.start(model_name="yield_predictor", run_name=name).end()
    gemini_logger = GeminiLogger(model_name="yield_predictor")
    fit(tmp_path, gemini_logger)
    assert stored_run(gemini_logger).run_name == "version_5"


def test_run_name_names_the_run_and_can_be_changed(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor", run_name="baseline lr=0.05")
    fit(tmp_path, gemini_logger)
    run = stored_run(gemini_logger)
    assert run.run_name == "baseline lr=0.05"
    assert run.rename("baseline") is not None and stored_run(gemini_logger).run_name == "baseline"


def test_a_run_without_a_model_is_numbered_among_runs_without_one(db, tmp_path):
    ModelRun.start(model_name="yield_predictor", run_name="version_7").end()
    gemini_logger = GeminiLogger()
    fit(tmp_path, gemini_logger)
    assert stored_run(gemini_logger).run_name == "version_0"


class SlowEpochs(L.Callback):
    """Each epoch lasts long enough for the system metrics' sampler (every 0.05 s here) to sample."""

    def on_train_epoch_end(self, trainer, module):
        time.sleep(0.5)


def test_system_metrics_are_sampled_unless_turned_off(db, tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_SYSTEM_METRICS_INTERVAL", "0.05")
    sampled, quiet = GeminiLogger(model_name="yield_predictor"), GeminiLogger(model_name="yield_predictor", system_metrics=False)
    fit(tmp_path, sampled, callbacks=[SlowEpochs()])
    fit(tmp_path, quiet, callbacks=[SlowEpochs()])
    assert "system/cpu_percent" in stored_run(sampled).get_metrics()
    assert not [key for key in stored_run(quiet).get_metrics() if key.startswith("system/")]


def test_run_ends_finished_when_fit_succeeds(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor")
    fit(tmp_path, gemini_logger)
    assert stored_run(gemini_logger).status == "finished"


def test_training_that_raises_ends_the_run_failed_and_keeps_its_points(db, tmp_path):
    gemini_logger, recorder = GeminiLogger(model_name="yield_predictor"), Recorder()
    with pytest.raises(RuntimeError, match="diverged"):
        fit(tmp_path, gemini_logger, module=Regressor(fail_at_step=BATCHES_PER_EPOCH + 1), recorder=recorder)
    run = stored_run(gemini_logger)
    assert recorder.statuses == ["failed"]
    assert (run.status, run.error_type, run.error_message) == ("failed", "RuntimeError", "diverged")
    assert [point["step"] for point in run.get_metric_history("train_loss_step")] == list(range(BATCHES_PER_EPOCH + 1))


def test_no_checkpoint_is_logged_by_default(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor")
    fit(tmp_path, gemini_logger)
    assert stored_run(gemini_logger).list_artifacts() == []


def test_log_model_logs_the_checkpoint_lightning_kept(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor", log_model=True)
    trainer = fit(tmp_path, gemini_logger)
    checkpoint = Path(trainer.checkpoint_callback.best_model_path)
    artifacts = stored_run(gemini_logger).list_artifacts()
    assert [(item["name"], item["size"], item["sha256"]) for item in artifacts] == [
        (f"checkpoints/{checkpoint.name}", checkpoint.stat().st_size, hashlib.sha256(checkpoint.read_bytes()).hexdigest())
    ]


def test_log_model_logs_the_best_k_and_last_of_a_monitoring_checkpoint(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor", log_model=True)
    keeper = ModelCheckpoint(monitor="val_loss", save_top_k=1, save_last=True, filename="best-{epoch}")
    fit(tmp_path, gemini_logger, callbacks=[keeper])
    names = sorted(item["name"] for item in stored_run(gemini_logger).list_artifacts())
    assert names == sorted({f"checkpoints/{Path(keeper.best_model_path).name}", "checkpoints/last.ckpt"})


def test_log_model_all_logs_every_checkpoint_as_it_is_saved(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor", log_model="all")
    fit(tmp_path, gemini_logger)
    names = sorted(item["name"] for item in stored_run(gemini_logger).list_artifacts())
    steps = [BATCHES_PER_EPOCH * (epoch + 1) for epoch in range(EPOCHS)]
    assert names == [f"checkpoints/epoch={epoch}-step={step}.ckpt" for epoch, step in enumerate(steps)]


def test_non_finite_hyperparameters_are_kept_as_text(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor")
    gemini_logger.log_hyperparams({"clip": math.inf, "path": tmp_path})
    gemini_logger.finalize("success")
    assert stored_run(gemini_logger).model_run_info["params"] == {"clip": "inf", "path": str(tmp_path)}


def test_keyboard_interrupt_ends_the_run_killed(db, tmp_path):
    class Interrupted(Regressor):
        def training_step(self, batch, batch_index):
            raise KeyboardInterrupt

    gemini_logger = GeminiLogger(model_name="yield_predictor")
    sigint = signal.getsignal(signal.SIGINT)
    try:
        with pytest.raises(SystemExit):  # Lightning's answer to Ctrl-C: finalize, then exit(1)
            fit(tmp_path, gemini_logger, module=Interrupted())
    finally:
        signal.signal(signal.SIGINT, sigint)  # Lightning ignores further Ctrl-C while it shuts down
    assert stored_run(gemini_logger).status == "killed"


def test_test_after_fit_logs_into_the_same_run_which_keeps_its_status(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor")
    trainer = fit(tmp_path, gemini_logger)
    trainer.test(trainer.lightning_module, loaders()[1], verbose=False)
    run = stored_run(gemini_logger)
    assert (run.status, "test_loss" in run.get_metrics()) == ("finished", True)


def test_a_run_the_registry_refuses_to_start_stops_fit_at_its_start(db, tmp_path):
    with pytest.raises(RuntimeError, match="could not start a run"):
        fit(tmp_path, GeminiLogger(model_name=" "))
    assert ModelRun.count() == 0
