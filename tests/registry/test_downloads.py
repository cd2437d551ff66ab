"""Writing a download in place: the bytes' SHA-256 is computed beside the writing, and the file appears
only when it matched; whatever happens, the hashing thread has ended when ``write_verified`` returns."""

import hashlib
import threading

import pytest

from gemini.domain.errors import ArtifactCorruptedError, InvalidInputError, StorageUnavailableError
from gemini.registry.downloads import write_verified


def _hashers() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name == "gemini-download-digest"]


def _chunks(data: bytes, size: int):
    for start in range(0, len(data), size):
        yield data[start : start + size]


@pytest.mark.parametrize("chunk_bytes", [1000, 64 * 1024, 3 * 1024 * 1024])
def test_matching_bytes_appear_whole_whatever_their_chunks(tmp_path, chunk_bytes):
    data = bytes(range(256)) * 20_000  # 5 MB: several batches for the hashing thread
    target = tmp_path / "out" / "weights.pt"
    write_verified(target, _chunks(data, chunk_bytes), expected_sha256=hashlib.sha256(data).hexdigest(), what="weights")
    assert target.read_bytes() == data
    assert not _hashers()
    assert [path.name for path in target.parent.iterdir()] == ["weights.pt"]


def test_bytes_that_do_not_match_leave_the_target_as_it_was(tmp_path):
    target = tmp_path / "weights.pt"
    target.write_bytes(b"the previous file")
    with pytest.raises(ArtifactCorruptedError, match="weights arrived with SHA-256"):
        write_verified(target, _chunks(b"x" * 3_000_000, 100_000), expected_sha256="0" * 64, what="weights")
    assert target.read_bytes() == b"the previous file"
    assert [path.name for path in tmp_path.iterdir()] == ["weights.pt"]
    assert not _hashers()


class CutShort(Exception):
    """What a transport raises when the connection drops (httpx's errors are not OSErrors)."""


@pytest.mark.parametrize(
    ("failure", "raised", "message"),
    [
        # A download cut short: whatever the transport raises goes on as it is.
        (CutShort("the connection was reset"), CutShort, "reset"),
        # A source that cannot be read is not taken for a target that cannot be written.
        (OSError(5, "Input/output error"), StorageUnavailableError, "cannot read weights: Input/output error"),
    ],
)
def test_a_source_failing_part_way_writes_nothing_and_ends_its_hashing(tmp_path, failure, raised, message):
    def failing():
        yield b"a" * 2_000_000
        raise failure

    target = tmp_path / "weights.pt"
    with pytest.raises(raised, match=message):
        write_verified(target, failing(), expected_sha256="0" * 64, what="weights")
    assert list(tmp_path.iterdir()) == []
    assert not _hashers()


def test_a_target_that_cannot_be_written_is_invalid_input_naming_it(tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")
    with pytest.raises(InvalidInputError, match="cannot write to"):
        write_verified(blocked / "weights.pt", iter([b"x"]), expected_sha256=None, what="weights")
