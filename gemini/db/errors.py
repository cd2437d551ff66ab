"""Database exceptions translated into ``gemini.domain.errors``, in this one place, per dialect."""

import contextlib
from collections.abc import Iterator

import sqlalchemy as sa
import sqlalchemy.exc as sa_exc

from gemini.domain.errors import ConflictError, DatabaseError, DatabaseUnavailableError, InvalidInputError

# SQLSTATE classes (PostgreSQL) meaning the server cannot be used right now, rather than a bad statement.
_PG_UNAVAILABLE_CLASSES = ("08", "53", "57")  # connection, insufficient resources, operator intervention
_SQLITE_UNAVAILABLE_WORDS = (
    "unable to open",
    "disk i/o error",
    "database or disk is full",
    "readonly database",
    "database is locked",
    "file is not a database",
    "disk image is malformed",
)


@contextlib.contextmanager
def driver_calls(connection: sa.Connection) -> Iterator[None]:
    """Around calls on the driver's own connection (``COPY``, binary cursors, ``executemany``), which
    raise the driver's exceptions: they leave as SQLAlchemy's, so that ``translate_database_errors``
    gives them the domain's types like any other."""
    driver = connection.dialect.loaded_dbapi
    try:
        yield
    except driver.Error as exc:
        raise sa_exc.DBAPIError.instance(None, None, exc, driver.Error) from exc


def _sqlstate(exc: sa_exc.DBAPIError) -> str:
    return getattr(exc.orig, "sqlstate", None) or ""


def _is_unreachable_server(exc: sa_exc.DBAPIError) -> bool:
    # psycopg raises OperationalError without a SQLSTATE when it cannot connect at all.
    return (
        isinstance(exc, sa_exc.OperationalError)
        and type(exc.orig).__module__.startswith("psycopg")
        and not _sqlstate(exc)
    )


def _first_line(exc: sa_exc.DBAPIError) -> str:
    return str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)


@contextlib.contextmanager
def translate_database_errors() -> Iterator[None]:
    try:
        yield
    except sa_exc.IntegrityError as exc:
        message = _first_line(exc)
        lowered = message.lower()
        if "unique" in lowered or "duplicate" in lowered or _sqlstate(exc) == "23505":
            raise ConflictError(f"conflicts with an existing record ({message})") from exc
        raise InvalidInputError(f"rejected by the database ({message})") from exc
    except sa_exc.DBAPIError as exc:
        message = _first_line(exc)
        state = _sqlstate(exc)
        lowered = message.lower()
        if (
            exc.connection_invalidated
            or _is_unreachable_server(exc)
            or isinstance(exc, sa_exc.InterfaceError)
            or state.startswith(_PG_UNAVAILABLE_CLASSES)
            or any(word in lowered for word in _SQLITE_UNAVAILABLE_WORDS)
        ):
            raise DatabaseUnavailableError(f"database unavailable: {message}") from exc
        if state.startswith("22"):  # data exception: a value the database cannot store
            raise InvalidInputError(f"rejected by the database ({message})") from exc
        raise DatabaseError(f"database error: {message}") from exc
    except sa_exc.SQLAlchemyError as exc:
        raise DatabaseError(f"database error: {exc}") from exc
