"""The offline spool as an object, without a server: ``Spool(server, send)`` with a ``send`` that records
what it is given, on a spool file of the test's own."""


import pytest

from gemini.domain.errors import ConflictError, DatabaseUnavailableError, NotFoundError
from gemini.tracking import spool
from tests.tracking.conftest import wait_until

SERVER = "http://registry.test"


@pytest.fixture
def spool_file(tmp_path, monkeypatch):
    path = tmp_path / "client" / "spool.sqlite"
    monkeypatch.setenv("GEMINI_SPOOL_PATH", str(path))
    monkeypatch.setattr(spool, "BACKGROUND_FIRST_WAIT", 0.01)
    monkeypatch.setattr(spool, "BACKGROUND_MAX_WAIT", 0.05)
    return path


def test_adding_an_artifact_alone_starts_the_background_sender(spool_file, tmp_path):
    sent: list[spool.Entry] = []
    pending = spool.Spool(SERVER, sent.append)
    source = tmp_path / "best.pt"
    source.write_bytes(b"weights")
    copy = pending.keep_artifact_copy(source, "run-1", "weights/best.pt")
    assert copy.read_bytes() == b"weights" and copy.parent == spool.artifact_directory()
    payload = {"name": "weights/best.pt", "copy": str(copy), "sha256": "0" * 64, "size": 7}
    pending.add("run-1", spool.ARTIFACT, payload)  # nothing else: no metrics, no end, no started run
    assert wait_until(lambda: pending.pending_count() == 0)
    assert [(entry.server, entry.run_id, entry.kind, entry.payload) for entry in sent] == [
        (SERVER, "run-1", spool.ARTIFACT, payload)
    ]
    assert not copy.exists()  # the copy goes once the server has the artifact


def test_the_background_sender_waits_for_the_server_and_keeps_the_order(spool_file):
    sent: list[tuple[str, str]] = []
    refusals = []

    def send(entry):
        if len(refusals) < 3:
            refusals.append(entry.kind)
            raise DatabaseUnavailableError("the server cannot be reached")
        sent.append((entry.kind, entry.payload["n"]))

    pending = spool.Spool(SERVER, send)
    pending.add("run-1", spool.METRICS, {"n": 1})
    pending.add("run-1", spool.METRICS, {"n": 2})
    pending.add("run-1", spool.END, {"n": 3})
    assert pending.waiting("run-1") and not pending.waiting("run-2")
    assert wait_until(lambda: pending.pending_count() == 0)
    assert sent == [(spool.METRICS, 1), (spool.METRICS, 2), (spool.END, 3)]
    assert not pending.waiting("run-1")


def test_send_all_stops_at_an_unreachable_server_and_marks_refusals_failed(spool_file, monkeypatch):
    monkeypatch.setattr(spool.Spool, "start_background_sender", lambda self: None)
    answers = {1: None, 2: ConflictError("already ended"), 3: NotFoundError("no run"), 4: DatabaseUnavailableError("down")}

    def send(entry):
        answer = answers[entry.payload["n"]]
        if answer is not None:
            raise answer

    pending = spool.Spool(SERVER, send)
    other = spool.Spool("http://other.test", send)
    for n in (1, 2, 3, 4, 5):
        pending.add("run-1", spool.METRICS if n != 2 else spool.END, {"n": n})
    other.add("run-9", spool.METRICS, {"n": 1})
    report = pending.send_all()
    assert report.sent == {spool.METRICS: 1, spool.ARTIFACT: 0, spool.END: 1}
    assert (report.left, report.failed, report.other_servers) == (2, 1, 1)
    assert report.error == "down"
    assert [(entry.payload["n"], reason) for entry, reason in spool.failed_entries()] == [(3, "no run")]
    assert (pending.pending_count(), other.pending_count(), spool.pending_count()) == (2, 1, 3)
    assert "entries left to send (down)" in report.describe()


def test_an_empty_spool_reads_without_creating_its_file(spool_file):
    pending = spool.Spool(SERVER, lambda entry: None)
    assert not pending.waiting("run-1")
    assert pending.pending_count() == 0 and spool.pending_count() == 0
    assert spool.failed_entries() == []
    assert pending.send_all().left == 0
    assert not spool_file.exists()


def test_an_unknown_kind_is_refused(spool_file):
    with pytest.raises(ValueError, match="unknown spool entry kind"):
        spool.Spool(SERVER, lambda entry: None).add("run-1", "metric", {})


def test_no_module_wide_sender_is_left():
    assert not hasattr(spool, "set_background_sender")
