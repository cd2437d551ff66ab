"""track_yolo with real Ultralytics training (yolov8n.yaml, no weights) on the CPU, on SQLite and PostgreSQL.

Each test trains on a dataset it writes: a few 64-pixel images with boxes and their YOLO labels.
"""

import csv
import hashlib
import socket
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.integrations.frameworks import provide_plot_font, require

pytestmark = pytest.mark.integrations

require("torchvision")
ultralytics = require("ultralytics")
provide_plot_font()

import numpy as np  # noqa: E402
import yaml  # noqa: E402
from PIL import Image  # noqa: E402
from ultralytics import YOLO  # noqa: E402

from gemini.api.model import Model  # noqa: E402
from gemini.api.model_run import ModelRun  # noqa: E402
from gemini.integrations._runs import json_safe  # noqa: E402
from gemini.integrations.ultralytics import track_yolo  # noqa: E402

EPOCHS = 2
IMAGE_SIZE = 64
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def write_dataset(directory: Path) -> Path:
    """A detection dataset of yellow boxes on dark noise, one class, train and val splits; its yaml file."""
    rng = np.random.default_rng(0)
    root = directory / "plots"
    for split in ("train", "val"):
        (root / "images" / split).mkdir(parents=True)
        (root / "labels" / split).mkdir(parents=True)
        for index in range(4):
            image = (rng.random((IMAGE_SIZE, IMAGE_SIZE, 3)) * 50).astype("uint8")
            labels = []
            for _ in range(2):
                width, height = rng.integers(10, 25, 2)
                x, y = rng.integers(0, IMAGE_SIZE - 25, 2)
                image[y : y + height, x : x + width] = (200, 180, 40)
                centre_x, centre_y = (x + width / 2) / IMAGE_SIZE, (y + height / 2) / IMAGE_SIZE
                labels.append(f"0 {centre_x:.5f} {centre_y:.5f} {width / IMAGE_SIZE:.5f} {height / IMAGE_SIZE:.5f}")
            Image.fromarray(image).save(root / "images" / split / f"{index}.jpg")
            (root / "labels" / split / f"{index}.txt").write_text("\n".join(labels) + "\n")
    data = root / "plots.yaml"
    data.write_text(f"path: {root}\ntrain: images/train\nval: images/val\nnames:\n  0: plant\n")
    return data


@pytest.fixture
def dataset(tmp_path) -> Path:
    return write_dataset(tmp_path)


def train(model, data: Path, project: Path, name: str = "train", plots: bool = True, exist_ok: bool = True):
    """Train two epochs on the CPU; ``plots=False`` for the tests that read no plot (they are slow);
    ``exist_ok=False`` makes Ultralytics number the directory (``train2``) when ``name`` is taken."""
    return model.train(
        data=str(data), epochs=EPOCHS, imgsz=IMAGE_SIZE, batch=4, workers=0, device="cpu",
        project=str(project), name=name, exist_ok=exist_ok, verbose=False, plots=plots,
    )


@dataclass
class Trained:
    """A tracked two-epoch training, read back from the registry at once (later tests empty it)."""

    run: ModelRun
    save_dir: Path
    dataset: Path
    model_id: object
    histories: dict[str, list[dict]]
    artifacts: list[dict]
    found_by_loss: list[ModelRun]
    found_by_launch_settings: list[ModelRun]


@pytest.fixture(scope="module")
def trained(database_url, tmp_path_factory) -> Trained:
    """One training per database for the tests that only read what it logged."""
    tmp_path = tmp_path_factory.mktemp("trained")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("GEMINI_DATABASE_URL", database_url)
        patch.setenv("GEMINI_ARTIFACT_ROOT", str(tmp_path / "artifact-store"))
        model = YOLO("yolov8n.yaml")
        tracker = track_yolo(model, model_name="stand_counter")
        data = write_dataset(tmp_path)
        train(model, data, tmp_path / "runs")
        run = ModelRun.get_by_id(tracker.run.id)
        return Trained(
            run=run,
            save_dir=tmp_path / "runs" / "train",
            dataset=data,
            model_id=Model.get("stand_counter").id,
            histories={key: run.get_metric_history(key) for key in run.get_metrics()},
            artifacts=run.list_artifacts(),
            found_by_loss=ModelRun.search(model_name="stand_counter", where="min(metric.`train/box_loss`) > 0") or [],
            found_by_launch_settings=ModelRun.search(
                model_name="stand_counter", where='params.lr0 = 0.01 and params.optimizer = "auto" and name = "train"'
            )
            or [],
        )


