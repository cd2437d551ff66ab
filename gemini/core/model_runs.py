"""Model runs: record, find, change and delete them.

A run is identified within its model by its info, compared as JSON values: at most one run per
(model, info), and at most one unassigned run per info.
"""

from typing import Any

from gemini.core import artifacts
from gemini.core.get_or_create import get_or_create_model_id
from gemini.core.validation import check_info, check_name, check_optional_text, check_page, parse_id
from gemini.query import parse_order_by, parse_where
from gemini.query.ast import Expression
from gemini.db.artifacts import ArtifactRepository
from gemini.db.engine import unit_of_work
from gemini.db.repositories import UNSET, ModelRepository, ModelRunRepository
from gemini.db.search.run_search import RunPage, RunSearchRepository
from gemini.errors import ConflictError, InvalidInputError, NotFoundError
from gemini.records import ModelRecord, ModelRunRecord, Page

INFO = "model_run_info"


def create_run(
    *, model_run_info: dict[str, Any] | None = None, model_name: str | None = None, created_by: str | None = None
) -> tuple[ModelRunRecord, bool]:
    """Record a run (of ``model_name``, created if missing, or of no model); returns the existing run if the
    info is already there.

    ``created_by`` names the author (the REST API passes the token's name); an existing run keeps its own.

    Returns the record and whether it is new (``False``: an equal one existed and is returned)."""
    info = check_info(model_run_info, field=INFO)
    if model_name is not None:
        check_name(model_name, field="model_name")
    created_by = check_optional_text(created_by, field="created_by")
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
    *, model_run_infos: list[dict[str, Any]], model_name: str | None = None, created_by: str | None = None
) -> list[tuple[ModelRunRecord, bool]]:
    """Record many runs of ``model_name`` (created if missing) or of no model, in one transaction; returns
    them in input order. Runs that already exist are returned, not duplicated; equal infos in the batch are one run.
    Nothing is written when any info is invalid.

    Returns each run with whether it is new (a repeat within the batch is not)."""
    if isinstance(model_run_infos, (str, bytes, dict)) or not hasattr(model_run_infos, "__iter__"):
        raise InvalidInputError(f"model_run_infos must be a list of dicts, got {type(model_run_infos).__name__}")
    checked = [check_info(info, field=f"{INFO}[{index}]") for index, info in enumerate(model_run_infos)]
    if model_name is not None:
        check_name(model_name, field="model_name")
    created_by = check_optional_text(created_by, field="created_by")
    if not checked:
        return []
    with unit_of_work(write=True) as connection:
        model_id = (
            get_or_create_model_id(connection, model_name=model_name, created_by=created_by)
            if model_name is not None
            else None
        )
        return ModelRunRepository(connection).add_many(
            model_id=model_id,
            items=[(info.value, info.hash) for info in checked],
            created_by=created_by,
            model_name=model_name,
        )


def get_run(*, run_id: object) -> ModelRunRecord:
    run_id = parse_id(run_id, field="model run id")
    with unit_of_work(single_read=True) as connection:
        return ModelRunRepository(connection).get(run_id)


def _model_filter(connection, model_name: str | None):  # noqa: ANN001, ANN202
    if model_name is None:
        return UNSET
    check_name(model_name, field="model_name")
    return ModelRepository(connection).id_for_name(model_name)


def find_run(*, model_run_info: dict[str, Any], model_name: str | None = None) -> ModelRunRecord:
    """The run whose info equals ``model_run_info`` (of ``model_name`` when given; else the oldest such run)."""
    info = check_info(model_run_info, field=INFO)
    with unit_of_work() as connection:
        model_id = _model_filter(connection, model_name)
        record = ModelRunRepository(connection).get_one_or_none(model_id=model_id, info_hash=info.hash)
    if record is None:
        where = f" of model {model_name!r}" if model_name is not None else ""
        raise NotFoundError(f"no model run{where} with info {model_run_info!r}")
    return record


def run_exists(*, model_run_info: dict[str, Any], model_name: str | None = None) -> bool:
    """Whether ``find_run`` would find a run; an unknown model simply has none."""
    info = check_info(model_run_info, field=INFO)
    with unit_of_work() as connection:
        try:
            model_id = _model_filter(connection, model_name)
        except NotFoundError:
            return False
        return ModelRunRepository(connection).exists(model_id=model_id, info_hash=info.hash)


def list_runs(
    *,
    model_run_info: dict[str, Any] | None = None,
    model_name: str | None = None,
    limit: int | None = None,
    offset: int | None = None,
) -> list[ModelRunRecord]:
    """Runs in creation order; ``model_run_info`` filters by containment, ``model_name`` by model.

    ``search_runs`` without its extra filters, so containment takes the same indexes."""
    return search_runs(model_run_info=model_run_info, model_name=model_name, limit=limit, offset=offset).runs


def count_runs(
    *, model_run_info: dict[str, Any] | None = None, model_name: str | None = None, where: str | None = None
) -> int:
    """How many runs match; the same filters as ``search_runs``."""
    contains = check_info(model_run_info, field=INFO).value if model_run_info is not None else None
    expression = _parse_where(where)
    with unit_of_work() as connection:
        model_id = _model_filter(connection, model_name)
        return RunSearchRepository(connection).count(model_id=model_id, contains=contains, where=expression)


