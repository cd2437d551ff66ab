"""Malformed expressions: an InvalidInputError saying what was expected and at which column; nothing runs."""

import pytest

from gemini.registry import registry
from gemini.api.model_run import ModelRun
from gemini.query import parse_order_by, parse_path, parse_where
from gemini.domain.errors import InvalidInputError

WHERE_ERRORS = [
    ("", "empty"),
    ("params.lr <", "expected a value .* found the end of the expression at column 12"),
    ("params.lr", "expected an operator after params.lr .* at column 10"),
    ("a = 1 and", "expected a path, 'not', 'exists\\(' or '\\(', found the end of the expression at column 10"),
    ("(a = 1", "expected '\\)' .* at column 7"),
    ("a = 1)", "expected 'and', 'or' or the end of the expression, found '\\)' at column 6"),
    ("a = 1 b = 2", "found 'b' at column 7"),
    ("a ! 1", "expected '!=' after '!' at column 3"),
    ("a = 'open", "unterminated string .* at column 5"),
    ("a = `x", "unterminated quoted key .* at column 5"),
    ("`x = 1", "unterminated quoted key .* at column 1"),
    ("a = \"\\q\"", "unknown escape .* at column 6"),
    ("a in ()", "expected a value .* found '\\)' at column 7"),
    ("a in (1, )", "expected a value .* at column 10"),
    ("a in (1 2)", "expected ',' or '\\)' .* at column 9"),
    ("a in 1", "expected '\\(' .* at column 6"),
    ("a in (null)", "null is not allowed .* at column 7"),
    ("a not = 1", "expected 'in' after 'not' .* at column 7"),
    ("a < true", "< needs a number, a string or a time, not true at column 5"),
    ("a >= null", ">= needs .* at column 6"),
    ("a glob 3", "expected a quoted string after glob, found '3' at column 8"),
    ("exists a", "expected '\\(' after exists, found 'a' at column 8"),
    ("exists(a", "expected '\\)' after the path .* at column 9"),
    ("a. = 1", "expected a key .* found '=' at column 4"),
    ("a = 1x", "malformed number .* at column 5"),
    ("a = 01", "malformed number .* at column 5"),
    ("a = 1e999", "out of range at column 5"),
    ("a = #", "unexpected character '#' at column 5"),
    ('model.name = 3', "model.name is compared with a quoted string at column 14"),
    ("created_at > 3", "created_at is compared with a quoted ISO 8601 time at column 14"),
    ('updated_at < "yesterday"', "not an ISO 8601 time .* at column 14"),
    ('created_at glob "2024*"', "glob applies to strings; created_at is a time at column 12"),
    ('`a"b` = 1', "keys containing a double quote"),
    ("not", "expected a path, .* found the end of the expression at column 4"),
    ("(" * 70 + "a = 1" + ")" * 70, "nested deeper than 64 levels"),
    ("a = " + "1" * 10_001, "characters long"),
]


@pytest.mark.parametrize(("where", "message"), WHERE_ERRORS, ids=[where[:30] for where, _ in WHERE_ERRORS])
def test_parse_errors_name_what_was_expected_and_where(where, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_where(where)


@pytest.mark.parametrize(
    ("order_by", "message"),
    [
        ("", "expected a path to order by .* at column 1"),
        ("-", "expected a path to order by .* at column 2"),
        ("a,", "expected a path to order by .* at column 3"),
        ("a b", "expected ',' or the end of the order, found 'b' at column 3"),
        ("--a", "expected a path to order by .* at column 2"),
        ([], "the list is empty"),
    ],
)
def test_order_by_errors(order_by, message):
    with pytest.raises(InvalidInputError, match=message):
        parse_order_by(order_by)


def test_where_must_be_text():
    with pytest.raises(InvalidInputError, match="where must be a string, got dict"):
        parse_where({"a": 1})


def test_paths_for_hot_keys_refuse_fields_and_junk():
    assert parse_path("params.`learning rate`").keys == ("params", "learning rate")
    with pytest.raises(InvalidInputError, match="run field"):
        parse_path("model.name")
    with pytest.raises(InvalidInputError, match="expected '.' or the end of the path, found '=' at column 3"):
        parse_path("a = 1")


def test_keywords_are_case_insensitive_and_allowed_as_keys_after_a_dot():
    assert parse_where("a.in = 1 AND NOT b.not IN (2) Or exists(c.and)") == parse_where(
        "a.in = 1 and not b.not in (2) or EXISTS(c.and)"
    )


def test_a_parse_error_runs_nothing_and_the_facade_returns_none(db, caplog):
    ModelRun.create(model_run_info={"a": 1})
    assert ModelRun.search(where="a = ") is None
    assert "expected a value" in caplog.text and "column 5" in caplog.text
    assert ModelRun.count(where="a <") is None
    with pytest.raises(InvalidInputError):
        registry().count_runs(where="(")
