"""Several processes creating the same run at once end with one row, and every caller gets it."""

import multiprocessing
import os

from gemini.registry import registry

INFO = {"params": {"lr": 0.01}, "data": {"site": "Davis", "year": 2024}}


def _create(url: str, model_name: str | None) -> str:
    os.environ["GEMINI_DATABASE_URL"] = url
    return str(registry().create_run(model_run_info=INFO, model_name=model_name)[0].id)


def test_concurrent_creates_of_one_run_from_several_processes(db):
    registry().create_model(model_name="detector")
    with multiprocessing.get_context("spawn").Pool(6) as pool:
        ids = pool.starmap(_create, [(db, "detector")] * 6 + [(db, None)] * 6)
    assert len(set(ids[:6])) == 1 and len(set(ids[6:])) == 1
    assert ids[0] != ids[6]
    assert registry().count_runs() == 2


def _create_under_new_names(url: str, worker: int, start) -> tuple[str, str, str]:  # noqa: ANN001
    """Create a run and a batch of runs of model "new", and a model in experiment "new", once ``start``
    lets every process go; returns the model ids of the run and of the batch, and the experiment's id."""
    os.environ["GEMINI_DATABASE_URL"] = url
    registry().search_models(limit=0, with_total=True).total  # connect and migrate before the race, so the processes meet at the writes
    start.wait()
    run, _ = registry().create_run(model_run_info={"worker": worker}, model_name="new")
    batch = [run for run, _ in registry().create_runs(model_run_infos=[{"worker": worker, "n": n} for n in range(3)], model_name="new")]
    model, _ = registry().create_model(model_name=f"model-{worker}", experiment_name="new")
    (experiment,) = registry().list_model_experiments(model_id=model.id)
    return str(run.model_id), str(batch[0].model_id), str(experiment.id)


def test_concurrent_creates_under_a_new_model_name_make_one_model_and_one_experiment(db):
    workers = 4
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(workers) as pool:
        start = manager.Barrier(workers)
        results = pool.starmap(_create_under_new_names, [(db, worker, start) for worker in range(workers)])
    model_ids = {model_id for run_model, batch_model, _ in results for model_id in (run_model, batch_model)}
    assert model_ids == {str(registry().get_model_by_name(model_name="new").id)}
    assert len({experiment_id for _, _, experiment_id in results}) == 1
    assert registry().search_models(limit=0, with_total=True).total == workers + 1
    assert registry().count_runs(model_name="new") == workers * 4
