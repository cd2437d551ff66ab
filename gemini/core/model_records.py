"""Model records on the database: GEMINI's per-plot model outputs, written in bulk, read back a block at a
time, each with its file in the blob store and the run and version of the weights that produced it.

An insert is one transaction however many records it carries: the records arrive as an iterable and are
written a chunk at a time through the database's bulk path, so a million of them are never all rows at
once; any failure rolls every chunk back. Names given to tag a record (model, dataset, experiment,
season, site) are made on first use; a search creates nothing. Arguments arrive checked by the front.
"""

from __future__ import annotations

import contextlib
import gc
import datetime as dt
import itertools
import uuid
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from gemini.config import get_settings
from gemini.core import artifacts
from gemini.core.artifacts import read_local_file
from gemini.core.get_or_create import get_or_create_model_id
from gemini.db.engine import unit_of_work
from gemini.db.model_records import (
    TAGS,
    WRITTEN,
    info_text,
    ModelRecordRepository,
    Names,
    RecordFilter,
    TagRepository,
    identity_at,
    identity_place,
    record_identity,
)
from gemini.db.repositories import ModelRepository, ModelRunRepository
from gemini.db.tables import utc_now
from gemini.db.versions import ModelVersionRepository
from gemini.db.ids import new_ids
from gemini.domain.errors import ConflictError, InvalidInputError, NotFoundError
from gemini.domain.records import ArtifactRecord, CheckedData, CheckedInfo, ModelOutputRecord, Page
from gemini.registry.contract import NewModelOutput, PageRequest, RecordQuery, VersionReference
from gemini.registry.downloads import write_verified
from gemini.storage.blobs import BlobWriter, StoredBlob

CHUNK_RECORDS = 10_000
"""Records checked and written together inside an insert's one transaction."""
FIRST_BLOCK = 500
"""The first block of a stream is small, so its first record comes at once; the next ones are larger."""
NEXT_BLOCK = 5_000


def stored_file_name(record: NewModelOutput, file_name: str) -> str:
    """Where a record's file is listed, as GEMINI builds it (its parts in GEMINI's order, ``None`` for a
    missing one), ending with the file's own name rather than GEMINI's timestamp in milliseconds."""
    date = record.collection_date.isoformat() if record.collection_date else None
    parts = (record.experiment_name, record.model_name, record.dataset_name, date, record.site_name, record.season_name)
    return "/".join(["model_data", *(str(part) for part in parts), file_name])


# -- writing ------------------------------------------------------------------------------------------


class _Resolver:
    """The ids of the names, runs and versions an insert's records give, asked once per insert and
    created (names) on the insert's connection, so they commit or roll back with its records."""

    def __init__(self, connection) -> None:  # noqa: ANN001 - sa.Connection
        self.connection = connection
        self.models: dict[str, uuid.UUID] = {}
        self.tags: dict[str, dict[str, uuid.UUID]] = {tag: {} for tag in TAGS}
        self.runs: dict[uuid.UUID, uuid.UUID | None] = {}  # run id -> its model's id
        self.versions: dict[VersionReference, tuple[uuid.UUID, uuid.UUID]] = {}  # -> (version id, model id)
        self.places: dict[tuple[str, str | None, str | None, str | None, str | None], tuple] = {}

    def place_of(self, record: NewModelOutput) -> tuple:
        """The ids of the record's model and tags (``None`` where untagged) and their ``identity_place``,
        looked up by their names (a text's hash is cached; a ``UUID``'s is computed in Python)."""
        names = (record.model_name, record.dataset_name, record.experiment_name, record.season_name, record.site_name)
        found = self.places.get(names)
        if found is None:
            ids = (
                self.models[names[0]],
                *(self.tags[tag][name] if name is not None else None for tag, name in zip(TAGS, names[1:])),
            )
            found = self.places[names] = (*ids, identity_place(*ids))
        return found

    def prepare(self, chunk: list[NewModelOutput], *, before_query: Callable[[], None]) -> None:
        """Learn the ids of what ``chunk`` names; ``before_query`` is called before the first query (the
        connection may still be writing the previous chunk), and not at all when everything is known."""
        models = {record.model_name for record in chunk} - self.models.keys()
        tag_names = {
            tag: {getattr(record, f"{tag}_name") for record in chunk} - self.tags[tag].keys() - {None} for tag in TAGS
        }
        run_ids = {record.model_run_id for record in chunk} - self.runs.keys() - {None}
        references = {record.model_version for record in chunk} - self.versions.keys() - {None}
        if not (models or run_ids or references or any(tag_names.values())):
            return
        before_query()
        for name in models:
            self.models[name] = get_or_create_model_id(self.connection, model_name=name)
        tags = TagRepository(self.connection)
        for tag, names in tag_names.items():
            if names:
                self.tags[tag].update(tags.get_or_add_ids(tag, names))
        runs = ModelRunRepository(self.connection)
        for run_id in run_ids:
            self.runs[run_id] = runs.get(run_id).model_id
        versions = ModelVersionRepository(self.connection)
        model_repository = ModelRepository(self.connection)
        for reference in references:
            self.versions[reference] = _resolve_version(model_repository, versions, reference)

    def check_producers(self, record: NewModelOutput, model_id: uuid.UUID) -> uuid.UUID | None:
        """The version's id; refuses a run or a version of another model than the record's."""
        if record.model_run_id is not None and self.runs[record.model_run_id] != model_id:
            raise InvalidInputError(
                f"model run {record.model_run_id} is not a run of model {record.model_name!r}: "
                "a record names a run of its own model"
            )
        if record.model_version is None:
            return None
        version_id, version_model_id = self.versions[record.model_version]
        if version_model_id != model_id:
            raise InvalidInputError(
                f"model_version {str(record.model_version)!r} is not a version of model {record.model_name!r}: "
                "a record names a version of its own model"
            )
        return version_id


