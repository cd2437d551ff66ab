"""Runs to attach artifacts to, files to log, and a look inside the store.

Every test here runs on each artifact store: a directory, and an S3 bucket (the suite's own S3-protocol
server). ``db`` gives SQLite and PostgreSQL on each; ``registry_url`` adds a real ``gemini serve`` on
each, the one on the bucket handing its clients presigned URLs (and its clients holding no AWS
credentials at all).
"""

import hashlib
import os
from pathlib import Path

import pytest

from gemini.config import get_settings
from gemini.registry import registry
from tests.conftest import STORE_REGISTRY_MODES, empty_registry, registry_on_store
from tests.s3_support import BucketStore


def write_file(path: Path, size: int, *, seed: bytes = b"") -> str:
    """Write ``size`` bytes that differ from run to run (``seed`` makes two calls differ); returns the digest."""
    path.parent.mkdir(parents=True, exist_ok=True)
    block = hashlib.sha256(seed + os.urandom(16)).digest() * 32768  # 1 MiB, cheap to make
    digest = hashlib.sha256()
    with open(path, "wb") as stream:
        remaining = size
        while remaining:
            part = block[: min(len(block), remaining)]
            stream.write(part)
            digest.update(part)
            remaining -= len(part)
    return digest.hexdigest()


class DirectoryStore:
    """What is on disk under the configured artifact root."""

    def __init__(self, root: Path | None = None) -> None:
        self._root = root

    @property
    def root(self) -> Path:
        return self._root or get_settings().resolved_artifact_root

    def blobs(self) -> set[str]:
        return {path.name for path in (self.root / "blobs").glob("??/*")}

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / digest[:2] / digest

    def temporary_files(self) -> list[Path]:
        folder = self.root / "tmp"
        return sorted(folder.iterdir()) if folder.is_dir() else []

    def read(self, digest: str) -> bytes:
        return self.blob_path(digest).read_bytes()

    def write(self, digest: str, data: bytes) -> None:
        path = self.blob_path(digest)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def remove(self, digest: str) -> None:
        self.blob_path(digest).unlink()


STORAGE_MODES = ["directory", "s3"]


@pytest.fixture(params=STORAGE_MODES)
def storage(request) -> str:
    return request.param


@pytest.fixture
def db(database_url, monkeypatch, tmp_path, storage, request) -> str:
    """An empty registry on each database kind and each store kind."""
    root = tmp_path / "artifact-store" if storage == "directory" else request.getfixturevalue("s3_root")
    return empty_registry(database_url, monkeypatch, root)


@pytest.fixture(params=STORE_REGISTRY_MODES)
def registry_url(request, monkeypatch) -> str:
    """An empty registry locally or through a server, on a directory or on a bucket."""
    return registry_on_store(request, monkeypatch)


@pytest.fixture
def store(request, db):
    """The configured store's contents, whichever kind it is."""
    root = os.environ["GEMINI_ARTIFACT_ROOT"]
    if root.startswith("s3://"):
        return BucketStore(request.getfixturevalue("s3_server"), root)
    return DirectoryStore(Path(root))


@pytest.fixture
def run_id(db):
    return registry().create_run(model_run_info={"params": {"lr": 0.01}})[0].id
