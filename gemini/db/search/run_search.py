"""Searching runs with the ``where`` language, ``order_by`` and keyset pages (see docs/search.md).

Runs on the caller's connection, like every repository; compiling the syntax trees is left to
``gemini.db.search.compiler``.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from gemini.db.repositories import RUN_COLUMN_COUNT, RUN_COLUMNS, RUNS_WITH_MODEL, UNSET, lost_before, run_record
from gemini.db.search import hot_keys, path_values
from gemini.db.search.compiler import RunQueryCompiler
from gemini.db.search.containment import info_contains
from gemini.db.search.cursors import decode_cursor, encode_cursor, order_signature
from gemini.db.tables import ModelRunRow, run_metric_summaries
from gemini.query.ast import And, Expression, InfoPath, Metric, OrderKey
from gemini.domain.records import ModelRunRecord, Page

_runs = ModelRunRow.__table__
_summaries = run_metric_summaries
SUMMARY_COLUMNS = {"last": "last_value", "min": "min_value", "max": "max_value"}


def _walk_metric_index(key: OrderKey, where: Expression | None) -> bool:
    """Whether a first page ordered by ``key`` should walk that metric's index: when the order is a
    metric and ``where`` is absent or bounds that same metric (a top-level ``and`` of it). Other
    conditions may match few runs far along the index (``status = "failed"``): their own indexes, then
    a sort of the matches, serve those better."""
    if not isinstance(key.target, Metric):
        return False
    if where is None:
        return True
    operands = where.operands if isinstance(where, And) else (where,)
    return any(getattr(operand, "target", None) == key.target for operand in operands)


class RunSearchRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name
        if self.dialect == "postgresql":
            # Plans made for the actual keys and values: only then can the planner match a hot key's
            # expression index, since the query names the keys as parameters.
            # The planner prices the cast of each run's json to jsonb like any cheap operator, while it
            # costs tens of microseconds per run: left alone it prefers reading every run over the GIN or
            # hot-key index even for one match in ten thousand. Scans remain where no index applies.
            # Those same misestimates make the plans look costly enough for JIT compilation, which costs
            # far more than these queries themselves: off.
            connection.exec_driver_sql(
                "SET LOCAL plan_cache_mode = force_custom_plan; SET LOCAL enable_seqscan = off; SET LOCAL jit = off"
            )
        self.compiler = RunQueryCompiler(self.dialect, hot_keys.hot_columns(connection), lost_before=lost_before())

    def _filters(
        self,
        *,
        model_id: uuid.UUID | None = UNSET,
        contains: dict | None = None,
        where: Expression | None = None,
        compiler: RunQueryCompiler | None = None,
    ) -> list[sa.ColumnElement[bool]]:
        compiler = compiler or self.compiler
        filters: list[sa.ColumnElement[bool]] = []
        if model_id is not UNSET:
            model_column: sa.ColumnElement = _runs.c.model_id
            if contains and self.dialect == "postgresql":
                # Hide the model index from the planner: it would rather walk every run of the model and
                # cast each one's info (it prices the cast as free) than take the GIN index of the pattern.
                model_column = sa.cast(model_column, sa.Text)
                model_id = None if model_id is None else str(model_id)
            filters.append(model_column.is_(None) if model_id is None else model_column == model_id)
        if contains:
            if self.dialect == "sqlite":
                filters.extend(_runs.c.id.in_(lookup) for lookup in path_values.containment_lookup(contains))
            filters.append(info_contains(_runs.c.model_run_info, contains, self.dialect))
        if where is not None:
            filters.append(compiler.condition(where))
        return filters

    def list(
        self,
        *,
        model_id: uuid.UUID | None = UNSET,
        contains: dict | None = None,
        where: Expression | None = None,
        order_by: tuple[OrderKey, ...] = (),
        limit: int | None = None,
        offset: int | None = None,
        cursor: str | None = None,
    ) -> Page[ModelRunRecord]:
        components = self.compiler.sort_components(order_by)
        filters = self._filters(model_id=model_id, contains=contains, where=where)
        signature = order_signature(order_by)
        if cursor is not None:
            values, last_id = decode_cursor(cursor, signature, len(components))
            filters.append(self.compiler.after(components, values, uuid.UUID(last_id)))
        sort_columns = [component.expression.label(f"sort_{index}") for index, component in enumerate(components)]
        first_page = limit is not None and cursor is None and not offset
        segments = self._hot_segments(order_by) if first_page else None
        if first_page and len(order_by) == 1 and _walk_metric_index(order_by[0], where):
            rows = self._first_page_by_metric(
                order_by[0], filters, sort_columns, limit, model_id=model_id, contains=contains, where=where
            )
        elif segments is not None:
            if self.dialect == "postgresql":
                # The planner cannot estimate the type tests of a path (jsonb_typeof), guesses that almost
                # nothing matches, and would sort a bitmap scan of every match; walking the index in
                # order stops after `limit` rows, whatever the size of the registry. Parallel workers only
                # add their start-up to such a short walk.
                self.connection.exec_driver_sql("SET LOCAL enable_sort = off; SET LOCAL max_parallel_workers_per_gather = 0")
            rows = []
            for condition, order in segments:
                query = (
                    sa.select(*RUN_COLUMNS, *sort_columns)
                    .select_from(RUNS_WITH_MODEL)
                    .where(*filters, condition)
                    .order_by(*order)
                )
                rows += self.connection.execute(query.limit(limit - len(rows))).all()
                if len(rows) == limit:
                    break
        else:
            query = (
                sa.select(*RUN_COLUMNS, *sort_columns)
                .select_from(RUNS_WITH_MODEL)
                .where(*filters)
                .order_by(*self.compiler.order_clauses(components))
            )
            if limit is not None:
                query = query.limit(limit)
            if offset:
                query = query.offset(offset)
            rows = self.connection.execute(query).all()
        cutoff = lost_before()
        runs = [run_record(row, cutoff) for row in rows]
        next_cursor = None
        if limit is not None and rows and len(rows) == limit:
            last = rows[-1]
            next_cursor = encode_cursor(signature, list(last[RUN_COLUMN_COUNT:]), last[0])
        return Page(runs, next_cursor=next_cursor)

    def _first_page_by_metric(
        self,
        key: OrderKey,
        filters: list[sa.ColumnElement[bool]],
        sort_columns: list[sa.ColumnElement],
        limit: int,
        **criteria: Any,
    ) -> list:
        """The first page of an order on one metric, walking that metric's summary index in order: the
        runs with a value first (joined to their summary row, so that conditions on the same metric
        read it there), then those without one (or NaN), by id. Same order as ``sort_components``."""
        metric = key.target
        summary = _summaries.alias("ordered_metric")
        column = summary.c[SUMMARY_COLUMNS[metric.aggregate]]
        joined = self._filters(**criteria, compiler=self.compiler.with_joined_metric(metric, column))
        ordered = column.desc() if key.descending else column.asc()
        query = (
            sa.select(*RUN_COLUMNS, column.label("sort_0"))
            .select_from(
                RUNS_WITH_MODEL.join(
                    summary,
                    sa.and_(summary.c.run_id == _runs.c.id, summary.c.key == sa.bindparam(None, metric.key, type_=sa.Text)),
                )
            )
            .where(*joined, column.is_not(None))
            .order_by(ordered, _runs.c.id.asc())
            .limit(limit)
        )
        rows = self.connection.execute(query).all()
        if len(rows) < limit:
            valued = (
                sa.select(_summaries.c.run_id)
                .where(
                    _summaries.c.key == sa.bindparam(None, metric.key, type_=sa.Text),
                    _summaries.c[SUMMARY_COLUMNS[metric.aggregate]].is_not(None),
                )
            )
            rest = (
                sa.select(*RUN_COLUMNS, *sort_columns)
                .select_from(RUNS_WITH_MODEL)
                .where(*filters, _runs.c.id.not_in(valued))
                .order_by(_runs.c.id.asc())
                .limit(limit - len(rows))
            )
            rows += self.connection.execute(rest).all()
        return rows

    def _hot_segments(self, order_by: tuple[OrderKey, ...]) -> list | None:
        """The segments of ``RunQueryCompiler.hot_segments`` when the order is one declared hot key."""
        if len(order_by) != 1 or not isinstance(order_by[0].target, InfoPath):
            return None
        keys = order_by[0].target.keys
        if self.dialect == "postgresql":
            declared = {key.keys for key in hot_keys.list_hot_keys(self.connection)}
        else:
            declared = set(self.compiler.hot_columns)
        return self.compiler.hot_segments(order_by[0]) if keys in declared else None

    def count(
        self, *, model_id: uuid.UUID | None = UNSET, contains: dict | None = None, where: Expression | None = None
    ) -> int:
        filters = self._filters(model_id=model_id, contains=contains, where=where)
        return self.connection.execute(sa.select(sa.func.count()).select_from(_runs).where(*filters)).scalar_one()


__all__ = ["RunSearchRepository"]
