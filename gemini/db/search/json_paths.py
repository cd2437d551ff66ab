"""How a path of object keys into run info is spelled for each database: one rule for searches and for
the hot-key indexes, so that an index is built over exactly the expression a search reads."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB


def sqlite_json_path(keys: tuple[str, ...]) -> str:
    """``$."params"."lr"``: every label quoted, so dots, spaces and brackets in keys are literal."""
    return "$" + "".join(f'."{key}"' for key in keys)


def postgres_parent_and_key(
    info: sa.ColumnElement, keys: tuple[str, ...], *, literal: bool = False
) -> tuple[sa.ColumnElement, sa.ColumnElement]:
    """The json object holding the last key, and that key: bound parameters, or literals for DDL.

    The stored json is walked with json's own operators and only the value reached is cast to jsonb:
    casting a whole document for every path of every run costs several times more."""

    def key_of(key: str) -> sa.ColumnElement:
        return sa.literal(key, sa.Text) if literal else sa.bindparam(None, key, type_=sa.Text)

    parent = info
    for key in keys[:-1]:
        parent = parent.op("->", return_type=sa.JSON)(key_of(key))
    return parent, key_of(keys[-1])


def postgres_value(info: sa.ColumnElement, keys: tuple[str, ...], *, literal: bool = False) -> sa.ColumnElement:
    """``CAST(info -> k1 -> ... -> kn AS JSONB)``, the expression searches and hot-key indexes share."""
    parent, last = postgres_parent_and_key(info, keys, literal=literal)
    return sa.cast(parent.op("->", return_type=sa.JSON)(last), JSONB)
