"""Hashing a stream on a thread of its own while the caller goes on reading, sending or writing it:
hashlib lets go of the interpreter while it hashes a large buffer, so with a core to spare the hashing
overlaps the transfer."""

from __future__ import annotations

import hashlib
import queue
import threading
from typing import Generic, Protocol, TypeVar


class Hash(Protocol):
    def update(self, data: bytes, /) -> None: ...


H = TypeVar("H", bound=Hash)


class HashOnThread(Generic[H]):
    """``hash.update`` of every chunk handed to ``update``, on a thread of its own, in order; at most a
    few MiB wait for it."""

    BATCH_BYTES = 1024 * 1024

    def __init__(self, hash: H, *, name: str) -> None:  # noqa: A002 - hashlib's word
        self._hash = hash
        self._batch: list[bytes] = []
        self._batch_bytes = 0
        self._batches: queue.Queue[bytes | None] = queue.Queue(maxsize=4)
        self._hasher = threading.Thread(target=self._run, name=name, daemon=True)
        self._hasher.start()

    def _run(self) -> None:
        while (batch := self._batches.get()) is not None:
            self._hash.update(batch)

    def update(self, chunk: bytes) -> None:
        self._batch.append(chunk)
        self._batch_bytes += len(chunk)
        if self._batch_bytes >= self.BATCH_BYTES:
            self._hand_over()

    def _hand_over(self) -> None:
        if self._batch:
            self._batches.put(self._batch[0] if len(self._batch) == 1 else b"".join(self._batch))
            self._batch, self._batch_bytes = [], 0

    def finish(self) -> H:
        """The hash of every byte handed over; the thread has ended when this returns."""
        self._hand_over()
        self._batches.put(None)
        self._hasher.join()
        return self._hash


class PartDigests:
    """The SHA-256 of each ``part_bytes`` of the bytes handed to ``update``, in order (the last part holds
    what is left): a large file's parts, as a store checks them one by one."""

    def __init__(self, part_bytes: int) -> None:
        self.part_bytes = part_bytes
        self._done: list[str] = []
        self._current = hashlib.sha256()
        self._filled = 0

    def update(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            taken = min(len(view), self.part_bytes - self._filled)
            self._current.update(view[:taken])
            self._filled += taken
            view = view[taken:]
            if self._filled == self.part_bytes:
                self._done.append(self._current.hexdigest())
                self._current, self._filled = hashlib.sha256(), 0

    def sha256s(self) -> tuple[str, ...]:
        return (*self._done, self._current.hexdigest()) if self._filled else tuple(self._done)
