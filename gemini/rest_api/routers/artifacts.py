"""``/api/model_runs/{run_id}/artifacts``: upload (streamed), list and download (streamed, with ranges).

The upload reads the request body as it arrives, 1 MiB at a time, straight into the artifact store;
the download sends the stored bytes the same way. Neither holds a whole file in memory.
"""

import asyncio
import logging
import mimetypes
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from gemini.config import get_settings
# The streamed upload and download work on the store and the database directly: the registry's
# operations take and give whole files.
from gemini.core.artifacts import OpenedArtifact, begin_artifact, get_artifact, open_artifact
from gemini.domain.checks import is_sha256
from gemini.domain.errors import ArtifactCorruptedError, ArtifactTooLargeError, InvalidInputError
from gemini.domain.records import ArtifactRecord
from gemini.registry import registry
from gemini.rest_api.artifact_schemas import (
    ArtifactBlobs,
    ArtifactLinkPublic,
    ArtifactPublic,
    ArtifactUploadOfferPublic,
    PartsUploadPublic,
    PresignedPublic,
)
from gemini.rest_api.errors import NOT_FOUND, READ_ERRORS, WRITE_ERRORS, error_response
from gemini.rest_api.pages import set_page_headers
from gemini.rest_api.params import PageParams, page_params
from gemini.rest_api.security import WRITE_ACCESS
from gemini.storage.blobs import CHUNK_BYTES

logger = logging.getLogger("gemini.rest_api")

def _utf8_path(request: Request) -> None:
    """Refuse a path whose percent-escapes are not UTF-8: decoded lossily, ``%ff.txt`` and ``%fe.txt``
    would both name ``\ufffd.txt`` and the second upload would replace the first."""
    raw = request.scope.get("raw_path") or request.url.path.encode()
    try:
        urllib.parse.unquote_to_bytes(raw.decode("latin-1")).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInputError("the artifact name is not valid UTF-8 once its %-escapes are decoded") from exc


router = APIRouter(
    prefix="/model_runs/{run_id}/artifacts",
    tags=["artifacts"],
    responses=READ_ERRORS,
    dependencies=[Depends(_utf8_path)],
)

ArtifactName = Annotated[
    str,
    Path(
        description="The artifact's name, a relative path: its '/' stay as they are, other reserved "
        "characters are percent-encoded.",
        examples=["weights/best.pt"],
    ),
]

_UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "description": "The artifact's bytes, as they are (not a form): `curl -T best.pt URL`.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}
_STORAGE_ERRORS = {
    500: {"model": None, "description": "The stored bytes no longer match their SHA-256 (artifact_corrupted)."},
}
_DOWNLOAD_RESPONSES = {
    200: {
        "description": "The artifact's bytes, checked against its SHA-256 as they are sent (the connection is "
        "cut before the last bytes if they do not match).",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
        "headers": {
            "ETag": {"description": 'The SHA-256 in quotes: "9f86d0...".', "schema": {"type": "string"}},
            "Content-Length": {"schema": {"type": "integer"}},
        },
    },
    206: {
        "description": "The bytes of the requested range (`Range: bytes=0-1023`), with `Content-Range`.",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    },
    304: {"description": "`If-None-Match` names the artifact's ETag: the client's copy is current."},
    416: {"description": "The range is malformed or starts past the end; `Content-Range: bytes */SIZE`."},
}


def _declared_length(request: Request) -> int | None:
    value = request.headers.get("content-length")
    return int(value) if value is not None and value.isdigit() else None


