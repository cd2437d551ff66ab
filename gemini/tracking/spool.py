"""The offline spool: what a tracked run could not send to its server, kept on disk until it can.

When the server cannot be reached (or answers that its database is unavailable) while a run is tracked,
the HTTP transport (``gemini.remote``) writes the run's metric batches, artifacts and end here instead of
failing the training job. They are sent, oldest first, by the spool's background thread in this process
as soon as the server answers again, by any later process that starts a tracked run, and by
``gemini sync``.

The spool is one SQLite file (``GEMINI_SPOOL_PATH``, by default ``spool.sqlite`` in the user's data
directory), written with the standard library's ``sqlite3`` in WAL mode, so several processes on one
machine can add to it and send from it. Entries are keyed by the server's URL: each goes to the server
it was meant for. ``Spool(server, send)`` is one server's view of the file, with the function that sends
an entry to that server; what spans servers (``pending_count()``, ``failed_entries()``) is module-level.

Nothing is sent twice in effect, whatever kills a process: an entry is deleted only after the server
acknowledged it, and sending one again is harmless (a metric batch carries its id, and the server stores
a batch once; a run that has already ended answers 409, which counts as done; an artifact sent again
replaces itself with the same bytes). A run that has entries waiting sends its later ones through the
spool too, so they reach the server in the order they were logged.

Locks: SQLite's own locking keeps each entry whole across threads and processes; ``_sender_lock`` (an
``flock`` on ``<spool>.lock``) lets one sender at a time walk the file, so entries leave in order; each
``Spool``'s ``_lock`` guards its background thread. Connections are opened per call, never shared.
"""

import atexit
import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemini.config import get_settings
from gemini.domain.errors import ConflictError, DatabaseUnavailableError, GeminiError

try:
    import fcntl
except ImportError:  # not POSIX: senders are not serialised; sending twice is harmless anyway
    fcntl = None  # type: ignore[assignment]

# The spool's messages are about reaching the server: they stay on the logger of the HTTP transport.
logger = logging.getLogger("gemini.remote")

METRICS, ARTIFACT, END = "metrics", "artifact", "end"
KINDS = (METRICS, ARTIFACT, END)

BACKGROUND_FIRST_WAIT = 1.0
"""Seconds the background sender waits before its first pass."""
BACKGROUND_MAX_WAIT = 30.0
"""Longest wait between two passes of the background sender (the wait doubles after each pass that
leaves entries)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    server TEXT NOT NULL,
    run_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    failed TEXT
);
CREATE INDEX IF NOT EXISTS entries_by_run ON entries (server, run_id, id);
"""


@dataclass(frozen=True, slots=True)
class Entry:
    id: int
    server: str
    run_id: str
    kind: str
    payload: dict[str, Any]


@dataclass
class SyncReport:
    """What one pass over the spool did, and what is left."""

    sent: dict[str, int]
    left: int
    failed: int
    other_servers: int
    error: str | None = None

    def describe(self) -> str:
        sent = ", ".join(f"{count} {_KIND_NAMES[kind]}" for kind, count in self.sent.items() if count) or "nothing"
        parts = [f"sent {sent}"]
        if self.left:
            reason = f" ({self.error})" if self.error else ""
            parts.append(f"{self.left} entries left to send{reason}")
        else:
            parts.append("nothing left to send")
        if self.failed:
            parts.append(f"{self.failed} entries the server refused (kept; 'gemini sync --show-failed' lists them)")
        if self.other_servers:
            parts.append(f"{self.other_servers} entries for other servers (set GEMINI_API_URL to send them)")
        return "; ".join(parts)


_KIND_NAMES = {METRICS: "metric batches", ARTIFACT: "artifacts", END: "run ends"}


def spool_path() -> Path:
    return get_settings().resolved_spool_path


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, timeout=30, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.executescript(_SCHEMA)
    return connection


@contextlib.contextmanager
def _open(path: Path | None = None) -> Iterator[sqlite3.Connection]:
    connection = _connect(path or spool_path())
    try:
        yield connection
    finally:
        connection.close()


def artifact_directory(path: Path | None = None) -> Path:
    """Where copies of spooled artifacts wait (the training job may change or remove its own file)."""
    path = path or spool_path()
    return path.with_name(f"{path.name}-artifacts")


@contextlib.contextmanager
def _sender_lock(path: Path, *, wait: bool) -> Iterator[bool]:
    """One sender at a time per spool file (across processes); yields whether this one got the turn."""
    if fcntl is None:
        yield True
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(f"{path.name}.lock"), "a+b") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)




def pending_count(server: str | None = None) -> int:
    """Entries waiting to be sent: ``server``'s, or every server's (``None``)."""
    path = spool_path()
    if not path.exists():
        return 0
    with _open(path) as connection:
        if server is None:
            return connection.execute("SELECT count(*) FROM entries WHERE failed IS NULL").fetchone()[0]
        return connection.execute(
            "SELECT count(*) FROM entries WHERE server = ? AND failed IS NULL", (server,)
        ).fetchone()[0]


