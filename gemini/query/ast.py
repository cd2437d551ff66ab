"""The syntax tree of a ``where`` expression and of an ``order_by`` list.

Nodes are immutable and carry no SQL: ``gemini.db.search.compiler`` turns them into SQL for either
database. The tests hold that SQL to a reference evaluation in Python of the same trees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal, Union

Scalar = Union[str, int, float, bool, None]

FIELD_NAMES = (
    "model.name", "name", "created_at", "updated_at", "status", "started_at", "ended_at", "created_by", "version"
)
"""Names that address a run's own fields rather than keys of its info (quote a key to reach it); ``name``
is the run's readable name (``run_name``)."""
PRESENCE_FIELDS = ("version",)
"""The fields only tested for presence: ``version exists`` (or ``exists(version)``) holds for a run that
has a registered model version; they take no comparison and do not order runs."""
TEXT_FIELDS = ("model.name", "name", "created_by")
"""The fields compared with any quoted string (``status`` takes one of its values; the rest are times)."""

TIME_FIELDS = ("created_at", "updated_at", "started_at", "ended_at")

METRIC_NAMESPACE = "metric"
"""``metric.<key>`` addresses a tracked metric's summary, not the info (quote it to reach an info key)."""

METRIC_AGGREGATES = ("last", "min", "max")

ComparisonOperator = Literal["=", "!=", "<", "<=", ">", ">="]


@dataclass(frozen=True, slots=True)
class InfoPath:
    """A path of object keys into the run info: ``params.lr`` is ``("params", "lr")``."""

    keys: tuple[str, ...]

    def __str__(self) -> str:
        return ".".join(key if key.isidentifier() else f"`{key}`" for key in self.keys)


@dataclass(frozen=True, slots=True)
class Field:
    """A run field outside its info: one of ``FIELD_NAMES``."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True, slots=True)
class Metric:
    """A metric's summary value: ``metric.map50`` (the value at its highest step), ``min(metric.loss)``,
    ``max(metric.map50)``. The key is free text (``metric.`metrics/mAP50(B)```)."""

    key: str
    aggregate: Literal["last", "min", "max"] = "last"

    def __str__(self) -> str:
        name = self.key if self.key.isidentifier() else "`" + self.key.replace("`", "``") + "`"
        path = f"{METRIC_NAMESPACE}.{name}"
        return path if self.aggregate == "last" else f"{self.aggregate}({path})"


Target = Union[InfoPath, Field, Metric]


@dataclass(frozen=True, slots=True)
class Compare:
    target: Target
    operator: ComparisonOperator
    value: Scalar | dt.datetime


@dataclass(frozen=True, slots=True)
class In:
    target: Target
    values: tuple[Scalar | dt.datetime, ...]
    negated: bool = False


@dataclass(frozen=True, slots=True)
class Glob:
    """A string match where ``*`` is any run of characters and ``?`` one character; the rest is literal."""

    target: Target
    pattern: str


@dataclass(frozen=True, slots=True)
class Prefix:
    target: Target
    prefix: str


@dataclass(frozen=True, slots=True)
class Exists:
    target: Target


@dataclass(frozen=True, slots=True)
class And:
    operands: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Or:
    operands: tuple[Expression, ...]


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expression


Expression = Union[Compare, In, Glob, Prefix, Exists, And, Or, Not]


@dataclass(frozen=True, slots=True)
class OrderKey:
    target: Target
    descending: bool = False

    def __str__(self) -> str:
        return f"{'-' if self.descending else ''}{self.target}"


def value_kind(value: object) -> str:
    """The kind a comparison matches on: a value compares only with a literal of the same kind.

    ``null``, ``boolean``, ``number`` (integers and floats alike), ``string``, ``time`` (run fields),
    or ``container`` (objects and arrays, which no literal matches)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dt.datetime):
        return "time"
    return "container"
