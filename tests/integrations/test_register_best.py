"""``register_best``: a real training that ends ``finished`` registers its best weights as a version of
its model (``track_yolo``: ``weights/best.pt``; ``GeminiLogger``: the best checkpoint), with the best
metrics as the version's info; a failed training, or the flag left off, registers nothing. On SQLite
and PostgreSQL, with the trainings of test_ultralytics.py and test_lightning.py.
"""

import hashlib
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import empty_registry
from tests.integrations.frameworks import provide_plot_font, require

pytestmark = pytest.mark.integrations

require("torchvision")
require("ultralytics")
torch = require("torch")
L = require("lightning")
provide_plot_font()

from lightning.pytorch.callbacks import ModelCheckpoint  # noqa: E402
from ultralytics import YOLO  # noqa: E402

from gemini.api.model_run import ModelRun  # noqa: E402
from gemini.api.model_version import ModelVersion  # noqa: E402
from gemini.integrations.lightning import GeminiLogger  # noqa: E402
from gemini.integrations.ultralytics import track_yolo  # noqa: E402
from tests.integrations.test_lightning import BATCHES_PER_EPOCH, Regressor, fit  # noqa: E402
from tests.integrations.test_ultralytics import EPOCHS, failing_on_second_epoch, train, write_dataset  # noqa: E402


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def artifacts_of(run_id) -> dict[str, dict]:
    return {item["name"]: item for item in ModelRun.get_by_id(run_id).list_artifacts()}


def failing_registration(self, artifact_name, version_info=None):
    raise RuntimeError("the registry is down")


# -- Ultralytics -----------------------------------------------------------------------------------------


@dataclass
class Registered:
    """A two-epoch YOLO training with ``register_best=True``, read back from the registry at once."""

    tracker_version: ModelVersion | None
    run: ModelRun
    versions: list[ModelVersion]
    artifacts: dict[str, dict]
    best_metrics: dict[str, list[dict]]
    save_dir: Path
    downloaded: Path


@pytest.fixture(scope="module")
def registered(database_url, tmp_path_factory) -> Registered:
    tmp_path = tmp_path_factory.mktemp("registered")
    with pytest.MonkeyPatch.context() as patch:
        empty_registry(database_url, patch, tmp_path / "artifact-store")
        model = YOLO("yolov8n.yaml")
        tracker = track_yolo(model, "stand_counter", register_best=True)
        train(model, write_dataset(tmp_path), tmp_path / "runs", plots=False)
        run = ModelRun.get_by_id(tracker.run.id)
        versions = ModelVersion.get_all("stand_counter")
        (tmp_path / "downloaded").mkdir()
        return Registered(
            tracker_version=tracker.version,
            run=run,
            versions=versions,
            artifacts=artifacts_of(run.id),
            best_metrics={key: run.get_metric_history(key) for key in run.get_metrics() if key.startswith("best/")},
            save_dir=tmp_path / "runs" / "train",
            downloaded=versions[0].download(tmp_path / "downloaded") if versions else None,
        )


def test_yolo_registers_best_pt_as_version_1_of_the_model(registered):
    assert registered.run.status == "finished"
    assert [(v.model_name, v.version, v.artifact_name, v.aliases) for v in registered.versions] == [
        ("stand_counter", 1, "weights/best.pt", [])
    ]
    assert registered.versions[0].model_run_id == registered.run.id


def test_yolo_version_pins_the_bytes_of_the_stored_best_pt(registered):
    version, stored = registered.versions[0], registered.artifacts["weights/best.pt"]
    best = registered.save_dir / "weights" / "best.pt"
    assert (version.sha256, version.size) == (stored["sha256"], stored["size"]) == (sha256(best), best.stat().st_size)
    assert (registered.downloaded.name, sha256(registered.downloaded)) == ("best.pt", version.sha256)


def test_yolo_version_info_is_the_best_epoch_and_its_metrics(registered):
    info = registered.versions[0].version_info
    assert {"metrics/mAP50(B)", "metrics/mAP50-95(B)", "metrics/precision(B)", "metrics/recall(B)"} <= set(info)
    # The same values as the "best/" metrics logged from Ultralytics' final validation of best.pt.
    assert set(registered.best_metrics) == {f"best/{key}" for key in info if key != "epoch"}
    for key, history in registered.best_metrics.items():
        assert len(history) == 1
        assert info[key.removeprefix("best/")] == pytest.approx(history[0]["value"]), key
        assert info["epoch"] == history[0]["step"]
    assert 1 <= info["epoch"] <= EPOCHS


