"""GEMINI's model records (``model_records``) and the names that tag them (``datasets``, ``seasons``,
``sites``, and ``experiments``).

Runs on the caller's connection and never commits, like every repository. A million records are
written through each database's bulk path (``COPY`` on PostgreSQL, one ``executemany`` on SQLite) and
read a block at a time by (timestamp, id), so neither a write nor a read holds them all as objects.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import hashlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import msgspec
import sqlalchemy as sa

from gemini.db.artifacts import digests_in
from gemini.db.errors import driver_calls
from gemini.db.engine import dialect_insert, dumps_json
from gemini.db.ids import new_id
from gemini.db.search.containment import info_contains
from gemini.db.tables import ExperimentRow, ModelRow, datasets, model_records, model_versions, seasons, sites, utc_now
from gemini.domain.errors import NotFoundError
from gemini.domain.records import ModelOutputRecord

_records = model_records
_models = ModelRow.__table__
_experiments = ExperimentRow.__table__

TAGS = ("dataset", "experiment", "season", "site")
"""The names a record is tagged with, each a table of (id, name)."""
_TAG_TABLES: dict[str, sa.Table] = {
    "dataset": datasets,
    "experiment": _experiments,
    "season": seasons,
    "site": sites,
}
_INFO_COLUMN = {"dataset": "dataset_info", "experiment": "experiment_info", "season": "season_info", "site": "site_info"}

_COLUMNS = (
    _records.c.id,
    _records.c.timestamp,
    _records.c.collection_date,
    _records.c.model_id,
    _records.c.dataset_id,
    _records.c.experiment_id,
    _records.c.season_id,
    _records.c.site_id,
    _records.c.model_data,
    _records.c.record_info,
    _records.c.record_file,
    _records.c.file_sha256,
    _records.c.file_size,
    _records.c.model_run_id,
    _records.c.model_version_id,
    _records.c.created_at,
)
WRITTEN = (*(column.name for column in _COLUMNS), "identity")
"""The columns an insert writes, in the order of its rows' values. ``model_data`` and ``record_info``
are JSON text, written as they are (the checks encoded them once)."""
_IDENTITY = WRITTEN.index("identity")
_COLUMN_LIST = ", ".join(f'"{name}"' for name in WRITTEN)


def info_text(info: dict[str, Any]) -> str:
    """``record_info`` as the JSON text a row carries (``{}``, most records' info, without encoding)."""
    return "{}" if not info else dumps_json(info)


def record_identity(
    model_id: uuid.UUID,
    dataset_id: uuid.UUID | None,
    experiment_id: uuid.UUID | None,
    season_id: uuid.UUID | None,
    site_id: uuid.UUID | None,
    timestamp: dt.datetime,
    record_info_hash: str,
) -> bytes:
    """What makes a record the same record: its model, tags, moment (UTC) and ``record_info``."""
    return identity_at(identity_place(model_id, dataset_id, experiment_id, season_id, site_id), timestamp, record_info_hash)


def identity_place(
    model_id: uuid.UUID,
    dataset_id: uuid.UUID | None,
    experiment_id: uuid.UUID | None,
    season_id: uuid.UUID | None,
    site_id: uuid.UUID | None,
) -> bytes:
    """The start of ``record_identity``'s text shared by every record of a model and its tags: an insert
    makes it once per place, not once a record (a ``UUID``'s bytes are computed in Python)."""
    parts = [part.bytes if part is not None else b"-" for part in (model_id, dataset_id, experiment_id, season_id, site_id)]
    return b"|".join(parts) + b"|"


def identity_at(place: bytes, timestamp: dt.datetime, record_info_hash: str) -> bytes:
    """``record_identity`` from its place (``identity_place``)."""
    return hashlib.sha256(b"%b%b|%b" % (place, timestamp.isoformat().encode(), record_info_hash.encode())).digest()


# -- the bulk paths' encodings ---------------------------------------------------------------------------
# A million rows go to the driver as text it does not convert again: SQLAlchemy's per-value conversions,
# and psycopg's per-value dumpers, were each about as slow as the database's own work. Ids that repeat
# (model, tags, run, version) are encoded once per chunk. ``tests/records/test_records_storage.py`` holds
# both encodings to what SQLAlchemy and psycopg write.


def _utc_text(moment: dt.datetime) -> str:
    if moment.tzinfo is not dt.timezone.utc:
        moment = moment.astimezone(dt.timezone.utc)
    return moment.replace(tzinfo=None).isoformat(" ", "microseconds")


def sqlite_values(rows: list[tuple]) -> Iterator[tuple]:
    """Rows of ``WRITTEN`` as SQLite stores them through SQLAlchemy: ids as 32 hex digits, moments as
    ``YYYY-MM-DD HH:MM:SS.ffffff`` in UTC, dates as ``YYYY-MM-DD``."""
    hexes: dict[uuid.UUID, str] = {}

    def repeated(value: uuid.UUID | None) -> str | None:
        if value is None:
            return None
        text = hexes.get(value)
        if text is None:
            text = hexes[value] = value.hex
        return text

    moments: dict[dt.datetime, str] = {}  # created_at is one moment for a whole chunk
    for (
        record_id, timestamp, collection_date, model_id, dataset_id, experiment_id, season_id, site_id,
        model_data, record_info, record_file, file_sha256, file_size, model_run_id, model_version_id,
        created_at, identity,
    ) in rows:  # fmt: skip
        created = moments.get(created_at)
        if created is None:
            created = moments[created_at] = _utc_text(created_at)
        yield (
            record_id.hex, _utc_text(timestamp), collection_date.isoformat() if collection_date else None,
            repeated(model_id), repeated(dataset_id), repeated(experiment_id), repeated(season_id),
            repeated(site_id), model_data, record_info, record_file, file_sha256, file_size,
            repeated(model_run_id), repeated(model_version_id), created, identity,
        )  # fmt: skip


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_NULL = "\\N"


def _copy_field(text: str | None) -> str:
    """A text value in ``COPY``'s text format: backslash, tab, newline and carriage return escaped."""
    if text is None:
        return _NULL
    return text.translate(_COPY_ESCAPES) if "\\" in text or "\t" in text or "\n" in text or "\r" in text else text


def copy_text(rows: list[tuple]) -> str:
    """Rows of ``WRITTEN`` as the lines of PostgreSQL's ``COPY ... FROM STDIN`` text format."""
    texts: dict[Any, str] = {}

    def repeated(value: Any) -> str:
        if value is None:
            return _NULL
        text = texts.get(value)
        if text is None:
            text = texts[value] = str(value) if not isinstance(value, dt.datetime) else value.isoformat()
        return text

    joined: dict[tuple, str] = {}  # the tab-joined text of a run of repeated values

    def together(values: tuple) -> str:
        text = joined.get(values)
        if text is None:
            text = joined[values] = "\t".join(map(repeated, values))
        return text

    lines = []
    for (
        record_id, timestamp, collection_date, model_id, dataset_id, experiment_id, season_id, site_id,
        model_data, record_info, record_file, file_sha256, file_size, model_run_id, model_version_id,
        created_at, identity,
    ) in rows:  # fmt: skip
        lines.append(
            "\t".join((
                str(record_id), timestamp.isoformat(), collection_date.isoformat() if collection_date else _NULL,
                together((model_id, dataset_id, experiment_id, season_id, site_id)),
                _copy_field(model_data), _copy_field(record_info), _copy_field(record_file),
                file_sha256 or _NULL, str(file_size) if file_size is not None else _NULL,
                together((model_run_id, model_version_id, created_at)),
                "\\\\x" + identity.hex(),
            ))  # fmt: skip
        )
    lines.append("")
    return "\n".join(lines)


def _tag_name_column(tag: str) -> sa.Column:
    return _TAG_TABLES[tag].c[f"{tag}_name"]


# -- names --------------------------------------------------------------------------------------------


class TagRepository:
    """The datasets, experiments, seasons and sites records are tagged with, by name."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    def ids_of(self, tag: str, names: Iterable[str]) -> dict[str, uuid.UUID]:
        """The ids of those ``names`` that exist (a find creates nothing)."""
        wanted = list(dict.fromkeys(names))
        if not wanted:
            return {}
        table = _TAG_TABLES[tag]
        name = _tag_name_column(tag)
        found: dict[str, uuid.UUID] = {}
        for start in range(0, len(wanted), 1000):
            query = sa.select(name, table.c.id).where(name.in_(wanted[start : start + 1000]))
            found.update({row[0]: row[1] for row in self.connection.execute(query)})
        return found

    def get_or_add_ids(self, tag: str, names: Iterable[str]) -> dict[str, uuid.UUID]:
        """The ids of ``names``, each added (info ``{}``) when missing; safe when others add the same
        name at once (the unique name decides, the loser reads the winner's id)."""
        found = self.ids_of(tag, names)
        missing = [name for name in dict.fromkeys(names) if name not in found]
        if missing:
            table = _TAG_TABLES[tag]
            now = utc_now()
            rows = [{"id": new_id(), f"{tag}_name": name, _INFO_COLUMN[tag]: {}, "created_at": now} for name in missing]
            if tag == "experiment":
                for row in rows:
                    row["updated_at"] = now
            self.connection.execute(dialect_insert(self.connection, table).on_conflict_do_nothing(), rows)
            found.update(self.ids_of(tag, missing))
        return found

    def names_of(self, tag: str, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
        wanted = list(set(ids))
        if not wanted:
            return {}
        table = _TAG_TABLES[tag]
        query = sa.select(table.c.id, _tag_name_column(tag)).where(table.c.id.in_(wanted))
        return {row[0]: row[1] for row in self.connection.execute(query)}


_REPEATED_IDS = frozenset({"model_id", "dataset_id", "experiment_id", "season_id", "site_id", "model_run_id", "model_version_id"})
_RAW_ON_SQLITE = _REPEATED_IDS | {"id", "timestamp", "collection_date", "model_data", "record_info", "created_at"}
_RAW_ON_POSTGRESQL = _REPEATED_IDS | {"timestamp", "created_at", "model_data", "record_info"}


_JSON = msgspec.json.Decoder()
"""``model_data`` and ``record_info`` as written (``dumps_json``: plain JSON, no NaN), read by msgspec in
a third of the standard reader's time, to the same values."""


def _json_object(text: str) -> dict[str, Any]:
    return {} if text == "{}" else _JSON.decode(text)  # most records' info is empty


def _selected(dialect_name: str) -> list[sa.ColumnElement]:
    """``_COLUMNS`` as a block reads them, mostly as text that ``Names.records`` decodes: the drivers' and
    SQLAlchemy's per-value conversions (a ``UUID`` built for each of six ids a row, two moments, two JSON
    documents) were most of a read's time, while a block has few distinct model, tag, run and version
    ids, and most records' info is ``{}``. On PostgreSQL the record's own id and its date come as the
    driver makes them (C conversions); its moments as text, parsed by ``datetime.fromisoformat`` already
    in UTC when the session's time zone is (the driver's are in the session's zone, ``astimezone`` then
    costing more than the parse)."""
    if dialect_name == "sqlite":
        return [
            sa.type_coerce(column, sa.String).label(column.name) if column.name in _RAW_ON_SQLITE else column
            for column in _COLUMNS
        ]
    return [sa.cast(column, sa.Text).label(column.name) if column.name in _RAW_ON_POSTGRESQL else column for column in _COLUMNS]


def _utc_from_postgresql(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)  # "2026-06-01 10:00:00+00", the ISO output of a timestamptz
    return moment if moment.tzinfo is dt.timezone.utc else moment.astimezone(dt.timezone.utc)


def _utc_from_text(text: str) -> dt.datetime:
    # SQLite's naive UTC text with its offset appended: parsed aware in a fifth of the time of ``replace``.
    return dt.datetime.fromisoformat(text + "+00:00")


_UNTAGGED: tuple[None, None] = (None, None)
_MODEL, _DATASET, _EXPERIMENT, _SEASON, _SITE, _RUN, _VERSION = (
    WRITTEN.index(name)
    for name in ("model_id", "dataset_id", "experiment_id", "season_id", "site_id", "model_run_id", "model_version_id")
)
_TAG_INDEXES = (("dataset", _DATASET), ("experiment", _EXPERIMENT), ("season", _SEASON), ("site", _SITE))


@dataclass
class Names:
    """The repeated ids of one read's rows, each with its ``UUID`` and name, kept by the id's text as the
    rows carry it: a read of a million records decodes each model, tag, run and version id and asks for
    its name once, not once a record (and a text's hash is cached, where a ``UUID``'s runs in Python)."""

    models: dict[str, tuple[uuid.UUID, str]] = field(default_factory=dict)
    versions: dict[str | None, tuple[uuid.UUID | None, str | None]] = field(default_factory=lambda: {None: _UNTAGGED})
    tags: dict[str, dict[str | None, tuple[uuid.UUID | None, str | None]]] = field(
        default_factory=lambda: {tag: {None: _UNTAGGED} for tag in TAGS}
    )
    runs: dict[str | None, uuid.UUID | None] = field(default_factory=lambda: {None: None})

    def learn(self, connection: sa.Connection, rows: Sequence[Any]) -> None:
        """Decode the ids of ``rows`` (read with ``_selected``) not seen before, and read their names."""
        unknown = {row[_MODEL] for row in rows} - self.models.keys()
        if unknown:
            ids = {uuid.UUID(text): text for text in unknown}
            query = sa.select(_models.c.id, _models.c.model_name).where(_models.c.id.in_(ids))
            self.models.update({ids[row[0]]: (row[0], row[1]) for row in connection.execute(query)})
        unknown = {row[_VERSION] for row in rows} - self.versions.keys()
        if unknown:
            ids = {uuid.UUID(text): text for text in unknown}
            query = (
                sa.select(model_versions.c.id, _models.c.model_name, model_versions.c.version)
                .select_from(model_versions.join(_models, _models.c.id == model_versions.c.model_id))
                .where(model_versions.c.id.in_(ids))
            )
            self.versions.update({ids[row[0]]: (row[0], f"{row[1]}@{row[2]}") for row in connection.execute(query)})
        tags = TagRepository(connection)
        for tag, index in _TAG_INDEXES:
            known = self.tags[tag]
            unknown = {row[index] for row in rows} - known.keys()
            if unknown:
                ids = {uuid.UUID(text): text for text in unknown}
                found = tags.names_of(tag, ids)
                known.update({text: (id_, found.get(id_)) for id_, text in ids.items()})
        unknown = {row[_RUN] for row in rows} - self.runs.keys()
        self.runs.update({text: uuid.UUID(text) for text in unknown})

    def records(self, dialect_name: str, rows: Sequence[Any]) -> list[ModelOutputRecord]:
        """Rows read with ``_selected`` whose ids ``learn`` has seen, as records with their names."""
        models, versions, runs = self.models, self.versions, self.runs
        datasets, experiments, seasons, sites = (self.tags[tag] for tag in TAGS)
        if dialect_name == "sqlite":
            record_id, moment, date = uuid.UUID, _utc_from_text, _optional_date
        else:
            record_id, moment, date = _same, _utc_from_postgresql, _same
        records = []
        append = records.append
        for row in rows:
            model_id, model_name = models[row[_MODEL]]
            dataset_id, dataset_name = datasets[row[_DATASET]]
            experiment_id, experiment_name = experiments[row[_EXPERIMENT]]
            season_id, season_name = seasons[row[_SEASON]]
            site_id, site_name = sites[row[_SITE]]
            version_id, version_name = versions[row[_VERSION]]
            append(
                ModelOutputRecord(
                    record_id(row[0]), moment(row[1]), date(row[2]), model_id, model_name, _json_object(row[8]),
                    dataset_id, dataset_name, experiment_id, experiment_name, season_id, season_name, site_id,
                    site_name, row[10], _json_object(row[9]), runs[row[_RUN]], version_id, version_name, row[11],
                    row[12], moment(row[15]),
                )  # fmt: skip
            )
        return records


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """No garbage collection while a block is fetched and built: its 5,000 records stay alive through
    the collections their own allocations set off, which then promote them, a block after another, to
    the oldest generation, whose full passes walk every object of the process. Half the reads of a day's
    10,000 records took 40 ms longer for it (130 against 90 ms). Cycles made meanwhile, by this thread or
    another, are collected at the next pass after."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def _same(value: Any) -> Any:
    return value


def _optional_date(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def lock_for_delete(connection: sa.Connection, kind: str, key: uuid.UUID) -> None:
    """Before a model or an experiment is deleted (or its records counted for that), its row is locked:
    on PostgreSQL an insert naming it waits, or the deletion waits for an insert naming it to commit
    (``ModelRecordRepository._hold_keys``). SQLite's writers go one at a time."""
    if connection.dialect.name == "postgresql":
        table = _models if kind == "model" else _experiments
        connection.execute(sa.select(table.c.id).where(table.c.id == key).with_for_update())


# -- records ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """A search of records with every name resolved to ids: ``None`` for a filter not given, a set
    (maybe empty: nothing can match) for one given."""

    model_ids: frozenset[uuid.UUID] | None = None
    tag_ids: dict[str, frozenset[uuid.UUID]] = field(default_factory=dict)
    start_timestamp: dt.datetime | None = None
    end_timestamp: dt.datetime | None = None
    collection_date: dt.date | None = None
    model_data: dict[str, Any] | None = None
    record_info: dict[str, Any] | None = None
    model_run_id: uuid.UUID | None = None
    model_version_id: uuid.UUID | None = None

    @property
    def matches_nothing(self) -> bool:
        return self.model_ids == frozenset() or any(not ids for ids in self.tag_ids.values())


def _one_or_any(column: sa.Column, ids: frozenset[uuid.UUID]) -> sa.ColumnElement[bool]:
    # Equality when there is one id, so the planner reads the index's next columns in order.
    return column == next(iter(ids)) if len(ids) == 1 else column.in_(ids)


class EncodedRows(NamedTuple):
    """Rows encoded for one database's bulk path (``ModelRecordRepository.encode``)."""

    dialect: str
    payload: list
    identities: list[bytes]
    keys: dict[str, set[uuid.UUID]]  # the models' and experiments' ids the rows name (PostgreSQL only)


class ModelRecordRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection

    # -- reading -------------------------------------------------------------------------------------

    def _conditions(self, where: RecordFilter) -> list[sa.ColumnElement[bool]]:
        dialect = self.connection.dialect.name
        conditions: list[sa.ColumnElement[bool]] = []
        if where.model_ids is not None:
            conditions.append(_one_or_any(_records.c.model_id, where.model_ids))
        for tag in TAGS:
            if tag in where.tag_ids:
                conditions.append(_one_or_any(_records.c[f"{tag}_id"], where.tag_ids[tag]))
        if where.start_timestamp is not None:
            conditions.append(_records.c.timestamp >= where.start_timestamp)
        if where.end_timestamp is not None:
            conditions.append(_records.c.timestamp <= where.end_timestamp)
        if where.collection_date is not None:
            conditions.append(_records.c.collection_date == where.collection_date)
        if where.model_data:
            conditions.append(info_contains(_records.c.model_data, where.model_data, dialect))
        if where.record_info:
            conditions.append(info_contains(_records.c.record_info, where.record_info, dialect))
        if where.model_run_id is not None:
            conditions.append(_records.c.model_run_id == where.model_run_id)
        if where.model_version_id is not None:
            conditions.append(_records.c.model_version_id == where.model_version_id)
        return conditions

    def block(
        self,
        where: RecordFilter,
        *,
        limit: int | None,
        offset: int | None = None,
        after: tuple[dt.datetime, uuid.UUID] | None = None,
        names: Names | None = None,
    ) -> list[ModelOutputRecord]:
        """Rows of matching records by (timestamp, id): the first ``limit`` after ``offset`` of them, or
        after the record ``after`` (the last of the previous block)."""
        if where.matches_nothing:
            return []
        conditions = self._conditions(where)
        if after is not None:
            moment, last_id = after
            # The plain bound lets the planner start the index range there; the pair is the exact rule.
            conditions.append(_records.c.timestamp >= moment)
            conditions.append(sa.tuple_(_records.c.timestamp, _records.c.id) > sa.tuple_(moment, last_id))
        query = (
            sa.select(*_selected(self.connection.dialect.name))
            .where(*conditions)
            .order_by(_records.c.timestamp, _records.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        with _collector_paused():
            return self._records(self.connection.execute(query).all(), names or Names())

    def count(self, where: RecordFilter) -> int:
        if where.matches_nothing:
            return 0
        query = sa.select(sa.func.count()).select_from(_records).where(*self._conditions(where))
        return self.connection.execute(query).scalar_one()

    def _records(self, rows: Sequence[Any], names: Names) -> list[ModelOutputRecord]:
        names.learn(self.connection, rows)
        return names.records(self.connection.dialect.name, rows)

    def get(self, record_id: uuid.UUID) -> ModelOutputRecord:
        query = sa.select(*_selected(self.connection.dialect.name)).where(_records.c.id == record_id)
        row = self.connection.execute(query).first()
        if row is None:
            raise NotFoundError(f"no model record with id {record_id}")
        return self._records([row], Names())[0]

    def ids_of_identities(self, identities: Iterable[bytes]) -> dict[bytes, uuid.UUID]:
        wanted = list(set(identities))
        found: dict[bytes, uuid.UUID] = {}
        for start in range(0, len(wanted), 1000):
            query = sa.select(_records.c.identity, _records.c.id).where(
                _records.c.identity.in_(wanted[start : start + 1000])
            )
            found.update({bytes(row[0]): row[1] for row in self.connection.execute(query)})
        return found

    def digests_of_model(self, model_id: uuid.UUID) -> set[str]:
        query = (
            sa.select(_records.c.file_sha256)
            .where(_records.c.model_id == model_id, _records.c.file_sha256.is_not(None))
            .distinct()
        )
        return set(self.connection.execute(query).scalars())

    def referenced(self, digests: set[str]) -> set[str]:
        """Those of ``digests`` that some record's file is."""
        return digests_in(self.connection, _records.c.file_sha256, digests)

    # -- writing -------------------------------------------------------------------------------------

    def insert(self, rows: list[tuple]) -> dict[bytes, uuid.UUID]:
        """Insert rows (tuples of the columns of ``WRITTEN``, in that order), skipping those whose
        identity is stored already (or repeated among ``rows``); the id stored under each identity that
        was not inserted from its row, so the caller can tell a new record from one already there."""
        return self.insert_encoded(self.encode(rows))

    def encode(self, rows: list[tuple]) -> EncodedRows:
        """The rows as this database's bulk path takes them: pure Python, no query, so a caller may
        encode the next chunk while the connection writes this one (``insert_encoded``)."""
        dialect = self.connection.dialect.name
        keys: dict[str, set[uuid.UUID]] = {}
        if dialect == "postgresql":
            payload = [copy_text(rows[start : start + 2_000]) for start in range(0, len(rows), 2_000)]
            keys = {"model": {row[_MODEL] for row in rows}, "experiment": {row[_EXPERIMENT] for row in rows} - {None}}
        else:
            payload = list(sqlite_values(rows))
        return EncodedRows(dialect, payload, [row[_IDENTITY] for row in rows], keys)

    def insert_encoded(self, encoded: EncodedRows) -> dict[bytes, uuid.UUID]:
        """``insert`` of rows ``encode`` made."""
        if not encoded.identities:
            return {}
        with driver_calls(self.connection):
            if encoded.dialect == "postgresql":
                self._hold_keys(encoded.keys)
                inserted = self._copy_in(encoded.payload, len(encoded.identities))
            else:
                inserted = self._execute_many(encoded.payload)
        if inserted == len(encoded.identities):
            return {}
        return self.ids_of_identities(encoded.identities)

    def _hold_keys(self, keys: dict[str, set[uuid.UUID]]) -> None:
        """PostgreSQL: the models and experiments the rows name, each locked as a key check locks it
        (``FOR KEY SHARE``, until the commit) and once a chunk rather than once a row, by a trigger, as
        a foreign key would: those triggers were a third of a bulk insert's time. A deletion locks its
        model or experiment first (``lock_for_delete``), so a record is never written for one being
        deleted, nor missed by its deletion. SQLite keeps its foreign keys (checked in process, cheap)."""
        for kind, table in (("model", _models), ("experiment", _experiments)):
            wanted = keys.get(kind)
            if not wanted:
                continue
            query = sa.select(table.c.id).where(table.c.id.in_(wanted)).with_for_update(key_share=True)
            missing = wanted - set(self.connection.execute(query).scalars())
            if missing:
                raise NotFoundError(f"no {kind} with id {min(missing)}: records cannot name it")

    def _copy(self, table: str, texts: list[str]) -> None:
        cursor = self.connection.connection.driver_connection.cursor()
        try:
            with cursor.copy(f"COPY {table} ({_COLUMN_LIST}) FROM STDIN") as copy:
                for text in texts:
                    copy.write(text)
        finally:
            cursor.close()

    def _copy_in(self, texts: list[str], count: int) -> int:
        """PostgreSQL: ``COPY`` straight into the table, under a savepoint. ``COPY`` has no conflict
        clause: when a row is a record already stored, the savepoint is rolled back and the rows go
        through a temporary table and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` instead."""
        from psycopg import errors as pg_errors  # the PostgreSQL driver, loaded only on PostgreSQL

        savepoint = self.connection.begin_nested()
        try:
            self._copy("model_records", texts)
        except pg_errors.UniqueViolation:
            savepoint.rollback()
        else:
            savepoint.commit()
            return count
        self.connection.exec_driver_sql(
            "CREATE TEMPORARY TABLE IF NOT EXISTS model_records_incoming "
            "(LIKE model_records INCLUDING DEFAULTS) ON COMMIT DELETE ROWS"
        )
        self._copy("model_records_incoming", texts)
        result = self.connection.exec_driver_sql(
            f"INSERT INTO model_records ({_COLUMN_LIST}) SELECT {_COLUMN_LIST} FROM model_records_incoming "
            "ON CONFLICT (identity) DO NOTHING"
        )
        self.connection.exec_driver_sql("TRUNCATE model_records_incoming")
        return result.rowcount

    def _execute_many(self, values: list[tuple]) -> int:
        """SQLite: one ``executemany`` on the driver's cursor, the values in the text SQLAlchemy's column
        types store (``sqlite_values``), so SQLAlchemy reads them back as its own."""
        placeholders = ", ".join("?" for _ in WRITTEN)
        statement = (
            f"INSERT INTO model_records ({_COLUMN_LIST}) VALUES ({placeholders}) ON CONFLICT (identity) DO NOTHING"
        )
        driver = self.connection.connection.driver_connection
        before = driver.total_changes
        cursor = driver.cursor()
        try:
            cursor.executemany(statement, values)
        finally:
            cursor.close()
        return driver.total_changes - before

    def update(self, record_id: uuid.UUID, values: dict[str, Any]) -> None:
        if self.connection.execute(sa.update(_records).where(_records.c.id == record_id).values(**values)).rowcount == 0:
            raise NotFoundError(f"no model record with id {record_id}")

    def delete(self, record_id: uuid.UUID) -> None:
        if self.connection.execute(sa.delete(_records).where(_records.c.id == record_id)).rowcount == 0:
            raise NotFoundError(f"no model record with id {record_id}")

    def delete_of_model(self, model_id: uuid.UUID) -> None:
        self.connection.execute(sa.delete(_records).where(_records.c.model_id == model_id))
