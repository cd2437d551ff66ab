"""Artifacts over REST: a run's files, to and from the server or, when its store allows, the store itself.

An upload first tells the server the file's SHA-256 and size, and for a large file each part's SHA-256.
The server answers that the bytes are stored already, or with a presigned request that puts them into
the store directly (checked there against their SHA-256), or with one for each part (sent side by side,
each checked there against its own SHA-256), or with none, and then they stream through the server's
upload route. The server records the artifact once the store holds the bytes. When the server or the
store cannot be reached, a copy of the file goes to the offline spool and is uploaded when they answer
again. Downloads read from the store directly when the server hands out a presigned request, else
through the server; either way into a temporary file beside the destination, renamed over it only once
the bytes matched their SHA-256.
"""

import base64
import datetime as dt
import hashlib
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import escape

import httpx

from gemini.config import get_settings
from gemini.domain.errors import (
    DatabaseUnavailableError,
    InvalidInputError,
    NotFoundError,
    ServerUnreachableError,
    StorageUnavailableError,
)
from gemini.domain.limits import (
    ARTIFACT_UPLOADS_AT_ONCE,
    MAX_ARTIFACTS_PER_REQUEST,
    UPLOAD_IN_PARTS_FROM_BYTES,
    UPLOAD_PARTS_AT_ONCE,
    upload_part_bytes,
)
from gemini.domain.records import (
    ArtifactBlob,
    ArtifactLink,
    ArtifactRecord,
    ArtifactUploadOffer,
    BlobParts,
    Page,
    PartsUpload,
    PresignedRequest,
)
from gemini.registry.contract import PageRequest, route_of
from gemini.registry.downloads import write_verified
from gemini.registry.hashing import HashOnThread, PartDigests
from gemini.registry.progress import counted
from gemini.remote import http
from gemini.remote.spooling import server_spool
from gemini.remote.store_transport import StoreTransport
from gemini.tracking import spool

CHUNK_BYTES = 1024 * 1024


def _quoted(name: str) -> str:
    # "." and ".." are sent percent-encoded so that no client or proxy resolves them away: the server
    # sees the name as given, and refuses it with its own message.
    return "/".join(
        segment.replace(".", "%2E") if segment in (".", "..") else quote(segment, safe="") for segment in name.split("/")
    )


def _record(data: dict) -> ArtifactRecord:
    return ArtifactRecord(
        name=data["name"], size=data["size"], sha256=data["sha256"], created_at=dt.datetime.fromisoformat(data["created_at"])
    )


