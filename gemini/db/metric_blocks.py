"""A metric series as stored: its points packed in chunks, and summarised in blocks of steps, so that no
read goes point by point.

The points of each block of 64 steps (steps 0-63, 64-127, ...) are one row of ``run_metric_chunks``,
packed as little-endian arrays (int64 steps, float64 values with NaN, float64 times in seconds since
1970): the one copy of the points. ``run_metric_blocks`` summarises the series at level 0 (the same
blocks of 64 steps) and at levels 8, 64, 512 and 4,096 times wider (up to 262,144 steps a block). A
block keeps

- how many points it holds (NaN included) and its lowest and highest step;
- its first, lowest, highest and last point that is not NaN (step, value, time): what a line chart of
  the block draws, so that a series reduced to these four points a block keeps its shape and its exact
  extremes (the "M4" aggregation: Jugel et al., "M4: A Visualization-Oriented Time Series Data
  Aggregation", PVLDB 7(10), 2014).

A series keeps only the levels whose blocks are no wider than itself (``kept_levels``). A whole series
is read from its chunks, a row per 64 points unpacked at C speed. A series reduced to N points is read
from the coarsest level whose blocks are no wider than the range divided into N/4 buckets: at most 8
rows a bucket, whatever the series' length; the range's two ends, which cut through blocks, are covered
by finer levels and at last by the points. A zoom (a range of steps) reads the same way. Below 64 steps
a bucket, the points themselves are reduced.

Chunks and blocks are written with the batch, in its transaction. A batch that only appends steps
after a key's last one is merged into the stored chunk and blocks by the database itself, in the upsert
(no read); a level the series has just grown wide enough to keep is built whole. A batch that rewrites
earlier steps has the chunks it touches merged with it (a step given again takes the new value) and
their blocks, and those above, computed again.
"""

from __future__ import annotations

import datetime as dt
import sys
import uuid
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from itertools import groupby
from operator import itemgetter
from typing import NamedTuple

import sqlalchemy as sa

from gemini.db.errors import driver_calls
from gemini.db.tables import run_metric_blocks, run_metric_summaries

BASE_SHIFT = 6  # level 0: 64 steps a block
LEVEL_SHIFT = 3  # each level 8 times wider
LEVELS = 5
_NAN = float("nan")
_MAX_BLOCK = (1 << 63) - 1
_BIG_ENDIAN = sys.byteorder == "big"

_AGGREGATES = (
    "point_count, start_step, end_step, first_step, first_value, first_time, low_step, low_value, low_time, "
    "high_step, high_value, high_time, last_step, last_value, last_time"
)
_COLUMNS = f"run_id, key, level, block, {_AGGREGATES}"
# What a reduced read takes of a block: how many points, and the four it draws.
_DRAWN = (
    "point_count, first_step, first_value, first_time, low_step, low_value, low_time, high_step, high_value, "
    "high_time, last_step, last_value, last_time"
)
_PACKED = ("steps", "values", "times")
_CHUNK_INSERT = (
    'INSERT INTO run_metric_chunks (run_id, key, chunk, steps, "values", times) VALUES (?, ?, ?, ?, ?, ?) '
    "ON CONFLICT (run_id, key, chunk)"
)

Point = tuple[int, float | None, float]
"""(step, value or None for NaN, time in seconds since 1970)."""


class Span(NamedTuple):
    """The first and last step of a series."""

    first: int
    last: int


def kept_levels(span: Span) -> int:
    """How many levels a series keeps: level 0, and each level whose blocks are no wider than the
    series (a read never uses a wider one), so that a short series costs one block row a batch."""
    extent = span.last - span.first + 1
    return 1 + sum(1 for level in range(1, LEVELS) if width_of(level) <= extent)


