"""Artifacts: files a run stores (weights, plots), kept once per content in the blob store.

A run names each artifact with a relative path (``weights/best.pt``); logging a name again replaces
what it was. The bytes go to the store first, under their SHA-256; the record (name, size, digest) is
committed after, so an upload that fails or is cut off halfway leaves no record and no visible blob.
A blob that no record points at any more (its run deleted, its name logged again with other bytes)
is removed at once; ``collect_garbage`` removes what a crash left behind.
"""

from __future__ import annotations

import functools
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextvars import copy_context
from dataclasses import dataclass
from pathlib import Path

from gemini.config import get_settings
from gemini.domain.checks import check_artifact_name, parse_id
from gemini.db.artifacts import ArtifactRepository, referenced_blobs
from gemini.db.engine import unit_of_work
from gemini.db.repositories import ModelRunRepository
from gemini.db.model_records import ModelRecordRepository
from gemini.db.versions import ModelVersionRepository
from gemini.domain.errors import ArtifactCorruptedError, InvalidInputError, NotFoundError, StorageError
from gemini.domain.limits import ARTIFACT_UPLOADS_AT_ONCE, STORE_LOOKUPS_AT_ONCE
from gemini.domain.records import ArtifactBlob, ArtifactLink, ArtifactRecord, ArtifactUploadOffer, Page
from gemini.registry.contract import PageRequest
from gemini.registry.downloads import write_verified
from gemini.registry.progress import counted
from gemini.db.locks import registry_lock
from gemini.storage.blobs import CHUNK_BYTES, BlobStore, BlobWriter, SweepResult
from gemini.storage.s3 import S3BlobStore, S3BlobWriter

logger = logging.getLogger("gemini.core")


@dataclass(frozen=True, slots=True)
class OpenedArtifact:
    """An artifact being read: its record, and the bytes ``start`` to ``end`` (exclusive) as chunks."""

    record: ArtifactRecord
    start: int
    end: int
    chunks: Iterator[bytes]


Store = BlobStore | S3BlobStore


def artifact_store() -> Store:
    """The store of the configured registry (``GEMINI_ARTIFACT_ROOT``: a directory, by default beside the
    registry, or an ``s3://`` bucket)."""
    settings = get_settings()
    if settings.artifact_root_is_bucket:
        return store_at(settings.artifact_root)
    return BlobStore(settings.resolved_artifact_root)


def store_at(root: str) -> Store:
    """The store at ``root`` (a directory, or ``s3://BUCKET/PREFIX``), with this registry's lock."""
    if not root.strip().lower().startswith("s3://"):
        return BlobStore(Path(root).expanduser())
    settings = get_settings()
    aws = tuple(sorted((key, value) for key, value in os.environ.items() if key.startswith("AWS_")))
    return _bucket_store(
        root.strip(), settings.presigned_urls, settings.presigned_url_seconds, settings.artifact_gc_grace_seconds, aws
    )


@functools.lru_cache(maxsize=8)
def _bucket_store(root: str, presign: bool, url_seconds: int, grace_seconds: float, aws: tuple) -> S3BlobStore:  # noqa: ARG001
    # One per configuration (the AWS variables included): its client and connection pool are reused.
    return S3BlobStore(
        root, lock=registry_lock, presign=presign, presigned_url_seconds=url_seconds, grace_seconds=grace_seconds
    )


def check_artifact_store() -> None:
    """Reach a bucket store once (its client made, the bucket there): ``StorageUnavailableError`` naming it
    when it cannot be. A directory is made on the first write, so there is nothing to check."""
    store = artifact_store()
    if isinstance(store, S3BlobStore):
        store.check_reachable()


# -- writing -----------------------------------------------------------------------------------------