def results_csv(save_dir: Path) -> list[dict[str, str]]:
    with open(save_dir / "results.csv", newline="") as file:
        return [{key.strip(): value for key, value in row.items()} for row in csv.DictReader(file)]


def failing_on_second_epoch(trainer):
    if trainer.epoch == 1:
        raise RuntimeError("out of memory")


def test_run_info_holds_the_trainer_arguments(trained):
    params = trained.run.model_run_info["params"]
    assert (params["epochs"], params["imgsz"], params["model"], params["task"]) == (EPOCHS, IMAGE_SIZE, "yolov8n.yaml", "detect")


def test_params_are_the_arguments_as_args_yaml_has_them(trained):
    given = yaml.safe_load((trained.save_dir / "args.yaml").read_text(encoding="utf-8"))
    params = trained.run.model_run_info["params"]
    assert params == json_safe(given)
    assert (params["optimizer"], params["lr0"]) == ("auto", 0.01)  # Ultralytics' defaults, as launched


def test_resolved_params_hold_only_what_the_trainer_changed(trained):
    info = trained.run.model_run_info
    resolved, params = info["resolved_params"], info["params"]
    # optimizer=auto picks AdamW for a short training, and its lr0 from the number of classes (one).
    assert (resolved["optimizer"], resolved["lr0"]) == ("AdamW", round(0.002 * 5 / (4 + 1), 6))
    assert all(params.get(key) != value for key, value in resolved.items())
    assert "epochs" not in resolved and "imgsz" not in resolved


def test_a_run_is_found_by_the_settings_it_was_launched_with(trained):
    assert [run.id for run in trained.found_by_launch_settings] == [trained.run.id]


def test_the_run_is_named_as_its_training_directory(trained):
    assert trained.run.run_name == trained.save_dir.name == "train"


def test_results_csv_time_column_is_logged_as_time(trained):
    rows = results_csv(trained.save_dir)
    history = trained.histories["time"]
    assert [point["step"] for point in history] == [int(row["epoch"]) for row in rows]
    assert [point["value"] for point in history] == pytest.approx([float(row["time"]) for row in rows], rel=1e-5)


def test_run_info_holds_the_dataset_description(trained):
    data = trained.run.model_run_info["data"]
    assert (data["names"], data["nc"], data["yaml_file"]) == ({"0": "plant"}, 1, str(trained.dataset))


def test_run_belongs_to_the_named_model_created_on_first_use(trained):
    assert trained.run.model_id == trained.model_id


def test_every_epoch_logs_its_results_csv_row_with_the_epoch_as_step(trained):
    rows = results_csv(trained.save_dir)
    keys = [key for key in rows[0] if key != "epoch"]
    assert {"train/box_loss", "metrics/mAP50(B)", "val/cls_loss", "lr/pg0"} <= set(keys)
    for key in keys:
        history = trained.histories[key]
        assert [point["step"] for point in history] == [int(row["epoch"]) for row in rows], key
        # results.csv holds six significant digits.
        expected = [float(row[key]) for row in rows]
        assert [point["value"] for point in history] == pytest.approx(expected, rel=1e-5, abs=1e-9), key


def test_runs_are_found_by_ultralytics_metric_names_in_backquotes(trained):
    assert trained.run.id in [run.id for run in trained.found_by_loss]


def test_final_validation_of_best_weights_is_logged_under_best(trained):
    history = trained.histories["best/metrics/mAP50-95(B)"]
    assert len(history) == 1
    assert 1 <= history[0]["step"] <= EPOCHS


def test_weights_results_and_plots_are_artifacts_with_their_digests(trained):
    stored = {item["name"]: item for item in trained.artifacts}
    for name in ("weights/best.pt", "weights/last.pt", "results.csv", "args.yaml", "results.png"):
        content = (trained.save_dir / name).read_bytes()
        assert (stored[name]["size"], stored[name]["sha256"]) == (len(content), hashlib.sha256(content).hexdigest())


