"""Hostile and odd input: each case is refused with a message naming what was wrong, and writes nothing.

Then a property: any accepted JSON object comes back exactly as stored (same types, same key order),
and containment search finds it by any of its sub-objects and finds nothing that does not contain them.
"""

import datetime as dt
import decimal
import json
import logging
import math
import re
import uuid
from typing import Any

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gemini.registry import registry
from gemini.api.model import Model
from gemini.api.model_run import ModelRun
from gemini.domain.checks import MAX_INFO_DEPTH, MAX_NAME_LENGTH
from gemini.domain.errors import InfoTooLargeError, InvalidInputError

SQL_META = ["'; DROP TABLE model_runs; --", '"', "''", "\\", "%", "_", "$.a", "a.b", '$."x"', "[0]", "*", "`"]


def _nested(depth: int) -> dict:
    value: Any = 1
    for _ in range(depth):
        value = {"k": value}
    return value


def _totals() -> tuple[int, int]:
    return registry().count_runs(), registry().search_models(limit=0, with_total=True).total


BAD_INFOS = [
    pytest.param(["a", 1], "must be a JSON object", id="list"),
    pytest.param("{}", "must be a JSON object", id="json-text"),
    pytest.param(42, "must be a JSON object", id="int"),
    pytest.param({"a": {1, 2}}, "model_run_info['a'] is a set", id="set"),
    pytest.param({"a": b"bytes"}, "is a bytes", id="bytes"),
    pytest.param({"a": dt.date(2024, 1, 1)}, "is a date", id="date"),
    pytest.param({"a": decimal.Decimal("1.5")}, "is a Decimal", id="decimal"),
    pytest.param({"a": (1, 2)}, "is a tuple", id="tuple"),
    pytest.param({"a": object()}, "is a object", id="object"),
    pytest.param({"a": math.nan}, "NaN and Infinity are not JSON", id="nan"),
    pytest.param({"a": [1, {"b": math.inf}]}, "model_run_info['a'][1]['b'] is inf", id="inf-nested"),
    pytest.param({"a": -math.inf}, "NaN and Infinity", id="minus-inf"),
    pytest.param({"a": "x\x00y"}, "NUL character", id="nul-value"),
    pytest.param({"a\x00": 1}, "NUL character", id="nul-key"),
    pytest.param({1: "a"}, "keys must be strings", id="int-key"),
    pytest.param({None: "a"}, "keys must be strings", id="none-key"),
    pytest.param({(1, 2): "a"}, "keys must be strings", id="tuple-key"),
    pytest.param({"a": "\ud800"}, "not valid Unicode", id="lone-surrogate"),
    pytest.param(_nested(MAX_INFO_DEPTH + 1), f"deeper than {MAX_INFO_DEPTH} levels", id="too-deep"),
    pytest.param({"a": [10**5000]}, "model_run_info['a'][0] is an integer of more than 4300 digits", id="huge-int"),
]


@pytest.mark.parametrize(("info", "message"), BAD_INFOS)
def test_core_refuses_bad_info_and_writes_nothing(db, info, message):
    registry().create_model(model_name="m")
    existing, _ = registry().create_run(model_run_info={"kept": 1}, model_name="m")
    before = _totals()
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        registry().create_run(model_run_info=info, model_name="m")
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        registry().replace_run_info(run_id=existing.id, model_run_info=info)
    with pytest.raises(InvalidInputError, match=re.escape(message)):
        registry().search_runs(model_run_info=info).items
    assert _totals() == before
    assert registry().get_run(run_id=existing.id).model_run_info == {"kept": 1}


@pytest.mark.parametrize(("info", "message"), BAD_INFOS)
def test_seed_api_returns_none_logs_once_and_writes_nothing(db, info, message, caplog):
    Model.create(model_name="m")
    existing = ModelRun.create(model_run_info={"kept": 1}, model_name="m")
    before = _totals()
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="gemini.api"):
        assert ModelRun.create(model_run_info=info, model_name="m") is None
    assert len(caplog.records) == 1
    assert "ModelRun.create failed" in caplog.records[0].getMessage()
    assert existing.set_info(info) is None
    assert ModelRun.search(model_run_info=info) is None
    assert ModelRun.exists(model_run_info=info) is False
    assert _totals() == before
    assert existing.refresh().model_run_info == {"kept": 1}


def test_the_deepest_allowed_nesting_is_accepted(db):
    info = _nested(MAX_INFO_DEPTH - 1)
    run, _ = registry().create_run(model_run_info=info)
    assert registry().get_run(run_id=run.id).model_run_info == info
    assert [r.id for r in registry().search_runs(model_run_info=info).items] == [run.id]


def test_info_over_the_size_limit_is_refused_naming_the_limit(db, monkeypatch):
    monkeypatch.setenv("GEMINI_MAX_INFO_BYTES", "100")
    before = _totals()
    with pytest.raises(InfoTooLargeError, match="model_run_info is 112 bytes as JSON; the limit is 100 bytes"):
        registry().create_run(model_run_info={"notes": "x" * 100})
    assert ModelRun.create(model_run_info={"notes": "x" * 100}) is None
    assert _totals() == before
    assert registry().create_run(model_run_info={"notes": "x" * 88})[0].model_run_info == {"notes": "x" * 88}


