"""A batch checked as columns (``PointColumns``) gives the points that the same batch as points gives,
and refuses by column and place."""

import datetime as dt
import math

import pytest

from gemini.domain.checks import PointColumns, check_points
from gemini.domain.errors import InvalidInputError
from gemini.domain.limits import MAX_BATCH_POINTS

UTC = dt.timezone.utc
MOMENT = dt.datetime(2026, 11, 30, 19, 0, tzinfo=UTC)


def as_columns(points: list[tuple]) -> PointColumns:
    keys, steps, values, stamps = (list(column) for column in zip(*points))
    return PointColumns(keys, steps, values, stamps)


@pytest.mark.parametrize(
    "points",
    [
        [("loss", 0, 0.5, MOMENT), ("acc", 0, 1.0, MOMENT), ("loss", 1, math.nan, MOMENT)],
        [("loss", 0, 1, MOMENT), ("loss", 1, 2, MOMENT)],  # ints made floats
        [("loss", 3, 1.0, MOMENT), ("acc", 3, 2.0, MOMENT), ("loss", 3, 3.0, MOMENT), ("acc", 2, 4.0, MOMENT)],
        [("loss", 0, 1.0, MOMENT.astimezone(dt.timezone(dt.timedelta(hours=-7))))],
    ],
)
def test_columns_check_to_the_points_of_the_same_batch(points):
    assert check_points(as_columns(points)) == check_points(points)


def test_a_step_given_twice_keeps_the_last_value_in_its_place():
    checked = check_points(PointColumns(["a", "b", "a"], [0, 0, 0], [1.0, 2.0, 3.0], None))
    assert [(key, value) for key, _, value, _ in checked] == [("b", 2.0), ("a", 3.0)]


def test_timestamps_omitted_or_none_are_now():
    before = dt.datetime.now(UTC)
    checked = check_points(PointColumns(["a", "b"], [0, 0], [1.0, 2.0], [None, MOMENT]))
    assert before <= checked[0][3] <= dt.datetime.now(UTC) and checked[1][3] == MOMENT
    [(_, _, _, now)] = check_points(PointColumns(["a"], [0], [1.0]))
    assert before <= now <= dt.datetime.now(UTC)


def test_no_points_is_an_empty_batch():
    assert check_points(PointColumns([], [], [], [])) == []


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (PointColumns(["a", "b"], [0], [1.0, 2.0]), "keys has 2, steps has 1"),
        (PointColumns(["a"], [0], [1.0, 2.0]), "keys has 1, values has 2"),
        (PointColumns(["a"], [0], [1.0], []), "keys has 1, timestamps has 0"),
        (PointColumns("ab", [0, 1], [1.0, 2.0]), "keys must be a list"),
        (PointColumns(["a"], 0, [1.0]), "steps must be a list"),
        (PointColumns(["a", ["b"]], [0, 1], [1.0, 2.0]), "keys[1]: a metric key must be a string"),
        (PointColumns(["a", ""], [0, 1], [1.0, 2.0]), "keys[1]: a metric key must have 1 to"),
        (PointColumns(["a", "a"], [0, -1], [1.0, 2.0]), "steps[1]: a step must be between 0 and"),
        (PointColumns(["a"], [True], [1.0]), "steps[0]: a step must be an integer"),
        (PointColumns(["a", "b"], [0, 0], [1.0, "NaN"]), "values[1]: metric 'b' must be a real number"),
        (PointColumns(["a"], [0], [10**400]), "values[0]: metric 'a'"),
        (PointColumns(["a"], [0], [1.0], [dt.datetime(2026, 1, 1)]), "timestamps[0] must be a timezone-aware datetime"),
    ],
)
def test_a_refused_entry_is_named_by_its_column_and_place(columns, message):
    with pytest.raises(InvalidInputError, match=message.replace("[", r"\[").replace("]", r"\]")):
        check_points(columns)


def test_a_batch_of_columns_has_the_same_most_points():
    count = MAX_BATCH_POINTS + 1
    with pytest.raises(InvalidInputError, match=f"at most {MAX_BATCH_POINTS} points"):
        check_points(PointColumns(["a"] * count, list(range(count)), [1.0] * count))