def first_step_of(run_id: sa.ColumnElement, key: sa.ColumnElement) -> sa.Label:
    """The first step of a run's series, read from its first level-0 block (one index probe)."""
    blocks = run_metric_blocks
    return (
        sa.select(blocks.c.start_step)
        .where(blocks.c.run_id == run_id, blocks.c.key == key, blocks.c.level == 0)
        .order_by(blocks.c.block)
        .limit(1)
        .scalar_subquery()
        .label("first_step")
    )


# Built once: SQLAlchemy then compiles it once, not with every read.
_EXTENTS = sa.select(
    run_metric_summaries.c.run_id,
    run_metric_summaries.c.value_count,
    first_step_of(run_metric_summaries.c.run_id, run_metric_summaries.c.key),
    run_metric_summaries.c.last_step,
).where(
    run_metric_summaries.c.key == sa.bindparam("key"),
    run_metric_summaries.c.run_id.in_(sa.bindparam("run_ids", expanding=True)),
)


def shift_of(level: int) -> int:
    return BASE_SHIFT + LEVEL_SHIFT * level


def width_of(level: int) -> int:
    return 1 << shift_of(level)


class Block:
    """One block's summary; for a level-0 block made from points, ``packed``: those points as (steps,
    values, times) columns, to be written as its chunk."""

    __slots__ = ("count", "start", "end", "first", "low", "high", "last", "packed")

    def __init__(self, count, start, end, first, low, high, last, packed=None) -> None:  # noqa: ANN001
        self.count, self.start, self.end = count, start, end
        self.first, self.low, self.high, self.last = first, low, high, last
        self.packed = packed

    @classmethod
    def of_points(cls, steps: list[int], values: list[float | None], times: list[float]) -> "Block":
        """A level-0 block from its points in step order (``None`` values are NaN)."""
        if None not in values:
            first = (steps[0], values[0], times[0])
            last = (steps[-1], values[-1], times[-1])
            low_at = values.index(min(values))
            high_at = values.index(max(values))
            low = (steps[low_at], values[low_at], times[low_at])
            high = (steps[high_at], values[high_at], times[high_at])
        else:
            indexes = [index for index, value in enumerate(values) if value is not None]
            first = last = low = high = None
            if indexes:
                present = [values[index] for index in indexes]
                low_at = indexes[present.index(min(present))]
                high_at = indexes[present.index(max(present))]
                first = (steps[indexes[0]], values[indexes[0]], times[indexes[0]])
                last = (steps[indexes[-1]], values[indexes[-1]], times[indexes[-1]])
                low = (steps[low_at], values[low_at], times[low_at])
                high = (steps[high_at], values[high_at], times[high_at])
        return cls(len(steps), steps[0], steps[-1], first, low, high, last, (steps, values, times))

    def then(self, later: "Block") -> "Block":
        """The summary of this block's points followed by ``later``'s (every step of ``later`` after this
        one's), without packed points; ties of the extremes keep the earlier point."""
        low, high = self.low, self.high
        if later.low is not None and (low is None or later.low[1] < low[1]):
            low = later.low
        if later.high is not None and (high is None or later.high[1] > high[1]):
            high = later.high
        return Block(
            self.count + later.count,
            self.start,
            later.end,
            self.first if self.first is not None else later.first,
            low,
            high,
            later.last if later.last is not None else self.last,
        )


def _combined(blocks: list[Block]) -> Block:
    first = blocks[0]
    total = Block(first.count, first.start, first.end, first.first, first.low, first.high, first.last)
    for block in blocks[1:]:
        total = total.then(block)
    return total


def level_zero(points: Sequence[Point]) -> dict[int, Block]:
    """The level-0 blocks of points in step order, by block number."""
    if not points:
        return {}
    steps, values, times = (list(column) for column in zip(*points))
    blocks: dict[int, Block] = {}
    start, length = 0, len(steps)
    while start < length:
        number = steps[start] >> BASE_SHIFT
        end = bisect_left(steps, (number + 1) << BASE_SHIFT, start + 1)
        blocks[number] = Block.of_points(steps[start:end], values[start:end], times[start:end])
        start = end
    return blocks


