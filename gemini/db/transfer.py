"""Whole-registry reads and record-keeping inserts: the persistence half of export and import.

Reads walk each table in id order (creation order, ids being UUIDv7) a page at a time, or for metric
points and model records through one streamed query, so a registry of any size passes through constant
memory. Inserts keep the given ids and timestamps and never overwrite:
a record the database already holds is left as it is, which is what makes an import idempotent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gemini.db.metric_blocks import unpack_chunk
from gemini.db.model_records import WRITTEN as RECORD_WRITTEN, ModelRecordRepository
from gemini.db.search import path_values
from gemini.db.tables import (
    ExperimentRow,
    ModelRow,
    ModelRunRow,
    datasets,
    model_experiments,
    model_records,
    model_version_aliases,
    model_versions,
    run_metric_chunks,
    seasons,
    sites,
)
from gemini.domain.records import ExperimentRecord, ModelRecord, ModelRunRecord

PAGE_SIZE = 500

_runs = ModelRunRow.__table__
_models = ModelRow.__table__
_experiments = ExperimentRow.__table__
_versions = model_versions
_aliases = model_version_aliases

VERSION_COLUMNS = (
    "id", "model_id", "version", "model_run_id", "artifact_name", "sha256", "size", "version_info", "created_at", "created_by",
)
"""The stored fields of a model version, as export lines carry them (its model's name and its aliases are
not columns of ``model_versions``)."""
ALIAS_COLUMNS = ("version_id", "alias", "updated_at")

TAG_TABLES: dict[str, sa.Table] = {"dataset": datasets, "season": seasons, "site": sites}
"""The names records are tagged with that have a table of their own (experiments are exported as such)."""
TAG_COLUMNS: dict[str, tuple[str, ...]] = {
    tag: ("id", f"{tag}_name", f"{tag}_info", "created_at") for tag in TAG_TABLES
}
RECORD_COLUMNS = (
    "id", "model_id", "timestamp", "collection_date", "dataset_id", "experiment_id", "season_id", "site_id",
    "model_data", "record_info", "record_file", "file_sha256", "file_size", "model_run_id", "model_version_id",
    "created_at",
)
"""The stored fields of a model record, as export lines carry them (not its ``identity``: an import
computes it again from the ids the record has in the importing database)."""
RECORD_BLOCK = 5_000


def _stored_columns(table: sa.Table, record_type: type) -> list[sa.Column]:
    """The record's fields that are columns of its table (a run's model name, say, is not)."""
    return [table.c[name] for name in record_type.__slots__ if name in table.c]


_EXPERIMENT_COLUMNS = _stored_columns(_experiments, ExperimentRecord)
_MODEL_COLUMNS = _stored_columns(_models, ModelRecord)
_RUN_COLUMNS = _stored_columns(_runs, ModelRunRecord)


def _pages(connection: sa.Connection, columns: list[sa.Column], key: sa.Column) -> Iterator[sa.Row]:
    last: Any = None
    while True:
        query = sa.select(*columns).order_by(key).limit(PAGE_SIZE)
        if last is not None:
            query = query.where(key > last)
        rows = connection.execute(query).all()
        yield from rows
        if len(rows) < PAGE_SIZE:
            return
        last = getattr(rows[-1], key.name)


def iter_experiments(connection: sa.Connection) -> Iterator[ExperimentRecord]:
    return (ExperimentRecord(**row._mapping) for row in _pages(connection, _EXPERIMENT_COLUMNS, _experiments.c.id))


def iter_models(connection: sa.Connection) -> Iterator[tuple[ModelRecord, int]]:
    """Each model with the highest version number it has given (``models.last_version``)."""
    for row in _pages(connection, [*_MODEL_COLUMNS, _models.c.last_version], _models.c.id):
        fields = dict(row._mapping)
        last_version = fields.pop("last_version")
        yield ModelRecord(**fields), last_version


def iter_model_experiment_links(connection: sa.Connection) -> Iterator[tuple[uuid.UUID, uuid.UUID]]:
    """(model id, experiment id) pairs, by model then experiment."""
    query = sa.select(model_experiments.c.model_id, model_experiments.c.experiment_id).order_by(
        model_experiments.c.model_id, model_experiments.c.experiment_id
    )
    return (tuple(row) for row in connection.execute(query))


def iter_runs(connection: sa.Connection) -> Iterator[ModelRunRecord]:
    return (ModelRunRecord(**row._mapping) for row in _pages(connection, _RUN_COLUMNS, _runs.c.id))


def iter_metric_points(connection: sa.Connection) -> Iterator[tuple[uuid.UUID, str, int, float | None, Any]]:
    """Every metric point as (run id, key, step, value, timestamp), by run, key and step, streamed;
    ``None`` for a value is a NaN that was logged."""
    chunks = run_metric_chunks
    query = sa.select(chunks.c.run_id, chunks.c.key, chunks.c.steps, chunks.c["values"], chunks.c.times).order_by(
        chunks.c.run_id, chunks.c.key, chunks.c.chunk
    )
    moment = dt.datetime.fromtimestamp
    for run_id, key, *packed in connection.execution_options(yield_per=PAGE_SIZE).execute(query):
        for step, value, time in zip(*unpack_chunk(*packed)):
            yield run_id, key, step, None if value != value else value, moment(time, dt.timezone.utc)


def iter_model_versions(connection: sa.Connection) -> Iterator[dict[str, Any]]:
    """Every model version's stored fields (``VERSION_COLUMNS``), in creation order."""
    columns = [_versions.c[name] for name in VERSION_COLUMNS]
    return (dict(row._mapping) for row in _pages(connection, columns, _versions.c.id))


