"""``info @> pattern`` (PostgreSQL's JSON containment) as an SQL expression on both databases.

PostgreSQL evaluates ``@>`` itself, served by the GIN index over ``model_run_info::jsonb``. SQLite has
no such operator, so the pattern is compiled into ``json_type``/``json_extract`` tests, with a correlated
``json_each`` for arrays, following the same rules: an object matches when it has every key of the
pattern with a matching value, an array when it contains every item of the pattern, a scalar when it is
equal (numbers compare as numbers). Every key and value is a bound parameter.
"""

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB


def info_contains(column: sa.ColumnElement, pattern: dict[str, Any], dialect_name: str) -> sa.ColumnElement[bool]:
    if dialect_name == "postgresql":
        return sa.cast(column, JSONB).op("@>")(sa.bindparam(None, pattern, type_=JSONB))
    return _matches(_PathNode(column, "$"), pattern)


@dataclass(frozen=True)
class _PathNode:
    """The value at a JSON path inside a JSON text expression."""

    document: sa.ColumnElement
    path: str

    @property
    def type(self) -> sa.ColumnElement:
        return sa.func.json_type(self.document, self.path)

    @property
    def atom(self) -> sa.ColumnElement:
        return sa.func.json_extract(self.document, self.path)

    def each(self) -> sa.TableValuedAlias:
        return sa.func.json_each(self.document, self.path).table_valued("key", "value", "type", "atom")

    def child(self, key: str) -> "_PathNode | None":
        if '"' in key:  # a path label cannot quote a double quote: walk the object instead
            return None
        return _PathNode(self.document, f'{self.path}."{key}"')


@dataclass(frozen=True)
class _EachNode:
    """One element yielded by ``json_each``: its type and atom are columns, its value JSON text."""

    row: sa.TableValuedAlias

    @property
    def type(self) -> sa.ColumnElement:
        return self.row.c.type

    @property
    def atom(self) -> sa.ColumnElement:
        return self.row.c.atom

    def each(self) -> sa.TableValuedAlias:
        return _PathNode(self.row.c.value, "$").each()

    def child(self, key: str) -> _PathNode | None:
        return _PathNode(self.row.c.value, "$").child(key)


def _matches(node: _PathNode | _EachNode, pattern: Any) -> sa.ColumnElement[bool]:
    if isinstance(pattern, dict):
        conditions = [node.type == "object"]
        for key, value in pattern.items():
            child = node.child(key)
            if child is not None:
                conditions.append(_matches(child, value))
            else:
                member = node.each()
                conditions.append(
                    sa.exists().select_from(member).where(member.c.key == key, _matches(_EachNode(member), value))
                )
        return sa.and_(*conditions)
    if isinstance(pattern, list):
        conditions = [node.type == "array"]
        for item in pattern:
            element = node.each()
            conditions.append(sa.exists().select_from(element).where(_matches(_EachNode(element), item)))
        return sa.and_(*conditions)
    if pattern is None:
        return node.type == "null"
    if isinstance(pattern, bool):
        return node.type == ("true" if pattern else "false")
    if isinstance(pattern, str):
        return sa.and_(node.type == "text", node.atom == pattern)
    if isinstance(pattern, int) and not -(2**63) <= pattern < 2**63:
        pattern = float(pattern)  # SQLite reads integers beyond 64 bits as REAL too
    return sa.and_(node.type.in_(("integer", "real")), node.atom == pattern)
