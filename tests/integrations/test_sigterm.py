"""SIGTERM (what SLURM and Kubernetes send) to a tracked training: the run ends ``killed`` with its points
and the files the trainer wrote, and the process exits with status 143 (128 + SIGTERM).

The first two trainings run in a process of their own, which says its run's id once the first epoch is
logged and its weights saved, then waits in the second epoch for the signal. The others, in this
process, look at the handler gemini puts in place and takes away: Lightning's own SIGTERM handling, which
stops the training at the end of the batch, is kept. On SQLite only: what is tested is the process's
end, not the database.
"""

import multiprocessing
import signal
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest

from tests.conftest import empty_registry
from tests.integrations.frameworks import require

pytestmark = pytest.mark.integrations

require("torchvision")
require("ultralytics")
torch = require("torch")
L = require("lightning")

import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from gemini.api.model_run import ModelRun  # noqa: E402
from gemini.integrations._runs import SigtermGuard, TrainingTerminated  # noqa: E402
from gemini.integrations.lightning import GeminiLogger  # noqa: E402

TERMINATED = 128 + signal.SIGTERM
WAIT_SECONDS = 120
IMAGE_SIZE = 64

# Trains up to 5 epochs; at the start of the second one, prints the run id and waits for SIGTERM.
YOLO_TRAINER = f"""
import sys, time
from ultralytics import YOLO
from gemini.integrations.ultralytics import track_yolo

data, project = sys.argv[1:3]
model = YOLO("yolov8n.yaml")
tracker = track_yolo(model, model_name="stand_counter")

def wait_in_second_epoch(trainer):
    if trainer.epoch == 1:
        print("gemini run", tracker.run.id, flush=True)
        while True:
            time.sleep(0.05)

model.add_callback("on_train_epoch_start", wait_in_second_epoch)
model.train(
    data=data, epochs=5, imgsz={IMAGE_SIZE}, batch=4, workers=0, device="cpu",
    project=project, name="train", exist_ok=True, verbose=False, plots=False,
)
print("training returned", flush=True)
"""

LIGHTNING_TRAINER = """
import sys, time
import lightning as L
import torch
from torch.utils.data import DataLoader, TensorDataset
from gemini.integrations.lightning import GeminiLogger

root = sys.argv[1]

class Regressor(L.LightningModule):
    def __init__(self):
        super().__init__()
        self.net = torch.nn.Linear(4, 1)

    def training_step(self, batch, batch_index):
        if self.global_step == 4:  # the first step of the second epoch: a long one
            print("gemini run", gemini_logger.run_id, flush=True)
            while not self.trainer.received_sigterm:
                time.sleep(0.05)
        features, target = batch
        loss = torch.nn.functional.mse_loss(self.net(features), target)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)

torch.manual_seed(0)
features = torch.randn(32, 4)
data = DataLoader(TensorDataset(features, features.sum(dim=1, keepdim=True)), batch_size=8)
gemini_logger = GeminiLogger(model_name="yield_predictor", log_model=True)
trainer = L.Trainer(
    logger=gemini_logger, max_epochs=5, default_root_dir=root,
    log_every_n_steps=1, accelerator="cpu", enable_progress_bar=False, enable_model_summary=False,
)
trainer.fit(Regressor(), data)
print("fit returned", flush=True)
"""


def write_dataset(directory: Path) -> Path:
    """Four 64-pixel images with a box each, for training and validation; the dataset's yaml file."""
    rng = np.random.default_rng(0)
    (directory / "images").mkdir(parents=True)
    (directory / "labels").mkdir()
    for index in range(4):
        image = (rng.random((IMAGE_SIZE, IMAGE_SIZE, 3)) * 50).astype("uint8")
        image[16:40, 20:36] = (200, 180, 40)
        Image.fromarray(image).save(directory / "images" / f"{index}.jpg")
        (directory / "labels" / f"{index}.txt").write_text("0 0.4375 0.4375 0.25 0.375\n")
    data = directory / "plots.yaml"
    data.write_text(f"path: {directory}\ntrain: images\nval: images\nnames:\n  0: plant\n")
    return data


class Regressor(L.LightningModule):
    """A linear regressor; ``signal_at_step``: raises SIGTERM in its training step there (``-1``: in its
    ``setup``, before Lightning's own SIGTERM handler is in place)."""

    def __init__(self, signal_at_step: int | None = None):
        super().__init__()
        self.signal_at_step = signal_at_step
        self.net = torch.nn.Linear(4, 1)

    def setup(self, stage):
        if self.signal_at_step == -1:
            signal.raise_signal(signal.SIGTERM)

    def training_step(self, batch, batch_index):
        if self.global_step == self.signal_at_step:
            signal.raise_signal(signal.SIGTERM)
        features, target = batch
        loss = torch.nn.functional.mse_loss(self.net(features), target)
        self.log("train_loss", loss, on_step=True, on_epoch=True)
        return loss

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.05)


def fit(root: Path, gemini_logger, module: Regressor) -> None:
    torch.manual_seed(0)
    features = torch.randn(32, 4)
    data = DataLoader(TensorDataset(features, features.sum(dim=1, keepdim=True)), batch_size=8)
    trainer = L.Trainer(
        logger=gemini_logger, max_epochs=2, default_root_dir=root, log_every_n_steps=1, accelerator="cpu",
        enable_progress_bar=False, enable_model_summary=False,
    )
    trainer.fit(module, data)


@pytest.fixture
def registry(sqlite_database_url, monkeypatch, tmp_path) -> str:
    """An empty SQLite registry, configured in the environment the training processes inherit."""
    return empty_registry(sqlite_database_url, monkeypatch, tmp_path / "artifact-store")