@router.put(
    "/{name:path}",
    status_code=201,
    dependencies=WRITE_ACCESS,
    openapi_extra=_UPLOAD_BODY,
    responses={
        **WRITE_ERRORS,
        **NOT_FOUND,
        200: {"model": ArtifactPublic, "description": "The run had an artifact of that name; it is replaced."},
        413: {"model": None, "description": "The artifact is larger than GEMINI_MAX_ARTIFACT_BYTES."},
    },
)
async def upload_artifact(
    run_id: uuid.UUID,
    name: ArtifactName,
    request: Request,
    response: Response,
    x_artifact_sha256: Annotated[
        str | None,
        Header(
            description="The SHA-256 the client computed: bytes that hash otherwise are refused (422), "
            "nothing stored.",
        ),
    ] = None,
) -> ArtifactPublic:
    """Store the request body as the run's artifact ``name``: 201, or 200 when it replaces an artifact of
    that name. Nothing is stored unless the whole body arrives (a cut-off upload leaves no trace)."""
    limit = get_settings().max_artifact_bytes
    declared = _declared_length(request)
    if declared is not None and declared > limit:
        raise ArtifactTooLargeError(
            f"the artifact is {declared} bytes, larger than {limit} bytes, the limit (GEMINI_MAX_ARTIFACT_BYTES)"
        )
    if x_artifact_sha256 is not None and not is_sha256(x_artifact_sha256.lower()):
        raise InvalidInputError("X-Artifact-SHA256 must be 64 hexadecimal digits")
    upload = await run_in_threadpool(begin_artifact, run_id=run_id, name=name)
    pending: asyncio.Future | None = None
    try:
        buffer = bytearray()
        async for chunk in request.stream():
            buffer += chunk
            if len(buffer) >= CHUNK_BYTES:
                if pending is not None:
                    await pending
                # Written by a worker thread while the next chunks arrive into a new buffer.
                pending = asyncio.ensure_future(run_in_threadpool(upload.write, buffer))
                buffer = bytearray()
        if pending is not None:
            await pending
            pending = None
        if buffer:
            await run_in_threadpool(upload.write, buffer)
        record, previous = await run_in_threadpool(upload.commit, expected_sha256=x_artifact_sha256)
    except BaseException:
        if pending is not None:
            await asyncio.gather(pending, return_exceptions=True)
        upload.abort()
        raise
    if previous is not None:
        response.status_code = 200
    return ArtifactPublic.of(record)


@router.get("", responses=NOT_FOUND)
def list_artifacts(
    run_id: uuid.UUID, request: Request, response: Response, page: Annotated[PageParams, Depends(page_params)]
) -> list[ArtifactPublic]:
    """The run's artifacts by name, a page at a time: a JSON array, the total in ``X-Total-Count`` and
    the next page, when there is one, in ``Link`` (``rel="next"``)."""
    found = registry().search_artifacts(run_id=run_id, limit=page.limit, offset=page.offset, with_total=True)
    set_page_headers(request, response, found, limit=page.limit, offset=page.offset)
    return [ArtifactPublic.of(record) for record in found.items]


_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """(start, end exclusive) for a ``Range`` header; ``None`` to send everything; ``ValueError`` for 416.

    One range is served; a header asking for several is answered with the whole artifact, as a server
    may do, and so is a unit other than bytes.
    """
    header = header.strip()
    if not header.lower().startswith("bytes="):
        return None
    if "," in header:
        return None
    match = _RANGE.fullmatch(header.replace(" ", "").lower())
    if match is None or match.groups() == ("", ""):
        raise ValueError("malformed range")
    first, last = match.groups()
    if first == "":  # the last N bytes
        length = int(last)
        if length == 0 or size == 0:  # nothing to send: no byte range of it exists
            raise ValueError("empty suffix range")
        return max(size - length, 0), size
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    if start >= size or (last != "" and int(last) < start):
        raise ValueError("range not satisfiable")
    return start, end


# Types a browser shows without running anything (plots on the run page). Everything else, HTML and SVG
# included, is sent as octet-stream: an artifact must never run script on the registry's origin.
_INLINE_TYPES = {
    "image/png", "image/jpeg", "image/gif", "image/webp", "text/plain", "text/csv", "application/json",
}


def _media_type(name: str) -> str:
    guessed = mimetypes.guess_type(name, strict=True)[0]
    return guessed if guessed in _INLINE_TYPES else "application/octet-stream"


def _content_disposition(name: str) -> str:
    file_name = name.rsplit("/", 1)[-1]
    fallback = file_name.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{urllib.parse.quote(file_name, safe='')}"


@router.get("/{name:path}", response_class=StreamingResponse, responses={**NOT_FOUND, **_STORAGE_ERRORS, **_DOWNLOAD_RESPONSES})
def download_artifact(
    run_id: uuid.UUID,
    name: ArtifactName,
    range: Annotated[str | None, Header(description="One byte range, e.g. 'bytes=0-1023' or 'bytes=-500'.")] = None,
    if_none_match: Annotated[str | None, Header(description="An ETag the client holds: 304 when it matches.")] = None,
) -> Response:
    """The artifact's bytes, streamed, with ``Content-Length``, ``ETag`` (its SHA-256) and support for one
    ``Range`` (206; 416 when it is malformed or starts past the end)."""
    record = get_artifact(run_id=run_id, name=name)
    return blob_response(
        record,
        lambda start, end: open_artifact(run_id=run_id, name=name, start=start, end=end),
        range=range,
        if_none_match=if_none_match,
        what=f"{run_id}/{name}",
    )


