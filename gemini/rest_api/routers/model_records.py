"""Model records (GEMINI's ``ModelRecord``): our JSON routes, ``/api/model_records`` (bulk insert, a page,
an NDJSON stream), and GEMINI's paths, ``/api/models/id/{model_id}/records`` (a multipart create, NDJSON
lists) and ``/api/models/records/id/{record_id}`` (read, replace, delete, download the file).

The streams never hold the matching records: the registry reads them a block at a time and each block
is written out as it comes. Starlette runs each ``next()`` of a synchronous body in one of its worker
threads, never on the event loop; the registry's iterator holds no connection or transaction between
its blocks (each block is a short read of its own, on whatever thread asks for it), so neither SQLite's
writers nor PostgreSQL's vacuum wait on a slow client, and the single registry thread of the hot writes
(``gemini.rest_api.threads``) is not taken by a stream.
"""

import itertools
import json
import shutil
import tempfile
import unicodedata
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, Response, UploadFile
from fastapi.responses import StreamingResponse

# The streamed download reads the store through the core, as the model versions' download does: the
# registry's operation writes a whole file.
from gemini.core.artifacts import open_blob
from gemini.core.model_records import open_model_record_file
from gemini.domain.errors import InvalidInputError
from gemini.domain.limits import MAX_OFFSET
from gemini.domain.records import ModelOutputRecord
from gemini.registry import registry
from gemini.rest_api.errors import CONFLICT, NOT_FOUND, READ_ERRORS, WRITE_ERRORS
from gemini.rest_api.pages import list_responses, set_page_headers
from gemini.rest_api.params import PageParams, json_filter_query, json_object_param, page_params
from gemini.rest_api.record_schemas import (
    MODEL_DATA_EXAMPLE,
    RECORD_INFO_EXAMPLE,
    ModelOutputRecordPublic,
    record_json,
    ModelRecordsCreate,
    ModelRecordsCreated,
    ModelRecordUpdate,
)
from gemini.rest_api.routers.artifacts import _DOWNLOAD_RESPONSES, _STORAGE_ERRORS, blob_response
from gemini.rest_api.security import WRITE_ACCESS
from gemini.rest_api.strict_json import StrictJsonRoute, inline_schema, read_body
from gemini.rest_api.threads import off_the_loop

router = APIRouter(route_class=StrictJsonRoute, tags=["model records"], responses=READ_ERRORS)

NDJSON = "application/x-ndjson"
_NDJSON_TYPES = frozenset({NDJSON, "application/ndjson", "application/jsonl", "application/x-jsonlines"})
STREAM_CHUNK_BYTES = 64 * 1024
"""Lines are sent in chunks of about this size: one hand-off to a worker thread per chunk, not per line."""

_RECORD_SCHEMA = {"$ref": "#/components/schemas/ModelOutputRecordPublic"}
_NDJSON_ANSWER = {
    200: {
        "description": "The matching records by timestamp then id, one JSON object a line (NDJSON).",
        "content": {NDJSON: {"schema": _RECORD_SCHEMA}},
    }
}
_GEMINI_ANSWER = {
    200: {
        "description": "The matching records by timestamp then id: NDJSON, one object a line without its null "
        "fields (GEMINI's exclude_none); or, when Accept asks for application/json and not NDJSON, one JSON "
        "array of them. Both are streamed.",
        "content": {
            NDJSON: {"schema": _RECORD_SCHEMA},
            "application/json": {"schema": {"type": "array", "items": _RECORD_SCHEMA}},
        },
    }
}

NameList = Annotated[list[str] | None, Query(description="Any of these names; repeat the parameter for several.")]
Moment = Annotated[str | None, Query(description="ISO 8601; without an offset it is UTC. Inclusive.")]
CollectionDate = Annotated[str | None, Query(description="YYYY-MM-DD.", examples=["2026-06-01"])]
# GEMINI's clients ask for these streams whole; a limit, when given, is bounded like every other page.
StreamLimit = Annotated[int | None, Query(ge=0, le=2**63 - 1, description="At most this many records; all when omitted.")]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Records to skip, in timestamp then id order.")]


# -- ours ---------------------------------------------------------------------------------------------