def _resolve_version(
    models: ModelRepository, versions: ModelVersionRepository, reference: VersionReference
) -> tuple[uuid.UUID, uuid.UUID]:
    model_id = models.id_for_name(reference.model_name)
    found = versions.find(model_id=model_id, version=reference.version, alias=reference.alias)
    if found is None:
        raise NotFoundError(f"no model version {str(reference)!r}")
    return found.id, model_id


def _store_file(path: Path) -> tuple[BlobWriter, StoredBlob]:
    """A record's file in the store, not yet visible (the caller publishes it)."""
    store = artifacts.artifact_store()
    writer = store.begin(max_bytes=get_settings().max_artifact_bytes)
    try:
        for chunk in read_local_file(path):
            writer.write(chunk)
        return writer, writer.finish()
    except BaseException:
        writer.discard()
        raise


def insert_model_records(*, records: Iterable[NewModelOutput]) -> list[tuple[uuid.UUID, bool]]:
    """Insert records in one transaction, a chunk at a time; per record its id and whether it is new."""
    with _older_objects_frozen():
        return _insert_model_records(records)


@contextlib.contextmanager
def _older_objects_frozen() -> Iterator[None]:
    """The garbage collector leaves the objects that existed before the insert alone until it ends.

    A caller inserting a million records holds them (three million objects and more), and each chunk's
    rows survive long enough to trigger full collections that walk all of them: 4 of 34 s of a million
    records on PostgreSQL. New objects are collected as usual; the older ones are looked at again after.
    A process that froze objects itself (the server freezes what its start made) keeps them frozen: its
    objects are left as they were, the insert's collections walking what came after."""
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _insert_model_records(records: Iterable[NewModelOutput]) -> list[tuple[uuid.UUID, bool]]:
    results: list[tuple[uuid.UUID, bool]] = []
    published: set[str] = set()  # blobs made visible by this insert
    kept: set[str] = set()  # of those, the ones a new record points at
    committed = False
    with contextlib.ExitStack() as publishing:
        try:
            with unit_of_work(write=True) as connection, ThreadPoolExecutor(1, "gemini-records") as writer:
                # A chunk is written by ``writer`` while the next one is checked and built here: the
                # database's work (and the driver's, which releases the GIL) overlaps Python's. The
                # connection is used by one thread at a time: ``settle`` waits for the write in flight
                # before anything else touches it, and the executor's exit waits before the unit of
                # work commits or rolls back.
                resolver = _Resolver(connection)
                repository = ModelRecordRepository(connection)
                in_flight: list[tuple[list[tuple], Future]] = []

                def settle() -> None:
                    while in_flight:
                        rows, write = in_flight.pop()
                        existing = write.result()
                        for row in rows:
                            row_id = row[0]
                            stored_id = existing.get(row[_IDENTITY], row_id)
                            new = stored_id == row_id
                            results.append((stored_id, new))
                            if new and row[_FILE_SHA256] is not None:
                                kept.add(row[_FILE_SHA256])

                iterator = iter(records)
                while chunk := list(itertools.islice(iterator, CHUNK_RECORDS)):
                    resolver.prepare(chunk, before_query=settle)
                    if not published and any(record.record_file is not None for record in chunk):
                        # Held until the commit: the store's sweep never sees a published blob that
                        # the records about to point at it do not yet reference.
                        publishing.enter_context(artifacts.artifact_store().publishing())
                    now = utc_now()
                    rows = [
                        _row(record, record_id, now, resolver, published)
                        for record, record_id in zip(chunk, new_ids(len(chunk)))
                    ]
                    encoded = repository.encode(rows)  # here, while the connection writes the last chunk
                    settle()
                    in_flight.append((rows, writer.submit(repository.insert_encoded, encoded)))
                settle()
            committed = True
        finally:
            unused = published if not committed else published - kept
    if unused:
        artifacts.release_blobs_after_delete(unused)
    return results


