"""Fixtures shared by the whole suite: every database test runs on real SQLite and real PostgreSQL.

PostgreSQL is the server at ``GEMINI_TEST_POSTGRES_URL`` (default: the local one, user ``postgres``).
Each test session creates its own database there and drops it afterwards. When the server cannot be
reached the PostgreSQL half of the suite is skipped, except under ``CI=true``, where that is a failure.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from gemini.db import engine as db_engine
from gemini.db.tables import Base
from gemini.registry import CheckedRegistry, database_transport
from gemini.remote import http
from tests.network import free_loopback_port
from tests.s3_support import S3Server, new_root, running_s3_server

POSTGRES_SERVER_URL = os.environ.get(
    "GEMINI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)

settings.register_profile(
    "gemini", deadline=None, max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("gemini")


def postgres_unreachable(reason: str) -> None:
    message = (
        f"PostgreSQL is not reachable at {POSTGRES_SERVER_URL} ({reason}). Start it, or point "
        "GEMINI_TEST_POSTGRES_URL at a server where this user may CREATE DATABASE, to run these tests."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_server() -> sa.Engine:
    """An autocommit connection to the server's maintenance database, for CREATE/DROP DATABASE."""
    engine = sa.create_engine(POSTGRES_SERVER_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    except sa.exc.OperationalError as exc:
        engine.dispose()
        postgres_unreachable(str(exc.orig).strip().splitlines()[0])
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def new_postgres_database(postgres_server):
    """A factory of fresh, empty PostgreSQL databases, all dropped at the end of the session."""
    created = []

    def make() -> str:
        name = f"gemini_test_{uuid.uuid4().hex[:12]}"
        with postgres_server.connect() as connection:
            connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
        created.append(name)
        return sa.engine.make_url(POSTGRES_SERVER_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    db_engine.dispose_engines()
    with postgres_server.connect() as connection:
        for name in created:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def sqlite_database_url(tmp_path_factory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'gemini.db'}"


@pytest.fixture(scope="session")
def postgresql_database_url(new_postgres_database) -> str:
    return new_postgres_database()


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def database_url(request) -> str:
    """The URL of this session's database of each kind, schema created on first use."""
    return request.getfixturevalue(f"{request.param}_database_url")


def empty_registry(database_url: str, monkeypatch: pytest.MonkeyPatch, artifact_root: Path) -> str:
    """Make ``database_url`` the configured database (``GEMINI_DATABASE_URL``), with no rows in it, and
    ``artifact_root`` its artifact store (``GEMINI_ARTIFACT_ROOT``)."""
    monkeypatch.setenv("GEMINI_DATABASE_URL", database_url)
    monkeypatch.setenv("GEMINI_ARTIFACT_ROOT", str(artifact_root))
    engine = db_engine.get_engine(database_url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return database_url


def as_client_without_aws(server_url: str, database_url: str, monkeypatch: pytest.MonkeyPatch, artifact_root: str) -> str:
    """This process as a training node of the server at ``server_url`` on a bucket: no AWS variable (the
    server signs for the store), and the server's registry emptied."""
    for key in [key for key in os.environ if key.startswith("AWS_")]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("GEMINI_API_URL", server_url)
    return empty_registry(database_url, monkeypatch, artifact_root)


@pytest.fixture
def db(database_url, monkeypatch, tmp_path) -> str:
    """An empty registry on each database kind, made the configured one (``GEMINI_DATABASE_URL``), with
    an empty artifact store of its own (``GEMINI_ARTIFACT_ROOT``)."""
    return empty_registry(database_url, monkeypatch, tmp_path / "artifact-store")


@dataclass(frozen=True)
class RemoteRegistry:
    """The session's ``gemini serve``, and the database it serves."""

    url: str
    database_url: str
    artifact_root: Path | str  # a directory, or an s3:// root


@pytest.fixture(scope="session")
def remote_registry(tmp_path_factory) -> Iterator[RemoteRegistry]:
    """One real ``gemini serve`` on a free loopback port for the whole session, on its own SQLite file."""
    directory = tmp_path_factory.mktemp("remote")
    database_url = f"sqlite:///{directory / 'gemini.db'}"
    artifact_root = directory / "artifact-store"
    with running_gemini_server(
        database_url=database_url, log_path=directory / "serve.log", artifact_root=artifact_root
    ) as served:
        yield RemoteRegistry(url=served.url, database_url=database_url, artifact_root=artifact_root)


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory) -> Iterator[S3Server]:
    """The session's S3-protocol server (moto's server mode on loopback), with the test bucket."""
    with running_s3_server(tmp_path_factory.mktemp("s3")) as server:
        yield server


@pytest.fixture
def s3_root(s3_server, monkeypatch) -> str:
    """A fresh ``s3://`` root in the session's bucket, with the AWS variables that reach it set. Unused
    blobs are collected at once (no grace period), as the directory store does."""
    for key, value in s3_server.environment.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("GEMINI_ARTIFACT_GC_GRACE_SECONDS", "0")
    return new_root()


@pytest.fixture(scope="session")
def remote_registry_s3(tmp_path_factory, s3_server) -> Iterator[RemoteRegistry]:
    """A real ``gemini serve`` whose artifact store is the session's bucket (presigned URLs on)."""
    directory = tmp_path_factory.mktemp("remote-s3")
    database_url = f"sqlite:///{directory / 'gemini.db'}"
    root = new_root()
    with running_gemini_server(
        database_url=database_url,
        log_path=directory / "serve.log",
        settings={"GEMINI_ARTIFACT_ROOT": root, "GEMINI_ARTIFACT_GC_GRACE_SECONDS": "0", **s3_server.environment},
    ) as served:
        yield RemoteRegistry(url=served.url, database_url=database_url, artifact_root=root)


REGISTRY_MODES = [
    "sqlite",
    pytest.param("postgresql", marks=pytest.mark.postgresql),
    pytest.param("remote", marks=pytest.mark.remote),
]


@pytest.fixture(params=REGISTRY_MODES)
def registry_url(request, monkeypatch) -> str:
    """An empty registry, used locally on SQLite, locally on PostgreSQL, or through the session's server
    (``GEMINI_API_URL``). The database URL is returned and configured in every mode, so a test can look
    at the rows directly; in remote mode it is the server's database."""
    return registry_on_store(request, monkeypatch)


STORE_REGISTRY_MODES = [
    *REGISTRY_MODES,
    pytest.param("postgresql-s3", marks=pytest.mark.postgresql),
    pytest.param("remote-s3", marks=pytest.mark.remote),
]
"""``REGISTRY_MODES``, and the same with the artifact store in a bucket: locally on PostgreSQL, and
through a server (whose clients then hold no AWS variable at all: the server signs)."""


def registry_on_store(request, monkeypatch: pytest.MonkeyPatch) -> str:
    """The registry of ``request.param`` (one of ``STORE_REGISTRY_MODES``), empty and configured: the
    body of every ``registry_url`` fixture."""
    mode = request.param
    if mode == "remote-s3":
        served = request.getfixturevalue("remote_registry_s3")
        return as_client_without_aws(served.url, served.database_url, monkeypatch, served.artifact_root)
    if mode == "postgresql-s3":
        bucket = request.getfixturevalue("s3_root")
        return empty_registry(request.getfixturevalue("postgresql_database_url"), monkeypatch, bucket)
    if mode == "remote":
        served = request.getfixturevalue("remote_registry")
        monkeypatch.setenv("GEMINI_API_URL", served.url)
        return empty_registry(served.database_url, monkeypatch, served.artifact_root)
    artifact_root = request.getfixturevalue("tmp_path") / "artifact-store"
    return empty_registry(request.getfixturevalue(f"{mode}_database_url"), monkeypatch, artifact_root)


@pytest.fixture
def dialect(db) -> str:
    return sa.engine.make_url(db).get_backend_name()


@dataclass
class ServedGemini:
    """A ``gemini serve`` process started by a test, with its output in ``log_path``."""

    url: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> int:
        """Ctrl-C, as a user stops it; killed if it has not exited after 15 s. Returns the exit code."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


SERVER_START_SECONDS = 60


def gemini_command() -> list[str]:
    script = Path(sys.executable).with_name("gemini")
    found = str(script) if script.exists() else shutil.which("gemini")
    if found is None:
        pytest.fail("the gemini console script is not installed (pip install -e '.[dev]')", pytrace=False)
    return [found]


@contextlib.contextmanager
def running_gemini_server(
    *,
    database_url: str,
    log_path: Path,
    token: str | None = None,
    args: tuple[str, ...] = (),
    artifact_root: Path | None = None,
    port: int | None = None,
    settings: dict[str, str] | None = None,
) -> Iterator[ServedGemini]:
    """``gemini serve [ARGS]`` as a real process on a free loopback port, ready (``/api/health`` answers 200).

    ``settings`` are environment variables of the server's (``{"GEMINI_MAX_INFO_BYTES": "4096"}``)."""
    port = port or free_loopback_port()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("GEMINI_")}
    environment["GEMINI_SPOOL_PATH"] = str(log_path.with_name("server-spool.sqlite"))
    environment["GEMINI_DATABASE_URL"] = database_url
    if artifact_root is not None:
        environment["GEMINI_ARTIFACT_ROOT"] = str(artifact_root)
    if token:
        environment["GEMINI_API_TOKEN"] = token
    environment.update(settings or {})
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [*gemini_command(), "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=environment,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    served = ServedGemini(url=f"http://127.0.0.1:{port}", process=process, log_path=log_path)
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        while True:
            if process.poll() is not None:
                pytest.fail(f"gemini serve exited with {process.returncode}:\n{served.log()}")
            try:
                if httpx.get(f"{served.url}/api/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"gemini serve did not answer on {served.url} within {SERVER_START_SECONDS} s:\n{served.log()}")
            time.sleep(0.1)
        yield served
    finally:
        served.stop()


@pytest.fixture(scope="session")
def gemini_server(tmp_path_factory) -> Callable[..., contextlib.AbstractContextManager[ServedGemini]]:
    """Start real servers: ``with gemini_server(database_url, token=None, args=()) as served: served.url``."""

    def start(
        database_url: str, token: str | None = None, args: tuple[str, ...] = ()
    ) -> contextlib.AbstractContextManager[ServedGemini]:
        log_path = tmp_path_factory.mktemp("gemini-serve") / "serve.log"
        return running_gemini_server(database_url=database_url, log_path=log_path, token=token, args=args)

    return start


class RestartableServer:
    """A ``gemini serve`` on one port and one database, stopped and started again by the test."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.database_url = f"sqlite:///{directory / 'gemini.db'}"
        self.artifact_root = directory / "artifact-store"
        self.port = free_loopback_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._running = None
        self._starts = 0

    def start(self) -> None:
        self._starts += 1
        self._running = running_gemini_server(
            database_url=self.database_url,
            log_path=self.directory / f"serve-{self._starts}.log",
            artifact_root=self.artifact_root,
            port=self.port,
        )
        self.served = self._running.__enter__()

    def stop(self) -> None:
        if self._running is not None:
            self._running.__exit__(None, None, None)
            self._running = None


def server_database() -> CheckedRegistry:
    """The server's database, read directly: what arrived, whatever the client's GEMINI_API_URL says."""
    return CheckedRegistry(database_transport())


@pytest.fixture
def spooling_server(tmp_path, monkeypatch):
    """A ``RestartableServer`` the client uses (``GEMINI_API_URL``) with no retries and a spool of its
    own; the test process reads the server's database directly (``server_database()``)."""
    served = RestartableServer(tmp_path)
    served.start()
    monkeypatch.setenv("GEMINI_API_URL", served.url)
    monkeypatch.setenv("GEMINI_API_RETRIES", "0")
    monkeypatch.setenv("GEMINI_SPOOL_PATH", str(tmp_path / "client" / "spool.sqlite"))
    # The test process reads the server's database directly to check what arrived.
    monkeypatch.setenv("GEMINI_DATABASE_URL", served.database_url)
    monkeypatch.setenv("GEMINI_ARTIFACT_ROOT", str(served.artifact_root))
    yield served
    served.stop()
    http.close_all()
