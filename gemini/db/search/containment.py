"""``info @> pattern`` (PostgreSQL's JSON containment) as an SQL expression on both databases.

PostgreSQL evaluates ``@>`` itself, served by the GIN index over ``model_run_info::jsonb``. SQLite has
no such operator, so the pattern is compiled into ``json_type``/``json_extract`` tests, with a correlated
``json_each`` for arrays, following the same rules: an object matches when it has every key of the
pattern with a matching value, an array when it contains every item of the pattern, a scalar when it is
equal. Every key and value is a bound parameter.

Numbers compare as PostgreSQL compares them, by exact decimal value: ``1`` matches ``1.0``, ``2**64 + 1``
does not match ``2**64``, ``1e300`` matches ``10**300``. SQLite reads integers beyond 64 bits as doubles,
so numbers are matched on their stored JSON text instead: gemini writes every number in one canonical
form (Python's ``json``), which makes the set of texts equal to a given number small and known. The one
place SQLite cannot reach a value's text is a member whose key JSON escapes (a double quote, a backslash,
a control character: a JSON path cannot name it); there numbers are compared as doubles.
"""

import json
from dataclasses import dataclass
from decimal import Decimal
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

    @property
    def text(self) -> sa.ColumnElement:
        return self.document.op("->")(self.path)

    def each(self) -> sa.TableValuedAlias:
        return sa.func.json_each(self.document, self.path).table_valued("key", "value", "type", "atom")

    def item_text(self, element: sa.TableValuedAlias) -> sa.ColumnElement:
        """The JSON text of an array element yielded by ``each()``."""
        return self.document.op("->")(sa.func.printf("%s[%d]", self.path, element.c.key))

    def child(self, key: str) -> "_PathNode | None":
        # A path label is matched against the key as written in the JSON text, escapes included, and
        # cannot contain a double quote: walk the object for keys that JSON escapes (", \\, controls).
        if json.dumps(key, ensure_ascii=False)[1:-1] != key:
            return None
        return _PathNode(self.document, f'{self.path}."{key}"')


@dataclass(frozen=True)
class _EachNode:
    """One element yielded by ``json_each``: its type and atom are columns, its value JSON text."""

    row: sa.TableValuedAlias
    text: sa.ColumnElement | None = None
    """The element's JSON text, when its path can be written (array elements), else ``None``."""

    @property
    def type(self) -> sa.ColumnElement:
        return self.row.c.type

    @property
    def atom(self) -> sa.ColumnElement:
        return self.row.c.atom

    def each(self) -> sa.TableValuedAlias:
        return _PathNode(self.row.c.value, "$").each()

    def item_text(self, element: sa.TableValuedAlias) -> sa.ColumnElement:
        return _PathNode(self.row.c.value, "$").item_text(element)

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
            item_node = _EachNode(element, node.item_text(element))
            conditions.append(sa.exists().select_from(element).where(_matches(item_node, item)))
        return sa.and_(*conditions)
    if pattern is None:
        return node.type == "null"
    if isinstance(pattern, bool):
        return node.type == ("true" if pattern else "false")
    if isinstance(pattern, str):
        return sa.and_(node.type == "text", node.atom == pattern)
    return sa.and_(node.type.in_(("integer", "real")), _number_matches(node, pattern))


def _number_matches(node: _PathNode | _EachNode, number: int | float) -> sa.ColumnElement[bool]:
    if node.text is not None:
        return node.text.in_(sorted(_canonical_texts(number)))
    try:
        return sa.cast(node.atom, sa.Float) == float(number)
    except OverflowError:  # beyond any double: only an integer of the same text could be equal
        return node.type == "integer"


def _canonical_texts(number: int | float) -> set[str]:
    """Every JSON text Python's ``json`` writes for a number of the same decimal value as ``number``."""
    value = Decimal(repr(float(number)) if isinstance(number, float) else int(number))
    if value != value.to_integral_value():
        return {repr(float(number))}
    integer = int(value)
    texts = {str(integer)}
    try:
        as_float = float(integer)
    except OverflowError:
        return texts
    if Decimal(repr(as_float)) == integer:
        texts.add(repr(as_float))
    if integer == 0:
        texts.add("-0.0")
    return texts