def iter_model_version_aliases(connection: sa.Connection) -> Iterator[dict[str, Any]]:
    """Every alias as its version's id, its name and when it last moved, by version then alias (a
    registry has few)."""
    query = sa.select(*(_aliases.c[name] for name in ALIAS_COLUMNS)).order_by(_aliases.c.version_id, _aliases.c.alias)
    return (dict(row._mapping) for row in connection.execute(query))


def iter_tags(connection: sa.Connection, tag: str) -> Iterator[dict[str, Any]]:
    """Every dataset, season or site (``tag``) as its ``TAG_COLUMNS``, in creation order."""
    table = TAG_TABLES[tag]
    return (dict(row._mapping) for row in _pages(connection, [table.c[name] for name in TAG_COLUMNS[tag]], table.c.id))


def iter_model_records(connection: sa.Connection) -> Iterator[dict[str, Any]]:
    """Every model record's ``RECORD_COLUMNS``, in creation order, through one streamed query (a
    server-side cursor on PostgreSQL) inside the caller's snapshot: a million are never all in memory."""
    query = sa.select(*(model_records.c[name] for name in RECORD_COLUMNS)).order_by(model_records.c.id)
    for row in connection.execution_options(yield_per=RECORD_BLOCK).execute(query):
        yield dict(row._mapping)


def _insert(connection: sa.Connection, table: sa.Table):  # noqa: ANN202 - dialect-specific Insert
    return (postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert)(table)


