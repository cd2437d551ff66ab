"""Indexes over run info beyond the GIN index: SQLite's (path, value) table and declared hot keys.

SQLite has no index type for JSON documents, so ``model_run_info_values`` holds, for every run, each
string (up to ``MAX_INDEXED_TEXT`` characters) and integer (below 2**53 in magnitude, integral floats
included) of its info reached through object keys only, as (path, value, run id). An equality on such a
path (``where a.b = "x"``, containment) then looks the pair up instead of reading every run. Paths are
spelled the way SQLite's ``json_tree`` spells them (``$.params."learning_rate"``), which ``tree_path``
reproduces.

Who keeps the table: the repositories write the rows of every run they insert (``add_leaves``), from
the info already in memory; triggers of migration 0002 remove a run's rows when it is deleted and
rewrite them when its info is replaced. Inserting through a trigger made SQLite walk each new run's
JSON again with ``json_tree``, about 0.3 ms a run and most of the cost of a bulk load, so migration 0003
dropped that trigger. Runs must therefore be inserted through gemini (the API, REST, the CLI and
``gemini db import`` all are); a run inserted by other means is missed only by the (path, value)
lookups.

A hot key is a path the user declares for ranges and sorting. On PostgreSQL it is an expression index on
``CAST(model_run_info -> key -> ... AS JSONB)``, the very expression searches use. On SQLite it is a
virtual generated column holding the value when it is a number or a string, with an index on it. The
declared keys are kept in ``info_hot_keys`` so that they outlive the process.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gemini.db.tables import InfoHotKeyRow, model_run_info_values

MAX_INDEXED_TEXT = 128
"""Longest string value kept in SQLite's (path, value) table, in characters."""

VALUES_TABLE = "model_run_info_values"
HOT_KEYS_TABLE = "info_hot_keys"

info_values = model_run_info_values
hot_keys = InfoHotKeyRow.__table__

# Keys a lookup never names (``sqlite_value_lookup`` refuses them), so their leaves are not kept.
_UNINDEXED_KEY = re.compile(r'["\[\]\\\x00-\x1f]').search
_SIMPLE_LABEL = re.compile(r"[A-Za-z][A-Za-z0-9]*\Z").match
_EXACT_LIMIT = 2**53


def _path_step(key: str) -> str:
    return f".{key}" if _SIMPLE_LABEL(key) else f'."{key}"'


# Info keys repeat from run to run: their path steps (None for a key no lookup names) are remembered.
_step_cache: dict[str, str | None] = {}


def _cached_step(key: str) -> str | None:
    step = _step_cache.get(key, _NO_STEP)
    if step is _NO_STEP:
        if len(_step_cache) > 100_000:
            _step_cache.clear()
        step = _step_cache[key] = None if _UNINDEXED_KEY(key) else _path_step(key)
    return step


_NO_STEP: Any = object()


def _leaf_rows(node: dict[str, Any], path: str, run_id: str, rows: list[tuple[str, Any, str]]) -> None:
    for key, value in node.items():
        step = _cached_step(key)
        if step is None:
            continue
        kind = type(value)
        # Plain strings, integers and floats, nearly every leaf, take ``_indexed_form``'s rule inline (a
        # call per leaf costs about 10 µs a run, a third of this walk); other values go through it.
        if kind is str:
            if len(value) <= MAX_INDEXED_TEXT:
                rows.append((path + step, value, run_id))
        elif kind is int:
            if -_EXACT_LIMIT < value < _EXACT_LIMIT:
                rows.append((path + step, value, run_id))
        elif kind is float:
            if value.is_integer() and -_EXACT_LIMIT < value < _EXACT_LIMIT:
                rows.append((path + step, int(value), run_id))
        elif kind is dict or isinstance(value, dict):
            _leaf_rows(value, path + step, run_id, rows)
        elif value is not None and kind is not bool and not isinstance(value, list):
            kept = _indexed_form(value)
            if kept is not _NOT_KEPT:
                rows.append((path + step, kept, run_id))


def add_leaves(connection: sa.Connection, runs: Iterable[tuple[uuid.UUID, dict[str, Any]]]) -> None:
    """On SQLite, write the (path, value) rows of newly inserted runs; nothing to do on PostgreSQL."""
    if connection.dialect.name != "sqlite":
        return
    rows: list[tuple[str, Any, str]] = []
    for run_id, info in runs:
        _leaf_rows(info, "$", run_id.hex, rows)
    if rows:
        connection.exec_driver_sql(f"INSERT OR IGNORE INTO {VALUES_TABLE} (path, value, run_id) VALUES (?, ?, ?)", rows)


def tree_path(keys: tuple[str, ...]) -> str:
    """The ``fullkey`` SQLite's ``json_tree`` gives the value at these object keys."""
    return "$" + "".join(_path_step(key) for key in keys)


def _indexed_form(value: Any) -> Any:
    """The value as the table keeps it (a plain int or str, subclasses such as enums included), or
    ``_NOT_KEPT``. Both the rows written and the lookups go through it."""
    if isinstance(value, bool):
        return _NOT_KEPT
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int):
        # Up to 2**53 integers and doubles convert exactly, so the table's atoms (which SQLite may have
        # read as doubles) compare by decimal value as search must; beyond, the exact test decides alone.
        return int(value) if -_EXACT_LIMIT < value < _EXACT_LIMIT else _NOT_KEPT
    if isinstance(value, str) and len(value) <= MAX_INDEXED_TEXT:
        return str.__str__(value)
    return _NOT_KEPT


