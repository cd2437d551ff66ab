"""Alembic migrations, run programmatically: the schema follows the package, no ini file needed."""

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError

from gemini.domain.errors import DatabaseError

_SCRIPT_LOCATION = str(Path(__file__).parent)
# Any constant: serialises concurrent first starts on one PostgreSQL database.
_PG_MIGRATION_LOCK_KEY = 727_465_001


def alembic_config(connection: sa.Connection | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", _SCRIPT_LOCATION)
    config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(connection: sa.Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: sa.Engine) -> None:
    """Bring the database to the newest revision; a no-op (one query) when it is already there.

    The check and the upgrade run in one write transaction that other processes wait for (SQLite's
    ``BEGIN IMMEDIATE``, an advisory lock on PostgreSQL), so concurrent first starts upgrade once.
    """
    head = head_revision()
    with engine.connect() as connection:
        if _table_exists(connection) and current_revision(connection) == head:
            return
    with engine.execution_options(gemini_write=True).begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_PG_MIGRATION_LOCK_KEY)))
        current = current_revision(connection)
        if current != head:
            _refuse_a_newer_schema(current)
            command.upgrade(alembic_config(connection), "head")


def _refuse_a_newer_schema(current: str | None) -> None:
    """A database a newer gemini has upgraded has a revision this one does not know: one clear error,
    rather than Alembic's traceback (the schema is left as it is)."""
    if current is None:
        return
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(current)
    except CommandError:
        from gemini import __version__

        raise DatabaseError(
            f"the database's schema is at revision {current}, newer than this gemini {__version__} knows "
            f"(its newest is {head_revision()}): a newer gemini has upgraded it; upgrade gemini here "
            "(pip install -U gemini-model-registry) to use this database"
        ) from None


def _table_exists(connection: sa.Connection) -> bool:
    return sa.inspect(connection).has_table("alembic_version")
