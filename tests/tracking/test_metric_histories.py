"""Metric histories as columns, whole, reduced and zoomed, read from the blocks that each batch keeps, on
both databases; the blocks checked against the points they stand for."""

import datetime as dt
import math
import random

import pytest
import sqlalchemy as sa

from gemini.api.model_run import ModelRun
from gemini.db import engine as db_engine
from gemini.db import metric_blocks
from gemini.db.metric_blocks import LEVELS, Span, kept_levels, level_zero, levels_from
from gemini.domain.errors import InvalidInputError
from gemini.registry import registry

START = dt.datetime(2026, 12, 4, 8, 0, 0, 123456, tzinfo=dt.timezone.utc)


class Series:
    """A run's key written in batches, with what the registry should hold (step -> (value, time))."""

    def __init__(self, key: str = "loss") -> None:
        self.run_id = registry().start_run(model_run_info={"series": key}, model_name=None).id
        self.key = key
        self.expected: dict[int, tuple[float, float]] = {}
        self.batches = 0

    def write(self, steps, value=None) -> None:  # noqa: ANN001
        random_value = random.Random(self.batches)
        points = []
        for step in steps:
            stamp = START + dt.timedelta(seconds=step * 0.25, microseconds=self.batches)
            number = value(step) if value else (math.nan if random_value.random() < 0.03 else random_value.gauss(0, 1))
            points.append((self.key, step, number, stamp))
            self.expected[step] = (number, stamp.timestamp())
        self.batches += 1
        registry().log_batch(run_id=self.run_id, batch_id=f"batch-{self.batches}", points=points)

    def finite_in(self, low: int, high: int) -> list[float]:
        return [value for step, (value, _) in self.expected.items() if low <= step <= high and not math.isnan(value)]


