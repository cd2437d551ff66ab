"""Data access, one vocabulary for every entity.

- ``get(id)`` returns the record or raises ``NotFoundError``;
- ``get_one_or_none(...)`` returns the record or ``None``;
- ``add(...)``, ``update(id, ...)``, ``delete(id)`` write; ``exists(...)`` and ``list(...)``/``count(...)``
  read.

Repositories run on the caller's connection and never commit: the unit of work does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gemini.config import get_settings
from gemini.db.engine import dialect_insert, dumps_json
from gemini.db.ids import new_id
from gemini.db.search import path_values
from gemini.db.search.containment import info_contains
from gemini.db.tables import ExperimentRow, ModelRow, ModelRunRow, model_experiments, utc_now
from gemini.domain.statuses import END_STATUSES, LOST, RUNNING
from gemini.domain.errors import ConflictError, NotFoundError
from gemini.domain.records import ExperimentRecord, ModelRecord, ModelRunRecord

_runs = ModelRunRow.__table__
_models = ModelRow.__table__
_experiments = ExperimentRow.__table__

_RUN_COLUMNS = (
    _runs.c.id,
    _runs.c.model_id,
    _runs.c.model_run_info,
    _runs.c.created_at,
    _runs.c.updated_at,
    _runs.c.status,
    _runs.c.started_at,
    _runs.c.ended_at,
    _runs.c.heartbeat_at,
    _runs.c.error_type,
    _runs.c.error_message,
    _runs.c.created_by,
    _runs.c.run_name,
)
# A run as read: its stored columns and its model's name, joined in the same statement (``RUNS_WITH_MODEL``).
# The joined models go by an alias, so that a search's conditions on the models table stay subqueries.
_run_model = _models.alias("run_model")
RUN_COLUMNS = (*_RUN_COLUMNS, _run_model.c.model_name)
"""What every read of runs selects, from ``RUNS_WITH_MODEL``; ``run_record`` turns such a row into a record."""
RUN_COLUMN_COUNT = len(RUN_COLUMNS)
RUNS_WITH_MODEL = _runs.outerjoin(_run_model, _run_model.c.id == _runs.c.model_id)



def lost_before() -> dt.datetime:
    """A ``running`` run whose last heartbeat is older than this is reported as ``lost``."""
    return utc_now() - dt.timedelta(seconds=get_settings().heartbeat_timeout)


def run_record(row: Any, lost_cutoff: dt.datetime | None = None) -> ModelRunRecord:
    """The record of a row whose first columns are ``RUN_COLUMNS``; a stale ``running`` reads ``lost``."""
    status = row[5]
    if status == RUNNING and row[8] is not None and row[8] < (lost_cutoff or lost_before()):
        status = LOST
    return ModelRunRecord(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        status=status,
        started_at=row[6],
        ended_at=row[7],
        error_type=row[9],
        error_message=row[10],
        created_by=row[11],
        run_name=row[12],
        model_name=row[13],
    )
_MODEL_COLUMNS = (
    _models.c.id,
    _models.c.model_name,
    _models.c.model_url,
    _models.c.model_info,
    _models.c.created_at,
    _models.c.updated_at,
    _models.c.created_by,
)
_EXPERIMENT_COLUMNS = (
    _experiments.c.id,
    _experiments.c.experiment_name,
    _experiments.c.experiment_info,
    _experiments.c.created_at,
    _experiments.c.updated_at,
)

UNSET: Any = object()
"""Marks a filter that was not given (``None`` is a real value for ``model_id``: no model)."""


# The statements of the hottest paths, built once: on SQLite constructing a statement costs more than
# running it.
_SELECT_RUN_BY_ID = sa.select(*RUN_COLUMNS).select_from(RUNS_WITH_MODEL).where(_runs.c.id == sa.bindparam("run_id"))
_SELECT_MODEL_ID_BY_NAME = sa.select(_models.c.id).where(_models.c.model_name == sa.bindparam("model_name"))
_INSERT_MODEL_NAME_IF_NEW = {
    name: insert(_models)
    .values(
        id=sa.bindparam("id"),
        model_name=sa.bindparam("model_name"),
        model_info={},
        created_at=sa.bindparam("now"),
        updated_at=sa.bindparam("now"),
        created_by=sa.bindparam("created_by"),
    )
    .on_conflict_do_nothing()
    .returning(_models.c.id)
    for name, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}
_RUN_OF_NAMED_MODEL = sa.select(
    sa.bindparam("id", type_=_runs.c.id.type),
    _models.c.id,
    sa.bindparam("model_run_info", type_=_runs.c.model_run_info.type),
    sa.bindparam("info_hash", type_=_runs.c.info_hash.type),
    sa.bindparam("created_by", type_=_runs.c.created_by.type),
    sa.bindparam("now", type_=_runs.c.created_at.type),
    sa.bindparam("now", type_=_runs.c.updated_at.type),
).where(_models.c.model_name == sa.bindparam("model_name"))
_NAMED_MODEL_COLUMNS = ["id", "model_id", "model_run_info", "info_hash", "created_by", "created_at", "updated_at"]
_INSERT_RUN_OF_NAMED_MODEL = {
    name: dialect.insert(_runs)
    .from_select(_NAMED_MODEL_COLUMNS, _RUN_OF_NAMED_MODEL)
    .on_conflict_do_nothing()
    .returning(_runs.c.model_id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_INSERT_RUN_IF_NEW = {
    "postgresql": postgresql.insert(_runs).on_conflict_do_nothing().returning(_runs.c.id),
    "sqlite": sqlite.insert(_runs).on_conflict_do_nothing().returning(_runs.c.id),
}


def _page(query: sa.Select, limit: int | None, offset: int | None) -> sa.Select:
    if limit is not None:
        query = query.limit(limit)
    if offset:
        query = query.offset(offset)
    return query


class ModelRunRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def _filters(
        self, *, model_id: uuid.UUID | None = UNSET, info_hash: str | None = None, identified: bool = False
    ) -> list[sa.ColumnElement[bool]]:
        filters = []
        if model_id is not UNSET:
            filters.append(_runs.c.model_id.is_(None) if model_id is None else _runs.c.model_id == model_id)
        if info_hash is not None:
            filters.append(_runs.c.info_hash == info_hash)
        if identified:  # only runs recorded with ``create`` are identified by their info
            filters.append(_runs.c.status.is_(None))
        return filters

    def get(self, run_id: uuid.UUID) -> ModelRunRecord:
        row = self.connection.execute(_SELECT_RUN_BY_ID, {"run_id": run_id}).first()
        if row is None:
            raise NotFoundError(f"no model run with id {run_id}")
        return run_record(row)

    def get_one_or_none(
        self, *, model_id: uuid.UUID | None = UNSET, info_hash: str | None = None, identified: bool = False
    ) -> ModelRunRecord | None:
        """The oldest run matching the filters (by id, use ``get``); ``identified``: recorded runs only."""
        filters = self._filters(model_id=model_id, info_hash=info_hash, identified=identified)
        query = sa.select(*RUN_COLUMNS).select_from(RUNS_WITH_MODEL).where(*filters)
        row = self.connection.execute(query.order_by(_runs.c.id).limit(1)).first()
        return run_record(row) if row else None

    def info_hash(self, run_id: uuid.UUID) -> str:
        value = self.connection.execute(sa.select(_runs.c.info_hash).where(_runs.c.id == run_id)).scalar()
        if value is None:
            raise NotFoundError(f"no model run with id {run_id}")
        return value

    def exists(self, *, model_id: uuid.UUID | None = UNSET, info_hash: str | None = None) -> bool:
        query = sa.select(sa.exists().where(*self._filters(model_id=model_id, info_hash=info_hash)))
        return bool(self.connection.execute(query).scalar())

    def add(
        self,
        *,
        model_id: uuid.UUID | None,
        info: dict[str, Any],
        info_hash: str,
        created_by: str | None = None,
        model_name: str | None = None,
    ) -> tuple[ModelRunRecord, bool]:
        """Insert a run unless one with the same (model, info hash) exists; returns it and whether it is new.
        ``model_name``, the name of ``model_id``, goes into the returned record.

        ``ON CONFLICT DO NOTHING`` makes concurrent creators agree: one insert wins, the others read it.
        """
        now = utc_now()
        values = dict(
            id=new_id(),
            model_id=model_id,
            model_run_info=info,
            info_hash=info_hash,
            created_at=now,
            updated_at=now,
            created_by=created_by,
        )
        inserted = self.connection.execute(_INSERT_RUN_IF_NEW[self.connection.dialect.name], values).first()
        if inserted is not None:
            path_values.add_leaves(self.connection, [(values["id"], info)])
            return ModelRunRecord(values["id"], model_id, info, now, now, model_name=model_name, created_by=created_by), True
        existing = self.get_one_or_none(model_id=model_id, info_hash=info_hash, identified=True)
        if existing is None:  # the conflicting row was deleted between our insert and this read
            return self.add(model_id=model_id, info=info, info_hash=info_hash, created_by=created_by, model_name=model_name)
        return existing, False

    def add_if_model_named(
        self, *, model_name: str, info: dict[str, Any], info_hash: str, created_by: str | None = None
    ) -> ModelRunRecord | None:
        """Insert a run of the model named ``model_name`` in one statement that also finds the model; ``None``
        (nothing written) when there is no such model or the run exists, for ``add`` to settle.

        On PostgreSQL that statement is the whole write (one round trip in autocommit); SQLite also
        writes the (path, value) rows.
        """
        now = utc_now()
        run_id = new_id()
        inserted = self.connection.execute(
            _INSERT_RUN_OF_NAMED_MODEL[self.connection.dialect.name],
            dict(
                id=run_id, model_name=model_name, model_run_info=info, info_hash=info_hash, created_by=created_by, now=now
            ),
        ).first()
        if inserted is None:
            return None
        path_values.add_leaves(self.connection, [(run_id, info)])
        return ModelRunRecord(run_id, inserted[0], info, now, now, model_name=model_name, created_by=created_by)

    def add_many(
        self,
        *,
        model_id: uuid.UUID | None,
        items: list[tuple[dict[str, Any], str]],
        created_by: str | None = None,
        model_name: str | None = None,
    ) -> list[tuple[ModelRunRecord, bool]]:
        """Insert runs given as (info, info hash), skipping those that exist; returns, in input order, each
        run and whether it is new. Equal infos map to one run.

        One driver-level ``executemany`` of ``INSERT ... ON CONFLICT DO NOTHING`` (psycopg pipelines it),
        then one read of the ids per page of hashes tells the new runs from the existing ones; only the
        existing ones are read in full.
        """
        now = utc_now()
        fresh: dict[str, tuple[uuid.UUID, dict[str, Any]]] = {}
        for info, info_hash in items:
            if info_hash not in fresh:
                fresh[info_hash] = (new_id(), info)
        if fresh:
            self.connection.exec_driver_sql(*self._bulk_insert(model_id, fresh, now, created_by))
        records: dict[str, tuple[ModelRunRecord, bool]] = {}
        existing: list[uuid.UUID] = []
        hashes = list(fresh)
        for start in range(0, len(hashes), 500):
            query = sa.select(_runs.c.id, _runs.c.info_hash).where(
                *self._filters(model_id=model_id, identified=True), _runs.c.info_hash.in_(hashes[start : start + 500])
            )
            for run_id, info_hash in self.connection.execute(query):
                new_run_id, info = fresh[info_hash]
                if run_id == new_run_id:
                    record = ModelRunRecord(run_id, model_id, info, now, now, model_name=model_name, created_by=created_by)
                    records[info_hash] = (record, True)
                else:
                    existing.append(run_id)
        for start in range(0, len(existing), 500):
            query = (
                sa.select(*RUN_COLUMNS, _runs.c.info_hash)
                .select_from(RUNS_WITH_MODEL)
                .where(_runs.c.id.in_(existing[start : start + 500]))
            )
            for row in self.connection.execute(query):
                records[row.info_hash] = (run_record(row), False)
        path_values.add_leaves(self.connection, ((record.id, record.model_run_info) for record, new in records.values() if new))
        for info_hash, (_, info) in fresh.items():
            if info_hash not in records:  # deleted between our insert and this read: insert it alone
                records[info_hash] = self.add(
                    model_id=model_id, info=info, info_hash=info_hash, created_by=created_by, model_name=model_name
                )
        result, seen = [], set()
        for _, info_hash in items:
            record, created = records[info_hash]
            result.append((record, created and info_hash not in seen))  # a repeat within the batch is not new
            seen.add(info_hash)
        return result

    def _bulk_insert(
        self,
        model_id: uuid.UUID | None,
        fresh: dict[str, tuple[uuid.UUID, dict[str, Any]]],
        now: Any,
        created_by: str | None,
    ) -> tuple[str, list[tuple]]:
        """The driver-level statement and rows for ``add_many``, values converted by the column types."""
        dialect = self.connection.dialect

        def processor(column: sa.Column) -> Any:
            return column.type.bind_processor(dialect) or (lambda value: value)

        to_id, to_time = processor(_runs.c.id), processor(_runs.c.created_at)
        model = to_id(model_id) if model_id is not None else None
        stamp = to_time(now)
        rows = [
            (to_id(run_id), model, dumps_json(info), info_hash, stamp, stamp, created_by)
            for info_hash, (run_id, info) in fresh.items()
        ]
        if dialect.name == "postgresql":
            values = "%s, %s, CAST(%s AS json), %s, %s, %s, %s"
        else:
            values = "?, ?, ?, ?, ?, ?, ?"
        statement = (
            f"INSERT INTO {_runs.name} (id, model_id, model_run_info, info_hash, created_at, updated_at, created_by) "
            f"VALUES ({values}) ON CONFLICT DO NOTHING"
        )
        return statement, rows

    def list(
        self, *, model_id: uuid.UUID | None = UNSET, limit: int | None = None, offset: int | None = None
    ) -> list[ModelRunRecord]:
        """Runs in creation order; searches by info go through ``gemini.db.search.run_search.RunSearchRepository``."""
        query = sa.select(*RUN_COLUMNS).select_from(RUNS_WITH_MODEL).where(*self._filters(model_id=model_id))
        rows = self.connection.execute(_page(query.order_by(_runs.c.id), limit, offset))
        return [run_record(row) for row in rows]

    def count(self, *, model_id: uuid.UUID | None = UNSET) -> int:
        query = sa.select(sa.func.count()).select_from(_runs).where(*self._filters(model_id=model_id))
        return self.connection.execute(query).scalar_one()

    def update(self, run_id: uuid.UUID, **values: Any) -> ModelRunRecord:
        replaced = self._indexed_infos(_runs.c.id == run_id) if "model_run_info" in values else []
        result = self.connection.execute(sa.update(_runs).where(_runs.c.id == run_id).values(**values, updated_at=utc_now()))
        if result.rowcount == 0:
            raise NotFoundError(f"no model run with id {run_id}")
        if "model_run_info" in values:
            path_values.remove_leaves(self.connection, replaced)
            path_values.add_leaves(self.connection, [(run_id, values["model_run_info"])])
        return self.get(run_id)

    def _indexed_infos(self, condition: sa.ColumnElement[bool]) -> list[tuple[uuid.UUID, dict[str, Any]]]:
        """(id, info) of the runs matching ``condition``, where SQLite's (path, value) rows are kept."""
        if self.connection.dialect.name != "sqlite":
            return []
        return [tuple(row) for row in self.connection.execute(sa.select(_runs.c.id, _runs.c.model_run_info).where(condition))]

    # -- tracked runs --------------------------------------------------------------------------------

    def add_tracked(
        self,
        *,
        model_id: uuid.UUID | None,
        info: dict[str, Any],
        info_hash: str,
        created_by: str | None = None,
        model_name: str | None = None,
        run_name: str | None = None,
    ) -> ModelRunRecord:
        """Insert a new ``running`` run: always a new run, whatever runs have the same info. ``model_name``,
        the name of ``model_id``, goes into the returned record."""
        now = utc_now()
        values = dict(
            id=new_id(),
            model_id=model_id,
            model_run_info=info,
            info_hash=info_hash,
            created_at=now,
            updated_at=now,
            status=RUNNING,
            started_at=now,
            heartbeat_at=now,
            created_by=created_by,
            run_name=run_name,
        )
        self.connection.execute(sa.insert(_runs), values)
        path_values.add_leaves(self.connection, [(values["id"], info)])
        return ModelRunRecord(
            values["id"],
            model_id,
            info,
            now,
            now,
            model_name=model_name,
            status=RUNNING,
            started_at=now,
            created_by=created_by,
            run_name=run_name,
        )

    def end(
        self,
        run_id: uuid.UUID,
        *,
        status: str,
        error_type: str | None = None,
        error_message: str | None = None,
        ended_at: dt.datetime | None = None,
    ) -> ModelRunRecord:
        """End a ``running`` (or ``lost``) run; ``ConflictError`` for a run already ended or not tracked.
        ``ended_at`` (the client's clock, for an end delivered late) is kept between the start and now, so
        a clock that is off never makes a run end before it started or in the future."""
        now = utc_now()
        ended = now
        if ended_at is not None:
            started_at = self.get(run_id).started_at
            ended = min(max(ended_at, started_at), now) if started_at is not None else min(ended_at, now)
        result = self.connection.execute(
            sa.update(_runs)
            .where(_runs.c.id == run_id, _runs.c.status == RUNNING)
            .values(status=status, ended_at=ended, error_type=error_type, error_message=error_message, updated_at=now)
        )
        current = self.get(run_id)
        if result.rowcount == 0:
            if current.status is None:
                raise ConflictError(f"model run {run_id} is not a tracked run")
            raise ConflictError(f"model run {run_id} has already ended ({current.status})")
        return current

    def heartbeat(self, run_id: uuid.UUID) -> None:
        """Mark a ``running`` run alive now; ``ConflictError`` when it is not running."""
        result = self.connection.execute(
            sa.update(_runs)
            .where(_runs.c.id == run_id, _runs.c.status == RUNNING)
            .values(heartbeat_at=utc_now(), updated_at=_runs.c.updated_at)
        )
        if result.rowcount == 0:
            current = self.get(run_id)
            raise ConflictError(f"model run {run_id} is not running ({current.status or 'not tracked'})")

    def delete(self, run_id: uuid.UUID) -> None:
        self.delete_where(_runs.c.id == run_id, missing=f"no model run with id {run_id}")

    def delete_where(self, condition: sa.ColumnElement[bool], *, missing: str | None = None) -> None:
        """Delete the runs matching ``condition`` with their (path, value) rows; ``NotFoundError(missing)``
        when ``missing`` is given and there was none."""
        deleted = self._indexed_infos(condition)
        if self.connection.execute(sa.delete(_runs).where(condition)).rowcount == 0 and missing is not None:
            raise NotFoundError(missing)
        path_values.remove_leaves(self.connection, deleted)


class ModelRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def _filters(
        self,
        *,
        model_name: str | None = None,
        model_url: str | None = None,
        contains: dict | None = None,
        experiment_id: uuid.UUID | None = None,
    ) -> list[sa.ColumnElement[bool]]:
        filters = []
        if model_name is not None:
            filters.append(_models.c.model_name == model_name)
        if model_url is not None:
            filters.append(_models.c.model_url == model_url)
        if contains:
            filters.append(info_contains(_models.c.model_info, contains, self.connection.dialect.name))
        if experiment_id is not None:
            filters.append(
                _models.c.id.in_(
                    sa.select(model_experiments.c.model_id).where(model_experiments.c.experiment_id == experiment_id)
                )
            )
        return filters

    def get(self, model_id: uuid.UUID) -> ModelRecord:
        record = self.get_one_or_none(model_id=model_id)
        if record is None:
            raise NotFoundError(f"no model with id {model_id}")
        return record

    def get_by_name(self, model_name: str) -> ModelRecord:
        record = self.get_one_or_none(model_name=model_name)
        if record is None:
            raise NotFoundError(f"no model named {model_name!r}")
        return record

    def get_one_or_none(
        self, *, model_id: uuid.UUID | None = None, model_name: str | None = None, experiment_id: uuid.UUID | None = None
    ) -> ModelRecord | None:
        filters = self._filters(model_name=model_name, experiment_id=experiment_id)
        if model_id is not None:
            filters.append(_models.c.id == model_id)
        row = self.connection.execute(sa.select(*_MODEL_COLUMNS).where(*filters).limit(1)).first()
        return ModelRecord(*row) if row else None

    def id_for_name(self, model_name: str) -> uuid.UUID:
        model_id = self.connection.execute(_SELECT_MODEL_ID_BY_NAME, {"model_name": model_name}).scalar()
        if model_id is None:
            raise NotFoundError(f"no model named {model_name!r}")
        return model_id

    def ids_for_names(self, model_names: Iterable[str]) -> dict[str, uuid.UUID]:
        """The ids of those of ``model_names`` that name a model."""
        names = list(dict.fromkeys(model_names))
        if not names:
            return {}
        query = sa.select(_models.c.model_name, _models.c.id).where(_models.c.model_name.in_(names))
        return {row[0]: row[1] for row in self.connection.execute(query)}

    def get_or_add_id(self, model_name: str, *, created_by: str | None = None) -> tuple[uuid.UUID, bool]:
        """The id of the model named ``model_name``, adding it (no URL, info ``{}``) when there is none;
        also whether it was added. Runs on the caller's transaction, so the model is written together
        with whatever the caller records under it.

        ``ON CONFLICT DO NOTHING`` makes concurrent callers agree: one insert wins, the others wait for
        it (PostgreSQL) or for the write lock (SQLite) and then read its id.
        """
        while True:
            model_id = self.connection.execute(_SELECT_MODEL_ID_BY_NAME, {"model_name": model_name}).scalar()
            if model_id is not None:
                return model_id, False
            values = {"id": new_id(), "model_name": model_name, "now": utc_now(), "created_by": created_by}
            inserted = self.connection.execute(_INSERT_MODEL_NAME_IF_NEW[self.connection.dialect.name], values).scalar()
            if inserted is not None:
                return inserted, True
            # Another transaction added that name after our read: the next read finds it (or, if it was
            # deleted meanwhile, the next insert makes it).

    def add(
        self, *, model_name: str, model_url: str | None, model_info: dict[str, Any], created_by: str | None = None
    ) -> tuple[ModelRecord, bool]:
        now = utc_now()
        values = dict(
            id=new_id(),
            model_name=model_name,
            model_url=model_url,
            model_info=model_info,
            created_at=now,
            updated_at=now,
            created_by=created_by,
        )
        inserted = self.connection.execute(
            dialect_insert(self.connection, _models).values(**values).on_conflict_do_nothing().returning(_models.c.id)
        ).first()
        if inserted is not None:
            return ModelRecord(**values), True
        return self.get_by_name(model_name), False

    def list(
        self,
        *,
        model_name: str | None = None,
        model_url: str | None = None,
        contains: dict | None = None,
        experiment_id: uuid.UUID | None = None,
        limit: int | None = None,
        offset: int | None = None,
    ) -> list[ModelRecord]:
        filters = self._filters(model_name=model_name, model_url=model_url, contains=contains, experiment_id=experiment_id)
        query = sa.select(*_MODEL_COLUMNS).where(*filters).order_by(_models.c.id)
        return [ModelRecord(*row) for row in self.connection.execute(_page(query, limit, offset))]

    def count(self, **filters: Any) -> int:
        query = sa.select(sa.func.count()).select_from(_models).where(*self._filters(**filters))
        return self.connection.execute(query).scalar_one()

    def with_run_summaries(self, models: list[ModelRecord]) -> list[ModelRecord]:
        """The models with ``run_count`` and ``last_run_at`` filled, from one grouped read of their runs."""
        summaries: dict[uuid.UUID, tuple[int, Any]] = {}
        ids = [model.id for model in models]
        for start in range(0, len(ids), 500):
            query = (
                sa.select(_runs.c.model_id, sa.func.count(), sa.func.max(_runs.c.created_at))
                .where(_runs.c.model_id.in_(ids[start : start + 500]))
                .group_by(_runs.c.model_id)
            )
            summaries.update((model_id, (count, last)) for model_id, count, last in self.connection.execute(query))
        result = []
        for model in models:
            run_count, last_run_at = summaries.get(model.id, (0, None))
            result.append(replace(model, run_count=run_count, last_run_at=last_run_at))
        return result

    def update(self, model_id: uuid.UUID, **values: Any) -> ModelRecord:
        result = self.connection.execute(
            sa.update(_models)
            .where(_models.c.id == model_id)
            .values(**values, updated_at=utc_now())
            .returning(*_MODEL_COLUMNS)
        ).first()
        if result is None:
            raise NotFoundError(f"no model with id {model_id}")
        return ModelRecord(*result)

    def delete(self, model_id: uuid.UUID) -> None:
        # Runs go with their model, with their (path, value) rows; the foreign key cascades too.
        ModelRunRepository(self.connection).delete_where(_runs.c.model_id == model_id)
        if self.connection.execute(sa.delete(_models).where(_models.c.id == model_id)).rowcount == 0:
            raise NotFoundError(f"no model with id {model_id}")

    def experiments(self, model_id: uuid.UUID) -> list[ExperimentRecord]:
        query = (
            sa.select(*_EXPERIMENT_COLUMNS)
            .join(model_experiments, model_experiments.c.experiment_id == _experiments.c.id)
            .where(model_experiments.c.model_id == model_id)
            .order_by(_experiments.c.id)
        )
        return [ExperimentRecord(*row) for row in self.connection.execute(query)]

    def link_experiment(self, model_id: uuid.UUID, experiment_id: uuid.UUID) -> None:
        self.connection.execute(
            dialect_insert(self.connection, model_experiments)
            .values(model_id=model_id, experiment_id=experiment_id)
            .on_conflict_do_nothing()
        )

    def unlink_experiment(self, model_id: uuid.UUID, experiment_id: uuid.UUID) -> bool:
        result = self.connection.execute(
            sa.delete(model_experiments).where(
                model_experiments.c.model_id == model_id, model_experiments.c.experiment_id == experiment_id
            )
        )
        return result.rowcount > 0

    def has_experiment(self, model_id: uuid.UUID, experiment_id: uuid.UUID) -> bool:
        query = sa.select(
            sa.exists().where(model_experiments.c.model_id == model_id, model_experiments.c.experiment_id == experiment_id)
        )
        return bool(self.connection.execute(query).scalar())


class ExperimentRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def get(self, experiment_id: uuid.UUID) -> ExperimentRecord:
        record = self.get_one_or_none(experiment_id=experiment_id)
        if record is None:
            raise NotFoundError(f"no experiment with id {experiment_id}")
        return record

    def get_by_name(self, experiment_name: str) -> ExperimentRecord:
        record = self.get_one_or_none(experiment_name=experiment_name)
        if record is None:
            raise NotFoundError(f"no experiment named {experiment_name!r}")
        return record

    def get_one_or_none(
        self, *, experiment_id: uuid.UUID | None = None, experiment_name: str | None = None
    ) -> ExperimentRecord | None:
        query = sa.select(*_EXPERIMENT_COLUMNS)
        if experiment_id is not None:
            query = query.where(_experiments.c.id == experiment_id)
        if experiment_name is not None:
            query = query.where(_experiments.c.experiment_name == experiment_name)
        row = self.connection.execute(query.limit(1)).first()
        return ExperimentRecord(*row) if row else None

    def get_or_add_id(self, experiment_name: str) -> tuple[uuid.UUID, bool]:
        """The id of the experiment named ``experiment_name``, adding it (info ``{}``) when there is none;
        also whether it was added. Concurrent callers agree as in ``ModelRepository.get_or_add_id``."""
        existing = self.get_one_or_none(experiment_name=experiment_name)
        if existing is not None:
            return existing.id, False
        record, added = self.add(experiment_name=experiment_name, experiment_info={})
        return record.id, added

    def add(self, *, experiment_name: str, experiment_info: dict[str, Any]) -> tuple[ExperimentRecord, bool]:
        now = utc_now()
        values = dict(
            id=new_id(), experiment_name=experiment_name, experiment_info=experiment_info, created_at=now, updated_at=now
        )
        inserted = self.connection.execute(
            dialect_insert(self.connection, _experiments).values(**values).on_conflict_do_nothing().returning(_experiments.c.id)
        ).first()
        if inserted is not None:
            return ExperimentRecord(**values), True
        return self.get_by_name(experiment_name), False

    def list(self, *, limit: int | None = None, offset: int | None = None) -> list[ExperimentRecord]:
        query = sa.select(*_EXPERIMENT_COLUMNS).order_by(_experiments.c.id)
        return [ExperimentRecord(*row) for row in self.connection.execute(_page(query, limit, offset))]

    def count(self) -> int:
        return self.connection.execute(sa.select(sa.func.count()).select_from(_experiments)).scalar_one()

    def delete(self, experiment_id: uuid.UUID) -> None:
        if self.connection.execute(sa.delete(_experiments).where(_experiments.c.id == experiment_id)).rowcount == 0:
            raise NotFoundError(f"no experiment with id {experiment_id}")
