"""``ModelRecord``: one output of a model for one moment of one data collection (GEMINI's model record),
tagged with its dataset, experiment, season and site, with its file when it has one, and the run and
registered version of the weights that produced it.

    record = ModelRecord.create(
        timestamp=flight_time, model_name="stand_counter", model_data={"stand_count": 41},
        dataset_name="Flight 12", experiment_name="Cowpea 2026", season_name="Summer", site_name="Davis",
        record_info={"plot": 1207}, model_version="stand_counter@production",
    )
    for record in ModelRecord.filter(experiment_names=["Cowpea 2026"], start_timestamp=day, end_timestamp=next_day):
        ...

GEMINI's calls, parameters and return shapes, locally and through a server (``GEMINI_API_URL``) alike.
"""

import datetime as dt
import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Generator, List, Optional, Tuple, Union
from uuid import UUID

from pydantic import Field

from gemini.api.base import APIBase, logger, seed_operation
from gemini.domain.checks import check_collection_date, check_record_moment, parse_id
from gemini.domain.errors import GeminiError, InvalidInputError, NotFoundError
from gemini.domain.records import ModelOutputRecord
from gemini.registry import registry

ID = UUID | int | str
PathLike = Union[str, "os.PathLike[str]"]


class ModelRecord(APIBase):
    """A model's output (``model_data``) for one moment (``timestamp``) of one data collection
    (``collection_date``), tagged with a dataset, experiment, season and site (names and their ids,
    ``None`` when untagged), with ``record_info`` for anything else.

    Beyond GEMINI: ``model_run_id`` (the run that produced it) and ``model_version`` (the registered
    version of the weights, ``"stand_counter@3"``; given as ``"stand_counter@production"`` it resolves to
    its number when the record is inserted), both searchable; ``file_sha256``/``file_size`` of its file.

    Conventions (the seed's): a failed call returns ``None`` (``False`` for ``exists`` and ``delete``;
    ``(False, [])`` for ``insert``) and logs one line on the ``gemini.api`` logger saying why. An insert
    is one transaction: it writes every record or none.

    ``search`` and ``filter`` return a generator, read from the registry a block at a time (a million
    matching records never sit in memory). When the search cannot start (an argument is invalid, a
    ``model_version`` names no version, the server does not answer) they return ``None`` with the log
    line, as every failed read of this API does, rather than an empty generator that would look like
    "nothing matches". A failure after the first records (the connection drops) logs one line and ends
    the iteration. Without any argument they stream every record.

    ``record_file``: a local path before the insert, the stored name after it
    (``model_data/{experiment}/{model}/{dataset}/{collection_date}/{site}/{season}/{file name}``); the
    bytes come back with ``download_file``.
    """

    id: Optional[UUID] = None
    timestamp: Optional[dt.datetime] = None
    collection_date: Optional[dt.date] = None
    model_id: Optional[UUID] = None
    model_name: Optional[str] = None
    model_data: Optional[dict] = None
    dataset_id: Optional[UUID] = None
    dataset_name: Optional[str] = None
    experiment_id: Optional[UUID] = None
    experiment_name: Optional[str] = None
    season_id: Optional[UUID] = None
    season_name: Optional[str] = None
    site_id: Optional[UUID] = None
    site_name: Optional[str] = None
    record_file: Optional[str] = None
    record_info: Optional[dict] = None
    model_run_id: Optional[UUID] = None
    model_version: Optional[str] = None
    """``model_name@number`` of the version of the weights that produced it (as given, until inserted)."""
    model_version_id: Optional[UUID] = Field(default=None, repr=False)
    file_sha256: Optional[str] = Field(default=None, repr=False)
    """Set on a record read from the registry with a file: its ``record_file`` is then the stored name,
    not a local path."""
    file_size: Optional[int] = Field(default=None, repr=False)
    created_at: Optional[dt.datetime] = Field(default=None, repr=False)

    # -- building (a million records are built for one insert or read by one search: no validation) ------

    @classmethod
    def _construct(cls, fields: dict, fields_set: set) -> "ModelRecord":
        """What ``model_construct`` makes, in a fraction of its time: ``fields`` holds every field's value,
        already checked; ``fields_set`` names the ones given."""
        record = _new(cls)
        _set(record, "__dict__", fields)
        _set(record, "__pydantic_fields_set__", fields_set)
        _set(record, "__pydantic_extra__", None)
        _set(record, "__pydantic_private__", None)
        return record

    @classmethod
    def from_record(cls, record: ModelOutputRecord) -> "ModelRecord":
        return cls._construct(_stored_values(record), set(_FIELDS))

    def _apply(self, record: ModelOutputRecord) -> "ModelRecord":
        values = _stored_values(record)
        self.__dict__.update(values)
        self.__pydantic_fields_set__.update(values)
        return self

    def _stored_id(self) -> UUID:
        if self.id is None:
            raise InvalidInputError("this model record is not in the registry: insert it first")
        return self.id

    # -- class methods -------------------------------------------------------------------------------

    @classmethod
    @seed_operation(fallback=None)
    def create(
        cls,
        timestamp: dt.datetime = None,
        collection_date: dt.date = None,
        dataset_name: str = None,
        model_name: str = None,
        model_data: dict = None,
        experiment_name: str = None,
        site_name: str = None,
        season_name: str = None,
        record_file: str = None,
        record_info: dict = None,
        insert_on_create: bool = True,
        *,
        model_run_id: ID = None,
        model_version: str = None,
    ) -> Optional["ModelRecord"]:
        """A record of ``model_name``'s output, inserted (``insert_on_create``, then read back as stored)
        or only built, to pass to ``insert`` with others.

        ``timestamp`` defaults to now (a moment without a zone is UTC), ``collection_date`` to the
        timestamp's date. ``model_data`` or ``record_file`` (a local file, stored with the record) is
        required. Names (model, dataset, experiment, season, site) are created on first use. A record
        equal to a stored one (same model, names, timestamp and ``record_info``) is not written again:
        the stored one is returned. ``model_run_id`` and ``model_version`` (``"stand_counter@3"`` or
        ``"stand_counter@production"``) say what produced it; they must belong to ``model_name``.
        """
        if model_name is None:
            raise InvalidInputError("model_name is required: a model record is an output of a model")
        if not model_data and record_file is None:
            raise InvalidInputError("give model_data or record_file: a model record holds an output")
        moment = dt.datetime.now(dt.timezone.utc) if timestamp is None else check_record_moment(timestamp)
        if isinstance(record_file, os.PathLike):
            record_file = os.fspath(record_file)
        if model_run_id is not None:
            model_run_id = parse_id(model_run_id, field="model run id")
        record = cls._construct(
            {
                "id": None,
                "timestamp": moment,
                "collection_date": moment.date() if collection_date is None else check_collection_date(collection_date),
                "model_id": None,
                "model_name": model_name,
                "model_data": {} if model_data is None else model_data,
                "dataset_id": None,
                "dataset_name": dataset_name,
                "experiment_id": None,
                "experiment_name": experiment_name,
                "season_id": None,
                "season_name": season_name,
                "site_id": None,
                "site_name": site_name,
                "record_file": record_file,
                "record_info": {} if record_info is None else record_info,
                "model_run_id": model_run_id,
                "model_version": model_version,
                "model_version_id": None,
                "file_sha256": None,
                "file_size": None,
                "created_at": None,
            },
            set(_CREATED),
        )
        if insert_on_create:
            _insert([record], reread_all=True)
        return record

    @classmethod
    def insert(cls, records: List["ModelRecord"]) -> Tuple[bool, List[str]]:
        """Insert ``records`` (built with ``create(..., insert_on_create=False)``) in one transaction:
        ``(True, ids)``, one id per record in input order (a record equal to a stored one gets the stored
        one's id; nothing is written for it), or ``(False, [])`` with a log line, nothing written, when
        any record is refused (the line names it: ``records[3]: ...``) or ``records`` is empty.

        Each record passed gets its ``id``; a record with a file gets the stored file's name in
        ``record_file`` (it is read back); ``refresh()`` reads back the rest (tag ids, version number)."""

        def insert_ids() -> List[str]:
            return _insert(records, reread_all=False)

        return _outcome(_named_operation("ModelRecord.insert", insert_ids)())

    @classmethod
    @seed_operation(fallback=False)
    def exists(
        cls,
        timestamp: dt.datetime,
        model_name: str,
        dataset_name: str,
        experiment_name: str,
        season_name: str,
        site_name: str,
    ) -> bool:
        """Whether a record of ``model_name`` at ``timestamp`` with these names is stored (a name given as
        ``None`` matches any)."""
        return _first_match(timestamp, model_name, dataset_name, experiment_name, season_name, site_name) is not None

    @classmethod
    @seed_operation(fallback=None)
    def get(
        cls,
        timestamp: dt.datetime,
        model_name: str,
        dataset_name: str,
        experiment_name: str = None,
        season_name: str = None,
        site_name: str = None,
    ) -> Optional["ModelRecord"]:
        """The record of ``model_name`` at ``timestamp`` with these names (a name given as ``None``
        matches any; of several, the first by id); ``None`` when there is none."""
        found = _first_match(timestamp, model_name, dataset_name, experiment_name, season_name, site_name)
        if found is None:
            moment = check_record_moment(timestamp).isoformat()
            raise NotFoundError(f"no model record of model {model_name!r} at {moment}")
        return cls.from_record(found)

    @classmethod
    @seed_operation(fallback=None)
    def get_by_id(cls, id: ID) -> Optional["ModelRecord"]:
        return cls.from_record(registry().get_model_record(record_id=id))

    @classmethod
    @seed_operation(fallback=None)
    def get_all(cls, limit: int = 100) -> Optional[List["ModelRecord"]]:
        """The first ``limit`` records by timestamp; ``None`` when there are none."""
        records = registry().search_model_records(limit=limit).items
        if not records:
            raise NotFoundError("no model records found")
        return [cls.from_record(record) for record in records]

    @classmethod
    def search(
        cls,
        model_name: str = None,
        model_data: dict = None,
        dataset_name: str = None,
        experiment_name: str = None,
        site_name: str = None,
        season_name: str = None,
        collection_date: dt.date = None,
        record_info: dict = None,
        *,
        model_run_id: ID = None,
        model_version: str = None,
    ) -> Optional[Generator["ModelRecord", None, None]]:
        """The records matching every given criterion, by timestamp, as a generator: names exactly,
        ``model_data`` and ``record_info`` by containment (``{"plot": 12}`` finds records whose dict holds
        that key and value), ``model_run_id`` the run that produced them, ``model_version`` the version
        of the weights (``"stand_counter@3"``, ``"stand_counter@production"``: the version that alias
        names now). ``None`` when the search cannot start (see the class's docstring)."""
        return stream_records(
            "ModelRecord.search",
            model_names=model_name,
            dataset_names=dataset_name,
            experiment_names=experiment_name,
            season_names=season_name,
            site_names=site_name,
            collection_date=collection_date,
            model_data=model_data,
            record_info=record_info,
            model_run_id=model_run_id,
            model_version=model_version,
        )

    @classmethod
    def filter(
        cls,
        model_names: List[str] = None,
        dataset_names: List[str] = None,
        start_timestamp: dt.datetime = None,
        end_timestamp: dt.datetime = None,
        experiment_names: List[str] = None,
        site_names: List[str] = None,
        season_names: List[str] = None,
        *,
        model_run_id: ID = None,
        model_version: str = None,
    ) -> Optional[Generator["ModelRecord", None, None]]:
        """The records whose names are among the given lists (each optional) and whose timestamp lies in
        ``[start_timestamp, end_timestamp]`` (inclusive; without a zone: UTC), by timestamp, as a
        generator; ``model_run_id``/``model_version`` as in ``search``."""
        return stream_records(
            "ModelRecord.filter",
            model_names=model_names,
            dataset_names=dataset_names,
            experiment_names=experiment_names,
            season_names=season_names,
            site_names=site_names,
            start_timestamp=start_timestamp,
            end_timestamp=end_timestamp,
            model_run_id=model_run_id,
            model_version=model_version,
        )

    # -- instance methods ----------------------------------------------------------------------------

    @seed_operation(fallback=None)
    def update(self, model_data: dict = None, record_info: dict = None) -> Optional["ModelRecord"]:
        """Replace ``model_data`` and/or ``record_info`` (a replacement, not a merge); returns this record,
        updated. Refused when the new ``record_info`` would make it equal to another stored record."""
        return self._apply(
            registry().update_model_record(record_id=self._stored_id(), model_data=model_data, record_info=record_info)
        )

    @seed_operation(fallback=False)
    def delete(self) -> bool:
        """Delete this record (and its file, when no other record holds the same bytes)."""
        registry().delete_model_record(record_id=self._stored_id())
        return True

    @seed_operation(fallback=None)
    def refresh(self) -> Optional["ModelRecord"]:
        """Read this record again as stored."""
        return self._apply(registry().get_model_record(record_id=self._stored_id()))

    @seed_operation(fallback=None)
    def get_info(self) -> Optional[dict]:
        """The record's ``record_info`` as stored now (``{}`` when it has none)."""
        return self._apply(registry().get_model_record(record_id=self._stored_id())).record_info

    @seed_operation(fallback=None)
    def set_info(self, record_info: dict) -> Optional["ModelRecord"]:
        """Replace ``record_info``; returns this record, updated."""
        if record_info is None:
            raise InvalidInputError("record_info is required")
        return self._apply(registry().update_model_record(record_id=self._stored_id(), record_info=record_info))

    @seed_operation(fallback=None)
    def download_file(self, dest: Optional[PathLike] = None) -> Optional[Path]:
        """Write this record's file to ``dest`` (a file path, or an existing directory to write into under
        the file's base name; default: the current directory) and return the path written, its bytes
        checked against their SHA-256 before the file appears. ``None`` when the record has no file."""
        return registry().download_model_record_file(record_id=self._stored_id(), dest=dest)