class ArtifactUpload:
    """One artifact being logged: ``write`` its bytes in chunks, then ``commit`` (or ``abort``).

    Used as a context manager, it aborts when the block raises. Until ``commit`` nothing is visible:
    the bytes are in a temporary file of the store.
    """

    def __init__(self, *, run_id: uuid.UUID, name: str, store: Store, writer: BlobWriter | S3BlobWriter) -> None:
        self.run_id = run_id
        self.name = name
        self._store = store
        self._writer = writer

    def __enter__(self) -> ArtifactUpload:
        return self

    def __exit__(self, exc_type, exc, traceback) -> None:  # noqa: ANN001
        if exc_type is not None:
            self.abort()

    @property
    def size(self) -> int:
        return self._writer.size

    def write(self, chunk: bytes) -> None:
        """Append bytes; ``ArtifactTooLargeError`` as soon as they pass ``GEMINI_MAX_ARTIFACT_BYTES``."""
        try:
            self._writer.write(chunk)
        except BaseException:
            self.abort()
            raise

    def commit(self, *, expected_sha256: str | None = None) -> tuple[ArtifactRecord, str | None]:
        """Store the bytes and record the artifact; returns the record and the digest the name had
        before (``None`` when the name is new). With ``expected_sha256``, bytes that hash otherwise
        are refused (``InvalidInputError``) and nothing is written."""
        try:
            blob = self._writer.finish()
            if expected_sha256 is not None and expected_sha256.lower() != blob.sha256:
                raise InvalidInputError(
                    f"the bytes received hash to {blob.sha256}, not to the expected SHA-256 {expected_sha256}"
                )
        except BaseException:
            self.abort()
            raise
        recorded = False
        try:
            with self._store.publishing():
                self._writer.publish()
                with unit_of_work(write=True) as connection:
                    record, previous = ArtifactRepository(connection).put(
                        self.run_id, name=self.name, sha256=blob.sha256, size=blob.size
                    )
                recorded = True
        finally:
            if not recorded:  # e.g. the run was deleted meanwhile: the blob may now be unused
                _release_quietly({blob.sha256})
        if previous is not None and previous != record.sha256:
            _release_quietly({previous})
        return record, previous

    def abort(self) -> None:
        self._writer.discard()


def begin_artifact(*, run_id: object, name: str) -> ArtifactUpload:
    """Start logging ``name`` to a run; the name and the run are checked before any byte is taken."""
    run_id = parse_id(run_id, field="model run id")
    check_artifact_name(name)
    with unit_of_work(single_read=True) as connection:
        ModelRunRepository(connection).get(run_id)
    store = artifact_store()
    return ArtifactUpload(
        run_id=run_id, name=name, store=store, writer=store.begin(max_bytes=get_settings().max_artifact_bytes)
    )


def log_artifact(*, run_id: object, name: str, chunks: Iterable[bytes]) -> ArtifactRecord:
    """Log the bytes of ``chunks`` as the run's artifact ``name`` (replacing what that name was)."""
    with begin_artifact(run_id=run_id, name=name) as upload:
        for chunk in chunks:
            upload.write(chunk)
        return upload.commit()[0]


def log_artifact_files(*, run_id: uuid.UUID, files: list[tuple[Path, str]]) -> list[ArtifactRecord]:
    """Each file its own record, ``ARTIFACT_UPLOADS_AT_ONCE`` at a time; a failure keeps those stored."""
    with ThreadPoolExecutor(min(ARTIFACT_UPLOADS_AT_ONCE, len(files)), "gemini-artifacts") as uploads:
        pending = [
            # In a copy of this context: a watcher of the bytes moved (gemini.registry.progress) sees each file's.
            uploads.submit(copy_context().run, log_artifact_file, run_id=run_id, path=path, name=name)
            for path, name in files
        ]
        return [upload.result() for upload in pending]


def offer_artifact_uploads(*, run_id: uuid.UUID, artifacts: list[ArtifactBlob]) -> list[ArtifactUploadOffer]:
    """The registry's records say whether the store holds the bytes (a blob a record points at is stored),
    which costs no request to the store; ``record_stored_artifacts`` checks the store itself."""
    digests = {artifact.sha256 for artifact in artifacts}
    with unit_of_work() as connection:
        ModelRunRepository(connection).get(run_id)
        stored = ArtifactRepository(connection).referenced(digests)
        stored |= _referenced_elsewhere(connection, digests - stored)
    store = artifact_store()
    return [
        ArtifactUploadOffer(stored=True, upload=None) if artifact.sha256 in stored else _upload_offer(store, artifact)
        for artifact in artifacts
    ]


def _upload_offer(store: Store, artifact: ArtifactBlob) -> ArtifactUploadOffer:
    """In parts when the client declared them and the store takes them, else in one request when it can."""
    if artifact.parts is not None:
        parts = store.presigned_parts_upload(artifact.sha256, artifact.size, artifact.parts)
        if parts is not None:
            return ArtifactUploadOffer(stored=False, upload=None, parts=parts)
    return ArtifactUploadOffer(stored=False, upload=store.presigned_upload(artifact.sha256, artifact.size))