def _chunks(path: Path, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    """The file's bytes from ``start``, ``length`` of them (to its end when ``None``)."""
    with open(path, "rb") as stream:
        stream.seek(start)
        left = length
        while chunk := stream.read(CHUNK_BYTES if left is None else min(CHUNK_BYTES, left)):
            yield chunk
            if left is not None:
                left -= len(chunk)


def _sent(path: Path, start: int = 0, length: int | None = None) -> Iterator[bytes]:
    """The file's chunks as they are sent, counted for a progress line (the digest's read is not)."""
    return counted(_chunks(path, start, length))


def _digest(path: Path) -> tuple[str, int, BlobParts | None]:
    """The file's SHA-256 and size, and for a large file its parts' SHA-256s, in one read (the parts
    hashed on a thread beside the whole)."""
    digest, size = hashlib.sha256(), 0
    try:
        expected_size = os.stat(path).st_size
        part_bytes = upload_part_bytes(expected_size)
        parts = None
        if expected_size >= UPLOAD_IN_PARTS_FROM_BYTES:
            parts = HashOnThread(PartDigests(part_bytes), name="gemini-part-digests")
        try:
            for chunk in _chunks(path):
                digest.update(chunk)
                if parts is not None:
                    parts.update(chunk)
                size += len(chunk)
        finally:
            part_digests = parts.finish() if parts is not None else None
    except OSError as exc:
        raise InvalidInputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    if part_digests is None or size < UPLOAD_IN_PARTS_FROM_BYTES:
        return digest.hexdigest(), size, None
    return digest.hexdigest(), size, BlobParts(part_bytes, part_digests.sha256s())


def _through_server(run_id: object, name: str, path: Path, sha256: str, size: int) -> ArtifactRecord:
    response = http.send(
        "log_artifact_file",
        run_id=run_id,
        name=_quoted(name),
        content=lambda: _sent(path),
        headers={"Content-Length": str(size), "Content-Type": "application/octet-stream", "X-Artifact-SHA256": sha256},
        idempotent=True,
    )
    return _record(response.json())


def _presigned(data: dict | None) -> PresignedRequest | None:
    if data is None:
        return None
    return PresignedRequest(
        method=data["method"], url=data["url"], headers=dict(data["headers"]), expires_at=dt.datetime.fromisoformat(data["expires_at"])
    )


def _parts_upload(data: dict | None) -> PartsUpload | None:
    if data is None:
        return None
    return PartsUpload(
        part_bytes=data["part_bytes"],
        parts=tuple(_presigned(item) for item in data["parts"]),
        complete=_presigned(data["complete"]),
    )


def _blob_body(item: ArtifactBlob, *, with_parts: bool) -> dict:
    body = {"name": item.name, "sha256": item.sha256, "size": item.size}
    if with_parts and item.parts is not None:
        body |= {"part_bytes": item.parts.part_bytes, "part_sha256s": list(item.parts.sha256s)}
    return body


def offer_artifact_uploads(*, run_id: uuid.UUID, artifacts: list[ArtifactBlob]) -> list[ArtifactUploadOffer]:
    body = {"artifacts": [_blob_body(item, with_parts=True) for item in artifacts]}
    answer = http.send("offer_artifact_uploads", run_id=run_id, json=body, idempotent=True).json()
    return [
        # A server older than parts answers without them: the offer's single request is then the way.
        ArtifactUploadOffer(stored=item["stored"], upload=_presigned(item["upload"]), parts=_parts_upload(item.get("parts")))
        for item in answer
    ]


def record_stored_artifacts(*, run_id: uuid.UUID, artifacts: list[ArtifactBlob]) -> list[ArtifactRecord]:
    body = {"artifacts": [_blob_body(item, with_parts=False) for item in artifacts]}
    answer = http.send("record_stored_artifacts", run_id=run_id, json=body, idempotent=True).json()
    return [_record(item) for item in answer]


def artifact_link(*, run_id: uuid.UUID, name: str) -> ArtifactLink:
    data = http.send("artifact_link", run_id=run_id, name=_quoted(name)).json()
    return ArtifactLink(record=_record(data["artifact"]), download=_presigned(data["download"]))


class _Expired(Exception):
    """The store refused a presigned request (expired, or its signature no longer valid): ask again."""


def _store_location(url: str) -> str:
    parsed = httpx.URL(url)
    return f"{parsed.scheme}://{parsed.netloc.decode()}"


_store_clients: dict[float, httpx.Client] = {}
_store_clients_lock = threading.Lock()


def _store_client() -> httpx.Client:
    """One pooled client for presigned requests, whatever store they go to: a client per request would
    set up TLS and a connection each time, which costs more than a plot's upload."""
    timeout = get_settings().api_timeout
    with _store_clients_lock:
        client = _store_clients.get(timeout)
        if client is None:
            client = _store_clients[timeout] = httpx.Client(
                timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)), transport=StoreTransport()
            )
        return client


def _forget_store_clients_after_fork() -> None:
    _store_clients.clear()  # a child must not share its parent's connections


os.register_at_fork(after_in_child=_forget_store_clients_after_fork)


def _send_to_store(
    request: PresignedRequest, content: Callable[[], Iterable[bytes] | bytes], what: str, *, completes: bool = False
) -> httpx.Response:
    """Send ``content()`` to the store as the presigned request says, repeated on a lost connection.
    ``completes``: the request completes an upload in parts, so when it is repeated after a lost answer,
    ``NoSuchUpload`` means the first one may have done it (the record looks)."""
    settings = get_settings()
    attempt = 0
    client = _store_client()
    while True:
        try:
            response = client.request(request.method, request.url, headers=request.headers, content=content())
        except httpx.TransportError as exc:
            if attempt >= settings.api_retries:
                raise ServerUnreachableError(
                    f"cannot reach the artifact store at {_store_location(request.url)} to upload {what} "
                    f"({type(exc).__name__}: {exc})"
                ) from exc
            attempt += 1
            time.sleep(min(8.0, 0.25 * 2**attempt))
            continue
        if response.status_code == 403:
            raise _Expired(response.text[:200])
        if completes and attempt > 0 and response.status_code == 404 and b"NoSuchUpload" in response.content:
            return response
        if response.status_code >= 400 or b"<Error>" in response.content[:512]:
            # S3 may answer the completion of an upload in parts with 200 and an error in the body.
            raise StorageUnavailableError(
                f"the artifact store at {_store_location(request.url)} refused {what}: "
                f"{response.status_code} {response.text[:300]}"
            )
        return response


