"""Model records over REST: each operation of the contract as requests on its routes, the answers read back
into the records the database transport returns.

An insert sends its records as JSON chunks (``POST /api/model_records``), each sized to the server's
limits, and a record with a file alone through GEMINI's multipart route; a stream reads the server's NDJSON
lines as they arrive.
"""

import functools
import json
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx

from gemini.domain.checks import check_info
from gemini.domain.errors import DatabaseUnavailableError, ServerUnreachableError
from gemini.domain.records import CheckedData, CheckedInfo, ModelOutputRecord, Page
from gemini.registry.contract import NewModelOutput, PageRequest, RecordQuery, route_of
from gemini.remote import artifacts, http, models, records

CHUNK_RECORDS = 5_000
"""Records per request at most; fewer when their JSON would pass the server's ``max_request_bytes``."""

_JSON = {"Content-Type": "application/json"}
_BODY_START = b'{"records":['
_BODY_END = b"]}"


def insert_model_records(*, records: Iterable[NewModelOutput]) -> list[tuple[uuid.UUID, bool]]:
    """Per record, in input order, its id and whether it is new.

    Over a server an insert is one transaction per request, not one for the whole call: the records go in
    chunks of at most ``CHUNK_RECORDS`` (and of the server's largest body), each written or refused
    whole, and a record with a file goes alone (``POST /api/models/id/{model_id}/records``). When a
    chunk is refused, or a record is found bad, the chunks before it stay written. A request whose answer
    was lost is sent again: a record equal to a stored one is not written twice, so the repeat writes
    nothing more (it then reports as not new a record the lost attempt wrote)."""
    server = http.checked_server()
    room = server.max_request_bytes
    results: list[tuple[uuid.UUID, bool]] = []
    pending: list[bytes] = []
    used = len(_BODY_START) + len(_BODY_END)
    model_ids: dict[str, uuid.UUID] = {}
    for record in records:
        if record.record_file is not None:
            results.extend(_send_chunk(pending))
            pending, used = [], len(_BODY_START) + len(_BODY_END)
            results.append(_send_with_file(record, model_ids))
            continue
        encoded = _encoded(record)
        if pending and (len(pending) >= CHUNK_RECORDS or (room is not None and used + len(encoded) + 1 > room)):
            results.extend(_send_chunk(pending))
            pending, used = [], len(_BODY_START) + len(_BODY_END)
        pending.append(encoded)
        used += len(encoded) + 1  # and its comma
    results.extend(_send_chunk(pending))
    return results