_new = object.__new__
_set = object.__setattr__
_FIELDS = frozenset(ModelRecord.model_fields)
_OUTPUT_FIELDS = ModelOutputRecord._fields
assert _FIELDS == frozenset(_OUTPUT_FIELDS), "ModelRecord has the fields of the registry's ModelOutputRecord"
_STORED_ONLY = {"id", "model_id", "dataset_id", "experiment_id", "season_id", "site_id", "model_version_id"}
_CREATED = frozenset(_FIELDS - _STORED_ONLY - {"file_sha256", "file_size", "created_at"})
"""The fields ``create`` sets (before the insert fills the rest)."""


def _stored_values(record: ModelOutputRecord) -> dict:
    """The record's fields by name: the registry's record and this class have the same fields."""
    return dict(zip(_OUTPUT_FIELDS, record))


# -- inserting ----------------------------------------------------------------------------------------


def _insert(records: Iterable[ModelRecord], *, reread_all: bool) -> List[str]:
    """Insert ``records`` through the registry; their ids as text. Each record gets its id; the ones with
    a local file (every one with ``reread_all``) are read back as stored."""
    if isinstance(records, (ModelRecord, Mapping, str, bytes)) or not isinstance(records, Iterable):
        raise InvalidInputError(f"records must be a list of ModelRecord, got {type(records).__name__}")
    records = records if isinstance(records, list) else list(records)
    if not records:
        raise InvalidInputError("no records to insert")
    results = registry().insert_model_records(records=_new_outputs(records))
    ids = []
    reread = []
    for record, (record_id, _is_new) in zip(records, results, strict=True):
        record.__dict__["id"] = record_id
        record.__pydantic_fields_set__.add("id")
        ids.append(str(record_id))
        if reread_all or (record.record_file is not None and record.file_sha256 is None):
            reread.append(record)
    for record in reread:
        record._apply(registry().get_model_record(record_id=record.id))
    return ids


