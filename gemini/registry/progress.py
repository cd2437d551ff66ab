"""Bytes of artifacts moved (read from a file to be sent, or written from a download), reported to whoever
watches: the command line's progress line. Both transports report at the same two places, so a watcher
sees the same counts whether the bytes go to a database's store, a server or a bucket."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar

_watcher: ContextVar[Callable[[int], None] | None] = ContextVar("gemini_bytes_moved", default=None)


@contextlib.contextmanager
def watching(callback: Callable[[int], None]) -> Iterator[None]:
    """Call ``callback(count)`` for every chunk of artifact bytes moved in this context (threads started
    with a copy of it included)."""
    token = _watcher.set(callback)
    try:
        yield
    finally:
        _watcher.reset(token)


def counted(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """``chunks``, each reported to the watcher, if any, as it passes."""
    watcher = _watcher.get()
    if watcher is None:
        yield from chunks
        return
    for chunk in chunks:
        watcher(len(chunk))
        yield chunk
