"""Fixtures shared by the whole suite: every database test runs on real SQLite and real PostgreSQL.

PostgreSQL is the server at ``GEMINI_TEST_POSTGRES_URL`` (default: the local one, user ``postgres``).
Each test session creates its own database there and drops it afterwards. When the server cannot be
reached the PostgreSQL half of the suite is skipped, except under ``CI=true``, where that is a failure.
"""

import os
import uuid

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings

from gemini.db import engine as db_engine
from gemini.db.tables import Base

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


@pytest.fixture(
    scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]
)
def database_url(request, tmp_path_factory) -> str:
    """The URL of this session's database of each kind, schema created on first use."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'gemini.db'}"
    return request.getfixturevalue("new_postgres_database")()


@pytest.fixture
def db(database_url, monkeypatch) -> str:
    """An empty registry on each database kind, made the configured one (``GEMINI_DATABASE_URL``)."""
    monkeypatch.setenv("GEMINI_DATABASE_URL", database_url)
    engine = db_engine.get_engine(database_url)
    with engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
    return database_url


@pytest.fixture
def dialect(db) -> str:
    return sa.engine.make_url(db).get_backend_name()
