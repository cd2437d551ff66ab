"""Writing a download in place, whole or not at all: what both transports do with an artifact's bytes."""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

from gemini.domain.errors import ArtifactCorruptedError, InvalidInputError
from gemini.registry.progress import counted


def write_verified(target: Path, chunks: Iterable[bytes], *, expected_sha256: str | None, what: str) -> Path:
    """Write ``chunks`` to a temporary file beside ``target`` and rename it over ``target`` once the
    bytes' SHA-256 matched ``expected_sha256`` (when given): a failed download leaves ``target`` as it
    was. ``ArtifactCorruptedError`` names ``what`` when the digest differs."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise InvalidInputError(f"cannot write to {str(target)!r}: {exc.strerror or exc}") from exc
    try:
        digest = hashlib.sha256() if expected_sha256 else None
        with os.fdopen(fd, "wb") as stream:
            for chunk in counted(chunks):
                if digest is not None:
                    digest.update(chunk)
                stream.write(chunk)
        if digest is not None and digest.hexdigest() != expected_sha256:
            raise ArtifactCorruptedError(f"{what} arrived with SHA-256 {digest.hexdigest()}, not {expected_sha256}")
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
