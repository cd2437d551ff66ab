"""Writing a download in place, whole or not at all: what both transports do with an artifact's bytes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from gemini.domain.errors import ArtifactCorruptedError, InvalidInputError, StorageUnavailableError
from gemini.registry.hashing import HashOnThread
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
        digest = HashOnThread(hashlib.sha256(), name="gemini-download-digest") if expected_sha256 else None
        try:
            with os.fdopen(fd, "wb") as stream:
                for chunk in counted(_read(chunks, what)):
                    if digest is not None:
                        digest.update(chunk)
                    stream.write(chunk)
        finally:
            received = digest.finish().hexdigest() if digest is not None else None
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
