"""Hot keys: info paths the user declares for ranges and sorting, each with its own index.

On PostgreSQL a hot key is an expression index on ``CAST(model_run_info -> key -> ... AS JSONB)``, the
very expression searches use. On SQLite it is a virtual generated column holding the value when it is a
number or a string, with an index on it. The declared keys are kept in ``info_hot_keys`` so that they
outlive the process.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NamedTuple

import sqlalchemy as sa

from gemini.db.search.json_paths import postgres_value, sqlite_json_path
from gemini.db.tables import InfoHotKeyRow

HOT_KEYS_TABLE = "info_hot_keys"

hot_keys = InfoHotKeyRow.__table__


class DeclaredHotKey(NamedTuple):
    keys: tuple[str, ...]
    name: str
    """Of SQLite's generated column; the index is ``index_name``."""
    created_at: Any

    @property
    def index_name(self) -> str:
        return index_name(self.name)


def hot_key_name(keys: tuple[str, ...]) -> str:
    """A stable column name for a path: ``hot_`` and 16 hex digits of its hash."""
    return "hot_" + hashlib.sha256(json.dumps(list(keys), ensure_ascii=False).encode()).hexdigest()[:16]


def index_name(name: str) -> str:
    """The index of the hot key whose column is ``name``."""
    return f"ix_model_runs_{name}"


def _literal(value: str, dialect: sa.Dialect) -> str:
    # DDL cannot take bound parameters; the dialect's own literal renderer escapes the text.
    return str(sa.literal(value, sa.Text).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def create_hot_key(connection: sa.Connection, keys: tuple[str, ...], created_at: Any) -> bool:
    """Declare ``keys`` hot (index and record); ``False`` when it already was."""
    path = json.dumps(list(keys), ensure_ascii=False)
    if connection.execute(sa.select(hot_keys.c.name).where(hot_keys.c.path == path)).first() is not None:
        return False
    name = hot_key_name(keys)
    index = index_name(name)
    dialect = connection.dialect
    if dialect.name == "postgresql":
        expression = postgres_value(sa.column("model_run_info"), keys, literal=True)
        sql = expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        connection.exec_driver_sql(f'CREATE INDEX IF NOT EXISTS "{index}" ON model_runs (({sql}))')
    else:
        json_path = _literal(sqlite_json_path(keys), dialect)
        columns = {row[1] for row in connection.exec_driver_sql("PRAGMA table_xinfo(model_runs)")}
        if name not in columns:
            connection.exec_driver_sql(
                f'ALTER TABLE model_runs ADD COLUMN "{name}" GENERATED ALWAYS AS '
                f"(CASE WHEN json_type(model_run_info, {json_path}) IN ('integer', 'real', 'text') "
                f"THEN json_extract(model_run_info, {json_path}) END) VIRTUAL"
            )
        connection.exec_driver_sql(f'CREATE INDEX IF NOT EXISTS "{index}" ON model_runs ("{name}")')
    connection.execute(sa.insert(hot_keys).values(path=path, name=name, created_at=created_at))
    return True


def drop_hot_key(connection: sa.Connection, keys: tuple[str, ...]) -> bool:
    """Undeclare ``keys``; ``False`` when it was not declared."""
    path = json.dumps(list(keys), ensure_ascii=False)
    name = connection.execute(sa.select(hot_keys.c.name).where(hot_keys.c.path == path)).scalar()
    if name is None:
        return False
    connection.exec_driver_sql(f'DROP INDEX IF EXISTS "{index_name(name)}"')
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f'ALTER TABLE model_runs DROP COLUMN "{name}"')
    connection.execute(sa.delete(hot_keys).where(hot_keys.c.path == path))
    return True


def list_hot_keys(connection: sa.Connection) -> list[DeclaredHotKey]:
    """Every declared hot key, oldest first."""
    rows = connection.execute(sa.select(hot_keys).order_by(hot_keys.c.created_at, hot_keys.c.path))
    return [DeclaredHotKey(tuple(json.loads(row.path)), row.name, row.created_at) for row in rows]


def hot_columns(connection: sa.Connection) -> dict[tuple[str, ...], str]:
    """On SQLite, the generated column of each hot key (searches read it instead of the JSON)."""
    if connection.dialect.name != "sqlite":
        return {}
    return {key.keys: key.name for key in list_hot_keys(connection)}
