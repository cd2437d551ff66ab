"""SQLite's (path, value) index over run info: ``model_run_info_values``.

SQLite has no index type for JSON documents, so ``model_run_info_values`` holds, for every run, each
string (up to ``MAX_INDEXED_TEXT`` characters) and integer (below 2**53 in magnitude, integral floats
included) of its info reached through object keys only, as (path, value, run id). An equality on such a
path (``where a.b = "x"``, containment) then looks the pair up instead of reading every run. Paths are
spelled the way SQLite's ``json_tree`` spells them (``$.params."learning_rate"``), which ``tree_path``
reproduces.

This module is the one owner of those rows, and ``_leaf_rows`` their one rule: the repositories call
``add_leaves`` for every run they insert, ``remove_leaves`` for every run they delete and both when a
run's info is replaced, always from the info they hold (no trigger, no second rule in SQL). A lookup
only narrows the candidates, and every search still applies the exact test to them, so a row left
behind costs nothing but space; a missing row would hide a run. Runs must therefore be inserted and
changed through gemini (the API, REST, the CLI and ``gemini db import`` all are).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from gemini.db.tables import model_run_info_values

MAX_INDEXED_TEXT = 128
"""Longest string value kept in SQLite's (path, value) table, in characters."""

VALUES_TABLE = "model_run_info_values"

info_values = model_run_info_values

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
        # Plain strings, integers and floats, nearly every leaf, take ``_indexed_form``'s rule inline
        # (this walk runs for every leaf written); other values go through it.
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


def _rows_of(runs: Iterable[tuple[uuid.UUID, dict[str, Any]]]) -> list[tuple[str, Any, str]]:
    rows: list[tuple[str, Any, str]] = []
    for run_id, info in runs:
        _leaf_rows(info, "$", run_id.hex, rows)
    return rows


def add_leaves(connection: sa.Connection, runs: Iterable[tuple[uuid.UUID, dict[str, Any]]]) -> None:
    """On SQLite, write the (path, value) rows of newly inserted runs; nothing to do on PostgreSQL."""
    if connection.dialect.name != "sqlite":
        return
    rows = _rows_of(runs)
    if rows:
        connection.exec_driver_sql(f"INSERT OR IGNORE INTO {VALUES_TABLE} (path, value, run_id) VALUES (?, ?, ?)", rows)


def remove_leaves(connection: sa.Connection, runs: Iterable[tuple[uuid.UUID, dict[str, Any]]]) -> None:
    """On SQLite, delete the (path, value) rows of runs given with the info they held; each row is found
    by its key, so this costs what writing them did."""
    if connection.dialect.name != "sqlite":
        return
    rows = _rows_of(runs)
    if rows:
        connection.exec_driver_sql(f"DELETE FROM {VALUES_TABLE} WHERE path = ? AND value = ? AND run_id = ?", rows)


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