def blob_response(
    record: ArtifactRecord,
    open_range: Callable[[int, int], OpenedArtifact],
    *,
    range: str | None,
    if_none_match: str | None,
    what: str,
) -> Response:
    """The answer of a download of ``record``'s bytes (an artifact's, or a model version's pinned ones):
    304 for a matching ``If-None-Match``, 416 for a bad ``Range``, else 200 or 206 streaming the bytes
    ``open_range(start, end)`` reads, with ``ETag``, ``Content-Length`` and ``Content-Disposition``."""
    etag = f'"{record.sha256}"'
    headers = {
        "ETag": etag,
        "Accept-Ranges": "bytes",
        "Content-Disposition": _content_disposition(record.name),
        "X-Content-Type-Options": "nosniff",
    }
    if if_none_match is not None and (
        if_none_match.strip() == "*" or etag in [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    ):
        return Response(status_code=304, headers={"ETag": etag})
    status = 200
    start, end = 0, record.size
    if range is not None:
        try:
            chosen = _byte_range(range, record.size)
        except ValueError:
            problem = error_response(
                416, "range_not_satisfiable", f"the range {range!r} is not within the {record.size} bytes of {record.name!r}"
            )
            problem.headers["Content-Range"] = f"bytes */{record.size}"
            return problem
        if chosen is not None:
            start, end = chosen
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{record.size}"
    opened = open_range(start, end)
    headers["Content-Length"] = str(end - start)
    return StreamingResponse(_closing(opened.chunks, what), status_code=status, headers=headers, media_type=_media_type(record.name))


def _closing(chunks: Iterator[bytes], what: str) -> Iterator[bytes]:
    """Close the blob when the client goes away before the end; say why a download was cut short."""
    try:
        yield from chunks
    except ArtifactCorruptedError as exc:
        # The status line has gone: all that is left is to end the connection before Content-Length.
        logger.error("download of %s cut short: %s", what, exc)
        raise
    finally:
        close = getattr(chunks, "close", None)
        if close is not None:
            close()


# -- bytes that go between clients and the store directly ------------------------------------------------

exchange_router = APIRouter(prefix="/model_runs/{run_id}", tags=["artifacts"], responses=READ_ERRORS)


@exchange_router.post(
    "/artifact_uploads", dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND, 413: {"model": None}}
)
def offer_artifact_uploads(run_id: uuid.UUID, body: ArtifactBlobs) -> list[ArtifactUploadOfferPublic]:
    """Before uploads: for each artifact, whether the store holds its bytes already, or a presigned request
    that puts them into the store directly (S3), requests for its parts (declared with ``part_bytes``), or
    none of these (PUT them to ``/artifacts/{name}``). Nothing is recorded."""
    offers = registry().offer_artifact_uploads(
        run_id=run_id, artifacts=[item.model_dump(exclude_none=True) for item in body.artifacts]
    )
    return [
        ArtifactUploadOfferPublic(
            stored=offer.stored, upload=PresignedPublic.of(offer.upload), parts=PartsUploadPublic.of(offer.parts)
        )
        for offer in offers
    ]


@exchange_router.post("/artifact_records", dependencies=WRITE_ACCESS, responses={**WRITE_ERRORS, **NOT_FOUND})
def record_stored_artifacts(run_id: uuid.UUID, body: ArtifactBlobs) -> list[ArtifactPublic]:
    """After presigned uploads: record the artifacts, all or none, once the store is seen to hold a blob
    of each one's SHA-256 and size (404 when it does not: upload again)."""
    records = registry().record_stored_artifacts(
        run_id=run_id, artifacts=[item.model_dump(exclude_none=True) for item in body.artifacts]
    )
    return [ArtifactPublic.of(record) for record in records]


@exchange_router.get("/artifact_links/{name:path}", responses=NOT_FOUND)
def artifact_link(run_id: uuid.UUID, name: ArtifactName) -> ArtifactLinkPublic:
    """The artifact's record and, when the store allows, a presigned request that reads its bytes from the
    store directly (check them against ``artifact.sha256``); else read ``/artifacts/{name}``."""
    link = registry().artifact_link(run_id=run_id, name=name)
    return ArtifactLinkPublic(artifact=ArtifactPublic.of(link.record), download=PresignedPublic.of(link.download))