@router.post(
    "/model_records",
    status_code=201,
    dependencies=WRITE_ACCESS,
    responses={**WRITE_ERRORS, **NOT_FOUND},
    openapi_extra={
        "requestBody": {"required": True, "content": {"application/json": {"schema": inline_schema(ModelRecordsCreate)}}}
    },
)
async def insert_model_records(request: Request) -> ModelRecordsCreated:
    """Insert records in one transaction (201): per record, in the order sent, its id and whether it is new.
    A record equal to a stored one in model, dataset, experiment, season, site, timestamp and
    ``record_info`` is not written again (``new: false``, the stored record's id), so a request repeated
    after a lost answer writes nothing twice. Names are created on first use. A bad record is refused
    naming its position (``records[3]: ...``) and nothing of the request is written. 404 for a
    ``model_version`` that does not exist.

    The body is a ``ModelRecordsCreate``."""
    # As a metric batch: only the bytes are read on the loop; the parsing, the checks and the write grow
    # with the body and run in the registry's thread, one write after the other.
    body = await request.body()
    return await off_the_loop(_insert, body=body, content_type=request.headers.get("content-type"))


def _insert(*, body: bytes, content_type: str | None) -> ModelRecordsCreated:
    parsed = read_body(ModelRecordsCreate, body, content_type)
    results = registry().insert_model_records(records=(record.model_dump() for record in parsed.records))
    return ModelRecordsCreated(ids=[found for found, _ in results], new=[new for _, new in results])


def record_filters(
    model_names: NameList = None,
    dataset_names: NameList = None,
    experiment_names: NameList = None,
    season_names: NameList = None,
    site_names: NameList = None,
    start_timestamp: Moment = None,
    end_timestamp: Moment = None,
    collection_date: CollectionDate = None,
    model_data: Annotated[
        str | None, json_filter_query("JSON object the record's model_data must contain.", {"stand_count": 42})
    ] = None,
    record_info: Annotated[
        str | None, json_filter_query("JSON object the record's record_info must contain.", RECORD_INFO_EXAMPLE)
    ] = None,
    model_run_id: Annotated[str | None, Query(description="Records the run with this id produced.")] = None,
    model_version: Annotated[
        str | None,
        Query(description="Records this version produced: MODEL_NAME@N or MODEL_NAME@ALIAS.", examples=["stand_counter@production"]),
    ] = None,
) -> dict[str, Any]:
    """The registry's filters (``record_query``'s arguments) from query parameters: JSON text decoded,
    the rest left for the registry to check."""
    return dict(
        model_names=model_names,
        dataset_names=dataset_names,
        experiment_names=experiment_names,
        season_names=season_names,
        site_names=site_names,
        start_timestamp=start_timestamp,
        end_timestamp=end_timestamp,
        collection_date=collection_date,
        model_data=json_object_param(model_data, field="model_data"),
        record_info=json_object_param(record_info, field="record_info"),
        model_run_id=model_run_id,
        model_version=model_version,
    )


Filters = Annotated[dict[str, Any], Depends(record_filters)]


@router.get("/model_records", responses={**NOT_FOUND, **list_responses("A page of matching records.")})
def search_model_records(
    filters: Filters, request: Request, response: Response, page: Annotated[PageParams, Depends(page_params)]
) -> list[ModelOutputRecordPublic]:
    """A page of the records matching every filter given, by timestamp then id: a JSON array, the total
    in ``X-Total-Count`` and the next page, when there is one, in ``Link`` (``rel="next"``), as every
    list. Each ``*_names`` matches any of its names; the timestamps are inclusive bounds;
    ``model_data`` and ``record_info`` (JSON text) match by containment. 404 for a ``model_version``
    that does not exist; a name nobody used matches nothing."""
    found = registry().search_model_records(limit=page.limit, offset=page.offset, with_total=True, **filters)
    set_page_headers(request, response, found, limit=page.limit, offset=page.offset)
    return [ModelOutputRecordPublic.of(record) for record in found.items]


@router.get("/model_records/stream", response_class=StreamingResponse, responses={**NOT_FOUND, **_NDJSON_ANSWER})
def stream_model_records(filters: Filters, limit: StreamLimit = None, offset: Offset = 0) -> Response:
    """Every record matching the filters (those of ``GET /api/model_records``), from ``offset``, at most
    ``limit``, by timestamp then id: NDJSON, one record a line with every field, streamed as it is read
    (a million records are never held at once). A bad filter is refused before the first line."""
    records = registry().stream_model_records(limit=limit, offset=offset, **filters)
    return _streamed(records, array=False, exclude_none=False)


@router.get("/models/records/id/{record_id}", responses=NOT_FOUND)
def get_model_record(record_id: uuid.UUID) -> ModelOutputRecordPublic:
    return ModelOutputRecordPublic.of(registry().get_model_record(record_id=record_id))


@router.patch(
    "/models/records/id/{record_id}", dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND, **CONFLICT}
)
def update_model_record(record_id: uuid.UUID, body: ModelRecordUpdate) -> ModelOutputRecordPublic:
    """Replace ``model_data``, ``record_info`` or both (a replacement, not a merge); 422 when neither is
    given; 409 when the new ``record_info`` makes the record equal to another."""
    return ModelOutputRecordPublic.of(
        registry().update_model_record(record_id=record_id, model_data=body.model_data, record_info=body.record_info)
    )


