"""A content-addressed blob store on the local file system.

Layout under the root::

    blobs/ab/abcdef...   the bytes whose SHA-256 is abcdef..., stored once whatever names point at them
    tmp/                 uploads being written; a finished one is renamed into blobs/
    lock                 the store lock (see below)

A blob is written to a temporary file in ``tmp/`` (hashed and counted on the way), flushed to disk and
renamed into place, so a reader never sees a partial blob and an upload cut off halfway leaves only a
temporary file, which its writer removes (or ``collect_garbage`` does, when the writer was killed).

Which blobs are in use is the database's knowledge, not the store's. The store lock keeps the two in
step: a writer holds it shared from the moment its blob becomes visible until the record that points at
it is committed, and whoever removes blobs holds it exclusively while it checks that no record points at
them. So a blob is never removed between its upload and its record, even when the same content is being
uploaded again as it is released. The lock is ``flock`` on a file in the store: it works between the
processes and threads of one machine, and the store is local to one.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from gemini.domain.errors import ArtifactCorruptedError, ArtifactTooLargeError, StorageUnavailableError
from gemini.domain.records import BlobParts, PartsUpload, PresignedRequest

CHUNK_BYTES = 1024 * 1024
"""How much is read or written at a time: enough to amortise each system call, little enough to stream."""

ABANDONED_UPLOAD_SECONDS = 60
"""A temporary file untouched this long and not locked by its writer is an upload whose process died."""

DIGEST = re.compile(r"[0-9a-f]{64}")


class Lock(Protocol):
    """The lock that keeps recording a blob and removing it apart: ``lock(exclusive=False)`` to record,
    ``lock(exclusive=True)`` to remove."""

    def __call__(self, *, exclusive: bool) -> AbstractContextManager[None]: ...




@dataclass(frozen=True, slots=True)
class StoredBlob:
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class SweepResult:
    blobs_removed: int
    bytes_freed: int
    temporary_files_removed: int


def checked_chunks(chunks: Iterable[bytes], sha256: str, length: int, *, whole: bool) -> Iterator[bytes]:
    """``chunks`` passed on with the last one held back until all ``length`` bytes have come and, for a
    whole blob (``whole``), their SHA-256 is ``sha256``: ``ArtifactCorruptedError`` comes in its place
    otherwise, so a reader never takes short or altered bytes for the blob."""
    digest = hashlib.sha256() if whole else None
    held: bytes | None = None
    received = 0
    source = iter(chunks)
    try:
        for chunk in source:
            received += len(chunk)
            if digest is not None:
                digest.update(chunk)
            if held is not None:
                yield held
            held = chunk
    finally:
        close = getattr(source, "close", None)
        if close is not None:  # a reader that stops early releases the file or the connection now
            close()
    if received != length:
        raise ArtifactCorruptedError(f"the stored bytes of {sha256} ended early")
    if digest is not None and digest.hexdigest() != sha256:
        raise ArtifactCorruptedError(f"the stored bytes of {sha256} are corrupted: their SHA-256 is now {digest.hexdigest()}")
    if held is not None:
        yield held


def _file_chunks(stream, start: int, end: int, chunk_bytes: int) -> Iterator[bytes]:  # noqa: ANN001
    """Bytes ``start`` to ``end`` of an open file, ``chunk_bytes`` at a time (fewer if the file is shorter)."""
    with stream:
        stream.seek(start)
        remaining = end - start
        while remaining > 0:
            chunk = stream.read(min(chunk_bytes, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def too_large(max_bytes: int) -> ArtifactTooLargeError:
    """What a writer raises as soon as the bytes pass ``max_bytes``."""
    return ArtifactTooLargeError(f"the artifact is larger than {max_bytes} bytes, the limit (GEMINI_MAX_ARTIFACT_BYTES)")


def _unavailable(action: str, exc: OSError) -> StorageUnavailableError:
    return StorageUnavailableError(f"artifact store unavailable: cannot {action} ({exc.strerror or exc})")


def _fsync_directory(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class BlobStore:
    """The blobs under ``root``; directories are made on the first write, never at construction."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.blob_dir = self.root / "blobs"
        self.tmp_dir = self.root / "tmp"
        self.lock_path = self.root / "lock"

    def __str__(self) -> str:
        return str(self.root)

    def presigned_upload(self, sha256: str, size: int) -> PresignedRequest | None:  # noqa: ARG002
        return None

    def presigned_parts_upload(self, sha256: str, size: int, parts: BlobParts) -> PartsUpload | None:  # noqa: ARG002
        return None

    def presigned_download(self, sha256: str) -> PresignedRequest | None:  # noqa: ARG002
        return None

    def stored_size(self, sha256: str) -> int | None:
        """The size of the blob ``sha256``, or ``None`` when it is not stored."""
        try:
            return self.path_of(sha256).stat().st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _unavailable(f"look up {sha256}", exc) from exc

    def path_of(self, sha256: str) -> Path:
        if not DIGEST.fullmatch(sha256):
            raise ValueError(f"not a SHA-256 hex digest: {sha256!r}")
        return self.blob_dir / sha256[:2] / sha256

    # -- writing -------------------------------------------------------------------------------------

    def begin(self, *, max_bytes: int) -> BlobWriter:
        """A writer of one new blob; feed it chunks, then ``publish`` it or ``discard`` it."""
        try:
            self.tmp_dir.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(prefix="upload-", dir=self.tmp_dir)
        except OSError as exc:
            raise _unavailable(f"create a file in {self.tmp_dir}", exc) from exc
        # Marks the file as being written: a sweep leaves locked temporary files alone.
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return BlobWriter(self, fd, Path(name), max_bytes)

    @contextlib.contextmanager
    def publishing(self) -> Iterator[None]:
        """Held (shared) from making blobs visible until the records that point at them are committed."""
        with self._lock(fcntl.LOCK_SH):
            yield

    # -- reading -------------------------------------------------------------------------------------

    def read(
        self, sha256: str, size: int, *, start: int = 0, end: int | None = None, chunk_bytes: int = CHUNK_BYTES
    ) -> Iterator[bytes]:
        """The bytes ``start`` to ``end`` (exclusive; default: to the end) of a blob of ``size`` bytes.

        A whole read is checked against the digest: the last chunk is held back until it matches, and
        ``ArtifactCorruptedError`` is raised instead of it when it does not. A partial read cannot be
        checked without reading the rest, so it only checks the size. The file is opened at once, so a
        missing or truncated blob fails here, before the first chunk.
        """
        path = self.path_of(sha256)
        try:
            stream = open(path, "rb")
        except FileNotFoundError as exc:
            raise ArtifactCorruptedError(f"the stored bytes of {sha256} are missing from the artifact store") from exc
        except OSError as exc:
            raise _unavailable(f"read {path}", exc) from exc
        try:
            actual_size = os.fstat(stream.fileno()).st_size
        except OSError as exc:
            stream.close()
            raise _unavailable(f"read {path}", exc) from exc
        if actual_size != size:
            stream.close()
            raise ArtifactCorruptedError(
                f"the stored bytes of {sha256} are corrupted: {actual_size} bytes where {size} were stored"
            )
        end = size if end is None else end
        return checked_chunks(
            _file_chunks(stream, start, end, chunk_bytes), sha256, end - start, whole=(start == 0 and end == size)
        )

    # -- removing ------------------------------------------------------------------------------------

    def remove_unreferenced(self, candidates: Iterable[str], *, referenced: Callable[[set[str]], set[str]]) -> int:
        """Remove those ``candidates`` that ``referenced`` (asked under the exclusive lock) does not name.

        Returns the number of blobs removed.
        """
        wanted = {digest for digest in candidates if DIGEST.fullmatch(digest)}
        if not wanted or not self.root.is_dir():
            return 0
        with self._lock(fcntl.LOCK_EX):
            in_use = referenced(wanted)
            removed = 0
            for digest in wanted - in_use:
                removed += self._unlink(self.path_of(digest)) is not None
            return removed

    def sweep(self, *, referenced: Callable[[set[str]], set[str]]) -> SweepResult:
        """Remove every blob that ``referenced`` does not name, and the temporary files of dead uploads."""
        if not self.root.is_dir():
            return SweepResult(0, 0, 0)
        with self._lock(fcntl.LOCK_EX):
            stored = {path.name: path for path in self.blob_dir.glob("??/*") if DIGEST.fullmatch(path.name)}
            in_use = referenced(set(stored)) if stored else set()
            removed = freed = 0
            for digest, path in stored.items():
                if digest not in in_use:
                    size = self._unlink(path)
                    if size is not None:
                        removed += 1
                        freed += size
        return SweepResult(removed, freed, self._remove_abandoned_uploads())

    def _remove_abandoned_uploads(self) -> int:
        if not self.tmp_dir.is_dir():
            return 0
        removed = 0
        for path in self.tmp_dir.iterdir():
            try:
                fd = os.open(path, os.O_RDONLY)
            except OSError:
                continue
            try:
                if time.time() - os.fstat(fd).st_mtime < ABANDONED_UPLOAD_SECONDS:
                    continue
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    continue  # its writer is alive
                removed += self._unlink(path) is not None
            finally:
                os.close(fd)
        return removed

    @staticmethod
    def _unlink(path: Path) -> int | None:
        try:
            size = path.stat().st_size
            path.unlink()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise _unavailable(f"remove {path}", exc) from exc
        return size

    @contextlib.contextmanager
    def _lock(self, mode: int) -> Iterator[None]:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _unavailable(f"open {self.lock_path}", exc) from exc
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)  # releases the lock


