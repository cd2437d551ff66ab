"""A version keeps its blob: the store's release after a name is logged again, and its garbage
collection, count versions among a blob's references; deleting the last version releases it."""

import pytest

from gemini.api.model_version import ModelVersion
from gemini.core import artifacts
from tests.artifacts.conftest import DirectoryStore, write_file
from tests.conftest import empty_registry
from tests.versions.conftest import WEIGHTS


@pytest.fixture
def db(database_url, monkeypatch, tmp_path) -> str:
    """On each database, locally: garbage collection runs on the database itself."""
    return empty_registry(database_url, monkeypatch, tmp_path / "artifact-store")


@pytest.fixture
def store(db) -> DirectoryStore:
    return DirectoryStore()


def test_a_pinned_blob_outlives_its_artifact_name_and_garbage_collection(run, weights, store, tmp_path):
    version = run.register_version(WEIGHTS)
    newer = write_file(tmp_path / "newer.pt", 1000, seed=b"newer")
    run.log_artifact(tmp_path / "newer.pt", name=WEIGHTS)
    assert store.blobs() == {weights[1], newer}  # the old bytes stay: the version points at them
    artifacts.collect_garbage()
    assert store.blobs() == {weights[1], newer}
    assert version.download(tmp_path / "v1.pt").read_bytes() == weights[0].read_bytes()
    assert version.delete() is True
    assert store.blobs() == {newer}  # released once nothing points at them


def test_deleting_a_version_keeps_a_blob_the_run_still_names(run, weights, store):
    version = run.register_version(WEIGHTS)
    assert version.delete() is True
    assert store.blobs() == {weights[1]}
    assert ModelVersion.get_all("stand_counter") == []
