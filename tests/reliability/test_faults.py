"""Faults: a writer killed mid-batch, a PostgreSQL server stopped and restarted under a writing client,
a read-only database file and a full disk. Each leaves every committed run in place and a database that
opens cleanly, and callers get a clear error rather than a hang or a corrupted file.
"""

import contextlib
import glob
import logging
import multiprocessing
import os
import pwd
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa

from gemini.registry import registry
from gemini.api.model_run import ModelRun
from gemini.db import engine as db_engine
from gemini.domain.errors import DatabaseUnavailableError
from tests.conftest import free_loopback_port

from . import workers
from .conftest import SERVER_TOKEN

AUTH = {"Authorization": f"Bearer {SERVER_TOKEN}"}


def _sqlite_file_url(directory: Path) -> tuple[Path, str]:
    path = directory / "gemini.db"
    return path, f"sqlite:///{path}"


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def _sqlite_count(path: Path, where: str = "1=1") -> int:
    with sqlite3.connect(path) as connection:
        return connection.execute(f"SELECT count(*) FROM model_runs WHERE {where}").fetchone()[0]


# -- kill -9 in the middle of a bulk write --------------------------------------------------------------


def test_kill_9_mid_batch_loses_the_batch_and_nothing_else(tmp_path, monkeypatch):
    path, url = _sqlite_file_url(tmp_path)
    monkeypatch.setenv("GEMINI_DATABASE_URL", url)
    committed = [registry().create_run(model_run_info={"before": n})[0].id for n in range(50)]

    context = multiprocessing.get_context("spawn")
    mid_batch = context.Event()
    child = context.Process(target=workers.bulk_write_until_killed, args=(url, 6000, mid_batch))
    child.start()
    assert mid_batch.wait(timeout=120), f"the writer never reached the middle of its batch (exit {child.exitcode})"
    wal = Path(f"{path}-wal")
    assert wal.exists() and wal.stat().st_size > 1_000_000  # the batch really was being written to disk
    os.kill(child.pid, signal.SIGKILL)
    child.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL

    db_engine.dispose_engines()  # open the file afresh, as the next program would
    assert _integrity(path) == "ok"
    assert {run.id for run in registry().search_runs().items} == set(committed)
    assert _sqlite_count(path, "model_run_info LIKE '%killed%'") == 0
    after, _ = registry().create_run(model_run_info={"after": True})
    assert registry().count_runs() == len(committed) + 1
    assert registry().get_run(run_id=after.id).model_run_info == {"after": True}


@pytest.mark.postgresql
def test_kill_9_of_a_postgresql_client_mid_batch_loses_the_batch_and_nothing_else(new_postgres_database, monkeypatch):
    db = new_postgres_database()
    monkeypatch.setenv("GEMINI_DATABASE_URL", db)
    committed = {registry().create_run(model_run_info={"before": n})[0].id for n in range(50)}
    context = multiprocessing.get_context("spawn")
    mid_batch = context.Event()
    child = context.Process(target=workers.bulk_write_until_killed, args=(db, 2000, mid_batch))
    child.start()
    assert mid_batch.wait(timeout=120), f"the writer never reached the middle of its batch (exit {child.exitcode})"
    os.kill(child.pid, signal.SIGKILL)
    child.join(timeout=30)
    assert child.exitcode == -signal.SIGKILL
    # The server rolls the dead client's transaction back; nothing of it is ever visible.
    assert {run.id for run in registry().search_runs().items} == committed
    assert registry().count_runs(model_run_info={"batch": "killed"}) == 0
    after, _ = registry().create_run(model_run_info={"after": True})
    assert registry().count_runs() == len(committed) + 1
    assert registry().get_run(run_id=after.id).model_run_info == {"after": True}


def test_postgres_connection_dropped_while_idle_is_replaced_before_use(new_postgres_database, postgres_server, monkeypatch):
    """Pooled connections are tested only after sitting idle (not on every checkout): one that the
    server dropped meanwhile is replaced, and the operation that takes it succeeds."""
    monkeypatch.setenv("GEMINI_DATABASE_URL", new_postgres_database())
    run, _ = registry().create_run(model_run_info={"kept": True})
    with db_engine.unit_of_work() as connection:
        backend = connection.exec_driver_sql("SELECT pg_backend_pid()").scalar()
    with postgres_server.connect() as admin:
        assert admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": backend}).scalar() is True
    time.sleep(db_engine.POSTGRESQL_IDLE_PING_S + 0.3)
    assert registry().get_run(run_id=run.id).model_run_info == {"kept": True}
    with db_engine.unit_of_work() as connection:
        assert connection.exec_driver_sql("SELECT pg_backend_pid()").scalar() != backend