_ROW_ORDER = (
    "id", "timestamp", "collection_date", "model_id", "dataset_id", "experiment_id", "season_id", "site_id",
    "model_data", "record_info", "record_file", "file_sha256", "file_size", "model_run_id", "model_version_id",
    "created_at", "identity",
)  # fmt: skip
assert _ROW_ORDER == WRITTEN, "_row builds its tuple in the repository's column order"
_IDENTITY = WRITTEN.index("identity")
_FILE_SHA256 = WRITTEN.index("file_sha256")


def _row(
    record: NewModelOutput, record_id: uuid.UUID, now: dt.datetime, resolver: _Resolver, published: set[str]
) -> tuple:
    """The record as a row of ``WRITTEN``'s columns (a tuple: a million dicts would cost twice the time)."""
    model_id, dataset_id, experiment_id, season_id, site_id, place = resolver.place_of(record)
    version_id = resolver.check_producers(record, model_id)
    record_file = file_sha256 = file_size = None
    if record.record_file is not None:
        writer, blob = _store_file(record.record_file)
        writer.publish()
        published.add(blob.sha256)
        record_file = stored_file_name(record, record.record_file.name)
        file_sha256, file_size = blob.sha256, blob.size
    identity = identity_at(place, record.timestamp, record.record_info.hash)
    return (
        record_id, record.timestamp, record.collection_date, model_id, dataset_id, experiment_id, season_id,
        site_id, record.model_data.json, info_text(record.record_info.value), record_file, file_sha256, file_size,
        record.model_run_id, version_id, now, identity,
    )  # fmt: skip


def update_model_record(
    *, record_id: uuid.UUID, model_data: CheckedData | None, record_info: CheckedInfo | None
) -> ModelOutputRecord:
    """Replace ``model_data`` and/or ``record_info`` (a replacement, not a merge). A new ``record_info``
    changes the record's identity: refused when another record already has the one it would take."""
    with unit_of_work(write=True) as connection:
        repository = ModelRecordRepository(connection)
        row = repository.get(record_id)
        values: dict = {}
        if model_data is not None:
            values["model_data"] = model_data.value
        if record_info is not None:
            values["record_info"] = record_info.value
            identity = record_identity(
                row.model_id, row.dataset_id, row.experiment_id, row.season_id, row.site_id, row.timestamp, record_info.hash
            )
            holder = repository.ids_of_identities([identity]).get(identity)
            if holder is not None and holder != record_id:
                raise ConflictError(
                    f"model record {holder} already has this model, dataset, experiment, season, site, timestamp "
                    "and record_info: two records cannot be equal in all of them"
                )
            values["identity"] = identity
        repository.update(record_id, values)
        return repository.get(record_id)


def delete_model_record(*, record_id: uuid.UUID) -> None:
    with unit_of_work(write=True) as connection:
        repository = ModelRecordRepository(connection)
        digest = repository.get(record_id).file_sha256
        repository.delete(record_id)
    if digest is not None:
        artifacts.release_blobs_after_delete({digest})


