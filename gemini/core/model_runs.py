"""Model runs on the database: record, find, change and delete them.

A run is identified within its model by its info, compared as JSON values: at most one run per
(model, info), and at most one unassigned run per info. Arguments arrive checked by the registry's
front (``gemini.registry.front``).
"""

import uuid

import sqlalchemy as sa

from gemini.core import artifacts
from gemini.core.get_or_create import get_or_create_model_id
from gemini.db.artifacts import ArtifactRepository
from gemini.db.engine import unit_of_work
from gemini.db.repositories import UNSET, ModelRepository, ModelRunRepository
from gemini.db.search.run_search import RunSearchRepository
from gemini.db.model_records import ModelRecordRepository, RecordFilter
from gemini.db.versions import ModelVersionRepository
from gemini.domain.errors import ConflictError, NotFoundError
from gemini.domain.records import CheckedInfo, ModelRecord, ModelRunRecord, Page
from gemini.registry.contract import PageRequest, RunQuery


def create_run(
    *, model_run_info: CheckedInfo, model_name: str | None, created_by: str | None
) -> tuple[ModelRunRecord, bool]:
    info = model_run_info
    if model_name is not None:
        # The common case, a new run of an existing model, in one statement; the rest settles below.
        with unit_of_work(write=True, single_statement=True) as connection:
            added = ModelRunRepository(connection).add_if_model_named(
                model_name=model_name, info=info.value, info_hash=info.hash, created_by=created_by
            )
        if added is not None:
            return added, True
    with unit_of_work(write=True) as connection:
        model_id = (
            get_or_create_model_id(connection, model_name=model_name, created_by=created_by)
            if model_name is not None
            else None
        )
        return ModelRunRepository(connection).add(
            model_id=model_id, info=info.value, info_hash=info.hash, created_by=created_by, model_name=model_name
        )


def create_runs(
    *, model_run_infos: list[CheckedInfo], model_name: str | None, created_by: str | None
) -> list[tuple[ModelRunRecord, bool]]:
    with unit_of_work(write=True) as connection:
        model_id = (
            get_or_create_model_id(connection, model_name=model_name, created_by=created_by)
            if model_name is not None
            else None
        )
        return ModelRunRepository(connection).add_many(
            model_id=model_id,
            items=[(info.value, info.hash) for info in model_run_infos],
            created_by=created_by,
            model_name=model_name,
        )


def get_run(*, run_id: uuid.UUID) -> ModelRunRecord:
    with unit_of_work(single_read=True) as connection:
        return ModelRunRepository(connection).get(run_id)


def find_run(*, model_run_info: CheckedInfo, model_name: str | None) -> ModelRunRecord:
    with unit_of_work() as connection:
        model_id = ModelRepository(connection).id_for_name(model_name) if model_name is not None else UNSET
        record = ModelRunRepository(connection).get_one_or_none(model_id=model_id, info_hash=model_run_info.hash)
    if record is None:
        where = f" of model {model_name!r}" if model_name is not None else ""
        raise NotFoundError(f"no model run{where} with info {model_run_info.value!r}")
    return record


def _model_filter(connection: sa.Connection, query: RunQuery):  # noqa: ANN202
    """The model id a search is limited to (``UNSET``: any); ``NotFoundError`` for an unknown model."""
    model_id = UNSET
    if query.model_name is not None:
        model_id = ModelRepository(connection).id_for_name(query.model_name)
    if query.model_id is not None:
        ModelRepository(connection).get(query.model_id)
        if model_id is not UNSET and model_id != query.model_id:
            raise NotFoundError(f"model {query.model_id} is not named {query.model_name!r}")
        model_id = query.model_id
    return model_id