class RegistryLoader:
    """Adds records with their own ids and timestamps inside the caller's transaction.

    Models and experiments are matched by id, then by name: a model already present under another id
    (created separately on both databases) receives the incoming runs, and the returned id says where.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def _existing_id(self, table: sa.Table, record_id: uuid.UUID, name_column: sa.Column, name: str) -> uuid.UUID | None:
        found = self.connection.execute(sa.select(table.c.id).where(table.c.id == record_id)).scalar()
        if found is None:
            found = self.connection.execute(sa.select(table.c.id).where(name_column == name)).scalar()
        return found

    def add_experiment(self, record: ExperimentRecord) -> tuple[uuid.UUID, bool]:
        """The id the experiment has in this database, and whether it was added now."""
        existing = self._existing_id(_experiments, record.id, _experiments.c.experiment_name, record.experiment_name)
        if existing is not None:
            return existing, False
        self.connection.execute(sa.insert(_experiments).values(**_values(record, _EXPERIMENT_COLUMNS)))
        return record.id, True

    def add_model(self, record: ModelRecord) -> tuple[uuid.UUID, bool]:
        """The id the model has in this database, and whether it was added now."""
        existing = self._existing_id(_models, record.id, _models.c.model_name, record.model_name)
        if existing is not None:
            return existing, False
        self.connection.execute(sa.insert(_models).values(**_values(record, _MODEL_COLUMNS)))
        return record.id, True

    def model_name(self, model_id: uuid.UUID) -> str | None:
        return self.connection.execute(sa.select(_models.c.model_name).where(_models.c.id == model_id)).scalar()

    def model_exists(self, model_id: uuid.UUID) -> bool:
        return self.connection.execute(sa.select(sa.exists().where(_models.c.id == model_id))).scalar()

    def run_exists(self, run_id: uuid.UUID) -> bool:
        return self.connection.execute(sa.select(sa.exists().where(_runs.c.id == run_id))).scalar()

    def experiment_exists(self, experiment_id: uuid.UUID) -> bool:
        query = sa.select(sa.exists().where(_experiments.c.id == experiment_id))
        return self.connection.execute(query).scalar()

    def link(self, model_id: uuid.UUID, experiment_id: uuid.UUID) -> bool:
        """Link a model to an experiment; whether the link is new."""
        inserted = self.connection.execute(
            _insert(self.connection, model_experiments)
            .values(model_id=model_id, experiment_id=experiment_id)
            .on_conflict_do_nothing()
            .returning(model_experiments.c.model_id)
        ).first()
        return inserted is not None

    def add_runs(self, runs: list[tuple[ModelRunRecord, str]]) -> list[uuid.UUID]:
        """Insert (run, info hash) pairs, skipping any whose id, or whose (model, info), is already
        present; returns the ids of those added."""
        if not runs:
            return []
        # No process beats for a running run in this database: it reads as lost after the timeout.
        rows = [
            _values(run, _RUN_COLUMNS)
            | {"info_hash": info_hash, "heartbeat_at": run.started_at if run.status == "running" else None}
            for run, info_hash in runs
        ]
        inserted = self.connection.execute(
            _insert(self.connection, _runs).values(rows).on_conflict_do_nothing().returning(_runs.c.id)
        ).scalars().all()
        infos = {run.id: run.model_run_info for run, _ in runs}
        path_values.add_leaves(self.connection, ((run_id, infos[run_id]) for run_id in inserted))
        return inserted

    def run_model(self, run_id: uuid.UUID) -> tuple[bool, uuid.UUID | None]:
        """Whether the run is present, and its model's id."""
        row = self.connection.execute(sa.select(_runs.c.model_id).where(_runs.c.id == run_id)).first()
        return (False, None) if row is None else (True, row.model_id)

    def run_with_info(self, model_id: uuid.UUID | None, info_hash: str) -> uuid.UUID | None:
        """The run recorded with ``create`` (no status) that has this model and info, if any: the one that
        made an incoming run of the same model and info be skipped."""
        model = _runs.c.model_id.is_(None) if model_id is None else _runs.c.model_id == model_id
        query = sa.select(_runs.c.id).where(model, _runs.c.info_hash == info_hash, _runs.c.status.is_(None))
        return self.connection.execute(query).scalar()

    # -- model versions ------------------------------------------------------------------------------

    def raise_version_counter(self, model_id: uuid.UUID, at_least: int) -> None:
        """Make the model's version counter at least ``at_least``; it never goes down, so no number is
        given twice. The model's ``updated_at`` is left as it is."""
        self.connection.execute(
            sa.update(_models)
            .where(_models.c.id == model_id, _models.c.last_version < at_least)
            .values(last_version=at_least, updated_at=_models.c.updated_at)
        )

    def version_by_id(self, version_id: uuid.UUID) -> sa.Row | None:
        """The stored (model id, version, sha256) of that version, if present."""
        query = sa.select(_versions.c.model_id, _versions.c.version, _versions.c.sha256).where(_versions.c.id == version_id)
        return self.connection.execute(query).first()

    def version_by_number(self, model_id: uuid.UUID, version: int) -> sa.Row | None:
        """The stored (id, sha256) of the model's version of that number, if present."""
        query = sa.select(_versions.c.id, _versions.c.sha256).where(
            _versions.c.model_id == model_id, _versions.c.version == version
        )
        return self.connection.execute(query).first()

    def add_version(self, fields: dict[str, Any]) -> None:
        """Insert a version with its own id, number and timestamp, and raise its model's counter to its
        number. The caller has checked that neither its id nor its (model, number) is present."""
        self.connection.execute(sa.insert(_versions).values(**{name: fields[name] for name in VERSION_COLUMNS}))
        self.raise_version_counter(fields["model_id"], fields["version"])

    def add_alias(self, *, model_id: uuid.UUID, alias: str, version_id: uuid.UUID, updated_at: Any) -> bool:
        """Give the version ``alias`` unless its model already has that alias (on whichever version:
        an import does not move an alias); whether it was added."""
        inserted = self.connection.execute(
            _insert(self.connection, _aliases)
            .values(model_id=model_id, alias=alias, version_id=version_id, updated_at=updated_at)
            .on_conflict_do_nothing()
            .returning(_aliases.c.alias)
        ).first()
        return inserted is not None

    # -- model records -------------------------------------------------------------------------------

    def add_tag(self, tag: str, fields: dict[str, Any]) -> tuple[uuid.UUID, bool]:
        """The id the dataset, season or site (``tag``) has in this database, matched by id then by
        name, and whether it was added now (with its own id, info and time)."""
        table = TAG_TABLES[tag]
        existing = self._existing_id(table, fields["id"], table.c[f"{tag}_name"], fields[f"{tag}_name"])
        if existing is not None:
            return existing, False
        self.connection.execute(sa.insert(table).values(**{name: fields[name] for name in TAG_COLUMNS[tag]}))
        return fields["id"], True

    def tag_exists(self, tag: str, tag_id: uuid.UUID) -> bool:
        table = TAG_TABLES[tag]
        return self.connection.execute(sa.select(sa.exists().where(table.c.id == tag_id))).scalar()

    def add_model_records(self, rows: list[dict[str, Any]]) -> int:
        """Insert model records (``RECORD_COLUMNS`` with ``model_data`` and ``record_info`` as JSON text,
        and ``identity``) through the records' bulk path, skipping those whose id or identity is present
        already (or repeated among ``rows``); how many were added."""
        if not rows:
            return 0
        present = set()
        ids = [row["id"] for row in rows]
        for start in range(0, len(ids), 1000):
            query = sa.select(model_records.c.id).where(model_records.c.id.in_(ids[start : start + 1000]))
            present.update(self.connection.execute(query).scalars())
        fresh = []
        for row in rows:
            if row["id"] not in present:
                present.add(row["id"])  # a line given twice is added once
                fresh.append(row)
        stored = ModelRecordRepository(self.connection).insert([tuple(row[name] for name in RECORD_WRITTEN) for row in fresh])
        return sum(stored.get(row["identity"], row["id"]) == row["id"] for row in fresh)


def _values(record: ExperimentRecord | ModelRecord | ModelRunRecord, columns: list[sa.Column]) -> dict[str, Any]:
    return {column.name: getattr(record, column.name) for column in columns}