def terminate_in_second_epoch(script: str, *args: str, log: Path) -> tuple[ModelRun, subprocess.CompletedProcess]:
    """Run ``script`` (its stderr to ``log``), send it SIGTERM once it has printed ``gemini run <id>``;
    the stored run and the finished process. A process still there after ``WAIT_SECONDS`` is killed."""
    with open(log, "w") as stderr:
        command = [sys.executable, "-c", script, *args]
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, text=True)
    watchdog = threading.Timer(WAIT_SECONDS, process.kill)
    watchdog.start()
    try:
        printed, run_id = "", None
        for line in process.stdout:  # the frameworks print lines of their own
            printed += line
            if line.startswith("gemini run "):
                run_id = uuid.UUID(line.split()[-1])
                process.send_signal(signal.SIGTERM)
                break
        printed += process.stdout.read()
        process.wait()
    finally:
        watchdog.cancel()
        if process.poll() is None:
            process.kill()
            process.wait()
    finished = subprocess.CompletedProcess(process.args, process.returncode, printed, log.read_text())
    if run_id is None:
        pytest.fail(f"the training exited with {process.returncode} before its second epoch: {finished.stderr}")
    return ModelRun.get_by_id(run_id), finished


def test_sigterm_ends_a_yolo_training_killed_with_its_points_and_last_weights(registry, tmp_path):
    data = write_dataset(tmp_path / "plots")
    run, process = terminate_in_second_epoch(YOLO_TRAINER, str(data), str(tmp_path / "runs"), log=tmp_path / "stderr")
    assert process.returncode == TERMINATED, process.stderr
    assert "training returned" not in process.stdout
    assert (run.status, run.error_type) == ("killed", "SIGTERM")
    # The first epoch's row of results.csv, at its step; nothing of the interrupted second epoch.
    assert [point["step"] for point in run.get_metric_history("train/box_loss")] == [1]
    assert [point["step"] for point in run.get_metric_history("metrics/mAP50(B)")] == [1]
    names = {item["name"] for item in run.list_artifacts()}
    assert {"weights/last.pt", "weights/best.pt", "results.csv", "args.yaml"} <= names


def test_sigterm_ends_a_lightning_training_killed_with_its_points_and_checkpoint(registry, tmp_path):
    run, process = terminate_in_second_epoch(LIGHTNING_TRAINER, str(tmp_path), log=tmp_path / "stderr")
    assert process.returncode == TERMINATED, process.stderr
    assert "fit returned" not in process.stdout
    assert (run.status, run.error_type) == ("killed", "SIGTERM")
    # Lightning stops the training at the end of the step the signal came in.
    assert [point["step"] for point in run.get_metric_history("train_loss_step")] == [0, 1, 2, 3, 4]
    assert [point["step"] for point in run.get_metric_history("train_loss_epoch")] == [3]
    # The checkpoint Lightning saved at the end of the first epoch.
    assert [item["name"] for item in run.list_artifacts()] == ["checkpoints/epoch=0-step=4.ckpt"]


@pytest.fixture
def sigterm_handler():
    """Put back the process's SIGTERM handler after the test."""
    original = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, original)


def test_the_sigterm_handler_is_put_back_when_the_training_ends(registry, tmp_path, sigterm_handler):
    def previous(signum, frame):
        pass

    signal.signal(signal.SIGTERM, previous)
    gemini_logger = GeminiLogger(model_name="yield_predictor")
    fit(tmp_path, gemini_logger, Regressor())
    assert signal.getsignal(signal.SIGTERM) is previous
    assert ModelRun.get_by_id(gemini_logger.run_id).status == "finished"


def test_sigterm_calls_the_previous_handler_and_lightning_stops_at_the_end_of_the_step(
    registry, tmp_path, sigterm_handler
):
    received = []
    signal.signal(signal.SIGTERM, lambda signum, frame: received.append(signum))
    gemini_logger = GeminiLogger(model_name="yield_predictor")
    with pytest.raises(SystemExit) as raised:
        fit(tmp_path, gemini_logger, Regressor(signal_at_step=2))
    assert type(raised.value).__name__ == "SIGTERMException"
    assert raised.value.code is None  # Lightning's: the previous handler took the signal
    assert received == [signal.SIGTERM]
    run = ModelRun.get_by_id(gemini_logger.run_id)
    assert (run.status, run.error_type) == ("killed", "SIGTERM")
    assert [point["step"] for point in run.get_metric_history("train_loss_step")] == [0, 1, 2]
    # Lightning puts back the handler it found (gemini's, of the ended run), which now only passes the
    # signal on to the previous one.
    signal.raise_signal(signal.SIGTERM)
    assert received == [signal.SIGTERM, signal.SIGTERM]


def test_sigterm_before_lightnings_handler_is_in_place_stops_the_training_at_once(
    registry, tmp_path, sigterm_handler
):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    gemini_logger = GeminiLogger(model_name="yield_predictor")
    with pytest.raises(TrainingTerminated) as raised:
        fit(tmp_path, gemini_logger, Regressor(signal_at_step=-1))
    assert raised.value.code == TERMINATED
    run = ModelRun.get_by_id(gemini_logger.run_id)
    assert (run.status, run.error_type) == ("killed", "SIGTERM")
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL


def test_a_process_forked_during_the_training_dies_of_sigterm_as_without_gemini(sigterm_handler):
    # Data loader workers are forked from the training process, its handlers included.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    guard = SigtermGuard()
    guard.install()
    try:
        worker = multiprocessing.get_context("fork").Process(target=signal.raise_signal, args=(signal.SIGTERM,))
        worker.start()
        worker.join(timeout=30)
    finally:
        guard.restore()
    assert worker.exitcode == -signal.SIGTERM
    assert not guard.received
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
