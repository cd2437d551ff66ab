"""The meaning of a ``where`` expression and an ``order_by``, evaluated in Python over one run.

This is the reference the SQL of both databases is tested against, and it states the rules:

- A path reaches a value through object keys only; a missing key, or a step into a non-object, means
  the value is missing.
- A comparison holds only when the value exists and has the literal's type: numbers (integers and
  floats alike, compared as numbers), strings (compared by code point), booleans (``=``/``!=`` only).
  ``= null`` holds for a JSON null; ``!= null`` for any value that exists and is not null. A type
  mismatch, a missing value, an object or an array never satisfies a comparison, ``!=`` included.
- ``in`` holds when some listed literal compares equal; ``not in`` when the value has the type of at
  least one listed literal and equals none of them.
- ``glob`` and ``startswith`` hold only for strings; in a glob ``*`` is any run of characters and ``?``
  exactly one, everything else (``[``, ``\\``) is literal; both are case-sensitive.
- ``exists(path)`` holds when the key is present, whatever its value (null included).
- ``not`` is plain negation: ``not params.lr < 0.01`` also holds for runs without ``params.lr``.
"""

from __future__ import annotations

import re
from typing import Any

from gemini.query.ast import (
    And,
    Compare,
    Exists,
    Expression,
    Field,
    Glob,
    In,
    Not,
    Or,
    OrderKey,
    Prefix,
    Target,
    value_kind,
)

_MISSING = object()


def run_value(target: Target, info: dict[str, Any], fields: dict[str, Any]) -> Any:
    """The value ``target`` reaches in a run, or ``_MISSING``."""
    if isinstance(target, Field):
        value = fields.get(target.name)
        return _MISSING if value is None else value
    value: Any = info
    for key in target.keys:
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _compare(value: Any, operator: str, literal: Any) -> bool:
    if value is _MISSING:
        return False
    if literal is None:
        if operator == "=":
            return value is None
        return value is not None  # "!= null"
    if value_kind(value) != value_kind(literal):
        return False
    return {
        "=": value == literal,
        "!=": value != literal,
        "<": value < literal,
        "<=": value <= literal,
        ">": value > literal,
        ">=": value >= literal,
    }[operator]


def glob_regex(pattern: str) -> re.Pattern[str]:
    parts = [".*" if char == "*" else "." if char == "?" else re.escape(char) for char in pattern]
    return re.compile("".join(parts), re.DOTALL)


def matches(expression: Expression, info: dict[str, Any], fields: dict[str, Any] | None = None) -> bool:
    """Whether a run with this info (and these fields: ``model.name``, ``created_at``...) satisfies it."""
    fields = fields or {}
    if isinstance(expression, And):
        return all(matches(operand, info, fields) for operand in expression.operands)
    if isinstance(expression, Or):
        return any(matches(operand, info, fields) for operand in expression.operands)
    if isinstance(expression, Not):
        return not matches(expression.operand, info, fields)
    if isinstance(expression, Exists):
        return run_value(expression.target, info, fields) is not _MISSING
    value = run_value(expression.target, info, fields)
    if isinstance(expression, Compare):
        return _compare(value, expression.operator, expression.value)
    if isinstance(expression, In):
        if expression.negated:
            comparable = [literal for literal in expression.values if value_kind(literal) == value_kind(value)]
            return value is not _MISSING and bool(comparable) and all(value != literal for literal in comparable)
        return any(_compare(value, "=", literal) for literal in expression.values)
    if isinstance(expression, Glob):
        return isinstance(value, str) and glob_regex(expression.pattern).fullmatch(value) is not None
    if isinstance(expression, Prefix):
        return isinstance(value, str) and value.startswith(expression.prefix)
    raise TypeError(f"not an expression node: {expression!r}")


def sort_key(keys: tuple[OrderKey, ...], info: dict[str, Any], fields: dict[str, Any], run_id: Any) -> tuple:
    """The position of a run in an ``order_by``: per key numbers first, then strings, then everything
    else (missing, null, booleans, objects, arrays) in one tie; descending reverses numbers and strings
    but keeps the rest last. Ties go by id, that is creation order."""
    parts: list[Any] = []
    for key in keys:
        value = run_value(key.target, info, fields)
        kind = value_kind(value) if value is not _MISSING else "missing"
        sign = -1 if key.descending else 1
        if kind == "number":
            parts.append((0, _Reversible(value, sign)))
        elif kind in ("string", "time"):
            parts.append((1, _Reversible(value, sign)))
        else:
            parts.append((2, _Reversible(0, 1)))
    parts.append(run_id)
    return tuple(parts)


class _Reversible:
    __slots__ = ("value", "sign")

    def __init__(self, value: Any, sign: int) -> None:
        self.value, self.sign = value, sign

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Reversible) and self.value == other.value

    def __lt__(self, other: "_Reversible") -> bool:
        return self.value < other.value if self.sign > 0 else other.value < self.value
