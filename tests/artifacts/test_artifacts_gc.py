"""Removing what no run uses: blobs left by a crash, uploads whose process died, and no race with uploads."""

import json
import hashlib
import os
import threading
import time

import pytest

from gemini.registry import registry
from gemini.core import artifacts
from gemini.storage import blobs


def orphan_blob(store, data: bytes) -> str:
    """A blob in the store that no record points at, as a crash between a delete and its clean-up leaves."""
    digest = hashlib.sha256(data).hexdigest()
    store.write(digest, data)
    return digest


directory_only = pytest.mark.parametrize("storage", ["directory"], indirect=True)


def test_gc_removes_blobs_no_record_points_at(run_id, store):
    kept = artifacts.log_artifact(run_id=run_id, name="kept.bin", chunks=[b"kept"])
    orphan_blob(store, b"orphan")
    result = artifacts.collect_garbage()
    assert (result.blobs_removed, result.bytes_freed) == (1, len(b"orphan"))
    assert store.blobs() == {kept.sha256}


@directory_only
def test_gc_removes_the_temporary_file_of_an_upload_whose_process_died(store):
    folder = store.root / "tmp"
    folder.mkdir(parents=True)
    abandoned = folder / "upload-dead"
    abandoned.write_bytes(b"half")
    old = time.time() - 2 * blobs.ABANDONED_UPLOAD_SECONDS
    os.utime(abandoned, (old, old))
    assert artifacts.collect_garbage().temporary_files_removed == 1
    assert store.temporary_files() == []


@directory_only
def test_gc_leaves_an_upload_in_progress_alone(run_id, store):
    upload = artifacts.begin_artifact(run_id=run_id, name="slow.bin")
    upload.write(b"first part")
    [temporary] = store.temporary_files()
    old = time.time() - 2 * blobs.ABANDONED_UPLOAD_SECONDS  # a slow client: nothing written for a while
    os.utime(temporary, (old, old))
    assert artifacts.collect_garbage().temporary_files_removed == 0
    upload.write(b", second part")
    record, _ = upload.commit()
    assert store.blobs() == {record.sha256}


def test_releasing_a_blob_waits_for_an_upload_of_the_same_content_to_be_recorded(run_id, store):
    """A run using some bytes is deleted while another upload of the same bytes is being recorded:
    the removal must not take the blob from under the new record."""
    other = registry().create_run(model_run_info={"other": True})[0].id
    first = artifacts.log_artifact(run_id=run_id, name="a.bin", chunks=[b"same"])
    upload = artifacts.begin_artifact(run_id=other, name="b.bin")
    upload.write(b"same")
    released = threading.Event()
    with artifacts.artifact_store().publishing():  # the upload is between making its blob visible and its commit
        remover = threading.Thread(target=lambda: (registry().delete_run(run_id=run_id), released.set()))
        remover.start()
        assert not released.wait(0.5)  # the removal waits for the upload's record
        upload_record, _ = upload.commit()
    remover.join(timeout=30)
    assert released.is_set()
    assert upload_record.sha256 == first.sha256
    assert store.blobs() == {first.sha256}


def test_gemini_db_gc_reports_what_it_removed(run_id, store):
    from click.testing import CliRunner

    from gemini.cli.main import cli

    orphan_blob(store, b"orphan")
    result = CliRunner().invoke(cli, ["db", "gc", "--json"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout) == {"blobs_removed": 1, "bytes_freed": 6, "temporary_files_removed": 0}