def _new_outputs(records: List[ModelRecord]) -> Iterator[dict]:
    """The records as the registry's insert takes them, made as it reads them (nothing copied whole)."""
    for index, record in enumerate(records):
        if not isinstance(record, ModelRecord):
            raise InvalidInputError(f"records[{index}] must be a ModelRecord, got {type(record).__name__}")
        values = record.__dict__
        yield {
            "model_name": values["model_name"],
            "timestamp": values["timestamp"],
            "collection_date": values["collection_date"],
            "model_data": values["model_data"],
            "dataset_name": values["dataset_name"],
            "experiment_name": values["experiment_name"],
            "season_name": values["season_name"],
            "site_name": values["site_name"],
            # A stored name is no local file; the record it came with is stored (and keeps its file).
            "record_file": values["record_file"] if values["file_sha256"] is None else None,
            "record_info": values["record_info"],
            "model_run_id": values["model_run_id"],
            "model_version": values["model_version"],
        }


def _named_operation(operation: str, function: Callable[[], Any]) -> Callable[[], Any]:
    """``function`` under the seed's convention (``None`` and one log line), logged as ``operation``."""
    function.__qualname__ = operation
    return seed_operation(fallback=None)(function)


def _outcome(ids: Optional[List[str]]) -> Tuple[bool, List[str]]:
    """GEMINI's ``(success, ids)``: a fresh ``(False, [])`` for each failure."""
    return (False, []) if ids is None else (True, ids)


