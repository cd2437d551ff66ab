"""Metric points and their per-key summaries, written a batch at a time.

A batch is one transaction: its id is recorded in ``run_metric_batches`` first, so a batch sent again
(a retry after a lost answer) changes nothing; its points are upserted (one value per run, key and step:
a step logged again replaces the value); each key's summary is merged with the batch's points. A batch
that only appends steps after a key's last one merges without reading the history; one that rewrites
earlier steps makes that key's summary be computed again from its points.

NaN is stored as NULL on both databases (SQLite cannot store NaN), so MIN and MAX skip it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from gemini.db.tables import ModelRunRow, run_metric_batches, run_metric_summaries, run_metrics, utc_now
from gemini.domain.errors import NotFoundError
from gemini.domain.checks import Point
from gemini.domain.records import MetricPoint, MetricSummary

_runs = ModelRunRow.__table__
_points = run_metrics
_summaries = run_metric_summaries
_NAN = math.nan
_INF = math.inf
_UTC = dt.timezone.utc

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


def _stats(points: Sequence[tuple[str, int, float | None, dt.datetime]]) -> dict[str, _KeyStats]:
    stats: dict[str, _KeyStats] = {}
    for key, step, value, _ in points:
        current = stats.get(key)
        if current is None:
            stats[key] = _KeyStats(step, step, value, value, value, 1)
            continue
        current.count += 1
        if step < current.first_step:
            current.first_step = step
        if step > current.last_step:
            current.last_step, current.last_value = step, value
        if value is not None:
            current.min_value = value if current.min_value is None or value < current.min_value else current.min_value
            current.max_value = value if current.max_value is None or value > current.max_value else current.max_value
    return stats


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
        # Renewing the heartbeat also takes the run's row lock: batches of one run are merged one after
        # the other into its summaries, on PostgreSQL as on SQLite (whose writers are serialised anyway).
        touched = self.connection.execute(
            sa.update(_runs)
            .where(_runs.c.id == run_id)
            .values(
                heartbeat_at=sa.case((_runs.c.status == "running", now), else_=_runs.c.heartbeat_at),
                updated_at=_runs.c.updated_at,
            )
        )
        if touched.rowcount == 0:
            raise NotFoundError(f"no model run with id {run_id}")
        insert = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(run_metric_batches)
        recorded = self.connection.execute(
            insert.values(run_id=run_id, batch_id=batch_id, created_at=now)
            .on_conflict_do_nothing()
            .returning(run_metric_batches.c.batch_id)
        ).first()
        if recorded is None:
            return False
        if not points:
            return True
        rows = [(key, step, None if value != value else value, stamp) for key, step, value, stamp in points]
        batch_stats = _stats(rows)
        previous = self._summary_rows(run_id, list(batch_stats))
        self._upsert_points(run_id, rows)
        merged, recompute = [], []
        for key, stats in batch_stats.items():
            before = previous.get(key)
            if before is None:
                merged.append((key, stats))
            elif stats.first_step <= before.last_step:
                recompute.append(key)  # earlier steps may have been replaced: the batch alone cannot tell
            else:
                merged.append(
                    (
                        key,
                        _KeyStats(
                            first_step=0,
                            last_step=stats.last_step,
                            last_value=stats.last_value,
                            min_value=_merge_extreme(before.min_value, stats.min_value, min),
                            max_value=_merge_extreme(before.max_value, stats.max_value, max),
                            count=before.value_count + stats.count,
                        ),
                    )
                )
        for key in recompute:
            merged.append((key, self._stats_from_history(run_id, key)))
        self._upsert_summaries(run_id, merged, now)
        return True

    def _summary_rows(self, run_id: uuid.UUID, keys: list[str]) -> dict[str, sa.Row]:
        found: dict[str, sa.Row] = {}
        for start in range(0, len(keys), 500):
            query = sa.select(_summaries).where(
                _summaries.c.run_id == run_id, _summaries.c.key.in_(keys[start : start + 500])
            )
            for row in self.connection.execute(query):
                found[row.key] = row
        return found

    def _stats_from_history(self, run_id: uuid.UUID, key: str) -> _KeyStats:
        of_key = (_points.c.run_id == run_id, _points.c.key == key)
        count, low, high, last_step = self.connection.execute(
            sa.select(sa.func.count(), sa.func.min(_points.c.value), sa.func.max(_points.c.value), sa.func.max(_points.c.step)).where(
                *of_key
            )
        ).one()
        last_value = self.connection.execute(
            sa.select(_points.c.value).where(*of_key, _points.c.step == last_step)
        ).scalar()
        return _KeyStats(0, last_step, last_value, low, high, count)

    def _upsert_points(self, run_id: uuid.UUID, rows: list[tuple[str, int, float | None, dt.datetime]]) -> None:
        # Straight to the driver: SQLAlchemy's per-row parameter processing would cost more than the
        # inserts themselves for batches of thousands of points.
        conflict = "ON CONFLICT (run_id, key, step) DO UPDATE SET value = excluded.value, timestamp = excluded.timestamp"
        if self.dialect == "postgresql":
            # One JSON text for the whole batch: the driver adapts a string at C speed, while arrays of
            # thousands of elements go through Python. JSON has no infinities: they travel as strings,
            # which PostgreSQL's float8 reads ('Infinity').
            cache: dict[dt.datetime, str] = {}
            items = []
            for key, step, value, stamp in rows:
                text = cache.get(stamp)
                if text is None:
                    text = cache[stamp] = stamp.isoformat()
                if value is not None and (value == _INF or value == -_INF):
                    value = "Infinity" if value > 0 else "-Infinity"
                items.append((key, step, value, text))
            self.connection.exec_driver_sql(
                "INSERT INTO run_metrics (run_id, key, step, value, timestamp) "
                "SELECT %s, point->>0, (point->>1)::bigint, (point->>2)::float8, (point->>3)::timestamptz "
                "FROM json_array_elements(%s::json) AS point " + conflict,
                (run_id, json.dumps(items, ensure_ascii=False, separators=(",", ":"))),
            )
            return
        run = run_id.hex
        cache: dict[dt.datetime, str] = {}  # the points of one logging call share their timestamp
        parameters = []
        for key, step, value, stamp in rows:
            text = cache.get(stamp)
            if text is None:
                # The text SQLAlchemy's SQLite DATETIME writes: UTC, without zone, with microseconds.
                text = cache[stamp] = stamp.astimezone(_UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
            parameters.append((run, key, step, value, text))
        self.connection.exec_driver_sql(
            "INSERT INTO run_metrics (run_id, key, step, value, timestamp) VALUES (?, ?, ?, ?, ?) " + conflict,
            parameters,
        )

    def _upsert_summaries(self, run_id: uuid.UUID, merged: list[tuple[str, _KeyStats]], now: dt.datetime) -> None:
        insert = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(_summaries)
        statement = insert.on_conflict_do_update(
            index_elements=[_summaries.c.run_id, _summaries.c.key],
            set_={
                column: insert.excluded[column]
                for column in ("last_value", "last_step", "min_value", "max_value", "value_count", "updated_at")
            },
        )
        self.connection.execute(
            statement,
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

    def history(self, run_id: uuid.UUID, key: str) -> list[MetricPoint]:
        """Every point of one key of one run, by step."""
        return self.histories([run_id], key).get(run_id, [])

    def histories(
        self, run_ids: list[uuid.UUID], key: str, *, max_points: int | None = None
    ) -> dict[uuid.UUID, list[MetricPoint]]:
        """One key's points for each run that has it, by step; with ``max_points``, a longer series is
        reduced to at most that many points, keeping the lowest and the highest value of each of
        ``max_points // 2`` equal ranges of steps (NaN points are dropped from a reduced series)."""
        result: dict[uuid.UUID, list[MetricPoint]] = {}
        full = list(run_ids)
        if max_points is not None:
            counts = self.connection.execute(
                sa.select(_summaries.c.run_id, _summaries.c.value_count, _summaries.c.last_step).where(
                    _summaries.c.key == key, _summaries.c.run_id.in_(run_ids)
                )
            ).all()
            long = {run_id: last_step for run_id, count, last_step in counts if count > max_points}
            full = [run_id for run_id in run_ids if run_id not in long]
            if long:
                result.update(self._reduced(long, key, max_points))
        if full:
            result.update(self._full(full, key))
        return {run_id: result[run_id] for run_id in run_ids if run_id in result}

    def _full(self, run_ids: list[uuid.UUID], key: str) -> dict[uuid.UUID, list[MetricPoint]]:
        dialect = self.connection.dialect
        to_id = _points.c.run_id.type.bind_processor(dialect)
        result: dict[uuid.UUID, list[MetricPoint]] = {}
        marker = "%s" if self.dialect == "postgresql" else "?"
        for run_id in run_ids:
            # Straight to the driver: a history is read in bulk, and the timestamps convert faster here.
            # SQLite's text gets its zone in SQL, so that parsing it gives an aware datetime directly.
            stamp = "timestamp AT TIME ZONE 'UTC'" if self.dialect == "postgresql" else "timestamp || '+00:00'"
            rows = self.connection.exec_driver_sql(
                f"SELECT step, value, {stamp} FROM run_metrics WHERE run_id = {marker} AND key = {marker} ORDER BY step",
                (to_id(run_id) if to_id else run_id, key),
            ).all()
            if rows:
                result[run_id] = self._points(rows)
        return result

    def _points(self, rows: Iterable[tuple]) -> list[MetricPoint]:
        if self.dialect == "postgresql":  # naive UTC times (AT TIME ZONE 'UTC'), given their zone here
            return [
                MetricPoint(step, _NAN if value is None else value, stamp.replace(tzinfo=_UTC)) for step, value, stamp in rows
            ]
        parse = dt.datetime.fromisoformat
        return [MetricPoint(step, _NAN if value is None else value, parse(stamp)) for step, value, stamp in rows]

    def _reduced(self, last_steps: dict[uuid.UUID, int], key: str, max_points: int) -> dict[uuid.UUID, list[MetricPoint]]:
        buckets = max(1, max_points // 2)
        result: dict[uuid.UUID, list[MetricPoint]] = {}
        for run_id, last_step in last_steps.items():
            width = max(1, -(-(last_step + 1) // buckets))
            bucket = _points.c.step // width
            of_key = (_points.c.run_id == run_id, _points.c.key == key, _points.c.value.is_not(None))
            chosen: dict[int, tuple] = {}
            if self.dialect == "sqlite":
                # SQLite gives a bare column the value of the row that holds the group's MIN (or MAX).
                for extreme in (sa.func.min, sa.func.max):
                    query = sa.select(_points.c.step, extreme(_points.c.value), _points.c.timestamp).where(*of_key).group_by(bucket)
                    for step, value, stamp in self.connection.execute(query):
                        chosen[step] = (step, value, stamp)
            else:
                # The lowest and highest (value, step) pair of each range: arrays compare element by element.
                pair = postgresql.array([_points.c.value, sa.cast(_points.c.step, sa.Double)])
                low, high = sa.func.min(pair), sa.func.max(pair)
                query = sa.select(low, high).where(*of_key).group_by(bucket)
                steps: set[int] = set()
                for low_pair, high_pair in self.connection.execute(query):
                    steps.add(int(low_pair[1]))
                    steps.add(int(high_pair[1]))
                rows = self.connection.execute(
                    sa.select(_points.c.step, _points.c.value, _points.c.timestamp).where(
                        _points.c.run_id == run_id, _points.c.key == key, _points.c.step.in_(sorted(steps))
                    )
                )
                for step, value, stamp in rows:
                    chosen[step] = (step, value, stamp)
            result[run_id] = [MetricPoint(step, value, stamp) for step, value, stamp in sorted(chosen.values())]
        return result
