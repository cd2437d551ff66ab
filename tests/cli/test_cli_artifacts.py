"""``gemini runs artifacts | download | log-artifact`` on both databases."""

import hashlib

import pytest

from gemini.registry import registry as configured_registry


@pytest.fixture
def db(registry_url) -> str:
    """The same tests on SQLite, on PostgreSQL and through a server (``GEMINI_API_URL``)."""
    return registry_url


@pytest.fixture
def run_id(gemini) -> str:
    return str(configured_registry().create_run(model_run_info={"epoch": 1})[0].id)


def test_log_artifact_stores_a_file_under_its_name(gemini, run_id, tmp_path):
    (tmp_path / "best.pt").write_bytes(b"weights")
    [record] = gemini.json("runs", "log-artifact", run_id, str(tmp_path / "best.pt"))
    assert (record["name"], record["size"], record["sha256"]) == ("best.pt", 7, hashlib.sha256(b"weights").hexdigest())


def test_log_artifact_of_a_directory_keeps_relative_names_below_the_prefix(gemini, run_id, tmp_path):
    (tmp_path / "plots" / "curves").mkdir(parents=True)
    (tmp_path / "plots" / "pr.png").write_bytes(b"pr")
    (tmp_path / "plots" / "curves" / "loss.png").write_bytes(b"loss")
    records = gemini.json("runs", "log-artifact", run_id, str(tmp_path / "plots"), "--name", "plots")
    assert [record["name"] for record in records] == ["plots/curves/loss.png", "plots/pr.png"]


def test_artifacts_lists_them_as_a_table(gemini, run_id, tmp_path):
    (tmp_path / "best.pt").write_bytes(b"weights")
    gemini.ok("runs", "log-artifact", run_id, str(tmp_path / "best.pt"), "--name", "weights/best.pt")
    lines = gemini.ok("runs", "artifacts", run_id).stdout.splitlines()
    assert lines[0].split() == ["NAME", "SIZE", "SHA256", "CREATED"]
    assert lines[1].split()[:3] == ["weights/best.pt", "7", hashlib.sha256(b"weights").hexdigest()]


def test_download_writes_into_the_destination_and_prints_the_path(gemini, run_id, tmp_path):
    (tmp_path / "pr.png").write_bytes(b"plot")
    gemini.ok("runs", "log-artifact", run_id, str(tmp_path / "pr.png"), "--name", "plots/pr.png")
    dest = tmp_path / "out"
    dest.mkdir()
    assert gemini.ok("runs", "download", run_id, "plots/pr.png", str(dest)).stdout.strip() == str(dest / "pr.png")
    assert (dest / "pr.png").read_bytes() == b"plot"


def test_download_defaults_to_the_current_directory(gemini, run_id, tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_bytes(b"a")
    gemini.ok("runs", "log-artifact", run_id, str(tmp_path / "a.txt"), "--name", "logs/a.txt")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    gemini.ok("runs", "download", run_id, "logs/a.txt")
    assert (work / "a.txt").read_bytes() == b"a"


def test_a_bad_name_is_one_error_line(gemini, run_id, tmp_path):
    (tmp_path / "a.txt").write_bytes(b"a")
    message = gemini.fails("runs", "log-artifact", run_id, str(tmp_path / "a.txt"), "--name", "../a.txt")
    assert "'..' part" in message


def test_downloading_an_unknown_name_is_one_error_line(gemini, run_id):
    assert "no artifact named 'nope'" in gemini.fails("runs", "download", run_id, "nope")
