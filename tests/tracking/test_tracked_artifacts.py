"""A tracked run's files: checkpoints and plots logged while it runs, read back after it ended, on every
registry mode and store (a directory, a bucket; locally and through a server)."""

import hashlib

import pytest

from gemini.api.model_run import ModelRun


@pytest.fixture
def db(registry_url) -> str:
    return registry_url


def test_a_tracked_run_keeps_its_checkpoints_and_plots(db, tmp_path):
    folder = tmp_path / "train"
    (folder / "weights").mkdir(parents=True)
    with ModelRun.track(model_run_info={"params": {"epochs": 2}}, model_name="stand-counter") as run:
        for epoch in range(2):
            run.log_metrics({"loss": 1.0 / (epoch + 1)}, step=epoch)
            (folder / "weights" / "last.pt").write_bytes(b"weights of epoch %d" % epoch)
            assert run.log_artifact(folder / "weights" / "last.pt", name="weights/last.pt") is not None
        (folder / "results.png").write_bytes(b"\x89PNG plot")
        (folder / "results.csv").write_text("epoch,loss\n0,1.0\n1,0.5\n")
        logged = run.log_artifacts(folder, prefix="final")
        assert sorted(item["name"] for item in logged) == [
            "final/results.csv", "final/results.png", "final/weights/last.pt"
        ]
    stored = ModelRun.get_by_id(run.id)
    assert stored.status == "finished"
    names = sorted(item["name"] for item in stored.list_artifacts())
    assert names == ["final/results.csv", "final/results.png", "final/weights/last.pt", "weights/last.pt"]
    path = stored.download_artifact("weights/last.pt", tmp_path / "last.pt")
    assert open(path, "rb").read() == b"weights of epoch 1"  # the name logged again keeps the last bytes
    checked = stored.download_artifact("final/results.png", tmp_path / "plot.png")
    assert hashlib.sha256(open(checked, "rb").read()).hexdigest() == hashlib.sha256(b"\x89PNG plot").hexdigest()