def record_stored_artifacts(*, run_id: uuid.UUID, artifacts: list[ArtifactBlob]) -> list[ArtifactRecord]:
    """Checked against the store under its shared lock, so no blob can be removed before the record that
    keeps it is committed; all the records in one transaction. A blob another artifact's record points
    at is in the store (it was checked when that record was written, and only an unreferenced blob is
    removed, under the exclusive lock), so only the others are looked up in the store."""
    store = artifact_store()
    digests = {artifact.sha256 for artifact in artifacts}
    with store.publishing():
        with unit_of_work() as connection:
            sizes: dict[str, int | None] = dict(ArtifactRepository(connection).sizes_of(digests))
        unknown = sorted(digests - set(sizes))
        if len(unknown) == 1:
            sizes[unknown[0]] = store.stored_size(unknown[0])
        elif unknown:  # a bucket answers each look-up in a round trip: ask for several at once
            with ThreadPoolExecutor(min(STORE_LOOKUPS_AT_ONCE, len(unknown)), "gemini-store-lookups") as lookups:
                sizes.update(zip(unknown, lookups.map(store.stored_size, unknown)))
        for artifact in artifacts:
            if sizes[artifact.sha256] != artifact.size:
                raise NotFoundError(
                    f"the artifact store {store} holds no blob {artifact.sha256} of {artifact.size} bytes "
                    f"({artifact.name!r}): store the bytes first"
                )
        with unit_of_work(write=True) as connection:
            repository = ArtifactRepository(connection)
            written = [
                repository.put(run_id, name=artifact.name, sha256=artifact.sha256, size=artifact.size)
                for artifact in artifacts
            ]
    replaced = {previous for record, previous in written if previous is not None and previous != record.sha256}
    if replaced - digests:
        _release_quietly(replaced - digests)
    return [record for record, _ in written]


def read_local_file(path: Path) -> Iterator[bytes]:
    try:
        stream = open(path, "rb")
    except IsADirectoryError as exc:
        raise InvalidInputError(f"{str(path)!r} is a directory, not a file") from exc
    except OSError as exc:
        raise InvalidInputError(f"cannot read {str(path)!r}: {exc.strerror or exc}") from exc
    with stream:
        yield from counted(iter(lambda: stream.read(CHUNK_BYTES), b""))


def log_artifact_file(*, run_id: uuid.UUID, path: Path, name: str) -> ArtifactRecord:
    """Store the local file ``path`` as the run's artifact ``name``; an unreadable file is
    ``InvalidInputError``, nothing written."""
    return log_artifact(run_id=run_id, name=name, chunks=read_local_file(path))


# -- reading -----------------------------------------------------------------------------------------


def search_artifacts(*, run_id: uuid.UUID, page: PageRequest) -> Page[ArtifactRecord]:
    """A run's artifacts in name order (the total comes with the page, in the same statement)."""
    with unit_of_work() as connection:
        artifacts, total = ArtifactRepository(connection).list_and_count(run_id, limit=page.limit, offset=page.offset)
    return Page(artifacts, total if page.with_total else None)


def get_artifact(*, run_id: object, name: str) -> ArtifactRecord:
    run_id = parse_id(run_id, field="model run id")
    check_artifact_name(name)
    with unit_of_work(single_read=True) as connection:
        return ArtifactRepository(connection).get(run_id, name)


def open_artifact(*, run_id: object, name: str, start: int = 0, end: int | None = None) -> OpenedArtifact:
    """Read an artifact's bytes ``start`` to ``end`` (exclusive; default: all of them) as chunks.

    A whole read is checked against the recorded SHA-256: ``ArtifactCorruptedError`` is raised in
    place of the last chunk when the bytes differ. A partial read checks only the size.
    """
    return open_blob(get_artifact(run_id=run_id, name=name), start=start, end=end)


def open_blob(record: ArtifactRecord, *, start: int = 0, end: int | None = None) -> OpenedArtifact:
    """``open_artifact`` for bytes already found: those a record names by digest and size (an artifact's,
    or the ones a model version pinned)."""
    end = record.size if end is None else end
    if not (0 <= start <= end <= record.size):
        raise InvalidInputError(f"bytes {start} to {end} are not within the {record.size} bytes of {record.name!r}")
    chunks = artifact_store().read(record.sha256, record.size, start=start, end=end)
    return OpenedArtifact(record, start, end, chunks)


