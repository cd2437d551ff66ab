"""Metric points and their per-key summaries, written a batch at a time.

A batch is one transaction: its id is recorded in ``run_metric_batches`` first, so a batch sent again
(a retry after a lost answer) changes nothing; its points go into the series' blocks and chunks
(``gemini.db.metric_blocks``: one value per run, key and step, a step logged again replacing the
value); each key's summary is merged with the batch's points. A batch that only appends steps after a
key's last one merges without reading the history; one that rewrites earlier steps has the blocks it
touches merged with their stored points, and that key's summary read back from its blocks.

NaN is NULL in the summaries (SQLite cannot store NaN), so a lowest or highest value skips it.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gemini.db.tables import ModelRunRow, run_metric_batches, run_metric_summaries, utc_now
from gemini.domain.errors import NotFoundError
from gemini.domain.checks import Point
from gemini.db.metric_blocks import (
    Block,
    MetricBlocks,
    Span,
    first_step_of,
    kept_levels,
    level_zero,
    reduce_points,
    whole_of,
    width_of,
)
from gemini.db.metric_blocks import Point as BlockPoint
from gemini.domain.records import MetricSeries, MetricSummary

_runs = ModelRunRow.__table__
_summaries = run_metric_summaries
_NAN = math.nan

"""(key, step, value, timestamp) as a batch carries it; NaN allowed."""


@dataclass(slots=True)
class _KeyStats:
    first_step: int
    last_step: int
    last_value: float | None
    min_value: float | None
    max_value: float | None
    count: int


def _merge_extreme(a: float | None, b: float | None, pick) -> float | None:  # noqa: ANN001
    if a is None:
        return b
    if b is None:
        return a
    return pick(a, b)


def _points_by_key(points: Sequence[Point]) -> dict[str, list[BlockPoint]]:
    """Each key's points in step order, NaN as ``None`` and times as seconds since 1970 (what the
    blocks keep)."""
    seconds: dict[dt.datetime, float] = {}  # the points of one logging call share their timestamp
    by_key: dict[str, list[BlockPoint]] = {}
    for key, step, value, stamp in points:
        moment = seconds.get(stamp)
        if moment is None:
            moment = seconds[stamp] = stamp.timestamp()
        of_key = by_key.get(key)
        if of_key is None:
            of_key = by_key[key] = []
        of_key.append((step, None if value != value else value, moment))
    for of_key in by_key.values():
        of_key.sort()  # steps are distinct within a key: the values are never compared
    return by_key


def _stats_of(block: Block) -> _KeyStats:
    """A key's summary of the batch, from the block of all its points."""
    last_value = block.last[1] if block.last is not None and block.last[0] == block.end else None  # else NaN
    return _KeyStats(
        first_step=block.start,
        last_step=block.end,
        last_value=last_value,
        min_value=None if block.low is None else block.low[1],
        max_value=None if block.high is None else block.high[1],
        count=block.count,
    )


def _value_out(value: float | None) -> float:
    return _NAN if value is None else value


def _summary(key: str, row: sa.Row) -> MetricSummary:
    return MetricSummary(
        key=key,
        last=_value_out(row.last_value),
        min=row.min_value,
        max=row.max_value,
        step=row.last_step,
        count=row.value_count,
    )


class _BatchStatements(NamedTuple):
    renew_heartbeat: sa.Update
    record_batch: sa.Insert
    upsert_summaries: sa.Insert


@functools.cache
def _batch_statements(dialect: str) -> _BatchStatements:
    """A batch's small statements, built once per dialect: built with every batch, their construction
    and compile-cache lookups cost more than running them."""
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    summaries = insert(_summaries)
    return _BatchStatements(
        renew_heartbeat=sa.update(_runs)
        .where(_runs.c.id == sa.bindparam("run_id"))
        .values(
            heartbeat_at=sa.case((_runs.c.status == "running", sa.bindparam("now")), else_=_runs.c.heartbeat_at),
            updated_at=_runs.c.updated_at,
        ),
        record_batch=insert(run_metric_batches).on_conflict_do_nothing().returning(run_metric_batches.c.batch_id),
        upsert_summaries=summaries.on_conflict_do_update(
            index_elements=[_summaries.c.run_id, _summaries.c.key],
            set_={
                column: summaries.excluded[column]
                for column in ("last_value", "last_step", "min_value", "max_value", "value_count", "updated_at")
            },
        ),
    )