_NOT_KEPT: Any = object()


def sqlite_value_lookup(keys: tuple[str, ...], values: list[Any]) -> sa.Select | None:
    """Ids of runs whose info holds one of ``values`` at ``keys``, from the (path, value) table; ``None``
    when the table cannot answer (a value or key it does not keep)."""
    values = [_indexed_form(value) for value in values]
    if not keys or any(_UNINDEXED_KEY(key) for key in keys) or _NOT_KEPT in values:
        return None
    condition = info_values.c.value == values[0] if len(values) == 1 else info_values.c.value.in_(values)
    return sa.select(info_values.c.run_id).where(info_values.c.path == tree_path(keys), condition)


def containment_lookup(pattern: dict[str, Any]) -> list[sa.Select]:
    """Lookups for the leaves of a containment pattern reached through objects only (at most three)."""
    lookups: list[sa.Select] = []

    def walk(node: dict[str, Any], keys: tuple[str, ...]) -> None:
        for key, value in node.items():
            if isinstance(value, dict):
                walk(value, (*keys, key))
            elif not isinstance(value, list):
                lookup = sqlite_value_lookup((*keys, key), [value])
                if lookup is not None and len(lookups) < 3:
                    lookups.append(lookup)

    walk(pattern, ())
    return lookups


# -- hot keys ----------------------------------------------------------------------------------------


def hot_key_name(keys: tuple[str, ...]) -> str:
    """A stable column/index name for a path: ``hot_`` and 16 hex digits of its hash."""
    return "hot_" + hashlib.sha256(json.dumps(list(keys), ensure_ascii=False).encode()).hexdigest()[:16]


def _literal(value: str, dialect: sa.Dialect) -> str:
    # DDL cannot take bound parameters; the dialect's own literal renderer escapes the text.
    return str(sa.literal(value, sa.Text).compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def postgres_path_expression(keys: tuple[str, ...]) -> sa.ColumnElement:
    """The expression searches read a path with (see ``gemini.db.query_compiler``), keys as literals."""
    value = sa.column("model_run_info")
    for key in keys:
        value = value.op("->", return_type=sa.JSON)(sa.literal(key, sa.Text))
    return sa.cast(value, JSONB)


def create_hot_key(connection: sa.Connection, keys: tuple[str, ...], created_at: Any) -> bool:
    """Declare ``keys`` hot (index and record); ``False`` when it already was."""
    path = json.dumps(list(keys), ensure_ascii=False)
    if connection.execute(sa.select(hot_keys.c.name).where(hot_keys.c.path == path)).first() is not None:
        return False
    name = hot_key_name(keys)
    dialect = connection.dialect
    if dialect.name == "postgresql":
        expression = postgres_path_expression(keys)
        sql = expression.compile(dialect=dialect, compile_kwargs={"literal_binds": True})
        connection.exec_driver_sql(f'CREATE INDEX IF NOT EXISTS "ix_model_runs_{name}" ON model_runs (({sql}))')
    else:
        json_path = _literal("$" + "".join(f'."{key}"' for key in keys), dialect)
        columns = {row[1] for row in connection.exec_driver_sql("PRAGMA table_xinfo(model_runs)")}
        if name not in columns:
            connection.exec_driver_sql(
                f'ALTER TABLE model_runs ADD COLUMN "{name}" GENERATED ALWAYS AS '
                f"(CASE WHEN json_type(model_run_info, {json_path}) IN ('integer', 'real', 'text') "
                f"THEN json_extract(model_run_info, {json_path}) END) VIRTUAL"
            )
        connection.exec_driver_sql(f'CREATE INDEX IF NOT EXISTS "ix_model_runs_{name}" ON model_runs ("{name}")')
    connection.execute(sa.insert(hot_keys).values(path=path, name=name, created_at=created_at))
    return True


def drop_hot_key(connection: sa.Connection, keys: tuple[str, ...]) -> bool:
    """Undeclare ``keys``; ``False`` when it was not declared."""
    path = json.dumps(list(keys), ensure_ascii=False)
    name = connection.execute(sa.select(hot_keys.c.name).where(hot_keys.c.path == path)).scalar()
    if name is None:
        return False
    connection.exec_driver_sql(f'DROP INDEX IF EXISTS "ix_model_runs_{name}"')
    if connection.dialect.name == "sqlite":
        connection.exec_driver_sql(f'ALTER TABLE model_runs DROP COLUMN "{name}"')
    connection.execute(sa.delete(hot_keys).where(hot_keys.c.path == path))
    return True


def list_hot_keys(connection: sa.Connection) -> list[tuple[tuple[str, ...], str, Any]]:
    """Every declared hot key: (keys, column/index name, when declared), oldest first."""
    rows = connection.execute(sa.select(hot_keys).order_by(hot_keys.c.created_at, hot_keys.c.path))
    return [(tuple(json.loads(row.path)), row.name, row.created_at) for row in rows]


def hot_columns(connection: sa.Connection) -> dict[tuple[str, ...], str]:
    """On SQLite, the generated column of each hot key (searches read it instead of the JSON)."""
    if connection.dialect.name != "sqlite":
        return {}
    return {keys: name for keys, name, _ in list_hot_keys(connection)}
