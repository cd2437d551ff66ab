"""Logging, listing, reading and removing artifacts through the core, on both databases."""

import hashlib
import uuid

import pytest

from gemini.registry import registry
from gemini.core import artifacts
from gemini.domain.errors import ArtifactCorruptedError, ArtifactTooLargeError, InvalidInputError, NotFoundError
from tests.artifacts.conftest import write_file


def chunks_of(data: bytes, size: int = 1000):
    for start in range(0, len(data), size):
        yield data[start : start + size]


def test_round_trip_keeps_bytes_name_size_and_digest(run_id, tmp_path):
    data = b"weights" * 1000
    record = artifacts.log_artifact(run_id=run_id, name="weights/best.pt", chunks=chunks_of(data))
    assert (record.name, record.size, record.sha256) == ("weights/best.pt", len(data), hashlib.sha256(data).hexdigest())
    written = registry().download_artifact(run_id=run_id, name="weights/best.pt", dest=tmp_path / "out.pt")
    assert written.read_bytes() == data


def test_same_content_is_stored_once(run_id, store):
    other = registry().create_run(model_run_info={"params": {"lr": 0.1}})[0].id
    for run, name in ((run_id, "a.bin"), (run_id, "b.bin"), (other, "a.bin")):
        artifacts.log_artifact(run_id=run, name=name, chunks=[b"same bytes"])
    assert store.blobs() == {hashlib.sha256(b"same bytes").hexdigest()}


def test_list_is_by_name_with_the_total(run_id):
    for name in ("z.txt", "a/b.txt", "m.txt"):
        artifacts.log_artifact(run_id=run_id, name=name, chunks=[name.encode()])
    page = registry().search_artifacts(run_id=run_id, limit=2, offset=1, with_total=True)
    assert [record.name for record in page.items] == ["m.txt", "z.txt"]
    assert page.total == 3


def test_list_past_the_end_still_counts(run_id):
    artifacts.log_artifact(run_id=run_id, name="a", chunks=[b"a"])
    page = registry().search_artifacts(run_id=run_id, offset=5, with_total=True)
    assert (page.items, page.total) == ([], 1)


def test_list_of_a_run_that_does_not_exist_is_not_found(db):
    with pytest.raises(NotFoundError, match="no model run"):
        registry().search_artifacts(run_id=uuid.uuid4(), with_total=True)


def test_logging_a_name_again_replaces_it_and_drops_the_unused_blob(run_id, store):
    first = artifacts.log_artifact(run_id=run_id, name="best.pt", chunks=[b"epoch 1"])
    second = artifacts.log_artifact(run_id=run_id, name="best.pt", chunks=[b"epoch 2"])
    assert [record.sha256 for record in registry().search_artifacts(run_id=run_id, with_total=True).items] == [second.sha256]
    assert store.blobs() == {second.sha256}
    assert first.sha256 != second.sha256


def test_logging_to_a_missing_run_writes_nothing(db, store):
    with pytest.raises(NotFoundError, match="no model run"):
        artifacts.log_artifact(run_id=uuid.uuid4(), name="a.bin", chunks=[b"x"])
    assert store.blobs() == set() and store.temporary_files() == []


BAD_NAMES = {
    "..": "'..' part",
    "../escape.txt": "'..' part",
    "plots/../../escape.txt": "'..' part",
    "./a.txt": "'.' part",
    "/etc/passwd": "absolute path",
    "a\x00b": "NUL",
    "a\\b": "backslash",
    "..\\..\\windows": "backslash",
    "C:/Windows/system.ini": "drive letter",
    "c:evil": "drive letter",
    "a//b": "empty part",
    "plots/": "empty part",
    "": "must not be empty",
    "line\nbreak": "control character",
    "x" * 300: "longer than 255 bytes",
}


@pytest.mark.parametrize("name", sorted(BAD_NAMES), ids=repr)
def test_bad_names_are_refused_with_nothing_written(run_id, store, name):
    with pytest.raises(InvalidInputError, match=BAD_NAMES[name]):
        artifacts.log_artifact(run_id=run_id, name=name, chunks=[b"payload"])
    assert registry().search_artifacts(run_id=run_id, with_total=True).total == 0
    assert store.blobs() == set() and store.temporary_files() == []


def test_a_name_that_is_not_a_string_is_refused(run_id):
    with pytest.raises(InvalidInputError, match="must be a string"):
        artifacts.log_artifact(run_id=run_id, name=b"a.bin", chunks=[b"x"])


def test_an_artifact_over_the_size_limit_is_refused_while_streaming(run_id, store, monkeypatch):
    monkeypatch.setenv("GEMINI_MAX_ARTIFACT_BYTES", "10000")
    taken = []

    def chunks():
        for _ in range(100):
            taken.append(1)
            yield b"x" * 1000

    with pytest.raises(ArtifactTooLargeError, match="larger than 10000 bytes"):
        artifacts.log_artifact(run_id=run_id, name="big.bin", chunks=chunks())
    assert len(taken) == 11  # stopped at the first chunk past the limit, not at the end
    assert registry().search_artifacts(run_id=run_id, with_total=True).total == 0
    assert store.blobs() == set() and store.temporary_files() == []


def test_an_artifact_of_exactly_the_limit_is_accepted(run_id, monkeypatch):
    monkeypatch.setenv("GEMINI_MAX_ARTIFACT_BYTES", "10")
    assert artifacts.log_artifact(run_id=run_id, name="ten.bin", chunks=[b"0123456789"]).size == 10