@pytest.mark.parametrize("bad_id", ["not-a-uuid", "", "1234", "g" * 32, -1, 2**128, 1.5, True, None, [], b"\x00" * 16])
def test_malformed_ids_are_refused_by_name(db, bad_id):
    run, _ = registry().create_run(model_run_info={"a": 1})
    before = _totals()
    for operation in (registry().get_run, registry().delete_run):
        with pytest.raises(InvalidInputError, match="model run id .* is not a valid UUID"):
            operation(run_id=bad_id)
    with pytest.raises(InvalidInputError, match="not a valid UUID"):
        registry().replace_run_info(run_id=bad_id, model_run_info={"a": 2})
    assert ModelRun.get_by_id(bad_id) is None
    assert _totals() == before
    assert registry().get_run(run_id=run.id).model_run_info == {"a": 1}


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("x" * (MAX_NAME_LENGTH + 1), f"at most {MAX_NAME_LENGTH} are allowed", id="too-long"),
        pytest.param("", "must not be empty", id="empty"),
        pytest.param(" \t\n", "must not be empty", id="blank"),
        pytest.param("a\x00b", "NUL character", id="nul"),
        pytest.param("\udc80", "not valid Unicode", id="surrogate"),
        pytest.param(42, "must be a string, got int", id="int"),
        pytest.param(["m"], "must be a string, got list", id="list"),
    ],
)
def test_bad_model_names_are_refused_and_write_nothing(db, name, message):
    before = _totals()
    with pytest.raises(InvalidInputError, match=f"model_name .*{message}"):
        registry().create_model(model_name=name)
    with pytest.raises(InvalidInputError, match=f"model_name .*{message}"):
        registry().create_run(model_run_info={"a": 1}, model_name=name)
    assert Model.create(model_name=name) is None
    assert ModelRun.create(model_run_info={"a": 1}, model_name=name) is None
    assert _totals() == before


@pytest.mark.parametrize(
    "name",
    ["x" * MAX_NAME_LENGTH, "maïs — 玉米 — ذرة", "🌽" * MAX_NAME_LENGTH, "e\u0301", "\u202eevil", *SQL_META],
)
def test_long_unicode_and_sql_meta_names_are_stored_exactly(db, name):
    model, _ = registry().create_model(model_name=name)
    run, _ = registry().create_run(model_run_info={"n": name}, model_name=name)
    assert registry().get_model_by_name(model_name=name).id == model.id
    assert [r.id for r in registry().search_runs(model_name=name).items] == [run.id]
    assert registry().search_models(limit=0, with_total=True).total == 1
    assert Model.get(model_name=name).model_name == name


def test_sql_meta_characters_in_keys_and_values_are_data(db):
    info = {meta: meta for meta in SQL_META} | {"nested": {meta: [meta] for meta in SQL_META}}
    run, _ = registry().create_run(model_run_info=info)
    other, _ = registry().create_run(model_run_info={"abc": "xyz", "a": {"b": 1}})
    assert registry().get_run(run_id=run.id).model_run_info == info
    for meta in SQL_META:
        assert [r.id for r in registry().search_runs(model_run_info={meta: meta}).items] == [run.id]
        assert [r.id for r in registry().search_runs(model_run_info={"nested": {meta: [meta]}}).items] == [run.id]
    # Wildcards and path syntax match only themselves, never other keys or values.
    assert registry().search_runs(model_run_info={"%": "xyz"}).items == []
    assert registry().search_runs(model_run_info={"_": "%"}).items == []
    assert registry().search_runs(model_run_info={"a.b": 1}).items == []
    assert {r.id for r in registry().search_runs().items} == {run.id, other.id}


# -- numbers: stored exactly, compared exactly --------------------------------------------------------

BIG = 2**64 + 1


@pytest.mark.parametrize(
    "value", [BIG, -BIG, 10**300, -(10**4000), 2**63, 2**63 - 1, -(2**63), 1e300, 5e-324, -0.0, 1.0, 2.0**60, 0.1, 1e16]
)
def test_numbers_come_back_exactly_as_stored(db, value):
    run, _ = registry().create_run(model_run_info={"v": value, "list": [value]})
    stored = registry().get_run(run_id=run.id).model_run_info
    assert json.dumps(stored) == json.dumps({"v": value, "list": [value]})
    assert [r.id for r in registry().search_runs(model_run_info={"v": value}).items] == [run.id]
    assert [r.id for r in registry().search_runs(model_run_info={"list": [value]}).items] == [run.id]


