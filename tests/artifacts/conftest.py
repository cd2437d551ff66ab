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
from tests.conftest import empty_registry
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


REGISTRY_STORAGE_MODES = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgresql),
    pytest.param("remote", marks=pytest.mark.remote),
    pytest.param("postgresql-s3", marks=pytest.mark.postgresql),
    pytest.param("remote-s3", marks=pytest.mark.remote),
]


@pytest.fixture(params=REGISTRY_STORAGE_MODES)
def registry_url(request, monkeypatch, tmp_path) -> str:
    """An empty registry locally or through a server, on a directory or on a bucket."""
    mode = request.param
    if mode == "remote-s3":
        served = request.getfixturevalue("remote_registry_s3")
        for key in [key for key in os.environ if key.startswith("AWS_")]:
            monkeypatch.delenv(key)  # the client needs no credentials of the store: the server signs
        monkeypatch.setenv("GEMINI_API_URL", served.url)
        return empty_registry(served.database_url, monkeypatch, served.artifact_root)
    if mode == "remote":
        served = request.getfixturevalue("remote_registry")
        monkeypatch.setenv("GEMINI_API_URL", served.url)
        return empty_registry(served.database_url, monkeypatch, served.artifact_root)
    if mode == "postgresql-s3":
        return empty_registry(request.getfixturevalue("postgresql_database_url"), monkeypatch, request.getfixturevalue("s3_root"))
    return empty_registry(request.getfixturevalue(f"{mode}_database_url"), monkeypatch, tmp_path / "artifact-store")


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