# Built once: SQLAlchemy then compiles it once, not with every batch.
_SUMMARY_ROWS = sa.select(_summaries, first_step_of(_summaries.c.run_id, _summaries.c.key)).where(
    _summaries.c.run_id == sa.bindparam("run_id"), _summaries.c.key.in_(sa.bindparam("keys", expanding=True))
)


class MetricRepository:
    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.dialect = connection.dialect.name

    # -- writes --------------------------------------------------------------------------------------

    def add_batch(self, *, run_id: uuid.UUID, batch_id: str, points: Sequence[Point]) -> bool:
        """Write one batch of points of a run; ``False`` (nothing changed) when that batch was written before.

        Points must not repeat a (key, step) within the batch (the core keeps the last of each).
        A running run's heartbeat is renewed too: a process that writes points is alive.
        """
        now = utc_now()
        statements = _batch_statements(self.dialect)
        # Renewing the heartbeat also takes the run's row lock: batches of one run are merged one after
        # the other into its summaries, on PostgreSQL as on SQLite (whose writers are serialised anyway).
        touched = self.connection.execute(statements.renew_heartbeat, {"run_id": run_id, "now": now})
        if touched.rowcount == 0:
            raise NotFoundError(f"no model run with id {run_id}")
        recorded = self.connection.execute(
            statements.record_batch, {"run_id": run_id, "batch_id": batch_id, "created_at": now}
        ).first()
        if recorded is None:
            return False
        if not points:
            return True
        # The batch's own blocks (gemini.db.metric_blocks) are what is written, and give its per-key summary.
        batch_blocks = {key: level_zero(key_points) for key, key_points in _points_by_key(points).items()}
        batch_stats = {key: _stats_of(whole_of(zero)) for key, zero in batch_blocks.items()}
        previous = self._summary_rows(run_id, list(batch_stats))
        blocks = MetricBlocks(self.connection)
        merged: list[tuple[str, _KeyStats]] = []
        appended: dict[str, tuple] = {}  # keys whose points all come after their stored ones
        for key, stats in batch_stats.items():
            before = previous.get(key)
            if before is None:
                merged.append((key, stats))
                appended[key] = (batch_blocks[key], None, Span(stats.first_step, stats.last_step))
                continue
            old = Span(before.first_step, before.last_step)
            after = Span(min(old.first, stats.first_step), max(old.last, stats.last_step))
            if stats.first_step <= before.last_step:
                # Earlier steps may be given again: the blocks they fall in are merged with the stored
                # points, and the summary read back from the series' blocks.
                merged.append((key, _stats_of(blocks.recompute(run_id, key, batch_blocks[key], old, after))))
                continue
            merged.append(
                (
                    key,
                    _KeyStats(
                        first_step=old.first,
                        last_step=stats.last_step,
                        last_value=stats.last_value,
                        min_value=_merge_extreme(before.min_value, stats.min_value, min),
                        max_value=_merge_extreme(before.max_value, stats.max_value, max),
                        count=before.value_count + stats.count,
                    ),
                )
            )
            appended[key] = (batch_blocks[key], old, after)
        if appended:
            blocks.append(run_id, appended)
        self._upsert_summaries(run_id, merged, now)
        return True

    def _summary_rows(self, run_id: uuid.UUID, keys: list[str]) -> dict[str, sa.Row]:
        """The stored summaries of these keys, with each series' first step (from its first block)."""
        found: dict[str, sa.Row] = {}
        for start in range(0, len(keys), 500):
            for row in self.connection.execute(_SUMMARY_ROWS, {"run_id": run_id, "keys": keys[start : start + 500]}):
                found[row.key] = row
        return found

    def _upsert_summaries(self, run_id: uuid.UUID, merged: list[tuple[str, _KeyStats]], now: dt.datetime) -> None:
        self.connection.execute(
            _batch_statements(self.dialect).upsert_summaries,
            [
                dict(
                    run_id=run_id,
                    key=key,
                    last_value=stats.last_value,
                    last_step=stats.last_step,
                    min_value=stats.min_value,
                    max_value=stats.max_value,
                    value_count=stats.count,
                    updated_at=now,
                )
                for key, stats in merged
            ],
        )

    # -- reads ---------------------------------------------------------------------------------------

    def summaries(self, run_id: uuid.UUID) -> list[MetricSummary]:
        """Every key's summary of one run, by key."""
        query = sa.select(_summaries).where(_summaries.c.run_id == run_id).order_by(_summaries.c.key)
        return [_summary(row.key, row) for row in self.connection.execute(query)]

    def summaries_of_runs(self, run_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[MetricSummary]]:
        """The summaries of many runs at once (runs without metrics are absent)."""
        found: dict[uuid.UUID, list[MetricSummary]] = {}
        for start in range(0, len(run_ids), 500):
            query = (
                sa.select(_summaries)
                .where(_summaries.c.run_id.in_(run_ids[start : start + 500]))
                .order_by(_summaries.c.run_id, _summaries.c.key)
            )
            for row in self.connection.execute(query):
                found.setdefault(row.run_id, []).append(_summary(row.key, row))
        return found

    def history(self, run_id: uuid.UUID, key: str, *, max_points: int | None = None) -> MetricSeries:
        """One key of one run, by step (empty columns when the run never logged it)."""
        return self.histories([run_id], key, max_points=max_points).get(run_id, MetricSeries([], [], []))

    def histories(
        self,
        run_ids: list[uuid.UUID],
        key: str,
        *,
        max_points: int | None = None,
        start_step: int | None = None,
        end_step: int | None = None,
    ) -> dict[uuid.UUID, MetricSeries]:
        """One key's series for each run that has it, in the order given, between ``start_step`` and
        ``end_step`` (inclusive, either may be ``None``). With ``max_points``, a range holding more points
        is reduced to at most that many: cut into ``max_points // 4`` equal ranges of steps, each keeping
        its first, lowest, highest and last point (only the lowest and highest when ``max_points < 4``),
        NaN points left out; read from the blocks, not from every point (``gemini.db.metric_blocks``)."""
        blocks = MetricBlocks(self.connection)
        result: dict[uuid.UUID, MetricSeries] = {}
        whole: list[tuple[uuid.UUID, int | None, int | None]] = []
        small: list[tuple[uuid.UUID, int, int]] = []  # under 64 steps a bucket: their points are reduced
        plans: dict[uuid.UUID, tuple[int, int, int]] = {}
        extremes_only = max_points is not None and max_points < 4
        buckets = 0 if max_points is None else max_points // 2 if extremes_only else max_points // 4
        for run_id, (count, first, last) in blocks.extents(run_ids, key).items():
            low = first if start_step is None else max(first, start_step)
            high = last if end_step is None else min(last, end_step)
            if low > high:
                result[run_id] = MetricSeries([], [], [])
            elif max_points is None or (start_step is None and end_step is None and count <= max_points):
                whole.append((run_id, start_step, end_step))
            else:
                bucket_width = -(-(high - low + 1) // buckets)
                kept = kept_levels(Span(first, last))
                level = next((level for level in reversed(range(kept)) if width_of(level) <= bucket_width), None)
                if level is None:
                    small.append((run_id, low, high))
                else:
                    plans[run_id] = (low, high, level)
        for (run_id, low, high), (steps, values, times) in zip(small, blocks.points(small, key)):
            if len(steps) <= max_points:
                result[run_id] = MetricSeries(steps, values, times)
                continue
            if any(map(math.isnan, values)):
                kept = [at for at, value in enumerate(values) if value == value]
                steps, values, times = [steps[at] for at in kept], [values[at] for at in kept], [times[at] for at in kept]
            result[run_id] = MetricSeries(*reduce_points(steps, values, times, low, high, buckets, extremes_only=extremes_only), reduced=True)
        for run_id, (columns, count) in blocks.reduced(plans, key, buckets, extremes_only=extremes_only).items():
            if count <= max_points:  # a range of few points, however wide: whole
                low, high, _ = plans[run_id]
                whole.append((run_id, low, high))
            else:
                result[run_id] = MetricSeries(*columns, reduced=True)
        for (run_id, _, _), columns in zip(whole, blocks.points(whole, key)):
            result[run_id] = MetricSeries(*columns)
        return {run_id: result[run_id] for run_id in run_ids if run_id in result}