def pending_by_kind(server: str, path: Path | None = None) -> dict[str, int]:
    """``server``'s entries waiting to be sent, counted by kind (in ``path``; by default the spool file
    of the settings)."""
    path = path or spool_path()
    counts = dict.fromkeys(KINDS, 0)
    if not path.exists():
        return counts
    with _open(path) as connection:
        rows = connection.execute(
            "SELECT kind, count(*) FROM entries WHERE server = ? AND failed IS NULL GROUP BY kind", (server,)
        ).fetchall()
    counts.update(dict(rows))
    return counts


# The servers this process added entries for, and the spool file each went to (GEMINI_SPOOL_PATH may
# change): read by the exit report. Guarded by _spooled_lock.
_spooled: dict[str, Path] = {}
_spooled_lock = threading.Lock()


def _note_spooled(server: str) -> None:
    with _spooled_lock:
        _spooled[server] = spool_path()


def _report_what_is_left_at_exit() -> None:
    """One WARNING per server this process spooled for, naming what is still unsent, where, and that
    ``gemini sync`` sends it: a job that exits 0 with its points in a spool on a node's disk that is
    wiped afterwards has lost them unless someone is told."""
    with _spooled_lock:
        spooled = dict(_spooled)
    for server, path in spooled.items():
        try:
            counts = pending_by_kind(server, path)
        except Exception:  # noqa: BLE001 - an exit report never raises; it says what it cannot count
            left = "entries (the spool file could not be read to count them)"
        else:
            if not any(counts.values()):
                continue
            left = ", ".join(f"{count} {_KIND_NAMES[kind]}" for kind, count in counts.items() if count)
        logger.warning(
            "gemini: %s for the server %s are left in the offline spool %s: run 'gemini sync' (with the "
            "same GEMINI_SPOOL_PATH) once the server answers, before that file is removed",
            left,
            server,
            path,
        )


# Registered at import, before the tracking lifecycle's own exit hook (gemini.tracking.lifecycle imports
# this module first): atexit runs hooks last-registered first, so the runs' ends are spooled before this
# reports what is left.
atexit.register(_report_what_is_left_at_exit)


def failed_entries() -> list[tuple[Entry, str]]:
    """The entries a server refused for good, every server's, with the reason it gave."""
    path = spool_path()
    if not path.exists():
        return []
    with _open(path) as connection:
        rows = connection.execute(
            "SELECT id, server, run_id, kind, payload, failed FROM entries WHERE failed IS NOT NULL ORDER BY id"
        ).fetchall()
    return [(Entry(row[0], row[1], row[2], row[3], json.loads(row[4])), row[5]) for row in rows]


def _remove_artifact_copy(entry: Entry) -> None:
    copy = entry.payload.get("copy")
    if entry.kind == ARTIFACT and copy:
        with contextlib.suppress(FileNotFoundError):
            os.remove(copy)


Sender = Callable[[Entry], None]

# Every spool of this process, so that a forked child can forget its parent's sender threads.
_spools: "weakref.WeakSet[Spool]" = weakref.WeakSet()


