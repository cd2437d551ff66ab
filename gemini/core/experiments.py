"""Experiments on the database: named groups of models (a minimal form of GEMINI's experiments).
Arguments arrive checked by the registry's front."""

import uuid

from gemini.db.engine import unit_of_work
from gemini.db.model_records import ModelRecordRepository, RecordFilter, lock_for_delete
from gemini.db.repositories import ExperimentRepository, ModelRepository
from gemini.domain.errors import ConflictError
from gemini.domain.records import CheckedInfo, ExperimentRecord, ModelRecord, Page
from gemini.registry.contract import PageRequest


def create_experiment(*, experiment_name: str, experiment_info: CheckedInfo) -> tuple[ExperimentRecord, bool]:
    """Create an experiment, or return the existing one of that name unchanged."""
    with unit_of_work(write=True) as connection:
        return ExperimentRepository(connection).add(experiment_name=experiment_name, experiment_info=experiment_info.value)


def get_experiment(*, experiment_id: uuid.UUID) -> ExperimentRecord:
    with unit_of_work(single_read=True) as connection:
        return ExperimentRepository(connection).get(experiment_id)


def get_experiment_by_name(*, experiment_name: str) -> ExperimentRecord:
    with unit_of_work() as connection:
        return ExperimentRepository(connection).get_by_name(experiment_name)


def search_experiments(*, page: PageRequest) -> Page[ExperimentRecord]:
    with unit_of_work(snapshot=page.with_total) as connection:
        experiments = ExperimentRepository(connection)
        total = experiments.count() if page.with_total else None
        items = experiments.list(limit=page.limit, offset=page.offset) if page.limit != 0 else []
        return Page(items, total)


def list_experiment_models(*, experiment_id: uuid.UUID) -> list[ModelRecord]:
    with unit_of_work(snapshot=True) as connection:
        ExperimentRepository(connection).get(experiment_id)
        models = ModelRepository(connection)
        return models.with_run_summaries(models.list(experiment_id=experiment_id))


def delete_experiment(*, experiment_id: uuid.UUID) -> None:
    """Delete an experiment; its models stay, only the association goes."""
    with unit_of_work(write=True) as connection:
        lock_for_delete(connection, "experiment", experiment_id)  # no insert tags records behind the count
        tagged = ModelRecordRepository(connection).count(
            RecordFilter(tag_ids={"experiment": frozenset({experiment_id})})
        )
        if tagged:
            raise ConflictError(
                f"experiment {experiment_id} tags {tagged} model records: delete them before the experiment"
            )
        ExperimentRepository(connection).delete(experiment_id)