@pytest.mark.parametrize(
    ("stored", "pattern", "found"),
    [
        (BIG, BIG - 1, False),  # the double nearest both is the same: must not be confused
        (BIG, float(BIG), False),  # 1.8446744073709552e+19 is 18446744073709552000, not 2**64 + 1
        (2**64, 2**64 + 1, False),
        (10**300, 1e300, True),  # "1e+300" is exactly 10**300 as a decimal
        (2**60, 2.0**60, False),  # 2.0**60 is written 1.152921504606847e+18
        (1152921504606847000, 2.0**60, True),
        (2.0**60, 1152921504606847000, True),  # the same, stored as the float
        (1, 1.0, True),
        (0, -0.0, True),
        (2**63 - 1, 2.0**63, False),
        (1, True, False),
        (0, False, False),
        (1, "1", False),
        (0.1, 0.1 + 2**-56, False),
    ],
)
def test_containment_compares_numbers_by_exact_decimal_value(db, stored, pattern, found):
    run, _ = registry().create_run(model_run_info={"v": stored, "list": [stored]})
    expected = [run.id] if found else []
    assert [r.id for r in registry().search_runs(model_run_info={"v": pattern}).items] == expected
    assert [r.id for r in registry().search_runs(model_run_info={"list": [pattern]}).items] == expected


# -- property: any accepted object round-trips and is found by its sub-objects ---------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.sampled_from([2**63 - 1, 2**63, -(2**63), 2**64 + 1, 10**300, 0])
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([1e300, 1.0, -0.0, 2.0**60, 5e-324, 0.1])
    | st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=12)
    | st.sampled_from(SQL_META)
)
_keys = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="\x00"), max_size=8) | st.sampled_from(
    SQL_META
)
_json = st.recursive(
    _scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_keys, children, max_size=4),
    max_leaves=20,
)
_objects = st.dictionaries(_keys, _json, max_size=5)


def _sub_object(draw: st.DrawFn, value: Any) -> Any:
    """A value that ``value`` contains: some keys of an object, some items of an array, recursively."""
    if isinstance(value, dict):
        keys = draw(st.lists(st.sampled_from(sorted(value)), unique=True)) if value else []
        return {key: _sub_object(draw, value[key]) for key in keys}
    if isinstance(value, list):
        items = draw(st.lists(st.sampled_from(range(len(value))), unique=True)) if value else []
        return [_sub_object(draw, value[index]) for index in items]
    return value


@st.composite
def _object_and_sub_object(draw: st.DrawFn) -> tuple[dict, dict]:
    value = draw(_objects)
    return value, _sub_object(draw, value)


def _number_value(number: int | float) -> decimal.Decimal:
    return decimal.Decimal(json.dumps(number))


def reference_contains(document: Any, pattern: Any) -> bool:
    """PostgreSQL's ``jsonb @>`` below the top level, written plainly: the oracle for both databases."""
    if isinstance(pattern, dict):
        return isinstance(document, dict) and all(
            key in document and reference_contains(document[key], item) for key, item in pattern.items()
        )
    if isinstance(pattern, list):
        return isinstance(document, list) and all(
            any(reference_contains(element, item) for element in document) for item in pattern
        )
    if isinstance(pattern, bool) or pattern is None or isinstance(pattern, str):
        return type(document) is type(pattern) and document == pattern
    return (
        isinstance(document, (int, float))
        and not isinstance(document, bool)
        and _number_value(document) == _number_value(pattern)
    )


# Runs that differ from likely patterns only by a number's last digit, its type, or a key's quoting.
DECOYS = [
    {"v": 2**64},
    {"v": 2**64 + 2},
    {"v": 1.8446744073709552e19},
    {"v": True},
    {"v": "1"},
    {"v": [0, 1]},
    {"": {"": None}},
    {"%": "_"},
    {"v": 1152921504606846976},
]


@given(pair=_object_and_sub_object())
def test_any_accepted_object_round_trips_and_is_found_by_its_sub_objects(db, pair):
    info, pattern = pair
    for decoy in DECOYS:
        registry().create_run(model_run_info=decoy)
    existing = {run.id: run.model_run_info for run in registry().search_runs().items}
    assume(all(json.dumps(value) != json.dumps(info) for value in existing.values()))
    run, created = registry().create_run(model_run_info=info)
    try:
        stored = registry().get_run(run_id=run.id).model_run_info
        assert json.dumps(stored) == json.dumps(info)  # same types (1.0 vs 1), values, key order
        found = {r.id for r in registry().search_runs(model_run_info=pattern).items}
        assert run.id in found
        expected = {run_id for run_id, value in existing.items() if reference_contains(value, pattern)}
        assert found - {run.id} == expected
    finally:
        if created:
            registry().delete_run(run_id=run.id)


def test_reference_contains_agrees_with_postgresql_on_known_cases():
    assert reference_contains({"a": [1, 2, {"b": 3}]}, {"a": [{"b": 3.0}, 1]})
    assert not reference_contains({"a": [1, 2]}, {"a": 1})
    assert not reference_contains({"a": 1}, {"a": True})
    assert reference_contains({"a": 10**300}, {"a": 1e300})
    assert not reference_contains({"a": {"b": 1}}, {"a": [{"b": 1}]})


def test_uuid_objects_inside_info_are_refused_not_stringified(db):
    with pytest.raises(InvalidInputError, match=r"model_run_info\['id'\] is a UUID"):
        registry().create_run(model_run_info={"id": uuid.uuid4()})
    assert registry().count_runs() == 0