def artifact_link(*, run_id: uuid.UUID, name: str) -> ArtifactLink:
    record = get_artifact(run_id=run_id, name=name)
    return ArtifactLink(record=record, download=artifact_store().presigned_download(record.sha256))


def download_artifact(*, run_id: uuid.UUID, name: str, dest: Path) -> Path:
    """Write an artifact to the file ``dest``, checked against its recorded SHA-256 as it is read."""
    opened = open_artifact(run_id=run_id, name=name)
    return write_verified(dest, opened.chunks, expected_sha256=None, what=f"artifact {name!r} of run {run_id}")


# -- removing ----------------------------------------------------------------------------------------


def _referenced(digests: set[str]) -> set[str]:
    """Those of ``digests`` that a run's artifact, a model version or a model record's file points at. Asked under the store's
    exclusive lock, while no record that points at a blob is being written (they are written under its
    shared lock)."""
    with unit_of_work() as connection:
        found = ArtifactRepository(connection).referenced(digests)
        return found | _referenced_elsewhere(connection, digests - found)


def _referenced_elsewhere(connection, digests: set[str]) -> set[str]:  # noqa: ANN001
    """Those of ``digests`` that a model version or a model record's file points at."""
    if not digests:
        return set()
    found = ModelVersionRepository(connection).referenced(digests)
    return found | ModelRecordRepository(connection).referenced(digests - found)


def release_blobs(digests: Iterable[str]) -> int:
    """Remove those blobs among ``digests`` that no artifact record or model version points at; returns
    how many."""
    return artifact_store().remove_unreferenced(digests, referenced=_referenced)


def _release_quietly(digests: set[str]) -> None:
    """``release_blobs`` after a change that is already committed: a store failure must not undo it."""
    try:
        release_blobs(digests)
    except StorageError as exc:
        logger.warning("unused artifact blobs left in the store (gemini db gc removes them): %s", exc)


def release_blobs_after_delete(digests: set[str]) -> None:
    """Called once a delete that dropped artifact records has committed."""
    if digests:
        _release_quietly(digests)


def collect_garbage() -> SweepResult:
    """Remove every blob no record points at, and the temporary files of uploads whose process died."""
    return artifact_store().sweep(referenced=_referenced)


# -- moving to another store ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MigrationResult:
    copied: int
    bytes_copied: int
    already_there: int


def migrate_artifacts(*, to: str, progress: Callable[[int], None] | None = None) -> MigrationResult:
    """Copy every blob a record points at from the configured store into the store at ``to``.

    Each blob is read whole, so its bytes are checked against its digest on the way, and written under
    that digest, checked again. A blob the target holds already (same digest, same size) is skipped, so
    an interrupted migration resumes where it stopped. The configured store is left as it was: point
    ``GEMINI_ARTIFACT_ROOT`` at the target once this returns. ``progress`` is called with each blob's
    size once it is handled."""
    source = artifact_store()
    target = store_at(to)
    if str(target).rstrip("/") == str(source).rstrip("/"):
        raise InvalidInputError(f"the artifact store is {source} already")
    with unit_of_work() as connection:
        wanted = referenced_blobs(connection)
    copied = bytes_copied = skipped = 0
    limit = max([get_settings().max_artifact_bytes, *(size for _, size in wanted)])
    for sha256, size in wanted:
        if target.stored_size(sha256) == size:
            skipped += 1
        else:
            writer = target.begin(max_bytes=limit)
            try:
                for chunk in source.read(sha256, size):
                    writer.write(chunk)
                blob = writer.finish()
                if blob.sha256 != sha256:  # the source's read checks this too; a bug must not write a wrong name
                    raise ArtifactCorruptedError(f"{sha256} was read as {blob.sha256}")
                with target.publishing():
                    writer.publish()
            except BaseException:
                writer.discard()
                raise
            copied += 1
            bytes_copied += size
        if progress is not None:
            progress(size)
    return MigrationResult(copied, bytes_copied, skipped)


def blobs_to_migrate() -> tuple[int, int]:
    """How many blobs the records point at, and their bytes: what ``migrate_artifacts`` goes through."""
    with unit_of_work() as connection:
        wanted = referenced_blobs(connection)
    return len(wanted), sum(size for _, size in wanted)