def insert_outputs(operation: str, outputs: Iterable[Mapping[str, Any]]) -> Tuple[bool, List[str]]:
    """Insert records given as dicts of the registry's insert (``Model.insert_records``):
    ``(True, ids)`` or ``(False, [])`` with one log line naming ``operation``."""

    def insert_ids() -> List[str]:
        return [str(record_id) for record_id, _is_new in registry().insert_model_records(records=outputs)]

    return _outcome(_named_operation(operation, insert_ids)())


# -- reading ------------------------------------------------------------------------------------------


def _first_match(
    timestamp: object,
    model_name: object,
    dataset_name: object,
    experiment_name: object,
    season_name: object,
    site_name: object,
) -> Optional[ModelOutputRecord]:
    if timestamp is None:
        raise InvalidInputError("timestamp is required to find a model record")
    if model_name is None:
        raise InvalidInputError("model_name is required to find a model record")
    found = registry().search_model_records(
        limit=1,
        model_names=model_name,
        dataset_names=dataset_name,
        experiment_names=experiment_name,
        season_names=season_name,
        site_names=site_name,
        start_timestamp=timestamp,
        end_timestamp=timestamp,
    ).items
    return found[0] if found else None


def stream_records(operation: str, **filters: Any) -> Optional[Iterator[ModelRecord]]:
    """``registry().stream_model_records(**filters)`` as ``ModelRecord``s, or ``None`` with one log line
    naming ``operation`` when the stream cannot start; a failure mid-stream logs one line and ends it."""

    def start() -> Iterator[ModelOutputRecord]:
        return registry().stream_model_records(**filters)

    found = _named_operation(operation, start)()
    return None if found is None else _records(found, operation)


def _records(found: Iterator[ModelOutputRecord], operation: str) -> Generator[ModelRecord, None, None]:
    construct = ModelRecord._construct
    try:
        for record in found:
            yield construct(_stored_values(record), set(_FIELDS))
    except GeminiError as exc:
        level = logging.WARNING if isinstance(exc, NotFoundError) else logging.ERROR
        logger.log(level, "%s failed: %s", operation, exc)
    finally:
        close = getattr(found, "close", None)
        if close is not None:
            close()