def _to_store(offer: ArtifactUploadOffer, path: Path, blob: ArtifactBlob, what: str) -> None:
    """The file's bytes to the store, in one request or in parts, as the offer says."""
    if offer.parts is None:
        _send_to_store(offer.upload, lambda: _sent(path), what)
        return
    upload = offer.parts
    if blob.parts is None or upload.part_bytes != blob.parts.part_bytes or len(upload.parts) != len(blob.parts.sha256s):
        raise StorageUnavailableError(f"the server offered parts for {what} that are not the ones declared")

    def send_part(number: int) -> str:
        start = (number - 1) * upload.part_bytes
        length = min(upload.part_bytes, blob.size - start)
        response = _send_to_store(upload.parts[number - 1], lambda: _sent(path, start, length), f"part {number} of {what}")
        return response.headers["ETag"]

    with ThreadPoolExecutor(min(UPLOAD_PARTS_AT_ONCE, len(upload.parts)), "gemini-artifact-parts") as sending:
        sent = [sending.submit(copy_context().run, send_part, number) for number in range(1, len(upload.parts) + 1)]
        try:
            etags = [part.result() for part in sent]
        except BaseException:
            sending.shutdown(cancel_futures=True)  # the parts not begun yet: the upload is given up
            raise
    _send_to_store(upload.complete, lambda: _completion(etags, blob.parts), f"the parts of {what}", completes=True)


def _completion(etags: list[str], parts: BlobParts) -> bytes:
    """S3's CompleteMultipartUpload body: each part's number, ETag and SHA-256 (base64, as S3 writes it)."""
    listed = "".join(
        f"<Part><PartNumber>{number}</PartNumber><ETag>{escape(etag)}</ETag>"
        f"<ChecksumSHA256>{base64.b64encode(bytes.fromhex(sha256)).decode()}</ChecksumSHA256></Part>"
        for number, (etag, sha256) in enumerate(zip(etags, parts.sha256s), start=1)
    )
    return f'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{listed}</CompleteMultipartUpload>'.encode()


def upload(run_id: object, path: Path, blob: ArtifactBlob) -> ArtifactRecord:
    """The file's bytes to wherever the server says, then its record. A presigned request the store
    refuses (expired) is asked for again; so is the whole exchange when the blob left the store between
    the upload and the record (a run using the same bytes was deleted meanwhile)."""
    name, sha256, size = blob.name, blob.sha256, blob.size
    what = f"artifact {name!r} of run {run_id}"
    for attempt in range(3):
        [offer] = offer_artifact_uploads(run_id=run_id, artifacts=[blob])
        if offer.through_server:
            return _through_server(run_id, name, path, sha256, size)
        if not offer.stored:
            try:
                _to_store(offer, path, blob, what)
            except _Expired as exc:
                if attempt == 2:
                    raise StorageUnavailableError(
                        f"the artifact store refused its presigned upload of {what} three times: {exc}"
                    ) from exc
                continue
        try:
            return record_stored_artifacts(run_id=run_id, artifacts=[blob])[0]
        except NotFoundError:
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _spooled(run_id: uuid.UUID, path: Path, blob: ArtifactBlob) -> ArtifactRecord:
    """A copy of the file in the offline spool, sent when the server and its store answer again."""
    pending = server_spool()
    copy = pending.keep_artifact_copy(path, str(run_id), blob.name)
    pending.add(str(run_id), spool.ARTIFACT, {"name": blob.name, "copy": str(copy), "sha256": blob.sha256, "size": blob.size})
    return ArtifactRecord(name=blob.name, size=blob.size, sha256=blob.sha256, created_at=dt.datetime.now(dt.timezone.utc))


def log_artifact_file(*, run_id: uuid.UUID, path: Path, name: str) -> ArtifactRecord:
    """Spooled (a copy of the file) when the server cannot be reached."""
    blob = ArtifactBlob(name, *_digest(path))
    if not server_spool().waiting(str(run_id)):
        try:
            return upload(run_id, path, blob)
        except DatabaseUnavailableError:
            pass
    return _spooled(run_id, path, blob)


def log_artifact_files(*, run_id: uuid.UUID, files: list[tuple[Path, str]]) -> list[ArtifactRecord]:
    """One offer for the files, their bytes a few at a time, one record for those the store took
    directly: a run's directory costs two requests to the server, not two a file. When the server or
    its store cannot be reached, every file waits in the spool (one recorded already is recorded again,
    the same, when the spool is sent). The files are hashed a few at a time: hashlib lets go of the
    interpreter while it hashes."""
    with ThreadPoolExecutor(max(1, min(ARTIFACT_UPLOADS_AT_ONCE, len(files))), "gemini-artifact-digests") as hashing:
        digests = list(hashing.map(_digest, [path for path, _ in files]))
    declared = [(path, ArtifactBlob(name, *digest)) for (path, name), digest in zip(files, digests)]
    if not server_spool().waiting(str(run_id)):
        try:
            records: dict[str, ArtifactRecord] = {}
            for start in range(0, len(declared), MAX_ARTIFACTS_PER_REQUEST):
                records.update(_log_together(run_id, declared[start : start + MAX_ARTIFACTS_PER_REQUEST]))
            return [records[name] for _, name in files]
        except DatabaseUnavailableError:
            pass
    return [_spooled(run_id, path, blob) for path, blob in declared]