class Spool:
    """The entries of one server in the spool file, and the thread that sends them back to it.

    ``send(entry)`` delivers one entry to ``server`` (the HTTP transport's request for its kind); it
    raises ``DatabaseUnavailableError`` when the server cannot take it now, ``ConflictError`` when the
    run has already ended, another ``GeminiError`` when the server refuses it for good.

    The file is read from the settings at each call (``GEMINI_SPOOL_PATH``). Across processes the
    file's own locking (SQLite's, and ``_sender_lock`` for sending) keeps entries whole and in order;
    within the process, ``_lock`` guards ``_background``, the sender thread.
    """

    def __init__(self, server: str, send: Sender) -> None:
        self.server = server
        self._send = send
        self._lock = threading.Lock()
        self._background: threading.Thread | None = None
        _spools.add(self)

    def __repr__(self) -> str:
        return f"Spool({self.server!r})"

    def add(self, run_id: str, kind: str, payload: dict[str, Any]) -> None:
        """Keep one entry durably (committed with ``synchronous=FULL``), then make sure the background
        sender runs: whatever the kind, so that a process that only spools artifacts sends them too."""
        if kind not in KINDS:
            raise ValueError(f"unknown spool entry kind {kind!r}")
        with _open() as connection:
            connection.execute(
                "INSERT INTO entries (server, run_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)",
                (self.server, run_id, kind, json.dumps(payload), dt.datetime.now(dt.timezone.utc).isoformat()),
            )
        _note_spooled(self.server)
        self.start_background_sender()

    def waiting(self, run_id: str) -> bool:
        """Whether ``run_id`` has entries not sent yet (its next ones must queue behind them)."""
        path = spool_path()
        if not path.exists():
            return False
        with _open(path) as connection:
            row = connection.execute(
                "SELECT 1 FROM entries WHERE server = ? AND run_id = ? AND failed IS NULL LIMIT 1",
                (self.server, run_id),
            ).fetchone()
        return row is not None

    def pending_count(self) -> int:
        """This server's entries waiting to be sent."""
        return pending_count(self.server)

    def send_all(self, *, wait: bool = True) -> SyncReport:
        """Send this server's entries, oldest first, deleting each once the server acknowledged it.

        Stops at the first entry the server cannot take now (unreachable, database unavailable): the
        rest stay, in order. An entry the server refuses for good (its run was deleted, invalid) is
        marked failed and kept for the user to see, and the others go on. ``wait=False``: when another
        process is sending this spool file, send nothing and only count."""
        path = spool_path()
        report = SyncReport(sent=dict.fromkeys(KINDS, 0), left=0, failed=0, other_servers=0)
        if not path.exists():
            return report
        server = self.server
        with _sender_lock(path, wait=wait) as turn, _open(path) as connection:
            if turn:
                while True:
                    row = connection.execute(
                        "SELECT id, server, run_id, kind, payload FROM entries "
                        "WHERE server = ? AND failed IS NULL ORDER BY id LIMIT 1",
                        (server,),
                    ).fetchone()
                    if row is None:
                        break
                    entry = Entry(row[0], row[1], row[2], row[3], json.loads(row[4]))
                    try:
                        self._send(entry)
                    except DatabaseUnavailableError as exc:
                        report.error = str(exc)
                        break
                    except ConflictError:
                        pass  # the run had already ended: the end this entry carries is there
                    except GeminiError as exc:
                        logger.error("the server refused a spooled %s of run %s: %s", entry.kind, entry.run_id, exc)
                        connection.execute("UPDATE entries SET failed = ? WHERE id = ?", (str(exc), entry.id))
                        continue
                    connection.execute("DELETE FROM entries WHERE id = ?", (entry.id,))
                    _remove_artifact_copy(entry)
                    report.sent[entry.kind] += 1
            report.left = connection.execute(
                "SELECT count(*) FROM entries WHERE server = ? AND failed IS NULL", (server,)
            ).fetchone()[0]
            report.failed = connection.execute("SELECT count(*) FROM entries WHERE failed IS NOT NULL").fetchone()[0]
            report.other_servers = connection.execute(
                "SELECT count(*) FROM entries WHERE server != ? AND failed IS NULL", (server,)
            ).fetchone()[0]
        return report

    def keep_artifact_copy(self, source: Path, run_id: str, name: str) -> Path:
        """A copy of ``source`` in the spool's directory, written completely before it is referenced
        (``name`` is the artifact's, kept in the entry's payload by the caller)."""
        directory = artifact_directory()
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"{run_id}-{time.time_ns()}-{os.getpid()}"
        partial = target.with_name(target.name + ".partial")
        shutil.copyfile(source, partial)
        with open(partial, "rb") as written:
            os.fsync(written.fileno())
        os.replace(partial, target)
        return target

    # -- the background sender ------------------------------------------------------------------------

    def start_background_sender(self) -> None:
        """Send what waits, in a thread of this process, until nothing is left (waiting
        ``BACKGROUND_FIRST_WAIT`` seconds first, twice longer after each pass that left entries, up to
        ``BACKGROUND_MAX_WAIT``). One thread per spool at a time: a running one is left to go on."""
        with self._lock:
            if self._background is not None and self._background.is_alive():
                return
            thread = threading.Thread(target=self._send_in_background, name=f"gemini-spool-{self.server}", daemon=True)
            try:
                thread.start()
            except RuntimeError:  # the interpreter is shutting down: the next process or gemini sync sends it
                thread = None
            self._background = thread

    def _send_in_background(self) -> None:
        wait = BACKGROUND_FIRST_WAIT
        while True:
            time.sleep(wait)
            try:
                # Never waits for another process's sender: that one is sending these entries already.
                report: SyncReport | None = self.send_all(wait=False)
            except Exception as exc:  # noqa: BLE001 - the thread must outlive any one failure
                logger.warning("sending the spool to %s failed: %s", self.server, exc)
                report = None
            if report is not None and report.left == 0:
                if sum(report.sent.values()):
                    logger.warning("the server answers again: %s", report.describe())
                return
            wait = min(BACKGROUND_MAX_WAIT, wait * 2)

    def _forget_background(self) -> None:
        # In a forked child the parent's thread does not exist, and its lock may have been held.
        self._lock = threading.Lock()
        self._background = None


def _forget_background_after_fork() -> None:
    for spool in list(_spools):
        spool._forget_background()


os.register_at_fork(after_in_child=_forget_background_after_fork)