@router.delete(
    "/models/records/id/{record_id}", status_code=204, dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND}
)
def delete_model_record(record_id: uuid.UUID) -> Response:
    """Delete the record (and its file, unless something else holds the same bytes)."""
    registry().delete_model_record(record_id=record_id)
    return Response(status_code=204)


@router.get(
    "/models/records/id/{record_id}/download",
    response_class=StreamingResponse,
    responses={**NOT_FOUND, **_STORAGE_ERRORS, **_DOWNLOAD_RESPONSES},
)
def download_model_record_file(
    record_id: uuid.UUID,
    range: Annotated[str | None, Header(description="One byte range, e.g. 'bytes=0-1023' or 'bytes=-500'.")] = None,
    if_none_match: Annotated[str | None, Header(description="An ETag the client holds: 304 when it matches.")] = None,
) -> Response:
    """The record's file, streamed as an artifact's bytes are: ``ETag`` (their SHA-256), ``Content-Length``,
    one ``Range`` (206), and the file's base name in ``Content-Disposition``. 404 for a record without a
    file."""
    _record, opened = open_model_record_file(record_id=record_id)
    whole = (opened.start, opened.end)

    def open_range(start: int, end: int):  # noqa: ANN202 - an OpenedArtifact
        if (start, end) == whole:
            return opened
        opened.chunks.close()
        return open_blob(opened.record, start=start, end=end)

    return blob_response(
        opened.record, open_range, range=range, if_none_match=if_none_match, what=f"the file of model record {record_id}"
    )


# -- GEMINI's -----------------------------------------------------------------------------------------


@router.post(
    "/models/id/{model_id}/records",
    status_code=201,
    dependencies=WRITE_ACCESS,
    responses={
        **WRITE_ERRORS,
        **NOT_FOUND,
        200: {"model": ModelOutputRecordPublic, "description": "An equal record was stored already: it is returned."},
        413: {"model": None, "description": "The file is larger than GEMINI_MAX_ARTIFACT_BYTES."},
    },
)
def create_model_record(
    model_id: uuid.UUID,
    response: Response,
    timestamp: Annotated[str | None, Form(description="ISO 8601; without an offset it is UTC. Default: now.")] = None,
    collection_date: Annotated[str | None, Form(description="YYYY-MM-DD. Default: the timestamp's date.")] = None,
    model_data: Annotated[
        str | None, Form(description="JSON object text: the output itself.", examples=[json.dumps(MODEL_DATA_EXAMPLE)])
    ] = None,
    dataset_name: Annotated[str | None, Form()] = None,
    experiment_name: Annotated[str | None, Form()] = None,
    season_name: Annotated[str | None, Form()] = None,
    site_name: Annotated[str | None, Form()] = None,
    record_info: Annotated[str | None, Form(description="JSON object text.")] = None,
    record_file: Annotated[UploadFile | None, File(description="The record's file, stored with it.")] = None,
    model_run_id: Annotated[str | None, Form(description="The run (of this model) that produced it.")] = None,
    model_version: Annotated[str | None, Form(description="MODEL_NAME@N or MODEL_NAME@ALIAS.")] = None,
) -> ModelOutputRecordPublic:
    """Create one record of the model (GEMINI's multipart form), its file stored under
    ``model_data/{experiment}/{model}/{dataset}/{collection_date}/{site}/{season}/{file name}``: 201, or
    200 with the stored record when an equal one exists (it is not written again)."""
    model = registry().get_model(model_id=model_id)
    fields = dict(
        model_name=model.model_name,
        timestamp=timestamp,
        collection_date=collection_date,
        model_data=json_object_param(model_data, field="model_data"),
        dataset_name=dataset_name,
        experiment_name=experiment_name,
        season_name=season_name,
        site_name=site_name,
        record_info=json_object_param(record_info, field="record_info"),
        model_run_id=model_run_id,
        model_version=model_version,
    )
    with tempfile.TemporaryDirectory(prefix="gemini-record-") as directory:
        if record_file is not None and (record_file.filename or record_file.size):
            # Kept under the uploaded file's own name: the stored name ends with it.
            path = Path(directory) / upload_name(record_file.filename)
            with open(path, "wb") as copy:
                shutil.copyfileobj(record_file.file, copy, 1024 * 1024)
            fields["record_file"] = path
        [(record_id, new)] = registry().insert_model_records(records=[fields])
    if not new:
        response.status_code = 200
    return ModelOutputRecordPublic.of(registry().get_model_record(record_id=record_id))