class BlobWriter:
    """One blob being written: ``write`` chunks, ``finish``, then ``publish`` (or ``discard``)."""

    def __init__(self, store: BlobStore, fd: int, path: Path, max_bytes: int) -> None:
        self.store = store
        self._fd = fd
        self._path = path
        self._max_bytes = max_bytes
        self._digest = hashlib.sha256()
        self.size = 0
        self.sha256: str | None = None

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self._max_bytes:
            raise too_large(self._max_bytes)
        self._digest.update(chunk)
        view = memoryview(chunk)
        try:
            while view:
                view = view[os.write(self._fd, view) :]
        except OSError as exc:
            raise _unavailable(f"write to {self._path}", exc) from exc

    def finish(self) -> StoredBlob:
        """Flush the bytes to disk; the blob is complete but not yet visible."""
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise _unavailable(f"write to {self._path}", exc) from exc
        self.sha256 = self._digest.hexdigest()
        return StoredBlob(self.sha256, self.size)

    def publish(self) -> StoredBlob:
        """Make the blob visible under its digest (call inside ``store.publishing()``).

        When those bytes are already stored, the new copy is dropped: same content, stored once.
        """
        if self.sha256 is None:
            raise RuntimeError("publish() before finish()")
        target = self.store.path_of(self.sha256)
        try:
            if target.is_file():
                self.discard()
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.chmod(self._path, 0o644)  # mkstemp made it private; blobs are as readable as the store
                os.replace(self._path, target)
                self._close()
                _fsync_directory(target.parent)
        except OSError as exc:
            self.discard()
            raise _unavailable(f"store {target}", exc) from exc
        return StoredBlob(self.sha256, self.size)

    def discard(self) -> None:
        """Remove the temporary file; safe to call more than once."""
        with contextlib.suppress(FileNotFoundError):
            self._path.unlink()
        self._close()

    def _close(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1