def test_an_upload_cut_off_halfway_leaves_nothing_visible(run_id, store):
    def cut_off():
        yield b"first half"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        artifacts.log_artifact(run_id=run_id, name="half.bin", chunks=cut_off())
    assert registry().search_artifacts(run_id=run_id, with_total=True).total == 0
    assert store.blobs() == set() and store.temporary_files() == []


def test_a_cut_off_replacement_keeps_the_previous_artifact(run_id, tmp_path):
    artifacts.log_artifact(run_id=run_id, name="best.pt", chunks=[b"good weights"])

    def cut_off():
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        artifacts.log_artifact(run_id=run_id, name="best.pt", chunks=cut_off())
    path = registry().download_artifact(run_id=run_id, name="best.pt", dest=tmp_path)
    assert path.read_bytes() == b"good weights"


def test_a_corrupted_blob_fails_the_download_and_writes_no_file(run_id, store, tmp_path):
    record = artifacts.log_artifact(run_id=run_id, name="best.pt", chunks=[b"A" * 5000])
    store.write(record.sha256, b"A" * 2500 + b"B" + b"A" * 2499)  # one byte flipped, size unchanged
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    with pytest.raises(ArtifactCorruptedError, match="corrupted"):
        registry().download_artifact(run_id=run_id, name="best.pt", dest=downloads / "best.pt")
    assert list(downloads.iterdir()) == []


def test_a_truncated_blob_fails_before_the_first_byte(run_id, store):
    record = artifacts.log_artifact(run_id=run_id, name="best.pt", chunks=[b"A" * 5000])
    store.write(record.sha256, b"A" * 100)
    with pytest.raises(ArtifactCorruptedError, match="100 bytes where 5000"):
        artifacts.open_artifact(run_id=run_id, name="best.pt")


def test_a_missing_blob_is_reported(run_id, store):
    record = artifacts.log_artifact(run_id=run_id, name="best.pt", chunks=[b"A"])
    store.remove(record.sha256)
    with pytest.raises(ArtifactCorruptedError, match="missing"):
        artifacts.open_artifact(run_id=run_id, name="best.pt")


def test_a_byte_range_reads_only_those_bytes(run_id):
    data = bytes(range(256)) * 100
    artifacts.log_artifact(run_id=run_id, name="d.bin", chunks=[data])
    opened = artifacts.open_artifact(run_id=run_id, name="d.bin", start=1000, end=1500)
    assert b"".join(opened.chunks) == data[1000:1500]


def test_a_range_outside_the_artifact_is_refused(run_id):
    artifacts.log_artifact(run_id=run_id, name="d.bin", chunks=[b"0123456789"])
    with pytest.raises(InvalidInputError, match="not within the 10 bytes"):
        artifacts.open_artifact(run_id=run_id, name="d.bin", start=5, end=11)


def test_reading_an_unknown_name_is_not_found(run_id):
    with pytest.raises(NotFoundError, match="no artifact named 'nope.bin'"):
        artifacts.open_artifact(run_id=run_id, name="nope.bin")


def test_deleting_a_run_removes_its_records_and_its_blobs(run_id, store):
    artifacts.log_artifact(run_id=run_id, name="a.bin", chunks=[b"a"])
    artifacts.log_artifact(run_id=run_id, name="b.bin", chunks=[b"b"])
    registry().delete_run(run_id=run_id)
    assert store.blobs() == set()
    with pytest.raises(NotFoundError):
        registry().search_artifacts(run_id=run_id, with_total=True)


def test_deleting_a_run_keeps_blobs_another_run_uses(run_id, store):
    other = registry().create_run(model_run_info={"other": True})[0].id
    shared = artifacts.log_artifact(run_id=run_id, name="a.bin", chunks=[b"shared"])
    artifacts.log_artifact(run_id=other, name="copy.bin", chunks=[b"shared"])
    registry().delete_run(run_id=run_id)
    assert store.blobs() == {shared.sha256}
    assert [record.name for record in registry().search_artifacts(run_id=other, with_total=True).items] == ["copy.bin"]


def test_deleting_a_model_removes_the_blobs_of_its_runs(db, store):
    model, _ = registry().create_model(model_name="detector")
    run, _ = registry().create_run(model_run_info={"e": 1}, model_name="detector")
    artifacts.log_artifact(run_id=run.id, name="a.bin", chunks=[b"a"])
    registry().delete_model(model_id=model.id)
    assert store.blobs() == set()


def test_a_file_of_many_chunks_is_streamed_both_ways(run_id, tmp_path):
    source = tmp_path / "source.bin"
    digest = write_file(source, 40 * 1024 * 1024 + 123)
    record = registry().log_artifact_file(run_id=run_id, path=source)
    assert (record.name, record.size, record.sha256) == ("source.bin", 40 * 1024 * 1024 + 123, digest)
    written = registry().download_artifact(run_id=run_id, name="source.bin", dest=tmp_path / "copy.bin")
    with open(written, "rb") as stream:
        assert hashlib.file_digest(stream, "sha256").hexdigest() == digest


def test_recorded_sizes_are_found_past_the_first_few_hundred_digests(run_id, store):
    """A record request may name 1,000 digests; the database is asked a few hundred at a time."""
    from gemini.db.artifacts import ArtifactRepository
    from gemini.db.engine import unit_of_work

    data = b"weights" * 50
    artifacts.log_artifact(run_id=run_id, name="best.pt", chunks=[data])
    unknown = {f"{index:064x}" for index in range(999)}  # all sorted before the real digest's part
    with unit_of_work() as connection:
        sizes = ArtifactRepository(connection).sizes_of(unknown | {hashlib.sha256(data).hexdigest()})
    assert sizes == {hashlib.sha256(data).hexdigest(): len(data)}