def search_runs(*, query: RunQuery, page: PageRequest) -> Page[ModelRunRecord]:
    contains = query.contains.value if query.contains is not None else None
    # With a total, the page and the count are one snapshot.
    with unit_of_work(snapshot=page.with_total) as connection:
        model_id = _model_filter(connection, query)
        search = RunSearchRepository(connection)
        total = (
            search.count(model_id=model_id, contains=contains, where=query.where_expression)
            if page.with_total
            else None
        )
        if page.limit == 0:
            return Page([], total)
        found = search.list(
            model_id=model_id,
            contains=contains,
            where=query.where_expression,
            order_by=query.order_keys,
            limit=page.limit,
            offset=page.offset,
            cursor=page.cursor,
        )
        return Page(found.items, total, found.next_cursor)


def replace_run_info(*, run_id: uuid.UUID, model_run_info: CheckedInfo) -> ModelRunRecord:
    """Replace a run's info; refused when another run of the same model already has that info."""
    info = model_run_info
    with unit_of_work(write=True) as connection:
        runs = ModelRunRepository(connection)
        run = runs.get(run_id)
        _refuse_duplicate(runs, run, model_id=run.model_id, info_hash=info.hash)
        return runs.update(run_id, model_run_info=info.value, info_hash=info.hash)


def _refuse_duplicate(runs: ModelRunRepository, run: ModelRunRecord, *, model_id, info_hash: str) -> None:  # noqa: ANN001
    if run.status is not None:  # a tracked run is not identified by its info
        return
    other = runs.get_one_or_none(model_id=model_id, info_hash=info_hash, identified=True)
    if other is not None and other.id != run.id:
        owner = f"model {model_id}" if model_id is not None else "no model"
        raise ConflictError(f"model run {other.id} of {owner} already has this info")


def rename_run(*, run_id: uuid.UUID, run_name: str | None) -> ModelRunRecord:
    with unit_of_work(write=True) as connection:
        return ModelRunRepository(connection).update(run_id, run_name=run_name)


def delete_run(*, run_id: uuid.UUID) -> None:
    """Delete a run with its metrics and artifacts; refused while a model version pins one of them."""
    with unit_of_work(write=True) as connection:
        registered = ModelVersionRepository(connection).names_of_runs([run_id])
        if registered:
            raise ConflictError(
                f"model run {run_id} has registered versions ({', '.join(registered)}): "
                "delete those versions before the run"
            )
        produced = ModelRecordRepository(connection).count(RecordFilter(model_run_id=run_id))
        if produced:
            raise ConflictError(
                f"model run {run_id} produced {produced} model records: delete them before the run"
            )
        digests = ArtifactRepository(connection).digests_of_runs([run_id])
        ModelRunRepository(connection).delete(run_id)
    artifacts.release_blobs_after_delete(digests)


def get_run_model(*, run_id: uuid.UUID) -> ModelRecord:
    """The model a run belongs to; ``NotFoundError`` when the run has none."""
    with unit_of_work() as connection:
        run = ModelRunRepository(connection).get(run_id)
        if run.model_id is None:
            raise NotFoundError(f"model run {run_id} is not associated with a model")
        return ModelRepository(connection).get(run.model_id)


def associate_run(*, run_id: uuid.UUID, model_name: str) -> tuple[ModelRunRecord, ModelRecord]:
    """Move a run to the model named ``model_name``; refused when that model has a run with equal info."""
    with unit_of_work(write=True) as connection:
        runs = ModelRunRepository(connection)
        run = runs.get(run_id)
        model = ModelRepository(connection).get_by_name(model_name)
        _refuse_duplicate(runs, run, model_id=model.id, info_hash=runs.info_hash(run_id))
        return runs.update(run_id, model_id=model.id), model


def unassociate_run(*, run_id: uuid.UUID) -> tuple[ModelRunRecord, ModelRecord]:
    """Detach a run from its model; returns the run and the model it left."""
    with unit_of_work(write=True) as connection:
        runs = ModelRunRepository(connection)
        run = runs.get(run_id)
        if run.model_id is None:
            raise NotFoundError(f"model run {run_id} is not associated with a model")
        model = ModelRepository(connection).get(run.model_id)
        _refuse_duplicate(runs, run, model_id=None, info_hash=runs.info_hash(run_id))
        return runs.update(run_id, model_id=None), model
