"""Several processes creating the same run at once end with one row, and every caller gets it."""

import multiprocessing
import os

from gemini.core import model_runs, models

INFO = {"params": {"lr": 0.01}, "data": {"site": "Davis", "year": 2024}}


def _create(url: str, model_name: str | None) -> str:
    os.environ["GEMINI_DATABASE_URL"] = url
    return str(model_runs.create_run(model_run_info=INFO, model_name=model_name).id)


def test_concurrent_creates_of_one_run_from_several_processes(db):
    models.create_model(model_name="detector")
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        ids = pool.starmap(_create, [(db, "detector")] * 6 + [(db, None)] * 6)
    assert len(set(ids[:6])) == 1 and len(set(ids[6:])) == 1
    assert ids[0] != ids[6]
    assert model_runs.count_runs() == 2
