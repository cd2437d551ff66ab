"""Both integrations through a real ``gemini serve`` (``GEMINI_API_URL``), as a training node logs to a
team server: the same two lines, no database on the client.

The client's ``GEMINI_DATABASE_URL`` points at a file that cannot exist, so any local database access
would fail; what the training logged is read back through the server, and its points counted in the
server's own database.
"""

import hashlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from tests.integrations.frameworks import provide_plot_font, require

pytestmark = [pytest.mark.integrations, pytest.mark.remote]

require("torch")
require("lightning")
require("torchvision")
require("ultralytics")
provide_plot_font()

from ultralytics import YOLO  # noqa: E402

from gemini.api.model import Model  # noqa: E402
from gemini.api.model_run import ModelRun  # noqa: E402
from gemini.integrations.lightning import GeminiLogger  # noqa: E402
from gemini.integrations.ultralytics import track_yolo  # noqa: E402
from tests.integrations.test_lightning import BATCHES_PER_EPOCH, Recorder, Regressor, fit  # noqa: E402
from tests.integrations.test_ultralytics import EPOCHS, train, write_dataset  # noqa: E402


def points_on_the_server(server, run_id) -> int:
    engine = sa.create_engine(server.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(
                # The training's own points: the machine's (system/...) come every 15 s on their own.
                sa.text(
                    "SELECT sum(value_count) FROM run_metric_summaries WHERE run_id = :run AND key NOT LIKE 'system/%'"
                ),
                {"run": run_id.hex},
            ).scalar_one()
    finally:
        engine.dispose()


def test_lightning_logs_a_training_through_the_server(server, tmp_path):
    gemini_logger, recorder = GeminiLogger(model_name="remote_yield_predictor", log_model=True), Recorder()
    trainer = fit(tmp_path, gemini_logger, recorder=recorder)
    run = ModelRun.get_by_id(gemini_logger.run_id)
    assert run.status == "finished"
    assert run.model_id == Model.get("remote_yield_predictor").id
    assert run.model_run_info["params"] == dict(recorder.hyperparameters)
    # Named version_N, N read through the server (its database may hold earlier runs of the model).
    assert run.run_name.startswith("version_")
    named = ModelRun.search(model_name="remote_yield_predictor", where=f'name = "{run.run_name}"')
    assert run.id in [found.id for found in named]
    for key, reported in recorder.points.items():
        history = run.get_metric_history(key)
        assert [(point["step"], point["value"]) for point in history] == sorted(dict(reported).items()), key
    assert points_on_the_server(server, run.id) == sum(len(dict(points)) for points in recorder.points.values())
    checkpoint = Path(trainer.checkpoint_callback.best_model_path)
    assert [(item["name"], item["sha256"]) for item in run.list_artifacts()] == [
        (f"checkpoints/{checkpoint.name}", hashlib.sha256(checkpoint.read_bytes()).hexdigest())
    ]
    copy = run.download_artifact(f"checkpoints/{checkpoint.name}", str(tmp_path / "copy.ckpt"))
    assert Path(copy).read_bytes() == checkpoint.read_bytes()


def test_lightning_training_that_raises_ends_failed_on_the_server(server, tmp_path):
    gemini_logger = GeminiLogger(model_name="remote_yield_predictor")
    with pytest.raises(RuntimeError, match="diverged"):
        fit(tmp_path, gemini_logger, module=Regressor(fail_at_step=BATCHES_PER_EPOCH + 1))
    run = ModelRun.get_by_id(gemini_logger.run_id)
    assert (run.status, run.error_type, run.error_message) == ("failed", "RuntimeError", "diverged")
    assert [point["step"] for point in run.get_metric_history("train_loss_step")] == list(range(BATCHES_PER_EPOCH + 1))


def test_yolo_logs_a_training_through_the_server(server, tmp_path):
    model = YOLO("yolov8n.yaml")
    tracker = track_yolo(model, model_name="remote_stand_counter")
    train(model, write_dataset(tmp_path), tmp_path / "runs", plots=False)
    run = ModelRun.get_by_id(tracker.run.id)
    assert run.status == "finished"
    assert run.model_id == Model.get("remote_stand_counter").id
    assert run.run_name == "train"
    assert run.model_run_info["resolved_params"]["optimizer"] != run.model_run_info["params"]["optimizer"] == "auto"
    assert [point["step"] for point in run.get_metric_history("train/box_loss")] == list(range(1, EPOCHS + 1))
    weights = tmp_path / "runs" / "train" / "weights"
    stored = {item["name"]: item["sha256"] for item in run.list_artifacts()}
    for name in ("best.pt", "last.pt"):
        assert stored[f"weights/{name}"] == hashlib.sha256((weights / name).read_bytes()).hexdigest()
    assert "results.csv" in stored
