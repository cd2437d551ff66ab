"""What once differed between the database and the server's transport, now checked in all three modes
(SQLite, PostgreSQL, through a server): refusals, the spool's sender, error kinds, authorship and the
one shape of a read."""

import time

import httpx
import pytest

from gemini.api.model_run import ModelRun
from gemini.domain.errors import ERROR_KINDS, ArtifactTooLargeError, InvalidInputError
from gemini.registry import registry, remote
from gemini.remote import http

EVIL = "../../etc/evil"


def test_an_artifact_name_outside_the_run_is_refused_with_the_same_words_in_every_mode(registry_url, tmp_path, caplog):
    source = tmp_path / "weights.pt"
    source.write_bytes(b"w" * 10)
    run = ModelRun.create({"n": 1}, model_name="stand-counter")
    with pytest.raises(InvalidInputError) as refused:
        registry().log_artifact_file(run_id=run.id, path=source, name=EVIL)
    assert str(refused.value) == f"artifact name {EVIL!r} has a '..' part; give a plain relative path"
    assert run.log_artifact(source, name=EVIL) is None
    assert run.list_artifacts() == []


def test_an_artifact_name_outside_the_run_is_refused_even_when_the_server_is_away(monkeypatch, tmp_path):
    """Refused before anything is sent or spooled: nothing waits for ``gemini sync``."""
    from tests.conftest import free_loopback_port

    monkeypatch.setenv("GEMINI_API_URL", f"http://127.0.0.1:{free_loopback_port()}")
    monkeypatch.setenv("GEMINI_API_RETRIES", "0")
    monkeypatch.setenv("GEMINI_SPOOL_PATH", str(tmp_path / "spool.sqlite"))
    source = tmp_path / "weights.pt"
    source.write_bytes(b"w")
    with pytest.raises(InvalidInputError, match="has a '..' part"):
        registry().log_artifact_file(run_id="01a22def-8ca6-710a-9616-56964e2f0d1d", path=source, name=EVIL)
    from gemini.tracking import spool

    assert spool.pending_count() == 0
    http.close_all()


def test_an_artifact_over_the_limit_is_refused_as_too_large_in_every_mode(registry_url, monkeypatch, tmp_path):
    monkeypatch.setenv("GEMINI_MAX_ARTIFACT_BYTES", "4")
    source = tmp_path / "big.bin"
    source.write_bytes(b"12345")
    run = ModelRun.create({"n": 2})
    with pytest.raises(ArtifactTooLargeError, match="is 5 bytes; the limit is 4 bytes"):
        registry().log_artifact_file(run_id=run.id, path=source)


@pytest.mark.parametrize("row", ERROR_KINDS, ids=lambda row: row.kind)
def test_the_client_reads_every_kind_the_server_sends_as_the_servers_exception(row):
    response = httpx.Response(
        row.status,
        json={"error": row.kind, "detail": "why"},
        request=httpx.Request("GET", "http://127.0.0.1/api/x"),
    )
    error = http.error_from(response, "http://127.0.0.1")
    assert type(error) is row.error_class and str(error) == "why"


def test_runs_read_in_one_shape_with_their_author_in_every_mode(registry_url):
    model_run = registry().create_run(model_run_info={"n": 1}, model_name="m", created_by="alice")[0]
    registry().create_run(model_run_info={"n": 2}, model_name="m")
    page = registry().search_runs(model_id=model_run.model_id, limit=1, with_total=True)
    assert [run.id for run in page.items] == [model_run.id] and page.total == 2
    assert registry().search_runs(model_name="m").total is None  # not asked for, not counted
    # The author is the caller's locally; through a server it is the server's to record (the token's
    # name; this one has no token), whatever the client claims.
    expected = None if remote() else "alice"
    assert registry().get_run(run_id=model_run.id).created_by == expected


def test_a_process_that_only_spools_an_artifact_sends_it_once_the_server_is_back(spooling_server, tmp_path):
    run = ModelRun.create({"n": 3})
    spooling_server.stop()
    source = tmp_path / "best.pt"
    source.write_bytes(b"weights")
    assert run.log_artifact(source, name="weights/best.pt") is not None  # spooled
    spooling_server.start()
    deadline = time.monotonic() + 60
    while not run.list_artifacts() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert [artifact["name"] for artifact in run.list_artifacts()] == ["weights/best.pt"]
