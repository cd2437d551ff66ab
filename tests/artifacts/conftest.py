"""Runs to attach artifacts to, files to log, and a look inside the store."""

import hashlib
import os
from pathlib import Path

import pytest

from gemini.registry import registry
from gemini.config import get_settings


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


class Store:
    """What is on disk under the configured artifact root."""

    @property
    def root(self) -> Path:
        return get_settings().resolved_artifact_root

    def blobs(self) -> set[str]:
        return {path.name for path in (self.root / "blobs").glob("??/*")}

    def blob_path(self, digest: str) -> Path:
        return self.root / "blobs" / digest[:2] / digest

    def temporary_files(self) -> list[Path]:
        folder = self.root / "tmp"
        return sorted(folder.iterdir()) if folder.is_dir() else []


@pytest.fixture
def store(db) -> Store:
    return Store()


@pytest.fixture
def run_id(db):
    return registry().create_run(model_run_info={"params": {"lr": 0.01}})[0].id