def _parse_where(where: str | None) -> Expression | None:
    return parse_where(where) if where is not None else None


def search_runs(
    *,
    model_run_info: dict[str, Any] | None = None,
    model_name: str | None = None,
    where: str | None = None,
    order_by: str | list[str] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    cursor: str | None = None,
) -> RunPage:
    """Runs matching every filter given (containment, model, ``where``), in ``order_by`` order (creation
    order by default), one page at a time: ``limit`` with ``offset``, or with the previous page's
    ``next_cursor``, which costs the same at any depth. The language is described in docs/search.md."""
    contains = check_info(model_run_info, field=INFO).value if model_run_info is not None else None
    expression = _parse_where(where)
    keys = parse_order_by(order_by) if order_by is not None else ()
    check_page(limit, offset)
    if cursor is not None and offset:
        raise InvalidInputError("give either offset or cursor, not both")
    if limit == 0:
        return RunPage([], None)
    with unit_of_work() as connection:
        model_id = _model_filter(connection, model_name)
        return RunSearchRepository(connection).list(
            model_id=model_id,
            contains=contains,
            where=expression,
            order_by=keys,
            limit=limit,
            offset=offset,
            cursor=cursor,
        )


def search_and_count_runs(
    *,
    model_run_info: dict[str, Any] | None = None,
    model_name: str | None = None,
    where: str | None = None,
    order_by: str | list[str] | None = None,
    limit: int | None = None,
    offset: int | None = None,
    cursor: str | None = None,
) -> Page[ModelRunRecord]:
    """A page of ``search_runs`` and how many runs match in all, from one read (one snapshot), with the
    model name resolved once."""
    contains = check_info(model_run_info, field=INFO).value if model_run_info is not None else None
    expression = _parse_where(where)
    keys = parse_order_by(order_by) if order_by is not None else ()
    check_page(limit, offset)
    if cursor is not None and offset:
        raise InvalidInputError("give either offset or cursor, not both")
    with unit_of_work(snapshot=True) as connection:
        model_id = _model_filter(connection, model_name)
        search = RunSearchRepository(connection)
        total = search.count(model_id=model_id, contains=contains, where=expression)
        if limit == 0:
            return Page([], total)
        found = search.list(
            model_id=model_id,
            contains=contains,
            where=expression,
            order_by=keys,
            limit=limit,
            offset=offset,
            cursor=cursor,
        )
        return Page(found.runs, total, found.next_cursor)


def replace_run_info(*, run_id: object, model_run_info: dict[str, Any]) -> ModelRunRecord:
    """Replace a run's info; refused when another run of the same model already has that info."""
    run_id = parse_id(run_id, field="model run id")
    if model_run_info is None:
        raise InvalidInputError(f"{INFO} is required to update a model run")
    info = check_info(model_run_info, field=INFO)
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


def delete_run(*, run_id: object) -> None:
    run_id = parse_id(run_id, field="model run id")
    with unit_of_work(write=True) as connection:
        digests = ArtifactRepository(connection).digests_of_runs([run_id])
        ModelRunRepository(connection).delete(run_id)
    artifacts.release_blobs_after_delete(digests)


def get_run_model(*, run_id: object) -> ModelRecord:
    """The model a run belongs to; ``NotFoundError`` when the run has none."""
    run_id = parse_id(run_id, field="model run id")
    with unit_of_work() as connection:
        run = ModelRunRepository(connection).get(run_id)
        if run.model_id is None:
            raise NotFoundError(f"model run {run_id} is not associated with a model")
        return ModelRepository(connection).get(run.model_id)


def associate_run(*, run_id: object, model_name: str) -> tuple[ModelRunRecord, ModelRecord]:
    """Move a run to the model named ``model_name``; refused when that model has a run with equal info."""
    run_id = parse_id(run_id, field="model run id")
    check_name(model_name, field="model_name")
    with unit_of_work(write=True) as connection:
        runs = ModelRunRepository(connection)
        run = runs.get(run_id)
        model = ModelRepository(connection).get_by_name(model_name)
        _refuse_duplicate(runs, run, model_id=model.id, info_hash=runs.info_hash(run_id))
        return runs.update(run_id, model_id=model.id), model


def unassociate_run(*, run_id: object) -> tuple[ModelRunRecord, ModelRecord]:
    """Detach a run from its model; returns the run and the model it left."""
    run_id = parse_id(run_id, field="model run id")
    with unit_of_work(write=True) as connection:
        runs = ModelRunRepository(connection)
        run = runs.get(run_id)
        if run.model_id is None:
            raise NotFoundError(f"model run {run_id} is not associated with a model")
        model = ModelRepository(connection).get(run.model_id)
        _refuse_duplicate(runs, run, model_id=None, info_hash=runs.info_hash(run_id))
        return runs.update(run_id, model_id=None), model


def run_belongs_to_model(*, run_id: object, model_name: str) -> bool:
    run_id = parse_id(run_id, field="model run id")
    check_name(model_name, field="model_name")
    with unit_of_work() as connection:
        run = ModelRunRepository(connection).get(run_id)
        model = ModelRepository(connection).get_one_or_none(model_name=model_name)
        return model is not None and run.model_id == model.id
