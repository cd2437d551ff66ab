"""Models: what runs belong to. Names are unique; deleting a model deletes its runs."""

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from gemini.core import artifacts
from gemini.core.get_or_create import get_or_create_experiment_id
from gemini.core.validation import check_info, check_name, check_optional_text, check_page, parse_id
from gemini.db.artifacts import ArtifactRepository
from gemini.db.engine import unit_of_work
from gemini.db.repositories import ExperimentRepository, ModelRepository, ModelRunRepository
from gemini.errors import ConflictError, InvalidInputError, NotFoundError
from gemini.records import ExperimentRecord, ModelRecord, ModelRunRecord, Page

INFO = "model_info"


def create_model(
    *,
    model_name: str,
    model_url: str | None = None,
    model_info: dict[str, Any] | None = None,
    experiment_name: str | None = None,
    created_by: str | None = None,
) -> tuple[ModelRecord, bool]:
    """Create a model, or return the existing one of that name unchanged; link it to ``experiment_name``,
    creating that experiment when missing.

    ``created_by`` names the author (the REST API passes the token's name); an existing model keeps its own.

    Returns the record and whether it is new (``False``: an equal one existed and is returned)."""
    check_name(model_name, field="model_name")
    check_optional_text(model_url, field="model_url")
    info = check_info(model_info, field=INFO)
    if experiment_name is not None:
        check_name(experiment_name, field="experiment_name")
    created_by = check_optional_text(created_by, field="created_by")
    with unit_of_work(write=True) as connection:
        models = ModelRepository(connection)
        model, created = models.add(
            model_name=model_name, model_url=model_url, model_info=info.value, created_by=created_by
        )
        if experiment_name is not None:
            experiment_id = get_or_create_experiment_id(
                connection, experiment_name=experiment_name, model_name=model_name
            )
            models.link_experiment(model.id, experiment_id)
        return model, created


def get_model(*, model_id: object) -> ModelRecord:
    model_id = parse_id(model_id, field="model id")
    with unit_of_work(single_read=True) as connection:
        return ModelRepository(connection).get(model_id)


def get_model_by_name(*, model_name: str, experiment_name: str | None = None) -> ModelRecord:
    """The model named ``model_name``; with ``experiment_name``, only if it belongs to that experiment."""
    check_name(model_name, field="model_name")
    with unit_of_work() as connection:
        models = ModelRepository(connection)
        model = models.get_by_name(model_name)
        if experiment_name is not None:
            experiment = ExperimentRepository(connection).get_by_name(check_name(experiment_name, field="experiment_name"))
            if not models.has_experiment(model.id, experiment.id):
                raise NotFoundError(f"model {model_name!r} is not part of experiment {experiment_name!r}")
        return model


def model_exists(*, model_name: str) -> bool:
    check_name(model_name, field="model_name")
    with unit_of_work() as connection:
        return ModelRepository(connection).get_one_or_none(model_name=model_name) is not None


@dataclass(frozen=True, slots=True)
class _ModelFilters:
    """The filters of ``list_models``/``count_models``, checked before any database work."""

    model_name: str | None
    model_url: str | None
    contains: dict[str, Any] | None
    experiment_name: str | None

    @classmethod
    def checked(
        cls, model_name: object, model_url: object, model_info: object, experiment_name: object
    ) -> "_ModelFilters":
        return cls(
            model_name=check_optional_text(model_name, field="model_name"),
            model_url=check_optional_text(model_url, field="model_url"),
            contains=check_info(model_info, field=INFO).value if model_info is not None else None,
            experiment_name=(
                check_name(experiment_name, field="experiment_name") if experiment_name is not None else None
            ),
        )

    def resolved(self, connection: sa.Connection) -> dict[str, Any]:
        """Repository keyword arguments; an unknown experiment name raises ``NotFoundError``."""
        experiment_id = (
            ExperimentRepository(connection).get_by_name(self.experiment_name).id
            if self.experiment_name is not None
            else None
        )
        return dict(
            model_name=self.model_name, model_url=self.model_url, contains=self.contains, experiment_id=experiment_id
        )


