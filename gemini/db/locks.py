"""A lock every process of one registry shares, for an artifact store that cannot hold one (a bucket).

On PostgreSQL it is an advisory lock of the database, so servers on several machines share it; each
holder takes a connection of its own outside the pool, for as long as it holds the lock (an artifact's
record or a removal: milliseconds to seconds), so the pool's connections never wait on one another. An
SQLite registry lives on one machine: ``flock`` on a file beside the database does.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import tempfile
import threading
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from gemini.config import get_settings
from gemini.db.engine import sqlite_file_beside
from gemini.db.errors import translate_database_errors

# An arbitrary 64-bit key of the advisory lock ("gemini artifact store"); only this code takes it.
_ADVISORY_KEY = 0x67656D696E6961


@lru_cache(maxsize=8)
def _lock_engine(url: str) -> sa.Engine:
    return sa.create_engine(sa.engine.make_url(url).set(drivername="postgresql+psycopg"), poolclass=NullPool)


def _lock_file(url: sa.engine.URL) -> Path:
    beside = sqlite_file_beside(url, "-store.lock")
    if beside is not None:
        return beside
    name = hashlib.sha256(str(url).encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / f"gemini-store-{name}.lock"


_held = threading.local()


@contextlib.contextmanager
def registry_lock(*, exclusive: bool) -> Iterator[None]:
    """Held shared while an artifact is recorded, exclusively while unused blobs are removed.

    A thread already holding it takes it again for free: asked again from a second connection, behind
    a remover already waiting, it would wait for itself."""
    if getattr(_held, "depth", 0):
        _held.depth += 1
        try:
            yield
        finally:
            _held.depth -= 1
        return
    _held.depth = 1
    try:
        with _acquired(exclusive=exclusive):
            yield
    finally:
        _held.depth = 0


@contextlib.contextmanager
def _acquired(*, exclusive: bool) -> Iterator[None]:
    url = sa.engine.make_url(get_settings().resolved_database_url)
    if url.get_backend_name() == "postgresql":
        function = "pg_advisory_lock" if exclusive else "pg_advisory_lock_shared"
        with translate_database_errors(), _lock_engine(str(url.render_as_string(hide_password=False))).connect() as connection:
            connection.execute(sa.text(f"SELECT {function}(:key)"), {"key": _ADVISORY_KEY})
            connection.commit()
            yield
            # Closing the connection ends the session, which releases its advisory locks.
        return
    path = _lock_file(url)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)
