"""A model with a run that has weights, on SQLite, PostgreSQL and through a server (``registry_url``)."""

import multiprocessing
from pathlib import Path

import pytest

from gemini.api.model_run import ModelRun
from tests.artifacts.conftest import write_file

MODEL = "stand_counter"
WEIGHTS = "weights/best.pt"


@pytest.fixture
def db(registry_url) -> str:
    """The same tests on SQLite, on PostgreSQL and through a server (``GEMINI_API_URL``)."""
    return registry_url


@pytest.fixture
def weights(tmp_path) -> tuple[Path, str]:
    """A local weights file and its SHA-256."""
    path = tmp_path / "train" / "best.pt"
    return path, write_file(path, 70_000, seed=b"first")


@pytest.fixture
def run(db, weights) -> ModelRun:
    """A run of ``stand_counter`` that logged ``weights/best.pt``."""
    made = ModelRun.create({"params": {"lr": 0.01}}, model_name=MODEL)
    assert made.log_artifact(weights[0], name=WEIGHTS) is not None
    return made


@pytest.fixture(scope="session")
def manager():
    with multiprocessing.get_context("spawn").Manager() as shared:
        yield shared


@pytest.fixture(scope="session")
def process_pool():
    """Eight spawned processes, reused by the concurrency tests of every mode."""
    pool = multiprocessing.get_context("spawn").Pool(8)
    yield pool
    pool.terminate()
    pool.join()
