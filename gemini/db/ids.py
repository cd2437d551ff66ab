"""Time-ordered UUIDs (RFC 9562 version 7), so ordering by id is creation order."""

import os
import threading
import time
import uuid

_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_id() -> uuid.UUID:
    """A UUIDv7: 48 bits of Unix milliseconds, then a 12-bit counter that keeps ids made in the same
    millisecond by this process increasing, then 62 random bits."""
    global _last_ms, _counter
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _counter = now_ms, int.from_bytes(os.urandom(2), "big") & 0x3FF
        else:
            _counter += 1
            if _counter > 0xFFF:  # counter exhausted: borrow the next millisecond
                _last_ms, _counter = _last_ms + 1, 0
        ms, counter = _last_ms, _counter
    rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (ms << 80) | (0x7 << 76) | (counter << 64) | (0b10 << 62) | rand
    return uuid.UUID(int=value)


def new_ids(count: int) -> list[uuid.UUID]:
    """``count`` UUIDv7s at once, increasing, as ``new_id`` makes them one by one (a bulk insert's)."""
    global _last_ms, _counter
    randoms = os.urandom(8 * count)
    made = []
    with _lock:
        now_ms = time.time_ns() // 1_000_000
        if now_ms > _last_ms:
            _last_ms, _counter = now_ms, int.from_bytes(os.urandom(2), "big") & 0x3FF
        for index in range(count):
            _counter += 1
            if _counter > 0xFFF:
                _last_ms, _counter = _last_ms + 1, 0
            rand = int.from_bytes(randoms[8 * index : 8 * index + 8], "big") & ((1 << 62) - 1)
            made.append(uuid.UUID(int=(_last_ms << 80) | (0x7 << 76) | (_counter << 64) | (0b10 << 62) | rand))
    return made
