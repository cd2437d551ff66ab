"""A progress line for artifact uploads and downloads that last: shown once a transfer has taken
``SHOW_AFTER_SECONDS``, on stderr, only for a person at a terminal (see ``output.progress_shown``)."""

from __future__ import annotations

import contextlib
import sys
import threading
import time
from collections.abc import Iterator

from gemini.cli.output import progress_shown
from gemini.registry.progress import watching

SHOW_AFTER_SECONDS = 2.0
REDRAW_SECONDS = 0.2
_MIB = 1024 * 1024


class _Line:
    def __init__(self, label: str, total: int | None) -> None:
        self.label = label
        self.total = total
        self.moved = 0
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.shown = False
        self.lock = threading.Lock()  # the files of a directory are sent from several threads

    def add(self, count: int) -> None:
        with self.lock:
            self.moved += count
            now = time.monotonic()
            if now - self.started < SHOW_AFTER_SECONDS or now - self.drawn_at < REDRAW_SECONDS:
                return
            self.drawn_at = now
            self.shown = True
            self._draw(now)

    def _draw(self, now: float) -> None:
        rate = self.moved / _MIB / max(now - self.started, 1e-9)
        done = f"{self.moved / _MIB:,.1f}"
        if self.total:
            done += f" of {self.total / _MIB:,.1f} MiB ({min(self.moved / self.total, 1):.0%})"
        else:
            done += " MiB"
        sys.stderr.write(f"\r{self.label}: {done}, {rate:,.1f} MiB/s ")
        sys.stderr.flush()

    def close(self) -> None:
        if self.shown:
            self._draw(time.monotonic())
            sys.stderr.write("\n")
            sys.stderr.flush()


@contextlib.contextmanager
def transfer_progress(label: str, *, total: int | None) -> Iterator[None]:
    """Count the artifact bytes moved in this block on a progress line (``total`` bytes when known)."""
    if not progress_shown():
        yield
        return
    line = _Line(label, total)
    try:
        with watching(line.add):
            yield
    finally:
        line.close()
