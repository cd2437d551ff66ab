"""``gemini.core.artifacts`` over REST: a run's files, streamed to and from the server.

Uploads stream the file in chunks with its SHA-256 (the server refuses bytes that hash otherwise) and
may be repeated (a name logged again is replaced). When the server cannot be reached, a copy of the file
goes to the offline spool and is uploaded when it answers again. Downloads stream into a temporary file
beside the destination, renamed over it only once the bytes matched their SHA-256.
"""

import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import httpx

from gemini.core.validation import check_page, parse_id
from gemini.errors import ArtifactCorruptedError, DatabaseUnavailableError, InvalidInputError
from gemini.records import ArtifactRecord
from gemini.remote import http, spool

CHUNK_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class ArtifactPage:
    """A page of a run's artifacts, with how many the run has in all."""

    artifacts: list[ArtifactRecord]
    total: int


def _quoted_segment(segment: str) -> str:
    # "." and ".." are sent percent-encoded so that no client or proxy resolves them away: the server
    # sees the name as given, and refuses it with its own message.
    return segment.replace(".", "%2E") if segment in (".", "..") else quote(segment, safe="")


def _path(run_id: object, name: str = "") -> str:
    base = f"/model_runs/{run_id}/artifacts"
    return f"{base}/{'/'.join(_quoted_segment(segment) for segment in name.split('/'))}" if name else base


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


def _upload(run_id: object, name: str, path: Path, sha256: str, size: int) -> ArtifactRecord:
    response = http.call(
        "PUT",
        _path(run_id, name),
        content=lambda: _chunks(path),
        headers={"Content-Length": str(size), "Content-Type": "application/octet-stream", "X-Artifact-SHA256": sha256},
        idempotent=True,
    )
    return _record(response.json())


def log_artifact_file(*, run_id: object, path: str | os.PathLike, name: str | None = None) -> ArtifactRecord:
    """Upload the local file ``path`` as the run's artifact ``name`` (default: the file's name); spooled
    when the server cannot be reached."""
    run_id = parse_id(run_id, field="model run id")
    path = Path(path)
    name = path.name if name is None else name
    if not path.is_file():
        what = "is a directory, not a file" if path.is_dir() else "does not exist"
        raise InvalidInputError(f"{str(path)!r} {what}")
    sha256, size = _digest(path)
    server = http.server().url
    if not spool.waiting(server, str(run_id)):
        try:
            return _upload(run_id, name, path, sha256, size)
        except DatabaseUnavailableError:
            pass
    copy = spool.keep_artifact_copy(path, server, str(run_id), name)
    spool.add(server, str(run_id), spool.ARTIFACT, {"name": name, "copy": str(copy), "sha256": sha256, "size": size})
    return ArtifactRecord(name=name, size=size, sha256=sha256, created_at=dt.datetime.now(dt.timezone.utc))


def log_artifact_directory(
    *, run_id: object, directory: str | os.PathLike, prefix: str | None = None
) -> list[ArtifactRecord]:
    """Upload every file below ``directory`` under its relative path (below ``prefix``), in name order."""
    directory = Path(directory)
    if not directory.is_dir():
        what = "is a file, not a directory" if directory.exists() else "does not exist"
        raise InvalidInputError(f"{str(directory)!r} {what}")
    if isinstance(prefix, str):
        prefix = prefix.rstrip("/")
    files: list[tuple[str, Path]] = []
    for folder, subfolders, names in os.walk(directory):
        subfolders.sort()
        for file_name in sorted(names):
            path = Path(folder) / file_name
            relative = PurePosixPath(*path.relative_to(directory).parts).as_posix()
            files.append((f"{prefix}/{relative}" if prefix else relative, path))
    return [log_artifact_file(run_id=run_id, path=path, name=name) for name, path in sorted(files)]


def send_spooled(entry: spool.Entry) -> None:
    """Upload a spooled artifact from its copy."""
    payload = entry.payload
    _upload(entry.run_id, payload["name"], Path(payload["copy"]), payload["sha256"], payload["size"])


def list_artifacts(*, run_id: object, limit: int | None = None, offset: int | None = None) -> ArtifactPage:
    run_id = parse_id(run_id, field="model run id")
    check_page(limit, offset)
    found: list[ArtifactRecord] = []
    start = offset or 0
    while True:
        size = http.PAGE_SIZE if limit is None else min(http.PAGE_SIZE, limit - len(found))
        response = http.call("GET", _path(run_id), params={"limit": size, "offset": start + len(found)})
        page = [_record(item) for item in response.json()]
        found.extend(page)
        total = int(response.headers.get("X-Total-Count", len(found)))
        if len(page) < size or size == 0 or (limit is not None and len(found) >= limit) or start + len(found) >= total:
            return ArtifactPage(found, total)


def download_artifact(*, run_id: object, name: str, dest: str | os.PathLike | None = None) -> Path:
    """Write the artifact to ``dest`` (a file, or a directory to write into under the name's last part;
    default: the current directory) and return the path written; ``dest`` is left as it was on failure."""
    run_id = parse_id(run_id, field="model run id")
    pooled = http.checked_server()
    target = Path.cwd() if dest is None else Path(dest)
    if target.is_dir():
        target = target / PurePosixPath(name).name
    with pooled.client.stream("GET", _path(run_id, name)) as response:
        if response.status_code >= 400:
            response.read()
            raise http.error_from(response, pooled.url)
        expected = response.headers.get("ETag", "").strip('"')
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
        except OSError as exc:
            raise InvalidInputError(f"cannot write to {str(target)!r}: {exc.strerror or exc}") from exc
        try:
            digest = hashlib.sha256()
            # The bytes as they arrive: without a Content-Encoding there is nothing to decode, and
            # httpx's decoding and re-chunking cost a quarter of the download's time.
            chunks = response.iter_bytes() if response.headers.get("Content-Encoding") else response.iter_raw()
            with os.fdopen(fd, "wb") as stream:
                for chunk in chunks:
                    digest.update(chunk)
                    stream.write(chunk)
            if expected and digest.hexdigest() != expected:
                raise ArtifactCorruptedError(
                    f"artifact {name!r} of run {run_id} arrived with SHA-256 {digest.hexdigest()}, not {expected}"
                )
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(temporary, 0o666 & ~umask)
            os.replace(temporary, target)
        except BaseException as exc:
            Path(temporary).unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise InvalidInputError(f"cannot write to {str(target)!r}: {exc.strerror or exc}") from exc
            if isinstance(exc, httpx.TransportError):
                raise DatabaseUnavailableError(f"the download of {name!r} was cut short: {exc}") from exc
            raise
    return target