def _log_together(run_id: uuid.UUID, declared: list[tuple[Path, ArtifactBlob]]) -> dict[str, ArtifactRecord]:
    # The largest files go first and the small ones fill the end: a checkpoint started last would be
    # sent alone while the other connections stand idle.
    declared = sorted(declared, key=lambda item: item[1].size, reverse=True)
    offers = offer_artifact_uploads(run_id=run_id, artifacts=[blob for _, blob in declared])
    records: dict[str, ArtifactRecord] = {}

    def hand_over(path: Path, blob: ArtifactBlob, offer: ArtifactUploadOffer) -> ArtifactBlob | None:
        """The bytes to the store (the blob then waits for the common record) or through the server."""
        if offer.stored:
            return blob
        if offer.through_server:
            records[blob.name] = _through_server(run_id, blob.name, path, blob.sha256, blob.size)
            return None
        try:
            _to_store(offer, path, blob, f"artifact {blob.name!r} of run {run_id}")
        except _Expired:  # a slow start of the batch: the whole exchange again, for this file alone
            records[blob.name] = upload(run_id, path, blob)
            return None
        return blob

    with ThreadPoolExecutor(min(ARTIFACT_UPLOADS_AT_ONCE, len(declared)), "gemini-artifacts") as uploads:
        handed = [
            uploads.submit(copy_context().run, hand_over, path, blob, offer)
            for (path, blob), offer in zip(declared, offers)
        ]
        waiting = [blob for blob in (future.result() for future in handed) if blob is not None]
    if waiting:
        try:
            stored = record_stored_artifacts(run_id=run_id, artifacts=waiting)
        except NotFoundError:
            # A blob left the store meanwhile (a run using the same bytes was deleted): each file on its own.
            paths = {blob.name: path for path, blob in declared}
            stored = [upload(run_id, paths[blob.name], blob) for blob in waiting]
        records.update((record.name, record) for record in stored)
    return records


def search_artifacts(*, run_id: uuid.UUID, page: PageRequest) -> Page[ArtifactRecord]:
    return http.read_page("search_artifacts", {}, page, _record, run_id=run_id)


def download_artifact(*, run_id: uuid.UUID, name: str, dest: Path) -> Path:
    what = f"artifact {name!r} of run {run_id}"
    for attempt in range(2):
        link = artifact_link(run_id=run_id, name=name)
        if link.download is None:
            break
        try:
            return _from_store(link, dest, what)
        except _Expired as exc:
            if attempt == 1:
                raise StorageUnavailableError(f"the artifact store refused its presigned download of {what}: {exc}") from exc
    declared = route_of("download_artifact")
    path = declared.path.format(run_id=run_id, name=_quoted(name))
    return download(declared.method, path, dest, what=what)


def _from_store(link: ArtifactLink, dest: Path, what: str) -> Path:
    request = link.download
    try:
        with _store_client().stream(request.method, request.url, headers=request.headers) as response:
            if response.status_code == 403:
                raise _Expired(response.read()[:200].decode(errors="replace"))
            if response.status_code >= 400:
                response.read()
                raise StorageUnavailableError(
                    f"the artifact store at {_store_location(request.url)} refused {what}: "
                    f"{response.status_code} {response.text[:300]}"
                )
            chunks = response.iter_bytes() if response.headers.get("Content-Encoding") else response.iter_raw()
            return write_verified(dest, chunks, expected_sha256=link.record.sha256, what=what)
    except httpx.TransportError as exc:
        raise ServerUnreachableError(
            f"the download of {what} from the artifact store at {_store_location(request.url)} failed: "
            f"{type(exc).__name__}: {exc}"
        ) from exc


def download(method: str, path: str, dest: Path, *, what: str) -> Path:
    """Stream the bytes a download route answers into ``dest``, verified against the answer's ETag (their
    SHA-256) before the file appears."""
    pooled = http.checked_server()
    with pooled.client.stream(method, path) as response:
        if response.status_code >= 400:
            response.read()
            raise http.error_from(response, pooled.url)
        # The bytes as they arrive: without a Content-Encoding there is nothing to decode, and httpx's
        # decoding and re-chunking cost a quarter of the download's time.
        chunks = response.iter_bytes() if response.headers.get("Content-Encoding") else response.iter_raw()
        try:
            return write_verified(
                dest, chunks, expected_sha256=response.headers.get("ETag", "").strip('"') or None, what=what
            )
        except httpx.TransportError as exc:
            raise DatabaseUnavailableError(f"the download of {what} was cut short: {exc}") from exc