def test_yolo_tracker_exposes_the_registered_version(registered):
    assert registered.tracker_version is not None
    assert (registered.tracker_version.id, registered.tracker_version.version) == (registered.versions[0].id, 1)


def test_yolo_failed_training_registers_nothing(db, tmp_path):
    model = YOLO("yolov8n.yaml")
    tracker = track_yolo(model, "stand_counter", register_best=True)
    model.add_callback("on_train_epoch_end", failing_on_second_epoch)
    with pytest.raises(RuntimeError, match="out of memory"):
        train(model, write_dataset(tmp_path), tmp_path / "runs", plots=False)
    assert ModelRun.get_by_id(tracker.run.id).status == "failed"
    assert "weights/last.pt" in artifacts_of(tracker.run.id)  # the files are stored, as for any end
    assert (ModelVersion.get_all("stand_counter"), tracker.version) == ([], None)


def test_yolo_registers_nothing_by_default(db, tmp_path):
    model = YOLO("yolov8n.yaml")
    tracker = track_yolo(model, "stand_counter")
    train(model, write_dataset(tmp_path), tmp_path / "runs", plots=False)
    assert "weights/best.pt" in artifacts_of(tracker.run.id)
    assert (ModelVersion.get_all("stand_counter"), tracker.version) == ([], None)


def test_yolo_register_best_without_log_artifacts_stores_best_pt_only(db, tmp_path):
    model = YOLO("yolov8n.yaml")
    tracker = track_yolo(model, "stand_counter", log_artifacts=False, register_best=True)
    train(model, write_dataset(tmp_path), tmp_path / "runs", plots=False)
    assert list(artifacts_of(tracker.run.id)) == ["weights/best.pt"]
    assert [(v.version, v.artifact_name) for v in ModelVersion.get_all("stand_counter")] == [(1, "weights/best.pt")]


