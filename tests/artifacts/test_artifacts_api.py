"""``ModelRun``'s artifact methods: the seed API's shapes and its None-plus-a-log-line failures."""

import logging

import pytest

from gemini.api.model_run import ModelRun
from tests.artifacts.conftest import write_file


@pytest.fixture
def db(registry_url) -> str:
    """The same tests on SQLite, on PostgreSQL and through a server (``GEMINI_API_URL``)."""
    return registry_url


@pytest.fixture
def run(db) -> ModelRun:
    return ModelRun.create(model_run_info={"params": {"lr": 0.01}})


def test_log_artifact_names_it_after_the_file_and_returns_its_dict(run, tmp_path):
    digest = write_file(tmp_path / "weights" / "best.pt", 4096)
    assert run.log_artifact(tmp_path / "weights" / "best.pt") == {"name": "best.pt", "size": 4096, "sha256": digest}


def test_log_artifact_takes_a_name(run, tmp_path):
    write_file(tmp_path / "best.pt", 10)
    assert run.log_artifact(str(tmp_path / "best.pt"), name="weights/epoch10.pt")["name"] == "weights/epoch10.pt"


def test_log_artifacts_keeps_relative_names_below_the_prefix(run, tmp_path):
    write_file(tmp_path / "plots" / "pr.png", 10)
    write_file(tmp_path / "plots" / "curves" / "loss.png", 20)
    logged = run.log_artifacts(tmp_path / "plots", prefix="plots")
    assert [item["name"] for item in logged] == ["plots/curves/loss.png", "plots/pr.png"]
    assert run.list_artifacts() == logged


def test_log_artifacts_without_prefix_uses_paths_relative_to_the_directory(run, tmp_path):
    write_file(tmp_path / "out" / "a" / "b.txt", 3)
    assert [item["name"] for item in run.log_artifacts(tmp_path / "out")] == ["a/b.txt"]


def test_list_artifacts_of_a_run_without_any_is_empty(run):
    assert run.list_artifacts() == []


def test_download_artifact_returns_the_path_written(run, tmp_path):
    write_file(tmp_path / "pr.png", 1000)
    run.log_artifacts(tmp_path, prefix="plots")
    dest = tmp_path / "downloads" / "pr.png"
    assert run.download_artifact("plots/pr.png", dest) == str(dest)
    assert dest.read_bytes() == (tmp_path / "pr.png").read_bytes()


def test_download_artifact_into_a_directory_uses_the_last_part_of_the_name(run, tmp_path):
    write_file(tmp_path / "pr.png", 10)
    run.log_artifact(tmp_path / "pr.png", name="plots/pr.png")
    (tmp_path / "downloads").mkdir()
    assert run.download_artifact("plots/pr.png", tmp_path / "downloads") == str(tmp_path / "downloads" / "pr.png")


def test_a_missing_local_file_gives_none_and_one_log_line(run, tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="gemini.api"):
        assert run.log_artifact(tmp_path / "nope.pt") is None
    assert [record.getMessage() for record in caplog.records] == [
        f"ModelRun.log_artifact failed: {str(tmp_path / 'nope.pt')!r} does not exist"
    ]
    assert run.list_artifacts() == []


def test_a_directory_given_to_log_artifact_gives_none(run, tmp_path):
    assert run.log_artifact(tmp_path) is None


def test_a_bad_prefix_writes_nothing(run, tmp_path):
    write_file(tmp_path / "plots" / "pr.png", 10)
    assert run.log_artifacts(tmp_path / "plots", prefix="../up") is None
    assert run.list_artifacts() == []


def test_downloading_an_unknown_name_gives_none(run, tmp_path):
    assert run.download_artifact("nope.pt", tmp_path / "nope.pt") is None
    assert not (tmp_path / "nope.pt").exists()


def test_artifacts_of_a_deleted_run_give_none(run, tmp_path):
    write_file(tmp_path / "a.bin", 10)
    run.delete()
    assert run.log_artifact(tmp_path / "a.bin") is None
    assert run.list_artifacts() is None
