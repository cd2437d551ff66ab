"""Writing a download in place, whole or not at all: what both transports do with an artifact's bytes."""

from __future__ import annotations

import hashlib
import os
import queue
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from gemini.domain.errors import ArtifactCorruptedError, InvalidInputError, StorageUnavailableError
from gemini.registry.progress import counted


def write_verified(target: Path, chunks: Iterable[bytes], *, expected_sha256: str | None, what: str) -> Path:
    """Write ``chunks`` to a temporary file beside ``target`` and rename it over ``target`` once the
    bytes' SHA-256 matched ``expected_sha256`` (when given): a failed download leaves ``target`` as it
    was. ``ArtifactCorruptedError`` names ``what`` when the digest differs; an ``OSError`` of the writing is
    ``InvalidInputError`` naming ``target``, one of the reading ``StorageUnavailableError`` naming ``what``."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise InvalidInputError(f"cannot write to {str(target)!r}: {exc.strerror or exc}") from exc
    try:
        digest = _DigestBeside() if expected_sha256 else None
        try:
            with os.fdopen(fd, "wb") as stream:
                for chunk in counted(_read(chunks, what)):
                    if digest is not None:
                        digest.update(chunk)
                    stream.write(chunk)
        finally:
            received = digest.hexdigest() if digest is not None else None
        if received is not None and received != expected_sha256:
            raise ArtifactCorruptedError(f"{what} arrived with SHA-256 {received}, not {expected_sha256}")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        os.replace(temporary, target)
    except BaseException as exc:
        Path(temporary).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InvalidInputError(f"cannot write to {str(target)!r}: {exc.strerror or exc}") from exc
        raise
    return target


def _read(chunks: Iterable[bytes], what: str) -> Iterator[bytes]:
    """``chunks``, with a failure to read them told apart from a failure to write them."""
    try:
        yield from chunks
    except OSError as exc:
        raise StorageUnavailableError(f"cannot read {what}: {exc.strerror or exc}") from exc


class _DigestBeside:
    """The SHA-256 of the bytes handed to ``update``, computed on a thread of its own while the caller
    goes on receiving and writing: hashlib lets go of the interpreter while it hashes a large buffer,
    so with a core to spare the hashing overlaps the transfer. At most a few MiB wait."""

    BATCH_BYTES = 1024 * 1024

    def __init__(self) -> None:
        self._digest = hashlib.sha256()
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._batches: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._hasher = threading.Thread(target=self._hash, name="gemini-download-digest", daemon=True)
        self._hasher.start()

    def _hash(self) -> None:
        while (batch := self._batches.get()) is not None:
            self._digest.update(batch)

    def update(self, chunk: bytes) -> None:
        self._batch.append(chunk)
        self._batch_bytes += len(chunk)
        if self._batch_bytes >= self.BATCH_BYTES:
            self._hand_over()

    def _hand_over(self) -> None:
        if self._batch:
            self._batches.put(b"".join(self._batch))
            self._batch, self._batch_bytes = [], 0

    def hexdigest(self) -> str:
        """The digest of every byte handed over; the thread has ended when this returns."""
        self._hand_over()
        self._batches.put(None)
        self._hasher.join()
        return self._digest.hexdigest()