# -- reading ------------------------------------------------------------------------------------------


def _resolve_query(connection, query: RecordQuery) -> RecordFilter:  # noqa: ANN001 - sa.Connection
    """The query with its names as ids; a name nobody used matches nothing (a search creates nothing).
    A version reference must name a version (``NotFoundError``): a typo should not look like no output."""
    model_ids = None
    if query.model_names:
        found = ModelRepository(connection).ids_for_names(query.model_names)
        model_ids = frozenset(found.values())
    tags = TagRepository(connection)
    tag_ids = {
        tag: frozenset(tags.ids_of(tag, names).values())
        for tag in TAGS
        if (names := getattr(query, f"{tag}_names"))
    }
    version_id = None
    if query.model_version is not None:
        version_id, _model_id = _resolve_version(
            ModelRepository(connection), ModelVersionRepository(connection), query.model_version
        )
    return RecordFilter(
        model_ids=model_ids,
        tag_ids=tag_ids,
        start_timestamp=query.start_timestamp,
        end_timestamp=query.end_timestamp,
        collection_date=query.collection_date,
        model_data=query.model_data.value if query.model_data is not None else None,
        record_info=query.record_info.value if query.record_info is not None else None,
        model_run_id=query.model_run_id,
        model_version_id=version_id,
    )


def search_model_records(*, query: RecordQuery, page: PageRequest) -> Page[ModelOutputRecord]:
    with unit_of_work() as connection:
        where = _resolve_query(connection, query)
        repository = ModelRecordRepository(connection)
        records = repository.block(where, limit=page.limit, offset=page.offset) if page.limit != 0 else []
        total = repository.count(where) if page.with_total else None
        return Page(records, total=total)


def stream_model_records(
    *, query: RecordQuery, limit: int | None, offset: int | None
) -> Iterator[ModelOutputRecord]:
    """The matching records, a block per short read transaction, each block starting after the last
    record of the one before (by timestamp, then id): nothing is read twice or skipped, whatever the
    size, and no connection is held between blocks. A record written meanwhile appears when it sorts
    after the block being read. The query is resolved here, so bad input fails before the first record."""
    with unit_of_work(single_read=True) as connection:
        where = _resolve_query(connection, query)
    return _blocks(where, limit, offset)


def _blocks(where: RecordFilter, limit: int | None, offset: int | None) -> Iterator[ModelOutputRecord]:
    names = Names()
    remaining = limit
    after = None
    size = FIRST_BLOCK
    while remaining is None or remaining > 0:
        wanted = size if remaining is None else min(size, remaining)
        with unit_of_work() as connection:
            repository = ModelRecordRepository(connection)
            records = repository.block(
                where, limit=wanted, offset=offset if after is None else None, after=after, names=names
            )
        yield from records
        if len(records) < wanted:
            return
        if remaining is not None:
            remaining -= len(records)
        after = (records[-1].timestamp, records[-1].id)
        size = NEXT_BLOCK


def get_model_record(*, record_id: uuid.UUID) -> ModelOutputRecord:
    with unit_of_work() as connection:
        return ModelRecordRepository(connection).get(record_id)


def open_model_record_file(*, record_id: uuid.UUID) -> tuple[ModelOutputRecord, artifacts.OpenedArtifact]:
    """The record and its file's bytes, checked against their SHA-256 as they are read (the server's
    streamed download); ``NotFoundError`` when the record has no file."""
    record = get_model_record(record_id=record_id)
    if record.record_file is None or record.file_sha256 is None:
        raise NotFoundError(f"model record {record_id} has no file")
    pinned = ArtifactRecord(
        name=record.record_file, size=record.file_size or 0, sha256=record.file_sha256, created_at=record.created_at
    )
    return record, artifacts.open_blob(pinned)


def download_model_record_file(*, record_id: uuid.UUID, dest: Path) -> Path:
    """Write the record's file to the file ``dest``, checked against its SHA-256 as it is read."""
    _record, opened = open_model_record_file(record_id=record_id)
    return write_verified(dest, opened.chunks, expected_sha256=None, what=f"the file of model record {record_id}")