def test_yolo_failed_registration_is_a_warning_and_the_run_finishes(db, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(ModelRun, "register_version", failing_registration)
    model = YOLO("yolov8n.yaml")
    tracker = track_yolo(model, "stand_counter", register_best=True)
    with caplog.at_level(logging.WARNING, logger="gemini.integrations"):
        train(model, write_dataset(tmp_path), tmp_path / "runs", plots=False)
    assert ModelRun.get_by_id(tracker.run.id).status == "finished"
    assert (ModelVersion.get_all("stand_counter"), tracker.version) == ([], None)
    assert "could not register weights/best.pt" in caplog.text


def test_yolo_register_best_needs_a_model_name():
    with pytest.raises(ValueError, match="model_name"):
        track_yolo(YOLO("yolov8n.yaml"), register_best=True)


# -- Lightning -------------------------------------------------------------------------------------------


def saved_at(checkpoint: Path) -> dict[str, int]:
    """The epoch and step in Lightning's default checkpoint file name (``epoch=1-step=8.ckpt``)."""
    found = re.fullmatch(r"epoch=(\d+)-step=(\d+)\.ckpt", checkpoint.name)
    return {"epoch": int(found[1]), "step": int(found[2])}


def test_lightning_registers_the_best_checkpoint_as_version_1(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor", log_model=True, register_best=True)
    keeper = ModelCheckpoint(monitor="val_loss", save_top_k=1, save_last=True)
    fit(tmp_path, gemini_logger, callbacks=[keeper])
    best = Path(keeper.best_model_path)
    stored = artifacts_of(gemini_logger.run_id)[f"checkpoints/{best.name}"]
    versions = ModelVersion.get_all("yield_predictor")
    assert [(v.version, v.artifact_name, str(v.model_run_id)) for v in versions] == [
        (1, f"checkpoints/{best.name}", gemini_logger.run_id)
    ]
    pinned = (versions[0].sha256, versions[0].size)
    assert pinned == (stored["sha256"], stored["size"]) == (sha256(best), best.stat().st_size)
    assert versions[0].version_info == {
        "monitor": "val_loss",
        "best_model_score": pytest.approx(float(keeper.best_model_score)),
        **saved_at(best),
    }
    assert versions[0].version_info["best_model_score"] == pytest.approx(
        min(point["value"] for point in ModelRun.get_by_id(gemini_logger.run_id).get_metric_history("val_loss"))
    )
    assert gemini_logger.model_version.id == versions[0].id


def test_lightning_register_best_without_log_model_stores_that_checkpoint_only(db, tmp_path):
    # The trainer's default ModelCheckpoint monitors nothing: its best checkpoint is the latest.
    gemini_logger = GeminiLogger(model_name="yield_predictor", register_best=True)
    trainer = fit(tmp_path, gemini_logger)
    best = Path(trainer.checkpoint_callback.best_model_path)
    assert list(artifacts_of(gemini_logger.run_id)) == [f"checkpoints/{best.name}"]
    (version,) = ModelVersion.get_all("yield_predictor")
    assert (version.version, version.artifact_name, version.sha256) == (1, f"checkpoints/{best.name}", sha256(best))
    assert version.version_info == {"monitor": None, "best_model_score": None, **saved_at(best)}
    assert saved_at(best) == {"epoch": EPOCHS - 1, "step": EPOCHS * BATCHES_PER_EPOCH}


def test_lightning_failed_training_registers_nothing(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor", log_model=True, register_best=True)
    with pytest.raises(RuntimeError, match="diverged"):
        fit(tmp_path, gemini_logger, module=Regressor(fail_at_step=BATCHES_PER_EPOCH + 1))
    assert ModelRun.get_by_id(gemini_logger.run_id).status == "failed"
    assert artifacts_of(gemini_logger.run_id)  # the first epoch's checkpoint, stored as at any end
    assert (ModelVersion.get_all("yield_predictor"), gemini_logger.model_version) == ([], None)


def test_lightning_registers_nothing_by_default(db, tmp_path):
    gemini_logger = GeminiLogger(model_name="yield_predictor", log_model=True)
    fit(tmp_path, gemini_logger)
    assert artifacts_of(gemini_logger.run_id)
    assert (ModelVersion.get_all("yield_predictor"), gemini_logger.model_version) == ([], None)


def test_lightning_failed_registration_is_a_warning_and_the_run_finishes(db, tmp_path, monkeypatch, caplog):
    monkeypatch.setattr(ModelRun, "register_version", failing_registration)
    gemini_logger = GeminiLogger(model_name="yield_predictor", register_best=True)
    with caplog.at_level(logging.WARNING, logger="gemini.integrations"):
        fit(tmp_path, gemini_logger)
    assert ModelRun.get_by_id(gemini_logger.run_id).status == "finished"
    assert (ModelVersion.get_all("yield_predictor"), gemini_logger.model_version) == ([], None)
    assert "could not register the best checkpoint" in caplog.text


def test_lightning_register_best_needs_a_model_name():
    with pytest.raises(ValueError, match="model_name"):
        GeminiLogger(register_best=True)


# -- through a server ------------------------------------------------------------------------------------


@pytest.mark.remote
def test_yolo_registers_best_pt_through_the_server(server, tmp_path):
    model = YOLO("yolov8n.yaml")
    tracker = track_yolo(model, "remote_registered_stand_counter", register_best=True)
    train(model, write_dataset(tmp_path), tmp_path / "runs", plots=False)
    version = ModelVersion.get("remote_registered_stand_counter@1")
    best = tmp_path / "runs" / "train" / "weights" / "best.pt"
    assert (version.version, version.artifact_name, version.sha256) == (1, "weights/best.pt", sha256(best))
    assert version.model_run_id == tracker.run.id
    assert "metrics/mAP50(B)" in version.version_info
    assert tracker.version.id == version.id


@pytest.mark.remote
def test_lightning_registers_the_best_checkpoint_through_the_server(server, tmp_path):
    gemini_logger = GeminiLogger(model_name="remote_registered_yield_predictor", register_best=True)
    keeper = ModelCheckpoint(monitor="val_loss")
    fit(tmp_path, gemini_logger, callbacks=[keeper])
    version = ModelVersion.get("remote_registered_yield_predictor@latest")
    best = Path(keeper.best_model_path)
    assert (version.version, version.artifact_name, version.sha256) == (1, f"checkpoints/{best.name}", sha256(best))
    assert version.version_info["monitor"] == "val_loss"
