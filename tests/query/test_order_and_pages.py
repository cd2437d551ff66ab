"""order_by (numbers, then strings, then the rest; '-' descending) and keyset pages."""

import pytest

from gemini.registry import registry
from gemini.domain.errors import InvalidInputError
from tests.query.conftest import labels

ORDERS = [
    ("params.lr", ["r0", "r1", "r2", "r5", "r3", "r4", "r6", "r7"]),
    ("-params.lr", ["r5", "r2", "r1", "r0", "r3", "r4", "r6", "r7"]),
    ("-metrics.map50", ["r4", "r0", "r1", "r3", "r2", "r6", "r5", "r7"]),
    ("data.site", ["r6", "r5", "r0", "r2", "r7", "r4", "r1", "r3"]),
    ("-params.epochs, metrics.map50", ["r2", "r1", "r0", "r5", "r3", "r4", "r6", "r7"]),
    ("model.name, -label", ["r4", "r3", "r7", "r2", "r1", "r0", "r6", "r5"]),
    ("-model.name", ["r0", "r1", "r2", "r7", "r3", "r4", "r5", "r6"]),
    ("created_at", ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"]),
    ("-created_at", ["r7", "r6", "r5", "r4", "r3", "r2", "r1", "r0"]),
]


@pytest.mark.parametrize(("order_by", "expected"), ORDERS, ids=[order for order, _ in ORDERS])
def test_order_by(sample_runs, order_by, expected):
    assert labels(registry().search_runs(order_by=order_by).items) == expected


@pytest.mark.parametrize(("order_by", "expected"), ORDERS, ids=[order for order, _ in ORDERS])
def test_cursor_pages_walk_the_same_order(sample_runs, order_by, expected):
    seen, cursor = [], None
    for _ in range(10):
        page = registry().search_runs(order_by=order_by, limit=3, cursor=cursor)
        seen.extend(labels(page.items))
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == expected


def test_default_order_is_creation_and_offset_pages(sample_runs):
    assert labels(registry().search_runs().items) == [f"r{i}" for i in range(8)]
    assert labels(registry().search_runs(limit=2, offset=3).items) == ["r3", "r4"]
    assert labels(registry().search_runs(where="exists(data)", limit=3, offset=6).items) == ["r6", "r7"]


def test_order_by_accepts_a_list(sample_runs):
    page = registry().search_runs(order_by=["-params.epochs", "metrics.map50"], limit=2)
    assert labels(page.items) == ["r2", "r1"]


def test_a_short_last_page_has_no_next_cursor(sample_runs):
    page = registry().search_runs(where="exists(tags)", limit=5)
    assert labels(page.items) == ["r2", "r5"] and page.next_cursor is None


def test_a_cursor_from_another_order_is_refused(sample_runs):
    cursor = registry().search_runs(order_by="params.lr", limit=2).next_cursor
    with pytest.raises(InvalidInputError, match="cursor was made for"):
        registry().search_runs(order_by="-params.lr", limit=2, cursor=cursor)


@pytest.mark.parametrize("cursor", ["", "garbage!", "eyJ4IjoxfQ", 5])
def test_a_malformed_cursor_is_refused(db, cursor):
    with pytest.raises(InvalidInputError, match="cursor"):
        registry().search_runs(limit=2, cursor=cursor)


def test_offset_and_cursor_together_are_refused(sample_runs):
    cursor = registry().search_runs(limit=2).next_cursor
    with pytest.raises(InvalidInputError, match="offset or cursor"):
        registry().search_runs(limit=2, offset=2, cursor=cursor)


@pytest.mark.parametrize(("limit", "offset"), [(-1, None), (None, -2), (True, None), ("3", None)])
def test_bad_pages_are_refused(db, limit, offset):
    with pytest.raises(InvalidInputError):
        registry().search_runs(limit=limit, offset=offset)