def test_every_file_of_the_training_directory_is_an_artifact(trained):
    save_dir = trained.save_dir
    on_disk = sorted(path.relative_to(save_dir).as_posix() for path in save_dir.rglob("*") if path.is_file())
    assert sorted(item["name"] for item in trained.artifacts) == on_disk


def test_run_ends_finished(trained):
    assert trained.run.status == "finished"


def test_training_that_raises_ends_the_run_failed_and_keeps_the_first_epoch(db, dataset, tmp_path):
    model = YOLO("yolov8n.yaml")
    tracker = track_yolo(model, model_name="stand_counter")
    model.add_callback("on_train_epoch_end", failing_on_second_epoch)
    with pytest.raises(RuntimeError, match="out of memory"):
        train(model, dataset, tmp_path / "runs", plots=False)
    run = ModelRun.get_by_id(tracker.run.id)
    assert (run.status, run.error_type) == ("failed", "RuntimeError")
    assert "out of memory" in run.error_message
    assert [point["step"] for point in run.get_metric_history("train/box_loss")] == [1]


def test_keyboard_interrupt_ends_the_run_killed(db, dataset, tmp_path):
    def interrupt(trainer):
        raise KeyboardInterrupt

    model = YOLO("yolov8n.yaml")
    tracker = track_yolo(model, model_name="stand_counter")
    model.add_callback("on_train_epoch_end", interrupt)
    with pytest.raises(KeyboardInterrupt):
        train(model, dataset, tmp_path / "runs", plots=False)
    assert ModelRun.get_by_id(tracker.run.id).status == "killed"


def test_each_training_of_a_tracked_model_is_its_own_run(db, dataset, tmp_path):
    model = YOLO("yolov8n.yaml")
    tracker = track_yolo(model, model_name="stand_counter")
    directories = []
    for exist_ok in (True, False):  # the second is numbered by Ultralytics: train2 (train-2 in 8.4)
        train(model, dataset, tmp_path / "runs", plots=False, exist_ok=exist_ok)
        directories.append(Path(model.trainer.save_dir).name)
    assert len({run.id for run in tracker.runs}) == 2
    stored = [ModelRun.get_by_id(run.id) for run in tracker.runs]
    assert [run.status for run in stored] == ["finished", "finished"]
    assert [run.run_name for run in stored] == directories and directories[0] == "train" != directories[1]


def test_a_run_the_registry_refuses_to_start_stops_training_at_its_start(db, dataset, tmp_path):
    model = YOLO("yolov8n.yaml")
    track_yolo(model, model_name=" ")
    with pytest.raises(RuntimeError, match="could not start a run"):
        train(model, dataset, tmp_path / "runs", plots=False)
    assert not (tmp_path / "runs" / "train" / "results.csv").exists()


def test_log_artifacts_false_stores_no_file(db, dataset, tmp_path):
    model = YOLO("yolov8n.yaml")
    tracker = track_yolo(model, model_name="stand_counter", log_artifacts=False)
    train(model, dataset, tmp_path / "runs", plots=False)
    assert ModelRun.get_by_id(tracker.run.id).list_artifacts() == []


def test_system_metrics_false_samples_nothing(db, dataset, tmp_path, monkeypatch):
    monkeypatch.setenv("GEMINI_SYSTEM_METRICS_INTERVAL", "0.05")
    model = YOLO("yolov8n.yaml")
    tracker = track_yolo(model, model_name="stand_counter", system_metrics=False, log_artifacts=False)
    train(model, dataset, tmp_path / "runs", plots=False)
    keys = ModelRun.get_by_id(tracker.run.id).get_metrics()
    assert "train/box_loss" in keys and not [key for key in keys if key.startswith("system/")]


def test_training_makes_no_network_connection(db, dataset, tmp_path, monkeypatch):
    lookups, resolve = [], socket.getaddrinfo

    def loopback_only(host, *args, **kwargs):
        if host in LOOPBACK:  # the PostgreSQL under test
            return resolve(host, *args, **kwargs)
        lookups.append(host)
        raise socket.gaierror(socket.EAI_NONAME, "the network is off in this test")

    monkeypatch.setattr(socket, "getaddrinfo", loopback_only)
    model = YOLO("yolov8n.yaml")
    track_yolo(model, model_name="stand_counter")
    train(model, dataset, tmp_path / "runs")
    assert lookups == []
