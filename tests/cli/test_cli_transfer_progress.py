"""The progress line of artifact uploads and downloads: the bytes moved, counted the same whichever way
they go (a local store, a server, a bucket), shown only once a transfer lasts and only at a terminal."""

import pytest

from gemini.cli import transfer_progress as progress_line
from gemini.registry import registry
from tests.conftest import STORE_REGISTRY_MODES, registry_on_store

SIZE = 3 * 1024 * 1024 + 5


@pytest.fixture(params=STORE_REGISTRY_MODES)
def registry_url(request, monkeypatch) -> str:
    return registry_on_store(request, monkeypatch)


@pytest.fixture
def at_a_terminal(monkeypatch):
    monkeypatch.setattr(progress_line, "progress_shown", lambda: True)
    monkeypatch.setattr(progress_line, "SHOW_AFTER_SECONDS", 0.0)
    monkeypatch.setattr(progress_line, "REDRAW_SECONDS", 0.0)


def test_an_upload_and_a_download_count_every_byte(registry_url, at_a_terminal, tmp_path, capsys):
    run_id = registry().create_run(model_run_info={"progress": True})[0].id
    source = tmp_path / "best.pt"
    source.write_bytes(b"w" * SIZE)
    with progress_line.transfer_progress("storing 1 file", total=SIZE):
        registry().log_artifact_file(run_id=run_id, path=source, name="best.pt")
    with progress_line.transfer_progress("downloading best.pt", total=None):
        registry().download_artifact(run_id=run_id, name="best.pt", dest=tmp_path / "copy.pt")
    # One line per transfer, redrawn in place ("\r"); what stays on screen is its last drawing.
    lines = [line.rsplit("\r", 1)[-1] for line in capsys.readouterr().err.split("\n") if line]
    assert len(lines) == 2
    assert lines[0].startswith("storing 1 file: 3.0 of 3.0 MiB (100%)")
    assert lines[1].startswith("downloading best.pt: 3.0 MiB")


def test_nothing_is_shown_when_stderr_is_not_a_terminal(db, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress_line, "SHOW_AFTER_SECONDS", 0.0)
    run_id = registry().create_run(model_run_info={"progress": False})[0].id
    source = tmp_path / "best.pt"
    source.write_bytes(b"w" * SIZE)
    with progress_line.transfer_progress("storing 1 file", total=SIZE):
        registry().log_artifact_file(run_id=run_id, path=source, name="best.pt")
    assert capsys.readouterr().err == ""


def test_a_quick_transfer_shows_nothing(db, at_a_terminal, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(progress_line, "SHOW_AFTER_SECONDS", 60.0)
    run_id = registry().create_run(model_run_info={"progress": "quick"})[0].id
    source = tmp_path / "small.txt"
    source.write_bytes(b"small")
    with progress_line.transfer_progress("storing 1 file", total=5):
        registry().log_artifact_file(run_id=run_id, path=source, name="small.txt")
    assert capsys.readouterr().err == ""
