"""The database itself: where it is, which schema version it has, what it holds, whether it answers."""

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from gemini.config import get_settings
from gemini.db import migrations
from gemini.db.engine import create_database_engine, unit_of_work
from gemini.db.errors import translate_database_errors
from gemini.db.repositories import ExperimentRepository, ModelRepository, ModelRunRepository
from gemini.domain.errors import DatabaseUnavailableError, InvalidInputError


@dataclass(frozen=True, slots=True)
class DatabaseInfo:
    """What ``gemini db info`` shows. Counts are ``None`` until the schema is at the newest revision."""

    url: str
    """The database URL with any password replaced by ``***``."""
    dialect: str
    schema_revision: str | None
    """The Alembic revision the database is at; ``None`` for a database gemini has not set up yet."""
    head_revision: str
    model_count: int | None
    model_run_count: int | None
    experiment_count: int | None

    @property
    def up_to_date(self) -> bool:
        return self.schema_revision == self.head_revision


@dataclass(frozen=True, slots=True)
class SchemaUpgrade:
    url: str
    revision_before: str | None
    revision_after: str | None


def displayable_url(url: str | None = None) -> str:
    """``url`` (default: the configured one) with its password hidden, safe to print or log."""
    url = url or get_settings().resolved_database_url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError as exc:
        raise InvalidInputError(f"the database URL is not a valid SQLAlchemy URL ({exc})") from exc


def _sqlite_file_missing(url: str) -> bool:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    database = parsed.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return False
    return not Path(database).expanduser().exists()


def _engine_for(url: str) -> sa.Engine:
    try:
        return create_database_engine(url)
    except OSError as exc:  # e.g. the directory for an SQLite file cannot be created
        raise DatabaseUnavailableError(f"database unavailable: {exc}") from exc


def database_info(*, url: str | None = None) -> DatabaseInfo:
    """Describe the database without changing it: an older schema is reported, not upgraded, and a
    missing SQLite file is reported, not created."""
    url = url or get_settings().resolved_database_url
    shown = displayable_url(url)
    dialect = make_url(url).get_backend_name()
    head = migrations.head_revision()
    if _sqlite_file_missing(url):
        return DatabaseInfo(shown, dialect, None, head, None, None, None)
    with translate_database_errors():
        engine = _engine_for(url)
        try:
            with engine.connect() as connection:
                revision = migrations.current_revision(connection)
                if revision != head:
                    return DatabaseInfo(shown, dialect, revision, head, None, None, None)
                return DatabaseInfo(
                    shown,
                    dialect,
                    revision,
                    head,
                    model_count=ModelRepository(connection).count(),
                    model_run_count=ModelRunRepository(connection).count(),
                    experiment_count=ExperimentRepository(connection).count(),
                )
        finally:
            engine.dispose()


def upgrade_database(*, url: str | None = None) -> SchemaUpgrade:
    """Apply every pending migration (creating the schema in an empty database)."""
    url = url or get_settings().resolved_database_url
    shown = displayable_url(url)
    with translate_database_errors():
        engine = _engine_for(url)
        try:
            with engine.connect() as connection:
                before = migrations.current_revision(connection)
            migrations.upgrade_to_head(engine)
            with engine.connect() as connection:
                after = migrations.current_revision(connection)
        finally:
            engine.dispose()
    return SchemaUpgrade(shown, before, after)


def check_database() -> str | None:
    """Connect to the configured database and return its schema revision.

    Raises ``DatabaseUnavailableError`` when it cannot be reached; used by health checks.
    """
    with unit_of_work() as connection:
        return migrations.current_revision(connection)
