"""Models on the database: what runs belong to. Names are unique; deleting a model deletes its runs.
Arguments arrive checked by the registry's front."""

import uuid

from gemini.core import artifacts
from gemini.core.get_or_create import get_or_create_experiment_id
from gemini.db.artifacts import ArtifactRepository
from gemini.db.engine import unit_of_work
from gemini.db.repositories import ExperimentRepository, ModelRepository, ModelRunRepository
from gemini.db.model_records import ModelRecordRepository, lock_for_delete
from gemini.db.versions import ModelVersionRepository
from gemini.domain.errors import ConflictError, InvalidInputError, NotFoundError
from gemini.domain.records import CheckedInfo, ExperimentRecord, ModelRecord, ModelRunRecord, Page
from gemini.registry.contract import ModelQuery, PageRequest


def create_model(
    *,
    model_name: str,
    model_url: str | None,
    model_info: CheckedInfo,
    experiment_name: str | None,
    created_by: str | None,
) -> tuple[ModelRecord, bool]:
    """Create a model, or return the existing one of that name unchanged (an existing model keeps its
    author); link it to ``experiment_name``, creating that experiment when missing."""
    with unit_of_work(write=True) as connection:
        models = ModelRepository(connection)
        model, created = models.add(
            model_name=model_name, model_url=model_url, model_info=model_info.value, created_by=created_by
        )
        if experiment_name is not None:
            experiment_id = get_or_create_experiment_id(
                connection, experiment_name=experiment_name, model_name=model_name
            )
            models.link_experiment(model.id, experiment_id)
        return model, created


def get_model(*, model_id: uuid.UUID) -> ModelRecord:
    with unit_of_work(single_read=True) as connection:
        return ModelRepository(connection).get(model_id)


def get_model_by_name(*, model_name: str, experiment_name: str | None) -> ModelRecord:
    with unit_of_work() as connection:
        models = ModelRepository(connection)
        model = models.get_by_name(model_name)
        if experiment_name is not None:
            experiment = ExperimentRepository(connection).get_by_name(experiment_name)
            if not models.has_experiment(model.id, experiment.id):
                raise NotFoundError(f"model {model_name!r} is not part of experiment {experiment_name!r}")
        return model


def search_models(*, query: ModelQuery, page: PageRequest) -> Page[ModelRecord]:
    """Each model with its ``run_count`` and ``last_run_at``, read with the page."""
    with unit_of_work(snapshot=True) as connection:
        models = ModelRepository(connection)
        filters = dict(
            model_name=query.model_name,
            model_url=query.model_url,
            contains=query.contains.value if query.contains is not None else None,
            experiment_id=(
                ExperimentRepository(connection).get_by_name(query.experiment_name).id
                if query.experiment_name is not None
                else None
            ),
        )
        total = models.count(**filters) if page.with_total else None
        if page.limit == 0:
            return Page([], total)
        found = models.list(**filters, limit=page.limit, offset=page.offset)
        return Page(models.with_run_summaries(found), total)


def update_model(
    *, model_id: uuid.UUID, model_name: str | None, model_url: str | None, model_info: CheckedInfo | None
) -> ModelRecord:
    """Change the given fields; a new name must be free."""
    values = {
        field: value
        for field, value in (
            ("model_name", model_name),
            ("model_url", model_url),
            ("model_info", model_info.value if model_info is not None else None),
        )
        if value is not None
    }
    with unit_of_work(write=True) as connection:
        models = ModelRepository(connection)
        models.get(model_id)
        if model_name is not None:
            other = models.get_one_or_none(model_name=model_name)
            if other is not None and other.id != model_id:
                raise ConflictError(f"another model is already named {model_name!r}")
        return models.update(model_id, **values)


def delete_model(*, model_id: uuid.UUID) -> None:
    """Delete a model with its runs, its versions and their aliases, and its records."""
    with unit_of_work(write=True) as connection:
        lock_for_delete(connection, "model", model_id)  # no insert adds records behind the deletion
        versions = ModelVersionRepository(connection)
        records = ModelRecordRepository(connection)
        # Its runs go with it; its records and versions before them (they point at the runs).
        digests = ArtifactRepository(connection).digests_of_model(model_id) | versions.digests_of_model(model_id)
        digests |= records.digests_of_model(model_id)
        records.delete_of_model(model_id)
        versions.delete_of_model(model_id)
        ModelRepository(connection).delete(model_id)
    artifacts.release_blobs_after_delete(digests)


def create_model_run(
    *, model_id: uuid.UUID, model_run_info: CheckedInfo, model_name: str | None, created_by: str | None
) -> tuple[ModelRunRecord, bool]:
    """A run of the model with id ``model_id`` (the existing run if that info is already recorded)."""
    with unit_of_work(write=True) as connection:
        model = ModelRepository(connection).get(model_id)
        if model_name is not None and model_name != model.model_name:
            raise InvalidInputError(
                f"model_name {model_name!r} contradicts the model of the path ({model_id} is {model.model_name!r});"
                " leave model_name out or give the path's model's name"
            )
        return ModelRunRepository(connection).add(
            model_id=model_id,
            info=model_run_info.value,
            info_hash=model_run_info.hash,
            created_by=created_by,
            model_name=model.model_name,
        )


def list_model_experiments(*, model_id: uuid.UUID) -> list[ExperimentRecord]:
    """The model's experiments in creation order; there are few, so they come in one list."""
    with unit_of_work() as connection:
        models = ModelRepository(connection)
        models.get(model_id)
        return models.experiments(model_id)


def associate_experiment(*, model_id: uuid.UUID, experiment_name: str) -> ExperimentRecord:
    with unit_of_work(write=True) as connection:
        models = ModelRepository(connection)
        models.get(model_id)
        experiment = ExperimentRepository(connection).get_by_name(experiment_name)
        models.link_experiment(model_id, experiment.id)
        return experiment


def unassociate_experiment(*, model_id: uuid.UUID, experiment_name: str) -> ExperimentRecord:
    with unit_of_work(write=True) as connection:
        models = ModelRepository(connection)
        models.get(model_id)
        experiment = ExperimentRepository(connection).get_by_name(experiment_name)
        if not models.unlink_experiment(model_id, experiment.id):
            raise NotFoundError(f"model {model_id} is not part of experiment {experiment_name!r}")
        return experiment