# -- PostgreSQL stopped and restarted while a client writes --------------------------------------------


def _postgres_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.skip("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin to start a private server")
    return Path(found[-1]).parent


class PrivatePostgres:
    """A throw-away PostgreSQL cluster in a temporary directory, run as the ``postgres`` OS user when the
    tests run as root (initdb refuses root)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.directory = Path(tempfile.mkdtemp(prefix="gemini-pg-"))
        self.data = self.directory / "data"
        self.port = free_loopback_port()
        self.run_as: list[str] = []
        if os.geteuid() == 0:
            try:
                owner = pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no postgres OS user to run initdb as")
            os.chown(self.directory, owner.pw_uid, owner.pw_gid)
            self.run_as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *command: str) -> None:
        subprocess.run([*self.run_as, *command], check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.directory / "server.log")
        self._run(str(self.bin_dir / "pg_ctl"), "start", "-w", "-D", str(self.data), "-o", options, "-l", log)

    def stop_immediately(self) -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "stop", "-w", "-m", "immediate", "-D", str(self.data))

    def url(self, database: str) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        engine = sa.create_engine(self.url("postgres"), isolation_level="AUTOCOMMIT")
        with engine.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        engine.dispose()
        return self.url(name)

    def remove(self) -> None:
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "stop", "-w", "-m", "immediate", "-D", str(self.data))
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture
def private_postgres():
    server = PrivatePostgres(_postgres_bin())
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


def test_postgres_outage_fails_clearly_and_the_same_process_recovers(private_postgres, gemini_server, monkeypatch, caplog):
    url = private_postgres.create_database("gemini")
    monkeypatch.setenv("GEMINI_DATABASE_URL", url)
    committed = {registry().create_run(model_run_info={"before": n})[0].id for n in range(20)}
    server = contextlib.ExitStack()
    http = httpx.Client(
        base_url=server.enter_context(gemini_server(url, token=SERVER_TOKEN)).url, timeout=30, headers=AUTH
    )
    server.callback(http.close)
    assert http.get("/api/model_runs").status_code == 200

    outcomes: list[tuple[str, str]] = []  # (outcome, run id or error message), in order
    stop = threading.Event()

    def write_continuously() -> None:
        n = 0
        while not stop.is_set():
            try:
                outcomes.append(("ok", str(registry().create_run(model_run_info={"during": n})[0].id)))
            except DatabaseUnavailableError as exc:
                outcomes.append(("unavailable", str(exc)))
            except Exception as exc:  # noqa: BLE001 - any other error type is the failure we look for
                outcomes.append((type(exc).__name__, str(exc)))
            n += 1
            time.sleep(0.01)

    writer = threading.Thread(target=write_continuously)
    writer.start()
    try:
        time.sleep(0.5)
        private_postgres.stop_immediately()
        time.sleep(0.5)
        # During the outage: the core raises DatabaseUnavailableError, the seed API gives None/False + a log line.
        with pytest.raises(DatabaseUnavailableError, match="database unavailable"):
            registry().get_run(run_id=next(iter(committed)))
        with pytest.raises(DatabaseUnavailableError):
            registry().search_runs(model_run_info={"before": 1}).items
        caplog.clear()
        with caplog.at_level(logging.ERROR, logger="gemini.api"):
            assert ModelRun.create(model_run_info={"seed": "outage"}) is None
            assert ModelRun.exists(model_run_info={"before": 1}) is False
        assert [record.getMessage().split(" failed: ")[0] for record in caplog.records] == [
            "ModelRun.create",
            "ModelRun.exists",
        ]
        assert all("database unavailable" in record.getMessage() for record in caplog.records)
        # REST: 503 with the reason, for reads and writes.
        for response in (http.get("/api/model_runs"), http.post("/api/model_runs", json={"model_run_info": {}})):
            assert response.status_code == 503
            assert "database unavailable" in response.text
        private_postgres.start()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (not outcomes or outcomes[-1][0] != "ok"):
            time.sleep(0.1)
        time.sleep(0.3)
        # The server recovers by itself too.
        assert http.post("/api/model_runs", json={"model_run_info": {"rest": "after"}}).status_code == 201
    finally:
        stop.set()
        writer.join(timeout=30)
        server.close()

    kinds = [kind for kind, _ in outcomes]
    assert set(kinds) <= {"ok", "unavailable"}, [o for o in outcomes if o[0] not in ("ok", "unavailable")]
    assert "unavailable" in kinds and kinds[-1] == "ok"
    # Recovered in this process, without a restart: a new write and every committed run are there.
    acknowledged = committed | {uuid.UUID(value) for kind, value in outcomes if kind == "ok"}
    stored = {run.id for run in registry().search_runs().items}
    assert acknowledged <= stored
    assert len(stored) - len(acknowledged) <= 2  # the REST write, and at most one cut off mid-commit
    assert ModelRun.create(model_run_info={"after": True}) is not None


# -- read-only database file ----------------------------------------------------------------------------


def _make_read_only(path: Path) -> Callable[[], object]:
    """Make the database file read-only for whoever runs the tests; returns the undo."""
    if os.geteuid() != 0:
        os.chmod(path, 0o444)
        return lambda: os.chmod(path, 0o644)
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(path)]).returncode != 0:
        pytest.skip("running as root, where only chattr +i makes a file read-only, and chattr is unavailable")
    return lambda: subprocess.run(["chattr", "-i", str(path)], check=True)


def test_read_only_database_file_refuses_writes_clearly_and_keeps_its_runs(tmp_path, monkeypatch, caplog):
    path, url = _sqlite_file_url(tmp_path)
    monkeypatch.setenv("GEMINI_DATABASE_URL", url)
    committed = {registry().create_run(model_run_info={"before": n})[0].id for n in range(10)}
    db_engine.dispose_engines()  # closes the WAL into the file, so the file alone holds the registry
    undo = _make_read_only(path)
    try:
        assert {run.id for run in registry().search_runs().items} == committed  # reading still works
        with pytest.raises(DatabaseUnavailableError, match="database unavailable: .*(readonly|read-only|open)"):
            registry().create_run(model_run_info={"refused": True})
        with caplog.at_level(logging.ERROR, logger="gemini.api"):
            assert ModelRun.create(model_run_info={"refused": True}) is None
        assert "database unavailable" in caplog.records[-1].getMessage()
    finally:
        db_engine.dispose_engines()
        undo()
    assert _integrity(path) == "ok"
    assert {run.id for run in registry().search_runs().items} == committed


# -- disk full ------------------------------------------------------------------------------------------


@pytest.fixture
def small_disk():
    """A 2 MiB tmpfs mounted for the test (needs root and mount rights)."""
    mount_point = Path(tempfile.mkdtemp(prefix="gemini-full-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        mount_point.rmdir()
        pytest.skip(f"cannot mount a small tmpfs to fill ({mounted.stderr.decode().strip()})")
    try:
        yield mount_point
    finally:
        db_engine.dispose_engines()
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        mount_point.rmdir()


def test_full_disk_refuses_the_write_clearly_and_corrupts_nothing(small_disk, monkeypatch, caplog):
    path, url = _sqlite_file_url(small_disk)
    monkeypatch.setenv("GEMINI_DATABASE_URL", url)
    committed = {registry().create_run(model_run_info={"before": n})[0].id for n in range(10)}
    batch = [{"n": n, "pad": "x" * 2000} for n in range(2000)]  # about 4 MB: cannot fit
    with pytest.raises(DatabaseUnavailableError, match="database unavailable: .*(full|disk)"):
        registry().create_runs(model_run_infos=batch)
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="gemini.api"):
        assert ModelRun.create_many(batch) is None
    assert "ModelRun.create_many failed: database unavailable" in caplog.records[-1].getMessage()
    db_engine.dispose_engines()
    assert _integrity(path) == "ok"
    assert {run.id for run in registry().search_runs().items} == committed
    # Space freed (nothing was kept of the batch), so small writes work again.
    assert registry().create_run(model_run_info={"after": True})[0] is not None
