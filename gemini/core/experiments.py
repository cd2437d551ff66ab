"""Experiments: named groups of models (a minimal form of GEMINI's experiments)."""

from typing import Any

from gemini.core.validation import check_info, check_name, check_page, parse_id
from gemini.db.engine import unit_of_work
from gemini.db.repositories import ExperimentRepository, ModelRepository
from gemini.records import ExperimentRecord, ModelRecord, Page


def create_experiment(
    *, experiment_name: str, experiment_info: dict[str, Any] | None = None
) -> tuple[ExperimentRecord, bool]:
    """Create an experiment, or return the existing one of that name unchanged.

    Returns the record and whether it is new (``False``: an equal one existed and is returned)."""
    check_name(experiment_name, field="experiment_name")
    info = check_info(experiment_info, field="experiment_info")
    with unit_of_work(write=True) as connection:
        return ExperimentRepository(connection).add(experiment_name=experiment_name, experiment_info=info.value)


def get_experiment(*, experiment_id: object) -> ExperimentRecord:
    experiment_id = parse_id(experiment_id, field="experiment id")
    with unit_of_work(single_read=True) as connection:
        return ExperimentRepository(connection).get(experiment_id)


def get_experiment_by_name(*, experiment_name: str) -> ExperimentRecord:
    check_name(experiment_name, field="experiment_name")
    with unit_of_work() as connection:
        return ExperimentRepository(connection).get_by_name(experiment_name)


def list_experiments(*, limit: int | None = None, offset: int | None = None) -> list[ExperimentRecord]:
    check_page(limit, offset)
    with unit_of_work() as connection:
        return ExperimentRepository(connection).list(limit=limit, offset=offset)


def list_and_count_experiments(*, limit: int | None = None, offset: int | None = None) -> Page[ExperimentRecord]:
    """A page of experiments and how many there are, from one read."""
    check_page(limit, offset)
    with unit_of_work(snapshot=True) as connection:
        experiments = ExperimentRepository(connection)
        return Page(experiments.list(limit=limit, offset=offset), experiments.count())


def count_experiments() -> int:
    with unit_of_work() as connection:
        return ExperimentRepository(connection).count()


def list_experiment_models(*, experiment_id: object) -> list[ModelRecord]:
    experiment_id = parse_id(experiment_id, field="experiment id")
    with unit_of_work(snapshot=True) as connection:
        ExperimentRepository(connection).get(experiment_id)
        models = ModelRepository(connection)
        return models.with_run_summaries(models.list(experiment_id=experiment_id))


def delete_experiment(*, experiment_id: object) -> None:
    """Delete an experiment; its models stay, only the association goes."""
    experiment_id = parse_id(experiment_id, field="experiment id")
    with unit_of_work(write=True) as connection:
        ExperimentRepository(connection).delete(experiment_id)