def same_value(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def assert_whole(series: Series, read) -> None:  # noqa: ANN001
    assert read.steps == sorted(series.expected)
    assert not read.reduced
    for step, value, stamp in zip(read.steps, read.values, read.timestamps):
        expected_value, expected_time = series.expected[step]
        assert same_value(value, expected_value), step
        assert stamp == pytest.approx(expected_time, abs=1e-6)


def assert_reduced(series: Series, read, low: int, high: int, max_points: int) -> None:  # noqa: ANN001
    assert len(read.steps) <= max_points
    assert read.steps == sorted(set(read.steps))
    assert all(low <= step <= high for step in read.steps)
    for step, value, stamp in zip(read.steps, read.values, read.timestamps):
        assert series.expected[step][0] == value  # a real point, never NaN
        assert stamp == pytest.approx(series.expected[step][1], abs=1e-6)
    finite = series.finite_in(low, high)
    assert max(read.values) == max(finite) and min(read.values) == min(finite)


def stored(run_id, key: str) -> tuple[dict[tuple[int, int], tuple], dict[int, tuple]]:  # noqa: ANN001
    """The blocks of a series by (level, number), and its chunks of packed points by number."""
    with db_engine.get_engine().connect() as connection:
        stored_id = run_id if connection.dialect.name == "postgresql" else run_id.hex
        blocks = connection.execute(
            sa.text(f"SELECT level, block, {metric_blocks._AGGREGATES} FROM run_metric_blocks WHERE run_id = :run_id AND key = :key"),
            {"run_id": stored_id, "key": key},
        ).all()
        chunks = connection.execute(
            sa.text('SELECT chunk, steps, "values", times FROM run_metric_chunks WHERE run_id = :run_id AND key = :key'),
            {"run_id": stored_id, "key": key},
        ).all()
    return (
        {(row[0], row[1]): summary_of(metric_blocks._block_of_row(row[2:])) for row in blocks},
        {row[0]: unpacked(row[1:]) for row in chunks},
    )


def unpacked(columns) -> tuple:  # noqa: ANN001
    steps, values, times = (metric_blocks._unpack(code, data) for code, data in zip("qdd", columns))
    return steps, [None if math.isnan(value) else value for value in values], [round(time, 6) for time in times]


def summary_of(block) -> tuple:  # noqa: ANN001
    def point(triple):  # noqa: ANN001, ANN202
        return None if triple is None else (triple[0], triple[1], round(triple[2], 6))

    return (block.count, block.start, block.end, *map(point, (block.first, block.low, block.high, block.last)))


def assert_blocks_match_points(series: Series) -> None:
    points = [(step, None if math.isnan(value) else value, stamp) for step, (value, stamp) in sorted(series.expected.items())]
    levels = levels_from(level_zero(points), kept_levels(Span(points[0][0], points[-1][0])))  # as wide as the series
    blocks, chunks = stored(series.run_id, series.key)
    assert blocks == {(level, number): summary_of(block) for level, of_level in enumerate(levels) for number, block in of_level.items()}
    assert chunks == {
        number: (block.packed[0], block.packed[1], [round(time, 6) for time in block.packed[2]])
        for number, block in levels[0].items()
    }


def test_appended_batches_read_back_whole_and_keep_their_blocks(db):
    series = Series()
    for start in range(0, 7000, 700):  # batches that end inside a block at every level
        series.write(range(start, start + 700))
    series.write([7000, 7001, 9000, 70_000, 1_000_003])  # sparse steps, far apart
    [read] = registry().metric_histories(run_ids=[series.run_id], key="loss").values()
    assert_whole(series, read)
    assert_blocks_match_points(series)


def test_rewritten_steps_make_their_blocks_computed_again(db):
    series = Series()
    series.write(range(0, 3000))
    series.write([5, 6, 2999, 1500], value=lambda step: 1000.0 + step)  # a new maximum inside old blocks
    series.write([7, 40], value=lambda step: math.nan)  # a NaN replacing a number
    series.write(range(10, 20), value=lambda step: -1000.0)  # a new minimum over a whole level-0 block
    [read] = registry().metric_histories(run_ids=[series.run_id], key="loss").values()
    assert_whole(series, read)
    assert_blocks_match_points(series)
    [reduced] = registry().metric_histories(run_ids=[series.run_id], key="loss", max_points=40).values()
    assert_reduced(series, reduced, 0, 2999, 40)
    assert {(2999, 3999.0), (10, -1000.0)} <= set(zip(reduced.steps, reduced.values))  # ties: the first


def test_points_out_of_order_within_a_batch_are_kept_in_step_order(db):
    series = Series()
    series.write([30, 2, 17, 16, 15, 0])
    series.write([31, 45, 33])
    [read] = registry().metric_histories(run_ids=[series.run_id], key="loss").values()
    assert_whole(series, read)
    assert_blocks_match_points(series)


@pytest.mark.parametrize("max_points", [2, 3, 4, 5, 50, 999])
def test_a_reduced_series_keeps_its_extremes_within_the_limit(db, max_points):
    series = Series()
    series.write(range(0, 20_000))
    [read] = registry().metric_histories(run_ids=[series.run_id], key="loss", max_points=max_points).values()
    assert read.reduced
    assert_reduced(series, read, 0, 19_999, max_points)
    if max_points >= 50:  # the chart is filled, not left with a few points
        assert len(read.steps) >= max_points // 2


@pytest.mark.parametrize("low, high", [(0, 99), (1234, 5678), (17, 18), (15_000, 30_000), (100, 100_000), (19_999, 19_999)])
def test_a_zoom_reads_a_range_of_steps_whole_or_reduced(db, low, high):
    series = Series()
    series.write(range(0, 20_000))
    [whole] = registry().metric_histories(run_ids=[series.run_id], key="loss", start_step=low, end_step=high).values()
    assert whole.steps == [step for step in sorted(series.expected) if low <= step <= high]
    [reduced] = registry().metric_histories(
        run_ids=[series.run_id], key="loss", start_step=low, end_step=high, max_points=100
    ).values()
    in_range = min(high, 19_999) - low + 1
    assert reduced.reduced is (in_range > 100)
    if reduced.reduced:
        assert_reduced(series, reduced, low, high, 100)
    else:
        assert reduced.steps == whole.steps


def test_a_range_after_the_last_step_is_an_empty_series(db):
    series = Series()
    series.write(range(10))
    [read] = registry().metric_histories(run_ids=[series.run_id], key="loss", start_step=50).values()
    assert read.steps == read.values == read.timestamps == []


def test_a_reduced_read_reads_rows_for_the_points_asked_not_for_the_series(db, monkeypatch):
    series = Series()
    for start in range(0, 200_000, 50_000):
        series.write(range(start, start + 50_000), value=lambda step: math.sin(step / 1000))
    rows_read = []
    select = metric_blocks.MetricBlocks._select

    def counting(self, sql, parameters):  # noqa: ANN001, ANN202
        rows = select(self, sql, parameters)
        rows_read.append(len(rows))
        return rows

    monkeypatch.setattr(metric_blocks.MetricBlocks, "_select", counting)
    for max_points in (100, 1000):
        rows_read.clear()
        [read] = registry().metric_histories(run_ids=[series.run_id], key="loss", max_points=max_points).values()
        assert read.reduced and len(read.steps) <= max_points
        assert sum(rows_read) <= max_points + 2 * 16 * LEVELS, (max_points, rows_read)


def test_many_runs_in_one_read_in_the_order_given(db):
    first, second, without = Series(), Series(), Series("other")
    first.write(range(100))
    second.write(range(50))
    without.write(range(5))
    histories = registry().metric_histories(run_ids=[second.run_id, without.run_id, first.run_id], key="loss")
    assert list(histories) == [second.run_id, first.run_id]
    assert_whole(first, histories[first.run_id])


def test_a_range_that_ends_before_it_starts_is_refused(db):
    series = Series()
    with pytest.raises(InvalidInputError, match="start_step"):
        registry().metric_histories(run_ids=[series.run_id], key="loss", start_step=10, end_step=9)
    with pytest.raises(InvalidInputError, match="end_step"):
        registry().metric_histories(run_ids=[series.run_id], key="loss", end_step=-1)


def test_get_metric_histories_gives_columns_keyed_as_the_runs_were_given(db):
    runs = [ModelRun.start(model_run_info={"n": n}) for n in range(2)]
    for n, run in enumerate(runs):
        for step in range(5):
            run.log_metric("map50", n + step / 10, step=step)
    runs[1].flush()  # a run given as an object has its buffered points written first; an id cannot
    histories = ModelRun.get_metric_histories([runs[0], str(runs[1].id)], "map50")
    assert list(histories) == [runs[0].id, str(runs[1].id)]
    assert histories[runs[0].id]["steps"] == [0, 1, 2, 3, 4]
    assert histories[str(runs[1].id)]["values"] == [1.0, 1.1, 1.2, 1.3, 1.4]
    assert set(histories[runs[0].id]) == {"steps", "values", "timestamps"}
    assert all(isinstance(stamp, float) for stamp in histories[runs[0].id]["timestamps"])
    for run in runs:
        run.end()


def test_get_metric_histories_returns_none_and_logs_on_bad_input(db, caplog):
    assert ModelRun.get_metric_histories(["not an id"], "map50") is None
    assert "ModelRun.get_metric_histories" in caplog.text


def test_get_metric_history_can_be_reduced(db):
    run = ModelRun.start(model_run_info={"reduced": True})
    for step in range(1000):
        run.log_metric("wave", math.sin(step / 30), step=step)
    points = run.get_metric_history("wave", max_points=100)
    assert 50 <= len(points) <= 100
    assert all(isinstance(point["timestamp"], dt.datetime) for point in points)
    assert len(run.get_metric_history("wave")) == 1000
    run.end()


def test_deleting_a_run_deletes_its_blocks(db):
    series = Series()
    series.write(range(1000))
    assert all(stored(series.run_id, "loss"))
    registry().delete_run(run_id=series.run_id)
    assert stored(series.run_id, "loss") == ({}, {})


def test_reads_of_many_runs_are_cut_into_statements_the_drivers_accept(db):
    many = []
    for index in range(60):  # more blocks to read than one statement asks for
        series = Series()
        series.write(range(index, 2000 + index * 7))
        many.append(series)
    run_ids = [series.run_id for series in many]
    whole = registry().metric_histories(run_ids=run_ids, key="loss")
    reduced = registry().metric_histories(run_ids=run_ids, key="loss", max_points=10, start_step=3, end_step=2300)
    zoomed = registry().metric_histories(run_ids=run_ids, key="loss", start_step=1000, end_step=1100)
    assert list(whole) == list(reduced) == list(zoomed) == run_ids
    for series in many:
        assert_whole(series, whole[series.run_id])
        assert_reduced(series, reduced[series.run_id], 3, 2300, 10)
        assert zoomed[series.run_id].steps == [step for step in sorted(series.expected) if 1000 <= step <= 1100]


def test_a_series_keeps_the_levels_as_wide_as_itself_as_it_grows_either_way(db):
    series = Series()
    series.write(range(1000, 1100))  # one level: shorter than a level-1 block
    series.write([5, 5000])  # a rewrite that also widens it, backwards and forwards: levels 1 and 2 built whole
    series.write([40_000])  # an append that widens it past level 3's blocks
    series.write(range(1050, 1060), value=lambda step: 7.0)
    assert_blocks_match_points(series)
    [read] = registry().metric_histories(run_ids=[series.run_id], key="loss").values()
    assert_whole(series, read)
    [reduced] = registry().metric_histories(run_ids=[series.run_id], key="loss", max_points=8).values()
    assert_reduced(series, reduced, 5, 40_000, 8)