def upload_name(filename: str | None) -> str:
    """The base name of an uploaded file (a browser may send a whole Windows path); refused when there is
    none, or when it could not be a file's name or be sent back in ``Content-Disposition``."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    if name in ("", ".", ".."):
        raise InvalidInputError(f"record_file's name {filename!r:.80} is not a file name")
    if any(unicodedata.category(character) in ("Cc", "Cs") for character in name):
        raise InvalidInputError(f"record_file's name {filename!r:.80} has control characters")
    if len(name.encode("utf-8")) > 255:
        raise InvalidInputError(f"record_file's name is {len(name.encode('utf-8'))} bytes; at most 255 are allowed")
    return name


@router.get(
    "/models/id/{model_id}/records", response_class=StreamingResponse, responses={**NOT_FOUND, **_GEMINI_ANSWER}
)
def get_model_records(
    model_id: uuid.UUID,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    experiment_name: Annotated[str | None, Query()] = None,
    season_name: Annotated[str | None, Query()] = None,
    site_name: Annotated[str | None, Query()] = None,
    collection_date: CollectionDate = None,
    dataset_name: Annotated[str | None, Query()] = None,
    limit: StreamLimit = None,
    offset: Offset = 0,
) -> Response:
    """The model's records tagged with every name given (GEMINI's ``search_records``), by timestamp then
    id; ``limit`` and ``offset`` page them as GEMINI's web client sends them."""
    model = registry().get_model(model_id=model_id)
    records = registry().stream_model_records(
        limit=limit,
        offset=offset,
        model_names=[model.model_name],
        experiment_names=experiment_name,
        season_names=season_name,
        site_names=site_name,
        dataset_names=dataset_name,
        collection_date=collection_date,
    )
    return _streamed(records, array=wants_json_array(accept), exclude_none=True)


@router.get(
    "/models/id/{model_id}/records/filter",
    response_class=StreamingResponse,
    responses={**NOT_FOUND, **_GEMINI_ANSWER},
)
def filter_model_records(
    model_id: uuid.UUID,
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
    start_timestamp: Moment = None,
    end_timestamp: Moment = None,
    dataset_names: NameList = None,
    experiment_names: NameList = None,
    season_names: NameList = None,
    site_names: NameList = None,
    limit: StreamLimit = None,
    offset: Offset = 0,
) -> Response:
    """The model's records between two moments (inclusive, each optional) and tagged with any of the
    names of each list (GEMINI's ``filter_records``; repeat a parameter for several names)."""
    model = registry().get_model(model_id=model_id)
    records = registry().stream_model_records(
        limit=limit,
        offset=offset,
        model_names=[model.model_name],
        start_timestamp=start_timestamp,
        end_timestamp=end_timestamp,
        dataset_names=dataset_names,
        experiment_names=experiment_names,
        season_names=season_names,
        site_names=site_names,
    )
    return _streamed(records, array=wants_json_array(accept), exclude_none=True)


# -- streaming ----------------------------------------------------------------------------------------


def wants_json_array(accept: str | None) -> bool:
    """Whether ``Accept`` asks for ``application/json`` and not NDJSON (GEMINI's web client reads the body
    as one JSON value)."""
    types = {part.split(";", 1)[0].strip().lower() for part in (accept or "").split(",")}
    return "application/json" in types and not types & _NDJSON_TYPES


def _streamed(records: Iterator[ModelOutputRecord], *, array: bool, exclude_none: bool) -> StreamingResponse:
    """The answer streaming ``records``. The first block is read here, before the status line, so that a
    database that fails at once is an error answer rather than a cut-off stream."""
    first = list(itertools.islice(records, 1))
    body = _encoded(itertools.chain(first, records), records, array=array, exclude_none=exclude_none)
    return StreamingResponse(body, media_type="application/json" if array else NDJSON)


def _encoded(
    records: Iterator[ModelOutputRecord], source: Iterator[ModelOutputRecord], *, array: bool, exclude_none: bool
) -> Iterator[bytes]:
    dump = record_json
    ending = b"," if array else b"\n"
    buffer = bytearray(b"[" if array else b"")
    try:
        for record in records:
            buffer += dump(record, exclude_none=exclude_none)
            buffer += ending
            if len(buffer) >= STREAM_CHUNK_BYTES:
                if array:
                    # The last comma waits for the next record: ']' may replace it.
                    yield bytes(buffer[:-1])
                    buffer = bytearray(b",")
                else:
                    yield bytes(buffer)
                    buffer = bytearray()
        if array:
            if buffer.endswith(b","):
                del buffer[-1]
            buffer += b"]"
        if buffer:
            yield bytes(buffer)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()  # an abandoned stream stops reading
