"""Fixtures of the reliability tests: a pool of warm spawned processes and SQLite files in memory."""

import multiprocessing
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest

from . import workers

POOL_SIZE = 10
SERVER_TOKEN = "reliability-token"


@pytest.fixture(scope="session")
def manager():
    """Shares barriers and events with pool processes (plain ones cannot be passed to a pool task)."""
    with multiprocessing.get_context("spawn").Manager() as shared:
        yield shared


@pytest.fixture(scope="session")
def process_pool(manager):
    """``POOL_SIZE`` spawned processes, imported and ready, reused by every concurrency test."""
    pool = multiprocessing.get_context("spawn").Pool(POOL_SIZE)
    start = manager.Barrier(POOL_SIZE)
    assert len(set(pool.starmap(workers.ready, [(start,)] * POOL_SIZE, chunksize=1))) == POOL_SIZE
    yield pool
    pool.terminate()
    pool.join()


@pytest.fixture
def memory_sqlite_url(monkeypatch, tmp_path) -> str:
    """A fresh SQLite registry on tmpfs when there is one: the same locking as on disk, without the fsync
    latency that would make a test of 4,000 commits slow. Made the configured database."""
    shm = Path("/dev/shm")
    directory = Path(tempfile.mkdtemp(prefix="gemini-", dir=shm)) if shm.is_dir() else tmp_path
    url = f"sqlite:///{directory / f'{uuid.uuid4().hex}.db'}"
    monkeypatch.setenv("GEMINI_DATABASE_URL", url)
    yield url
    if directory != tmp_path:
        shutil.rmtree(directory, ignore_errors=True)
