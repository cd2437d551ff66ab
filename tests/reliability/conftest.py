"""Fixtures of the reliability tests: a pool of warm spawned processes, SQLite files in memory, and
``gemini serve`` run as a real process."""

import contextlib
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_server(database_url: str) -> Iterator[str]:
    """``gemini serve`` as a real process on a free loopback port over ``database_url``; yields its base URL."""
    port = free_port()
    executable = Path(sys.executable).parent / "gemini"
    command = [str(executable) if executable.exists() else "gemini", "serve", "--host", "127.0.0.1", "--port", str(port)]
    environment = {**os.environ, "GEMINI_DATABASE_URL": database_url, "GEMINI_API_TOKEN": SERVER_TOKEN}
    process = subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"gemini serve exited with {process.returncode}:\n{process.stdout.read()}")
            try:
                if httpx.get(f"{base_url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("gemini serve did not answer /api/health within 60 s")
            time.sleep(0.1)
        yield base_url
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
