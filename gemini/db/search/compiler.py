"""``where`` and ``order_by`` syntax trees compiled to SQLAlchemy expressions, for both databases.

Every key and value of the user's text reaches the database as a bound parameter. The meaning is the one
docs/search.md states; per database:

- PostgreSQL reads ``CAST(model_run_info -> key -> key AS JSONB)``; numbers compare as jsonb numbers
  (exact numeric), strings by code point (``COLLATE "C"``). An equality on a path of keys also becomes a
  containment test (``@>``), which the GIN index serves; a declared hot key's expression index serves
  ranges (queries run with custom plans so that the planner sees the keys and can match the index).
- SQLite reads ``json_type``/``json_extract`` at a JSON path; an equality on a string or integer also
  looks the (path, value) pair up in ``model_run_info_values`` (see ``gemini.db.search.path_values``); a
  declared hot key is a generated column with its own index.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from gemini.query.ast import (
    And,
    Metric,
    Compare,
    Exists,
    Expression,
    Field,
    Glob,
    In,
    InfoPath,
    Not,
    Or,
    OrderKey,
    Prefix,
    Target,
    value_kind,
)
from gemini.db.search import path_values
from gemini.db.search.json_paths import postgres_parent_and_key, sqlite_json_path
from gemini.db.tables import ModelRow, ModelRunRow, model_versions, run_metric_summaries

_runs = ModelRunRow.__table__
_models = ModelRow.__table__
_summaries = run_metric_summaries
_SUMMARY_COLUMNS = {"last": "last_value", "min": "min_value", "max": "max_value"}

_FIELD_COLUMNS = {"name": "run_name"}
"""Run fields whose column is named otherwise; the rest are columns of their own names."""
_BYTEWISE_TEXT_FIELDS = ("model.name", "name", "created_by")
"""Text fields PostgreSQL compares and sorts byte by byte (``COLLATE "C"``), as SQLite does."""

_SQLITE_NUMBER_TYPES = ("integer", "real")
_INT64 = range(-(2**63), 2**63)


def glob_to_sqlite(pattern: str) -> str:
    """Our glob (``*``, ``?``, all else literal) as an SQLite GLOB pattern, where ``[`` opens a class."""
    return "".join("[[]" if char == "[" else char for char in pattern)


def glob_to_like(pattern: str) -> str:
    """Our glob as a LIKE pattern with ``\\`` as the escape character."""
    out = []
    for char in pattern:
        if char in "%_\\":
            out.append("\\" + char)
        elif char == "*":
            out.append("%")
        elif char == "?":
            out.append("_")
        else:
            out.append(char)
    return "".join(out)


def _escape_glob(text: str) -> str:
    return "".join(f"[{char}]" if char in "*?[" else char for char in text)


@dataclass(frozen=True, slots=True)
class SortComponent:
    expression: sa.ColumnElement
    descending: bool


class RunQueryCompiler:
    """Compiles against ``model_runs`` for one dialect; ``hot_columns`` maps a declared hot key's path
    to its generated column on SQLite."""

    def __init__(
        self,
        dialect: str,
        hot_columns: Mapping[tuple[str, ...], str] | None = None,
        *,
        lost_before: dt.datetime | None = None,
        joined_metric: tuple[Metric, sa.ColumnElement] | None = None,
    ) -> None:
        self.dialect = dialect
        self.hot_columns = dict(hot_columns or {})
        self.info = _runs.c.model_run_info
        # A running run whose heartbeat is older than this reads as lost.
        self.lost_before = lost_before or dt.datetime.now(dt.timezone.utc)
        # A metric whose summary row is joined to the run (see ``metric_order``): conditions on it then
        # read the joined column instead of looking the summary up.
        self.joined_metric = joined_metric

    def with_joined_metric(self, metric: Metric, column: sa.ColumnElement) -> "RunQueryCompiler":
        return RunQueryCompiler(
            self.dialect, self.hot_columns, lost_before=self.lost_before, joined_metric=(metric, column)
        )

    def status(self) -> sa.ColumnElement:
        """The status as reported: ``lost`` for a running run whose heartbeat stopped."""
        return sa.case(
            (sa.and_(_runs.c.status == "running", _runs.c.heartbeat_at < self.lost_before), "lost"),
            else_=_runs.c.status,
        )

    def _status_is(self, status: str) -> sa.ColumnElement[bool]:
        if status == "lost":
            return sa.and_(_runs.c.status == "running", _runs.c.heartbeat_at < self.lost_before)
        if status == "running":
            return sa.and_(_runs.c.status == "running", _runs.c.heartbeat_at >= self.lost_before)
        return _runs.c.status == status

    # -- metrics -----------------------------------------------------------------------------------

    def metric_value(self, metric: Metric) -> sa.ColumnElement:
        """The metric's summary value of each run (NULL without it, or when the value is NaN)."""
        column = _summaries.c[_SUMMARY_COLUMNS[metric.aggregate]]
        return (
            sa.select(column)
            .where(_summaries.c.run_id == _runs.c.id, _summaries.c.key == sa.bindparam(None, metric.key, type_=sa.Text))
            .scalar_subquery()
        )

    def _metric_condition(self, expression: Expression) -> sa.ColumnElement[bool]:
        metric = expression.target
        if self.joined_metric is not None and self.joined_metric[0] == metric:
            column = self.joined_metric[1]
            if isinstance(expression, Exists):
                return column.is_not(None)
            return self._numeric(column, expression)
        column = _summaries.c[_SUMMARY_COLUMNS[metric.aggregate]]
        key = _summaries.c.key == sa.bindparam(None, metric.key, type_=sa.Text)
        if isinstance(expression, Exists):
            return _runs.c.id.in_(sa.select(_summaries.c.run_id).where(key))
        # Served by the summaries' (key, value) indexes.
        return _runs.c.id.in_(sa.select(_summaries.c.run_id).where(key, self._numeric(column, expression)))

    @staticmethod
    def _numeric(column: sa.ColumnElement, expression: Expression) -> sa.ColumnElement[bool]:
        if isinstance(expression, Compare):
            return sa.and_(column.is_not(None), _operate(column, expression.operator, expression.value))
        if isinstance(expression, In):
            values = [float(value) for value in expression.values]
            return sa.and_(column.is_not(None), column.not_in(values) if expression.negated else column.in_(values))
        raise TypeError(f"not a numeric comparison: {expression!r}")

    # -- where -------------------------------------------------------------------------------------

    def condition(self, expression: Expression) -> sa.ColumnElement[bool]:
        if isinstance(expression, And):
            return sa.and_(*(self.condition(operand) for operand in expression.operands))
        if isinstance(expression, Or):
            return sa.or_(*(self.condition(operand) for operand in expression.operands))
        if isinstance(expression, Not):
            # A predicate over a missing value may be NULL in SQL; NOT must see it as false.
            return sa.not_(sa.func.coalesce(self.condition(expression.operand), sa.false()))
        if isinstance(expression.target, Metric):
            return self._metric_condition(expression)
        if isinstance(expression.target, Field):
            return self._field_condition(expression)
        if self.dialect == "postgresql":
            return _PostgresPath(self.info, expression.target).condition(expression)
        return _SqlitePath(self.info, expression.target, self.hot_columns.get(expression.target.keys)).condition(
            expression
        )

    def _field_condition(self, expression: Expression) -> sa.ColumnElement[bool]:
        field = expression.target.name
        if field == "version":
            if not isinstance(expression, Exists):
                raise TypeError(f"not a version condition: {expression!r}")
            # Served by the index on model_versions.model_run_id.
            return sa.exists().where(model_versions.c.model_run_id == _runs.c.id)
        if field == "model.name":
            column = _models.c.model_name
            if isinstance(expression, Exists):
                return _runs.c.model_id.is_not(None)
            if isinstance(expression, Compare) and expression.operator == "=":
                return _runs.c.model_id.in_(sa.select(_models.c.id).where(column == expression.value))
            if isinstance(expression, In) and not expression.negated:
                return _runs.c.model_id.in_(sa.select(_models.c.id).where(column.in_(expression.values)))
            value = _model_name_of_run()
            if self.dialect == "postgresql":
                value = value.collate("C")
        elif field == "status":
            if isinstance(expression, Exists):
                return _runs.c.status.is_not(None)
            if isinstance(expression, Compare):
                matches = self._status_is(expression.value)
                if expression.operator == "=":
                    return matches
                return sa.and_(_runs.c.status.is_not(None), sa.not_(matches))
            if isinstance(expression, In):
                matches = sa.or_(*(self._status_is(value) for value in expression.values))
                return sa.and_(_runs.c.status.is_not(None), sa.not_(matches)) if expression.negated else matches
            raise TypeError(f"not a status condition: {expression!r}")
        else:
            value = _field_column(field)
            if isinstance(expression, Exists):
                # Always true of the times; false of a run without an author or a name.
                return value.is_not(None)
            # Compared byte by byte, as SQLite does. A name's equality, the same in any (deterministic)
            # collation, is left as it is: the index on run names then serves it.
            bytewise = field in _BYTEWISE_TEXT_FIELDS and not (field == "name" and _is_equality(expression))
            if bytewise and self.dialect == "postgresql":
                value = value.collate("C")
        if isinstance(expression, Compare):
            return _operate(value, expression.operator, expression.value)
        if isinstance(expression, In):
            return value.not_in(expression.values) if expression.negated else value.in_(expression.values)
        if isinstance(expression, Glob):
            if self.dialect == "postgresql":
                return value.like(glob_to_like(expression.pattern), escape="\\")
            return value.op("GLOB")(glob_to_sqlite(expression.pattern))
        if isinstance(expression, Prefix):
            if self.dialect == "postgresql":
                return value.like(_escape_like(expression.prefix) + "%", escape="\\")
            return value.op("GLOB")(_escape_glob(expression.prefix) + "*")
        raise TypeError(f"not an expression node: {expression!r}")

    # -- order_by ----------------------------------------------------------------------------------

    def sort_components(self, keys: tuple[OrderKey, ...]) -> list[SortComponent]:
        """Per key: its number (NULL unless a number), then its string (NULL unless a string), each
        sorted with NULLs last; times and model names are one component."""
        components: list[SortComponent] = []
        for key in keys:
            if isinstance(key.target, Metric):
                components.append(SortComponent(self.metric_value(key.target), key.descending))
                continue
            if isinstance(key.target, Field) and key.target.name == "status":
                components.append(SortComponent(self.status(), key.descending))
                continue
            if isinstance(key.target, Field):
                expression = _field_column(key.target.name) if key.target.name != "model.name" else _model_name_of_run()
                if self.dialect == "postgresql" and key.target.name in _BYTEWISE_TEXT_FIELDS:
                    expression = expression.collate("C")
                components.append(SortComponent(expression, key.descending))
                continue
            if self.dialect == "postgresql":
                path = _PostgresPath(self.info, key.target)
            else:
                path = _SqlitePath(self.info, key.target, self.hot_columns.get(key.target.keys))
            components.append(SortComponent(path.number(), key.descending))
            components.append(SortComponent(path.string(), key.descending))
        return components

    def hot_segments(self, key: OrderKey) -> list[tuple[sa.ColumnElement[bool], list[sa.ColumnElement]]]:
        """For an order on one hot key: the runs holding a number there, then a string, then the rest,
        each as (condition, order) that the key's index can serve in order, so that a first page reads
        about ``limit`` index entries instead of sorting every match. Same order as ``sort_components``."""
        if self.dialect == "postgresql":
            path = _PostgresPath(self.info, key.target)
            numbers, number_order = path.type_is("number"), path.value
            strings, string_order = path.type_is("string"), path.string()
            rest = sa.or_(path.value.is_(None), sa.func.jsonb_typeof(path.value).not_in(("number", "string")))
        else:
            column = sa.literal_column(f'model_runs."{self.hot_columns[key.target.keys]}"')
            numbers, number_order = sa.and_(column.is_not(None), column < ""), column
            strings, string_order = column >= "", column
            rest = column.is_(None)

        def direction(expression: sa.ColumnElement) -> sa.ColumnElement:
            return expression.desc() if key.descending else expression.asc()

        return [
            (numbers, [direction(number_order), _runs.c.id.asc()]),
            (strings, [direction(string_order), _runs.c.id.asc()]),
            (rest, [_runs.c.id.asc()]),
        ]

    @staticmethod
    def order_clauses(components: list[SortComponent]) -> list[sa.ColumnElement]:
        clauses = [
            (component.expression.desc() if component.descending else component.expression.asc()).nulls_last()
            for component in components
        ]
        return [*clauses, _runs.c.id.asc()]

    @staticmethod
    def after(components: list[SortComponent], values: list[Any], last_id: Any) -> sa.ColumnElement[bool]:
        """Rows strictly after the row with these sort values, in the order ``components`` give."""
        condition: sa.ColumnElement[bool] = _runs.c.id > last_id
        for component, value in reversed(list(zip(components, values))):
            expression = component.expression
            if value is None:  # the last row had no value here: only rows also without one tie with it
                condition = sa.and_(expression.is_(None), condition)
                continue
            bound = sa.bindparam(None, value, type_=expression.type)
            beyond = expression < bound if component.descending else expression > bound
            condition = sa.or_(beyond, expression.is_(None), sa.and_(expression == bound, condition))
        return condition


def _is_equality(expression: Expression) -> bool:
    return (isinstance(expression, Compare) and expression.operator == "=") or (
        isinstance(expression, In) and not expression.negated
    )


def _field_column(field: str) -> sa.Column:
    return _runs.c[_FIELD_COLUMNS.get(field, field)]


def _model_name_of_run() -> sa.ColumnElement:
    return sa.select(_models.c.model_name).where(_models.c.id == _runs.c.model_id).scalar_subquery()


def _escape_like(text: str) -> str:
    return "".join("\\" + char if char in "%_\\" else char for char in text)


def _operate(value: sa.ColumnElement, operator: str, literal: Any) -> sa.ColumnElement[bool]:
    return {
        "=": value.__eq__,
        "!=": value.__ne__,
        "<": value.__lt__,
        "<=": value.__le__,
        ">": value.__gt__,
        ">=": value.__ge__,
    }[operator](literal)


class _PathBase:
    def condition(self, expression: Expression) -> sa.ColumnElement[bool]:
        if isinstance(expression, Exists):
            return self.exists()
        if isinstance(expression, Compare):
            return self.compare(expression.operator, expression.value)
        if isinstance(expression, In):
            if not expression.negated:
                return sa.or_(*(self.compare("=", value) for value in expression.values))
            by_kind: dict[str, list[Any]] = {}
            for value in expression.values:
                by_kind.setdefault(value_kind(value), []).append(value)
            return sa.or_(
                *(sa.and_(*(self.compare("!=", value) for value in values)) for values in by_kind.values())
            )
        if isinstance(expression, Glob):
            return self.glob(expression.pattern)
        if isinstance(expression, Prefix):
            return self.prefix(expression.prefix)
        raise TypeError(f"not an expression node: {expression!r}")


class _PostgresPath(_PathBase):
    def __init__(self, info: sa.ColumnElement, target: InfoPath) -> None:
        self.keys = target.keys
        parent, last = postgres_parent_and_key(info, target.keys)
        self.value = sa.cast(parent.op("->", return_type=sa.JSON)(last), JSONB)
        self.text = parent.op("->>", return_type=sa.Text)(last)
        self.info = info

    def type_is(self, kind: str) -> sa.ColumnElement[bool]:
        return sa.func.jsonb_typeof(self.value) == kind

    def exists(self) -> sa.ColumnElement[bool]:
        return self.value.is_not(None)

    def compare(self, operator: str, literal: Any) -> sa.ColumnElement[bool]:
        if literal is None:
            return self.type_is("null") if operator == "=" else sa.and_(self.exists(), ~self.type_is("null"))
        kind = value_kind(literal)
        if kind == "string" and operator not in ("=", "!="):
            return sa.and_(self.type_is("string"), _operate(self.text.collate("C"), operator, literal))
        bound = sa.cast(sa.bindparam(None, literal, type_=JSONB), JSONB)
        condition = sa.and_(self.type_is(kind), _operate(self.value, operator, bound))
        if operator == "=":
            # Containment is what the GIN index serves; the comparison keeps the exact meaning.
            pattern: Any = literal
            for key in reversed(self.keys):
                pattern = {key: pattern}
            contains = sa.cast(self.info, JSONB).op("@>")(sa.cast(sa.bindparam(None, pattern, type_=JSONB), JSONB))
            condition = sa.and_(contains, condition)
        return condition

    def glob(self, pattern: str) -> sa.ColumnElement[bool]:
        return sa.and_(self.type_is("string"), self.text.like(glob_to_like(pattern), escape="\\"))

    def prefix(self, prefix: str) -> sa.ColumnElement[bool]:
        return sa.and_(self.type_is("string"), self.text.like(_escape_like(prefix) + "%", escape="\\"))

    def number(self) -> sa.ColumnElement:
        return sa.case((self.type_is("number"), sa.cast(self.value, sa.Numeric)), else_=sa.null())

    def string(self) -> sa.ColumnElement:
        return sa.case((self.type_is("string"), self.text), else_=sa.null()).collate("C")


class _SqlitePath(_PathBase):
    def __init__(self, info: sa.ColumnElement, target: InfoPath, hot_column: str | None) -> None:
        self.keys = target.keys
        path = sa.bindparam(None, sqlite_json_path(target.keys), type_=sa.Text)
        self.type = sa.func.json_type(info, path)
        self.value = sa.func.json_extract(info, path)
        # A hot key's generated column holds the value when it is a number or a string, else NULL.
        self.hot = sa.literal_column(f'model_runs."{hot_column}"') if hot_column else None

    def exists(self) -> sa.ColumnElement[bool]:
        return self.type.is_not(None)

    def compare(self, operator: str, literal: Any) -> sa.ColumnElement[bool]:
        if literal is None:
            return self.type == "null" if operator == "=" else sa.and_(self.exists(), self.type != "null")
        if isinstance(literal, bool):
            wanted = self.type == ("true" if literal else "false")
            other = self.type == ("false" if literal else "true")
            return wanted if operator == "=" else other
        if isinstance(literal, int) and literal not in _INT64:
            literal = float(literal)  # SQLite reads integers beyond 64 bits as REAL too
        if self.hot is not None:
            return self._compare_hot(operator, literal)
        kinds = _SQLITE_NUMBER_TYPES if isinstance(literal, (int, float)) else ("text",)
        type_matches = self.type == kinds[0] if len(kinds) == 1 else self.type.in_(kinds)
        condition = sa.and_(type_matches, _operate(self.value, operator, literal))
        if operator == "=":
            lookup = path_values.sqlite_value_lookup(self.keys, [literal])
            if lookup is not None:
                condition = sa.and_(_runs.c.id.in_(lookup), condition)
        return condition

    def _compare_hot(self, operator: str, literal: Any) -> sa.ColumnElement[bool]:
        # SQLite sorts NULL < numbers < text, so bounding by '' keeps a range within one type and
        # still lets the index serve it.
        column = self.hot
        if operator in ("=",):
            return column == literal
        if isinstance(literal, str):
            if operator == "!=":
                return sa.and_(sa.func.typeof(column) == "text", column != literal)
            if operator in ("<", "<="):
                return sa.and_(column >= "", _operate(column, operator, literal))
            return _operate(column, operator, literal)
        if operator == "!=":
            return sa.and_(sa.func.typeof(column).in_(_SQLITE_NUMBER_TYPES), column != literal)
        if operator in (">", ">="):
            return sa.and_(_operate(column, operator, literal), column < "")
        return _operate(column, operator, literal)

    def glob(self, pattern: str) -> sa.ColumnElement[bool]:
        return sa.and_(self.type == "text", self.value.op("GLOB")(glob_to_sqlite(pattern)))

    def prefix(self, prefix: str) -> sa.ColumnElement[bool]:
        return sa.and_(self.type == "text", self.value.op("GLOB")(_escape_glob(prefix) + "*"))

    def number(self) -> sa.ColumnElement:
        if self.hot is not None:
            return sa.case((sa.func.typeof(self.hot).in_(_SQLITE_NUMBER_TYPES), self.hot), else_=sa.null())
        return sa.case((self.type.in_(_SQLITE_NUMBER_TYPES), self.value), else_=sa.null())

    def string(self) -> sa.ColumnElement:
        return sa.case((self.type == "text", self.value), else_=sa.null())


__all__ = ["RunQueryCompiler", "SortComponent", "glob_to_like", "glob_to_sqlite"]
