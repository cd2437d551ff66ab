"""Artifacts over REST: a run's files, streamed to and from the server.

Uploads stream the file in chunks with its SHA-256 (the server refuses bytes that hash otherwise) and
may be repeated (a name logged again is replaced). When the server cannot be reached, a copy of the file
goes to the offline spool and is uploaded when it answers again. Downloads stream into a temporary file
beside the destination, renamed over it only once the bytes matched their SHA-256.
"""

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx

from gemini.domain.errors import DatabaseUnavailableError, InvalidInputError
from gemini.domain.records import ArtifactRecord, Page
from gemini.registry.contract import PageRequest, route_of
from gemini.registry.downloads import write_verified
from gemini.remote import http
from gemini.remote.spooling import server_spool
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


def _chunks(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as stream:
        while chunk := stream.read(CHUNK_BYTES):
            yield chunk


def _digest(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    try:
        for chunk in _chunks(path):
            digest.update(chunk)
            size += len(chunk)
    except OSError as exc:
        raise InvalidInputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    return digest.hexdigest(), size


def upload(run_id: object, name: str, path: Path, sha256: str, size: int) -> ArtifactRecord:
    response = http.send(
        "log_artifact_file",
        run_id=run_id,
        name=_quoted(name),
        content=lambda: _chunks(path),
        headers={"Content-Length": str(size), "Content-Type": "application/octet-stream", "X-Artifact-SHA256": sha256},
        idempotent=True,
    )
    return _record(response.json())


def log_artifact_file(*, run_id: uuid.UUID, path: Path, name: str) -> ArtifactRecord:
    """Spooled (a copy of the file) when the server cannot be reached."""
    sha256, size = _digest(path)
    pending = server_spool()
    if not pending.waiting(str(run_id)):
        try:
            return upload(run_id, name, path, sha256, size)
        except DatabaseUnavailableError:
            pass
    copy = pending.keep_artifact_copy(path, str(run_id), name)
    pending.add(str(run_id), spool.ARTIFACT, {"name": name, "copy": str(copy), "sha256": sha256, "size": size})
    return ArtifactRecord(name=name, size=size, sha256=sha256, created_at=dt.datetime.now(dt.timezone.utc))


def search_artifacts(*, run_id: uuid.UUID, page: PageRequest) -> Page[ArtifactRecord]:
    return http.read_page("search_artifacts", {}, page, _record, run_id=run_id)


def download_artifact(*, run_id: uuid.UUID, name: str, dest: Path) -> Path:
    declared = route_of("download_artifact")
    path = declared.path.format(run_id=run_id, name=_quoted(name))
    return download(declared.method, path, dest, what=f"artifact {name!r} of run {run_id}")


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