def whole_of(zero: dict[int, Block]) -> Block:
    """One block summing up the level-0 blocks of a batch."""
    return _combined([zero[number] for number in sorted(zero)])


def levels_from(zero: dict[int, Block], count: int) -> list[dict[int, Block]]:
    """Level 0's blocks and the ``count - 1`` levels above them."""
    levels = [zero]
    for _ in range(1, count):
        levels.append(level_above(levels[-1]))
    return levels


def level_above(blocks: dict[int, Block]) -> dict[int, Block]:
    """The next level's blocks made of these (in block order), without their packed points."""
    grouped: dict[int, list[Block]] = {}
    for number in sorted(blocks):
        grouped.setdefault(number >> LEVEL_SHIFT, []).append(blocks[number])
    return {number: _combined(children) for number, children in grouped.items()}


def _pack(typecode: str, items: list) -> bytes:
    packed = array(typecode, items)
    if _BIG_ENDIAN:
        packed.byteswap()
    return packed.tobytes()


def _unpack(typecode: str, data: bytes) -> list:
    items = array(typecode)
    items.frombytes(data)
    if _BIG_ENDIAN:
        items.byteswap()
    return items.tolist()


def unpack_chunk(steps: bytes, values: bytes, times: bytes) -> tuple[list[int], list[float], list[float]]:
    """A chunk's columns as lists: steps, values (NaN where logged so), seconds since 1970."""
    return _unpack("q", steps), _unpack("d", values), _unpack("d", times)


def _triple(step, value, time) -> tuple | None:  # noqa: ANN001
    return None if step is None else (step, value, time)


