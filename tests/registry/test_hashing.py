"""Hashing beside a transfer: the parts of a large file, and the thread that hashes them."""

import hashlib
import os
import threading

import pytest

from gemini.domain.limits import MAX_UPLOAD_PARTS, UPLOAD_IN_PARTS_FROM_BYTES, UPLOAD_PART_BYTES, upload_part_bytes
from gemini.registry.hashing import HashOnThread, PartDigests
from gemini.remote import artifacts as remote_artifacts

MIB = 1024 * 1024


@pytest.mark.parametrize("chunk_bytes", [1, 7, 1000, 4096, 10_000])
def test_part_digests_cut_the_bytes_at_part_boundaries_whatever_the_chunks(chunk_bytes):
    data = os.urandom(25_000)
    parts = PartDigests(10_000)
    for start in range(0, len(data), chunk_bytes):
        parts.update(data[start : start + chunk_bytes])
    assert parts.sha256s() == tuple(hashlib.sha256(data[start : start + 10_000]).hexdigest() for start in (0, 10_000, 20_000))


def test_bytes_that_fill_their_last_part_exactly_make_no_empty_part():
    parts = PartDigests(4)
    parts.update(b"abcdefgh")
    assert parts.sha256s() == (hashlib.sha256(b"abcd").hexdigest(), hashlib.sha256(b"efgh").hexdigest())


def test_hashing_on_a_thread_sees_every_chunk_in_order_and_has_ended_when_it_finishes():
    chunks = [os.urandom(size) for size in (10, 2 * MIB, 300_000, 1, MIB)]
    hashing = HashOnThread(hashlib.sha256(), name="test-digest")
    for chunk in chunks:
        hashing.update(chunk)
    assert hashing.finish().hexdigest() == hashlib.sha256(b"".join(chunks)).hexdigest()
    assert "test-digest" not in {thread.name for thread in threading.enumerate()}


def test_a_file_below_the_threshold_is_declared_whole_and_one_above_it_in_parts(tmp_path, monkeypatch):
    monkeypatch.setattr(remote_artifacts, "UPLOAD_IN_PARTS_FROM_BYTES", UPLOAD_PART_BYTES)
    small, large = tmp_path / "small.bin", tmp_path / "large.bin"
    small.write_bytes(os.urandom(UPLOAD_PART_BYTES - 1))
    data = os.urandom(2 * UPLOAD_PART_BYTES + 5)
    large.write_bytes(data)
    assert remote_artifacts._digest(small)[2] is None
    sha256, size, parts = remote_artifacts._digest(large)
    assert (sha256, size) == (hashlib.sha256(data).hexdigest(), len(data))
    assert parts.part_bytes == UPLOAD_PART_BYTES
    assert parts.sha256s == tuple(
        hashlib.sha256(data[start : start + UPLOAD_PART_BYTES]).hexdigest() for start in range(0, len(data), UPLOAD_PART_BYTES)
    )


@pytest.mark.parametrize("size", [UPLOAD_IN_PARTS_FROM_BYTES, 80_000 * MIB, 80_000 * MIB + 1, 5 * 1024**4])
def test_parts_are_8_mib_until_10000_of_them_would_not_hold_the_file_then_whole_mib(size):
    part_bytes = upload_part_bytes(size)
    assert part_bytes % MIB == 0 and part_bytes >= UPLOAD_PART_BYTES
    assert -(-size // part_bytes) <= MAX_UPLOAD_PARTS
    assert part_bytes == UPLOAD_PART_BYTES or -(-size // (part_bytes - MIB)) > MAX_UPLOAD_PARTS