def _text(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def _fields(record: NewModelOutput) -> dict[str, Any]:
    """The record's fields as the server takes them, those without a value left out (model_data apart)."""
    fields = {
        "model_name": record.model_name,
        "timestamp": record.timestamp.isoformat(),
        "collection_date": record.collection_date.isoformat() if record.collection_date is not None else None,
        "dataset_name": record.dataset_name,
        "experiment_name": record.experiment_name,
        "season_name": record.season_name,
        "site_name": record.site_name,
        "record_info": record.record_info.value or None,
        "model_run_id": str(record.model_run_id) if record.model_run_id is not None else None,
        "model_version": str(record.model_version) if record.model_version is not None else None,
    }
    return {name: value for name, value in fields.items() if value is not None}


_TAGS = ("dataset_name", "experiment_name", "season_name", "site_name")
_TAG_KEYS = {tag: f',"{tag}":'.encode() for tag in _TAGS}


@functools.lru_cache(maxsize=4096)
def _quoted(value: Any) -> bytes:
    """A name's or a date's JSON text: an insert repeats the same few a million times."""
    return _text(value if isinstance(value, str) else value.isoformat())


def _encoded(record: NewModelOutput) -> bytes:
    """The record's JSON (the fields of ``_fields``), written piece by piece; ``model_data`` goes as the JSON
    text its check made, so a million records are not encoded twice."""
    parts = [b'{"model_name":', _quoted(record.model_name), b',"timestamp":"', record.timestamp.isoformat().encode(), b'"']
    if record.collection_date is not None:
        parts += [b',"collection_date":', _quoted(record.collection_date)]
    for tag in _TAGS:
        name = getattr(record, tag)
        if name is not None:
            parts += [_TAG_KEYS[tag], _quoted(name)]
    if record.record_info.value:
        parts += [b',"record_info":', _text(record.record_info.value)]
    if record.model_run_id is not None:
        parts += [b',"model_run_id":"', str(record.model_run_id).encode(), b'"']
    if record.model_version is not None:
        parts += [b',"model_version":', _text(str(record.model_version))]
    parts += [b',"model_data":', record.model_data.json.encode(), b"}"]
    return b"".join(parts)


def _send_chunk(pending: list[bytes]) -> list[tuple[uuid.UUID, bool]]:
    if not pending:
        return []
    body = _BODY_START + b",".join(pending) + _BODY_END
    answer = http.send("insert_model_records", content=body, headers=_JSON, idempotent=True).json()
    return [(uuid.UUID(found), new) for found, new in zip(answer["ids"], answer["new"], strict=True)]


def _model_id(model_name: str, known: dict[str, uuid.UUID]) -> uuid.UUID:
    """The id of the model of that name, made when missing (the contract's ``create_model`` is a
    get-or-create)."""
    if model_name not in known:
        model, _created = models.create_model(
            model_name=model_name,
            model_url=None,
            model_info=check_info(None, field="model_info"),
            experiment_name=None,
            created_by=None,
        )
        known[model_name] = model.id
    return known[model_name]


def _send_with_file(record: NewModelOutput, model_ids: dict[str, uuid.UUID]) -> tuple[uuid.UUID, bool]:
    """One record and its file as GEMINI's multipart form: 201 when it is new, 200 when an equal record
    was stored already."""
    model_id = _model_id(record.model_name, model_ids)
    form = {name: value for name, value in _fields(record).items() if name != "model_name"}
    if "record_info" in form:
        form["record_info"] = _text(form["record_info"]).decode()
    form["model_data"] = record.model_data.json
    path = record.record_file
    assert path is not None
    with open(path, "rb") as stream:
        # httpx reads the file from its start on each attempt: a repeat sends the whole file again.
        response = http.call(
            "POST",
            f"/models/id/{model_id}/records",
            data=form,
            files={"record_file": (path.name, stream, "application/octet-stream")},
            idempotent=True,
        )
    return uuid.UUID(response.json()["id"]), response.status_code == 201


# -- reading ------------------------------------------------------------------------------------------


def _params(query: RecordQuery) -> dict[str, Any]:
    params = {
        "model_names": list(query.model_names) or None,
        "dataset_names": list(query.dataset_names) or None,
        "experiment_names": list(query.experiment_names) or None,
        "season_names": list(query.season_names) or None,
        "site_names": list(query.site_names) or None,
        "start_timestamp": query.start_timestamp.isoformat() if query.start_timestamp is not None else None,
        "end_timestamp": query.end_timestamp.isoformat() if query.end_timestamp is not None else None,
        "collection_date": query.collection_date.isoformat() if query.collection_date is not None else None,
        "model_data": json.dumps(query.model_data.value) if query.model_data is not None else None,
        "record_info": json.dumps(query.record_info.value) if query.record_info is not None else None,
        "model_run_id": str(query.model_run_id) if query.model_run_id is not None else None,
        "model_version": str(query.model_version) if query.model_version is not None else None,
    }
    return http.query(params)


def search_model_records(*, query: RecordQuery, page: PageRequest) -> Page[ModelOutputRecord]:
    return http.read_page("search_model_records", _params(query), page, records.model_output)


def stream_model_records(
    *, query: RecordQuery, limit: int | None, offset: int | None
) -> Iterator[ModelOutputRecord]:
    """The server's NDJSON stream, read as it arrives; the request is sent here, so a bad filter fails at
    the call, as on the database. Closing the iterator (or dropping it) closes the response."""
    params = _params(query)
    params.update(http.query({"limit": limit, "offset": offset}))
    declared = route_of("stream_model_records")
    assert declared is not None
    pooled = http.checked_server()
    request = pooled.client.build_request(declared.method, declared.path, params=params)
    try:
        response = pooled.client.send(request, stream=True)
    except httpx.TransportError as exc:
        raise ServerUnreachableError(f"cannot reach the server at {pooled.url} ({type(exc).__name__}: {exc})") from exc
    if response.status_code >= 400:
        try:
            response.read()
        finally:
            response.close()
        raise http.error_from(response, pooled.url)
    lines = _lines(response, pooled.url)
    next(lines)  # into its try: from here on, closing it closes the response
    return lines


def _lines(response: httpx.Response, url: str) -> Iterator[ModelOutputRecord]:
    read = records.model_output
    try:
        yield  # type: ignore[misc] - primed by stream_model_records
        rest = bytearray()
        for chunk in response.iter_bytes():
            cut = chunk.rfind(b"\n")
            if cut < 0:
                rest += chunk
                continue
            rest += chunk[:cut]
            for line in rest.split(b"\n"):
                if line:
                    yield read(json.loads(line))
            rest = bytearray(chunk[cut + 1 :])
        if rest.strip():
            raise DatabaseUnavailableError(f"the stream of model records from {url} was cut short")
    except httpx.TransportError as exc:
        raise DatabaseUnavailableError(f"the stream of model records from {url} was cut short: {exc}") from exc
    finally:
        response.close()


def get_model_record(*, record_id: uuid.UUID) -> ModelOutputRecord:
    return records.model_output(http.send("get_model_record", record_id=record_id).json())


def update_model_record(
    *, record_id: uuid.UUID, model_data: CheckedData | None, record_info: CheckedInfo | None
) -> ModelOutputRecord:
    body: dict[str, Any] = {}
    if model_data is not None:
        body["model_data"] = model_data.value
    if record_info is not None:
        body["record_info"] = record_info.value
    return records.model_output(http.send("update_model_record", record_id=record_id, json=body).json())


def delete_model_record(*, record_id: uuid.UUID) -> None:
    http.send("delete_model_record", record_id=record_id)


def download_model_record_file(*, record_id: uuid.UUID, dest: Path) -> Path:
    declared = route_of("download_model_record_file")
    assert declared is not None
    path = declared.path.format(record_id=record_id)
    return artifacts.download(declared.method, path, dest, what=f"the file of model record {record_id}")