def list_models(
    *,
    model_name: str | None = None,
    model_url: str | None = None,
    model_info: dict[str, Any] | None = None,
    experiment_name: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[ModelRecord]:
    """Models in creation order, filtered by exact name/url, info containment and experiment; each with
    its ``run_count`` and ``last_run_at``."""
    check_page(limit, offset)
    filters = _ModelFilters.checked(model_name, model_url, model_info, experiment_name)
    with unit_of_work(snapshot=True) as connection:
        models = ModelRepository(connection)
        return models.with_run_summaries(models.list(**filters.resolved(connection), limit=limit, offset=offset))


def list_and_count_models(
    *,
    model_name: str | None = None,
    model_url: str | None = None,
    model_info: dict[str, Any] | None = None,
    experiment_name: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> Page[ModelRecord]:
    """A page of ``list_models`` and the number of models matching in all, from one read."""
    check_page(limit, offset)
    filters = _ModelFilters.checked(model_name, model_url, model_info, experiment_name)
    with unit_of_work(snapshot=True) as connection:
        models = ModelRepository(connection)
        resolved = filters.resolved(connection)
        page = models.list(**resolved, limit=limit, offset=offset)
        return Page(models.with_run_summaries(page), models.count(**resolved))


def update_model(
    *,
    model_id: object,
    model_name: str | None = None,
    model_url: str | None = None,
    model_info: dict[str, Any] | None = None,
) -> ModelRecord:
    """Change the given fields; at least one is required, and a new name must be free."""
    model_id = parse_id(model_id, field="model id")
    values: dict[str, Any] = {}
    if model_name is not None:
        values["model_name"] = check_name(model_name, field="model_name")
    if model_url is not None:
        values["model_url"] = check_optional_text(model_url, field="model_url")
    if model_info is not None:
        values["model_info"] = check_info(model_info, field=INFO).value
    if not values:
        raise InvalidInputError("nothing to update: give model_name, model_url or model_info")
    with unit_of_work(write=True) as connection:
        models = ModelRepository(connection)
        models.get(model_id)
        if model_name is not None:
            other = models.get_one_or_none(model_name=model_name)
            if other is not None and other.id != model_id:
                raise ConflictError(f"another model is already named {model_name!r}")
        return models.update(model_id, **values)


def delete_model(*, model_id: object) -> None:
    model_id = parse_id(model_id, field="model id")
    with unit_of_work(write=True) as connection:
        digests = ArtifactRepository(connection).digests_of_model(model_id)  # its runs go with it
        ModelRepository(connection).delete(model_id)
    artifacts.release_blobs_after_delete(digests)


def count_models(
    *,
    model_name: str | None = None,
    model_url: str | None = None,
    model_info: dict[str, Any] | None = None,
    experiment_name: str | None = None,
) -> int:
    """How many models ``list_models`` would return without a page limit."""
    filters = _ModelFilters.checked(model_name, model_url, model_info, experiment_name)
    with unit_of_work() as connection:
        return ModelRepository(connection).count(**filters.resolved(connection))


def list_model_runs(*, model_id: object, limit: int | None = None, offset: int | None = None) -> list[ModelRunRecord]:
    model_id = parse_id(model_id, field="model id")
    check_page(limit, offset)
    with unit_of_work() as connection:
        ModelRepository(connection).get(model_id)
        return ModelRunRepository(connection).list(model_id=model_id, limit=limit, offset=offset)


def list_and_count_model_runs(
    *, model_id: object, limit: int | None = None, offset: int | None = None
) -> Page[ModelRunRecord]:
    """A page of the model's runs in creation order and how many it has, from one read."""
    model_id = parse_id(model_id, field="model id")
    check_page(limit, offset)
    with unit_of_work(snapshot=True) as connection:
        ModelRepository(connection).get(model_id)
        runs = ModelRunRepository(connection)
        return Page(runs.list(model_id=model_id, limit=limit, offset=offset), runs.count(model_id=model_id))


def count_model_runs(*, model_id: object) -> int:
    model_id = parse_id(model_id, field="model id")
    with unit_of_work() as connection:
        ModelRepository(connection).get(model_id)
        return ModelRunRepository(connection).count(model_id=model_id)


def create_model_run(
    *,
    model_id: object,
    model_run_info: dict[str, Any] | None = None,
    model_name: str | None = None,
    created_by: str | None = None,
) -> tuple[ModelRunRecord, bool]:
    """A run of the model with id ``model_id`` (the existing run if that info is already recorded).

    Returns the record and whether it is new (``False``: an equal one existed and is returned)."""
    model_id = parse_id(model_id, field="model id")
    info = check_info(model_run_info, field="model_run_info")
    if model_name is not None:
        check_name(model_name, field="model_name")
    created_by = check_optional_text(created_by, field="created_by")
    with unit_of_work(write=True) as connection:
        model = ModelRepository(connection).get(model_id)
        if model_name is not None and model_name != model.model_name:
            raise InvalidInputError(
                f"model_name {model_name!r} contradicts the model of the path ({model_id} is {model.model_name!r});"
                " leave model_name out or give the path's model's name"
            )
        return ModelRunRepository(connection).add(
            model_id=model_id, info=info.value, info_hash=info.hash, created_by=created_by, model_name=model.model_name
        )


def list_model_experiments(*, model_id: object) -> list[ExperimentRecord]:
    """The model's experiments in creation order; there are few, so they come in one list."""
    model_id = parse_id(model_id, field="model id")
    with unit_of_work() as connection:
        models = ModelRepository(connection)
        models.get(model_id)
        return models.experiments(model_id)


def associate_experiment(*, model_id: object, experiment_name: str) -> ExperimentRecord:
    model_id = parse_id(model_id, field="model id")
    check_name(experiment_name, field="experiment_name")
    with unit_of_work(write=True) as connection:
        models = ModelRepository(connection)
        models.get(model_id)
        experiment = ExperimentRepository(connection).get_by_name(experiment_name)
        models.link_experiment(model_id, experiment.id)
        return experiment


def unassociate_experiment(*, model_id: object, experiment_name: str) -> ExperimentRecord:
    model_id = parse_id(model_id, field="model id")
    check_name(experiment_name, field="experiment_name")
    with unit_of_work(write=True) as connection:
        models = ModelRepository(connection)
        models.get(model_id)
        experiment = ExperimentRepository(connection).get_by_name(experiment_name)
        if not models.unlink_experiment(model_id, experiment.id):
            raise NotFoundError(f"model {model_id} is not part of experiment {experiment_name!r}")
        return experiment


def model_belongs_to_experiment(*, model_id: object, experiment_name: str) -> bool:
    model_id = parse_id(model_id, field="model id")
    check_name(experiment_name, field="experiment_name")
    with unit_of_work() as connection:
        models = ModelRepository(connection)
        models.get(model_id)
        experiment = ExperimentRepository(connection).get_one_or_none(experiment_name=experiment_name)
        return experiment is not None and models.has_experiment(model_id, experiment.id)
