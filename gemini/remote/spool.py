"""The offline spool: what a tracked run could not send to the server, kept on disk until it can.

When the server cannot be reached (or answers that its database is unavailable) while a run is tracked,
its metric batches, its artifacts and its end are written here instead of failing the training job.
They are sent, oldest first, by a background thread of the process as soon as the server answers again,
by any later process that starts a tracked run, and by ``gemini sync``.

The spool is one SQLite file (``GEMINI_SPOOL_PATH``, by default ``spool.sqlite`` in the user's data
directory), written with the standard library's ``sqlite3`` in WAL mode, so several processes on one
machine can add to it and send from it. Entries are keyed by the server's URL: each goes to the server
it was meant for.

Nothing is sent twice in effect, whatever kills a process: an entry is deleted only after the server
acknowledged it, and sending one again is harmless (a metric batch carries its id, and the server stores
a batch once; a run that has already ended answers 409, which counts as done; an artifact sent again
replaces itself with the same bytes). A run that has entries waiting sends its later ones through the
spool too, so they reach the server in the order they were logged.
"""

import contextlib
import datetime as dt
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gemini.config import get_settings
from gemini.errors import ConflictError, DatabaseUnavailableError, GeminiError

try:
    import fcntl
except ImportError:  # not POSIX: senders are not serialised; sending twice is harmless anyway
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("gemini.remote")

METRICS, ARTIFACT, END = "metrics", "artifact", "end"
KINDS = (METRICS, ARTIFACT, END)

BACKGROUND_FIRST_WAIT = 1.0
BACKGROUND_MAX_WAIT = 30.0

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


def add(server: str, run_id: str, kind: str, payload: dict[str, Any]) -> None:
    """Keep one entry for ``server`` durably (committed with ``synchronous=FULL``)."""
    with _open() as connection:
        connection.execute(
            "INSERT INTO entries (server, run_id, kind, payload, created_at) VALUES (?, ?, ?, ?, ?)",
            (server, run_id, kind, json.dumps(payload), dt.datetime.now(dt.timezone.utc).isoformat()),
        )
    start_background_sender()


def waiting(server: str, run_id: str) -> bool:
    """Whether ``run_id`` has entries for ``server`` not sent yet (its next ones must queue behind them)."""
    path = spool_path()
    if not path.exists():
        return False
    with _open(path) as connection:
        row = connection.execute(
            "SELECT 1 FROM entries WHERE server = ? AND run_id = ? AND failed IS NULL LIMIT 1", (server, run_id)
        ).fetchone()
    return row is not None


def pending_count(server: str | None = None) -> int:
    path = spool_path()
    if not path.exists():
        return 0
    with _open(path) as connection:
        if server is None:
            return connection.execute("SELECT count(*) FROM entries WHERE failed IS NULL").fetchone()[0]
        return connection.execute(
            "SELECT count(*) FROM entries WHERE server = ? AND failed IS NULL", (server,)
        ).fetchone()[0]


def failed_entries() -> list[tuple[Entry, str]]:
    path = spool_path()
    if not path.exists():
        return []
    with _open(path) as connection:
        rows = connection.execute(
            "SELECT id, server, run_id, kind, payload, failed FROM entries WHERE failed IS NOT NULL ORDER BY id"
        ).fetchall()
    return [(Entry(row[0], row[1], row[2], row[3], json.loads(row[4])), row[5]) for row in rows]


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


Sender = Callable[[Entry], None]


def send_all(server: str, send: Sender, *, wait: bool = True) -> SyncReport:
    """Send ``server``'s entries, oldest first, deleting each once the server acknowledged it.

    Stops at the first entry the server cannot take now (unreachable, database unavailable): the rest
    stay, in order. An entry the server refuses for good (its run was deleted, invalid) is marked failed
    and kept for the user to see, and the others go on."""
    path = spool_path()
    report = SyncReport(sent=dict.fromkeys(KINDS, 0), left=0, failed=0, other_servers=0)
    if not path.exists():
        return report
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
                    send(entry)
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


def _remove_artifact_copy(entry: Entry) -> None:
    copy = entry.payload.get("copy")
    if entry.kind == ARTIFACT and copy:
        with contextlib.suppress(FileNotFoundError):
            os.remove(copy)


def keep_artifact_copy(source: Path, server: str, run_id: str, name: str) -> Path:
    """A copy of ``source`` in the spool's directory, written completely before it is referenced."""
    directory = artifact_directory()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{run_id}-{time.time_ns()}-{os.getpid()}"
    partial = target.with_name(target.name + ".partial")
    shutil.copyfile(source, partial)
    with open(partial, "rb") as written:
        os.fsync(written.fileno())
    os.replace(partial, target)
    return target


# -- the background sender ----------------------------------------------------------------------------

_background: threading.Thread | None = None
_background_lock = threading.Lock()
_background_sender: Callable[[], SyncReport] | None = None


def set_background_sender(sender: Callable[[], SyncReport]) -> None:
    """What the background thread calls to send the configured server's entries."""
    global _background_sender
    _background_sender = sender


def start_background_sender() -> None:
    """Send what waits, in a thread of this process, until nothing is left (waiting longer after each
    failure, up to ``BACKGROUND_MAX_WAIT`` seconds)."""
    global _background
    if _background_sender is None:
        return
    with _background_lock:
        if _background is not None and _background.is_alive():
            return
        _background = threading.Thread(target=_send_in_background, name="gemini-spool", daemon=True)
        try:
            _background.start()
        except RuntimeError:  # the interpreter is shutting down: the next process or gemini sync sends it
            _background = None


def _send_in_background() -> None:
    wait = BACKGROUND_FIRST_WAIT
    while True:
        time.sleep(wait)
        try:
            report = _background_sender()  # type: ignore[misc]
        except Exception as exc:  # noqa: BLE001 - the thread must outlive any one failure
            logger.warning("sending the spool failed: %s", exc)
            report = None
        if report is not None and report.left == 0:
            if sum(report.sent.values()):
                logger.warning("the server answers again: %s", report.describe())
            return
        wait = min(BACKGROUND_MAX_WAIT, wait * 2)


def _forget_background_after_fork() -> None:
    global _background, _background_lock
    _background = None
    _background_lock = threading.Lock()


os.register_at_fork(after_in_child=_forget_background_after_fork)