class MetricBlocks:
    """Reads and writes of a series' chunks and blocks on one connection."""

    def __init__(self, connection: sa.Connection) -> None:
        self.connection = connection
        self.postgresql = connection.dialect.name == "postgresql"
        self.marker = "%s" if self.postgresql else "?"

    def _run(self, run_id: uuid.UUID) -> object:
        return run_id if self.postgresql else run_id.hex

    def _select(self, sql: str, parameters: tuple) -> list[tuple]:
        if self.postgresql:
            # Results in binary: no number formatted as text by the server and parsed again here (a
            # reduced read of 20 runs: 9 to 3 ms of client CPU). Same connection, same transaction.
            with driver_calls(self.connection), self.connection.connection.driver_connection.cursor(binary=True) as cursor:
                cursor.execute(sql.replace("?", self.marker), parameters)
                return cursor.fetchall()
        return self.connection.exec_driver_sql(sql, parameters).all()

    # -- writes --------------------------------------------------------------------------------------

    def append(self, run_id: uuid.UUID, appended: dict[str, tuple[dict[int, Block], Span | None, Span]]) -> None:
        """For each key, the level-0 blocks (``level_zero``) of points that all come after its last step,
        with the series' span before (``None``: a new key) and after them: merged into the stored
        blocks; a level the series has just grown wide enough to keep is built whole, its stored part
        from level 0."""
        merged: dict[str, list[dict[int, Block]]] = {}
        replaced: list[tuple[str, int, dict[int, Block]]] = []
        for key, (zero, before, after) in appended.items():
            kept = kept_levels(after)
            levels = levels_from(zero, kept)
            if before is None or kept_levels(before) == kept:
                merged[key] = levels
                continue
            merged[key] = levels[: kept_levels(before)]
            old = levels_from(self._stored_range(run_id, key, 0, before.first >> BASE_SHIFT, before.last >> BASE_SHIFT), kept)
            for level in range(kept_levels(before), kept):
                whole = dict(old[level])
                for number, block in levels[level].items():
                    whole[number] = whole[number].then(block) if number in whole else block
                replaced.append((key, level, whole))
        self._upsert(run_id, merged, merge=True)
        if replaced:
            self._upsert_blocks(run_id, replaced, merge=False)

    def recompute(self, run_id: uuid.UUID, key: str, batch: dict[int, Block], before: Span, after: Span) -> Block:
        """Write the level-0 blocks of a batch (``level_zero``) that rewrites steps of ``key``: each
        merged with the stored points of its block (a step given again takes the batch's value), and the
        blocks above them computed again; a level the series has just grown wide enough to keep is
        built whole. Returns the block of the whole series (its new summary)."""
        stored_chunks = self.points([(run_id, low << BASE_SHIFT, ((high + 1) << BASE_SHIFT) - 1) for low, high in _runs_of(sorted(batch))], key)
        stored_points: dict[int, tuple[float | None, float]] = {}
        for steps, values, times in stored_chunks:
            for step, value, time in zip(steps, values, times):
                stored_points[step] = (None if value != value else value, time)
        zero: dict[int, Block] = {}
        for number, block in batch.items():
            points = {step: (value, time) for step, value, time in zip(*block.packed)}
            start, end = number << BASE_SHIFT, ((number + 1) << BASE_SHIFT) - 1
            merged = {step: point for step, point in stored_points.items() if start <= step <= end}
            merged.update(points)
            zero.update(level_zero([(step, value, time) for step, (value, time) in sorted(merged.items())]))
        levels = [zero]
        for level in range(1, kept_levels(after)):
            shift = shift_of(level)
            if level < kept_levels(before):
                touched_above = sorted({number >> LEVEL_SHIFT for number in levels[-1]})
            else:
                touched_above = list(range(after.first >> shift, (after.last >> shift) + 1))
            children = dict(levels[-1])
            for low, high in _runs_of(touched_above):
                stored = self._stored_range(run_id, key, level - 1, low << LEVEL_SHIFT, ((high + 1) << LEVEL_SHIFT) - 1)
                for number, block in stored.items():
                    children.setdefault(number, block)
            wanted = set(touched_above)
            levels.append({number: block for number, block in level_above(children).items() if number in wanted})
        self._upsert(run_id, {key: levels}, merge=False)
        top = kept_levels(after) - 1
        return whole_of(self._stored_range(run_id, key, top, after.first >> shift_of(top), after.last >> shift_of(top)))

    def _stored_range(self, run_id: uuid.UUID, key: str, level: int, low: int, high: int) -> dict[int, Block]:
        """The stored blocks of one level numbered ``low`` to ``high``, without their packed points."""
        rows = self._select(
            f"SELECT block, {_AGGREGATES} FROM run_metric_blocks WHERE run_id = ? AND key = ? AND level = ? "
            "AND block BETWEEN ? AND ?",
            (self._run(run_id), key, level, low, high),
        )
        return {row[0]: _block_of_row(row[1:]) for row in rows}

    def _upsert(self, run_id: uuid.UUID, levels_by_key: dict[str, list[dict[int, Block]]], *, merge: bool) -> None:
        """Write blocks and level 0's chunks: in place of the stored ones, or (``merge``) after them,
        their points following."""
        self._upsert_blocks(
            run_id,
            [(key, level, blocks) for key, levels in levels_by_key.items() for level, blocks in enumerate(levels)],
            merge=merge,
        )
        run = self._run(run_id)
        chunks = []
        for key, levels in levels_by_key.items():
            for number, block in levels[0].items():
                steps, values, times = block.packed
                if None in values:
                    values = [_NAN if value is None else value for value in values]
                chunks.append((run, key, number, _pack("q", steps), _pack("d", values), _pack("d", times)))
        if chunks:
            self.connection.exec_driver_sql(self._chunks_statement(merge).replace("?", self.marker), chunks)

    def _upsert_blocks(self, run_id: uuid.UUID, blocks: list[tuple[str, int, dict[int, Block]]], *, merge: bool) -> None:
        run = self._run(run_id)
        absent = (None, None, None)
        rows = [
            (run, key, level, number, block.count, block.start, block.end, *(block.first or absent),
             *(block.low or absent), *(block.high or absent), *(block.last or absent))
            for key, level, of_level in blocks
            for number, block in of_level.items()
        ]
        if rows:
            self.connection.exec_driver_sql(self._blocks_statement(merge).replace("?", self.marker), rows)

    def _blocks_statement(self, merge: bool) -> str:
        insert = f"INSERT INTO run_metric_blocks ({_COLUMNS}) VALUES ({', '.join('?' * 19)}) ON CONFLICT (run_id, key, level, block)"
        if not merge:
            return f"{insert} DO UPDATE SET " + ", ".join(f"{column} = excluded.{column}" for column in _AGGREGATES.split(", "))
        # Every SET expression reads the stored row as it was before the update: the stored block comes
        # first, the new points after it; an extreme equal to the stored one keeps the stored (earlier) point.
        stored, new = "run_metric_blocks", "excluded"

        def point(prefix: str, take_new: str) -> str:
            return ", ".join(
                f"{prefix}_{part} = CASE WHEN {take_new} THEN {new}.{prefix}_{part} ELSE {stored}.{prefix}_{part} END"
                for part in ("step", "value", "time")
            )

        return f"{insert} DO UPDATE SET " + ", ".join(
            [
                f"point_count = {stored}.point_count + {new}.point_count",
                f"end_step = {new}.end_step",
                point("first", f"{stored}.first_step IS NULL"),
                point("low", f"{stored}.low_value IS NULL OR {new}.low_value < {stored}.low_value"),
                point("high", f"{stored}.high_value IS NULL OR {new}.high_value > {stored}.high_value"),
                point("last", f"{new}.last_step IS NOT NULL"),
            ]
        )

    def _chunks_statement(self, merge: bool) -> str:
        if not merge:
            return f"{_CHUNK_INSERT} DO UPDATE SET " + ", ".join(f'"{column}" = excluded."{column}"' for column in _PACKED)
        # SQLite's || joins blobs as text: cast back, bytes unchanged. PostgreSQL's joins bytea.
        joined = '"{0}" = run_metric_chunks."{0}" || excluded."{0}"' if self.postgresql else '"{0}" = CAST(run_metric_chunks."{0}" || excluded."{0}" AS BLOB)'
        return f"{_CHUNK_INSERT} DO UPDATE SET " + ", ".join(joined.format(column) for column in _PACKED)

    # -- reads ---------------------------------------------------------------------------------------

    def extents(self, run_ids: list[uuid.UUID], key: str) -> dict[uuid.UUID, tuple[int, int, int]]:
        """(point count, first step, last step) of each run's series of ``key`` (runs without it absent):
        the count and last step from its summary, the first step from its first block."""
        found = {}
        for start in range(0, len(run_ids), 500):
            rows = self.connection.execute(_EXTENTS, {"key": key, "run_ids": run_ids[start : start + 500]})
            for run_id, count, first, last in rows:
                found[run_id] = (count, first, last)
        return found

    def _union(self, select: str, parameter_rows: list[tuple]) -> list[tuple]:
        """``select`` once per parameter row, as few statements as the drivers' limits allow."""
        rows: list[tuple] = []
        per_statement = max(1, min(200, 900 // select.count("?")))  # SQLite: 500 terms, 999 parameters
        for start in range(0, len(parameter_rows), per_statement):
            part = parameter_rows[start : start + per_statement]
            rows.extend(self._select(" UNION ALL ".join([select] * len(part)), tuple(value for row in part for value in row)))
        return rows

    def points(self, requests: list[tuple[uuid.UUID, int | None, int | None]], key: str) -> list[tuple[list, list, list]]:
        """For each (run, first step, last step), every point of the run's series between those steps
        (inclusive; ``None``: no bound) as (steps, values, times) columns, NaN where logged so; in the
        order asked, in one read."""
        parameter_rows = [
            (index, self._run(run_id), key, 0 if first is None else first >> BASE_SHIFT, _MAX_BLOCK if last is None else last >> BASE_SHIFT)
            for index, (run_id, first, last) in enumerate(requests)
        ]
        rows = self._union(
            'SELECT ? AS series, chunk, steps, "values", times FROM run_metric_chunks '
            "WHERE run_id = ? AND key = ? AND chunk BETWEEN ? AND ?",
            parameter_rows,
        )
        rows.sort(key=_series_and_block)
        found: list[tuple[list, list, list]] = [([], [], []) for _ in requests]
        for index, group in groupby(rows, key=_series):
            group = list(group)
            steps = _unpack("q", b"".join(row[2] for row in group))
            values = _unpack("d", b"".join(row[3] for row in group))
            times = _unpack("d", b"".join(row[4] for row in group))
            _, first, last = requests[index]
            if first is not None or last is not None:
                low = 0 if first is None else bisect_left(steps, first)
                high = len(steps) if last is None else bisect_right(steps, last)
                if low > 0 or high < len(steps):
                    steps, values, times = steps[low:high], values[low:high], times[low:high]
            found[index] = (steps, values, times)
        return found

    def reduced(
        self, plans: dict[uuid.UUID, tuple[int, int, int]], key: str, buckets: int, *, extremes_only: bool
    ) -> dict[uuid.UUID, tuple[tuple[list, list, list], int]]:
        """For each run's (first step, last step, level): the steps cut into ``buckets`` equal ranges,
        each keeping its first, lowest, highest and last point (or only the lowest and highest), NaN
        left out, read from the blocks of ``level`` (no wider than a bucket) and, at the ends, of the
        levels below and the points; as (steps, values, times) columns, with how many points the range
        holds. One read for the blocks of every run, one for the ends' points."""
        runs = list(plans)
        span_rows, edge_ranges = [], []
        for index, run_id in enumerate(runs):
            first, last, level = plans[run_id]
            spans: list[tuple[int, int, int]] = []
            edges: list[tuple[int, int]] = []
            _cover(first, last, level, spans, edges)
            span_rows.extend((index, self._run(run_id), key, *span) for span in spans)
            edge_ranges.extend((index, edge) for edge in edges)
        rows = self._union(
            f"SELECT ? AS series, {_DRAWN} FROM run_metric_blocks "
            "WHERE run_id = ? AND key = ? AND level = ? AND block BETWEEN ? AND ?",
            span_rows,
        )
        by_series: dict[int, list[tuple]] = {index: [] for index in range(len(runs))}
        for row in rows:
            by_series[row[0]].append(row[1:])
        if edge_ranges:
            # Each end's points, as blocks of one point each.
            edge_points = self.points([(runs[index], low, high) for index, (low, high) in edge_ranges], key)
            for (index, _), (steps, values, times) in zip(edge_ranges, edge_points):
                for step, value, time in zip(steps, values, times):
                    point = (step, value, time) if value == value else (None, None, None)
                    by_series[index].append((1, *point, *point, *point, *point))
        found = {}
        for index, run_id in enumerate(runs):
            first, last, _ = plans[run_id]
            found[run_id] = _buckets(by_series[index], first, last, buckets, extremes_only)
        return found


def _buckets(rows: list[tuple], first: int, last: int, buckets: int, extremes_only: bool) -> tuple[tuple[list, list, list], int]:
    """Blocks (``_DRAWN`` columns) cut into buckets of steps: each block goes into the bucket where its
    first point is, and a block is no wider than a bucket, so a bucket's points are its blocks' first,
    lowest, highest and last. Straight from the rows, by index: a read of 20 runs goes through thousands."""
    count = sum(map(_count, rows))
    rows = sorted((row for row in rows if row[1] is not None), key=_first_step)  # NaN-only blocks draw nothing
    width = -(-(last - first + 1) // buckets)
    steps: list[int] = []
    values: list[float] = []
    times: list[float] = []
    start, length = 0, len(rows)
    while start < length:
        bucket = (rows[start][1] - first) // width
        end, low, high = start + 1, start, start
        while end < length and (rows[end][1] - first) // width == bucket:
            if rows[end][5] < rows[low][5]:
                low = end
            if rows[end][8] > rows[high][8]:
                high = end
            end += 1
        chosen = [rows[low][4:7], rows[high][7:10]]
        if not extremes_only:
            chosen += [rows[start][1:4], rows[end - 1][10:13]]
        chosen.sort()
        previous = None
        for step, value, time in chosen:
            if step != previous:
                steps.append(step)
                values.append(value)
                times.append(time)
                previous = step
        start = end
    return (steps, values, times), count


_count = itemgetter(0)
_first_step = itemgetter(1)
_series = itemgetter(0)
_series_and_block = itemgetter(0, 1)


def _runs_of(numbers: list[int]) -> list[tuple[int, int]]:
    """Sorted numbers as runs of consecutive ones: [1, 2, 3, 7] -> [(1, 3), (7, 7)]."""
    runs: list[tuple[int, int]] = []
    for number in numbers:
        if runs and runs[-1][1] == number - 1:
            runs[-1] = (runs[-1][0], number)
        else:
            runs.append((number, number))
    return runs


def _cover(first: int, last: int, level: int, spans: list, edges: list) -> None:
    """Steps ``first``..``last`` as whole blocks of ``level`` (``spans``: level, first and last block),
    what is left at the ends as blocks of the levels below, and the rest as ranges of points (``edges``)."""
    if level < 0:
        edges.append((first, last))
        return
    shift = shift_of(level)
    low = (first + (1 << shift) - 1) >> shift
    high = ((last + 1) >> shift) - 1
    if low > high:
        _cover(first, last, level - 1, spans, edges)
        return
    if first < low << shift:
        _cover(first, (low << shift) - 1, level - 1, spans, edges)
    spans.append((level, low, high))
    if (high + 1) << shift <= last:
        _cover((high + 1) << shift, last, level - 1, spans, edges)


def _block_of_row(row: Sequence) -> Block:
    """A Block from the aggregate columns of a row."""
    return Block(row[0], row[1], row[2], _triple(*row[3:6]), _triple(*row[6:9]), _triple(*row[9:12]), _triple(*row[12:15]))


def seconds_of(stamp) -> float:  # noqa: ANN001
    """A stored point's time as seconds since 1970: PostgreSQL's driver gives aware datetimes; SQLite's
    text is UTC without zone, always with microseconds."""
    if isinstance(stamp, str):
        return dt.datetime.fromisoformat(stamp).replace(tzinfo=dt.timezone.utc).timestamp()
    return stamp.timestamp()


def reduce_points(
    steps: list[int], values: list[float], times: list[float], first: int, last: int, buckets: int, *, extremes_only: bool
) -> tuple[list[int], list[float], list[float]]:
    """Points in step order, none NaN, cut into ``buckets`` equal ranges of ``first``..``last``, each
    keeping its first, lowest, highest and last point (or only the lowest and highest); as columns."""
    width = -(-(last - first + 1) // buckets)
    kept: list[int] = []
    start, length = 0, len(steps)
    while start < length:
        bucket = (steps[start] - first) // width
        end = bisect_left(steps, first + (bucket + 1) * width, start + 1)
        part = values[start:end]
        low = start + part.index(min(part))
        high = start + part.index(max(part))
        kept.extend(sorted({low, high} if extremes_only else {start, low, high, end - 1}))
        start = end
    return [steps[at] for at in kept], [values[at] for at in kept], [times[at] for at in kept]
