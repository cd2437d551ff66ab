"""Random infos and random expressions: the SQL of each database finds exactly what Python finds."""

import datetime as dt
import json

import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from gemini.registry import registry
from gemini.query import parse_order_by, parse_where
from gemini.query.ast import And, Compare, Exists, Glob, In, InfoPath, Not, Or, OrderKey, Prefix
from gemini.db.engine import get_engine
from gemini.db.tables import ModelRunRow
from tests.query.evaluate import matches, sort_key

KEYS = ["a", "b", "c d", "é"]
STRINGS = ["", "a", "A", "ab", "b*", "é", "a?b", "[x]"]
NUMBERS = [0, 1, 2, -3, 0.5, -1.5, 2.0, 1e3, 10**12]

scalars = st.one_of(
    st.sampled_from(STRINGS), st.sampled_from(NUMBERS), st.booleans(), st.none()
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=2), st.dictionaries(st.sampled_from(KEYS), children, max_size=3)
    ),
    max_leaves=6,
)
infos = st.dictionaries(st.sampled_from(KEYS), values, max_size=4)
paths = st.lists(st.sampled_from(KEYS), min_size=1, max_size=3).map(lambda keys: InfoPath(tuple(keys)))
literals = st.one_of(st.sampled_from(STRINGS), st.sampled_from(NUMBERS), st.booleans())


def _comparisons():
    ordering = st.builds(
        Compare, paths, st.sampled_from(["<", "<=", ">", ">="]), st.one_of(st.sampled_from(STRINGS), st.sampled_from(NUMBERS))
    )
    equality = st.builds(Compare, paths, st.sampled_from(["=", "!="]), st.one_of(literals, st.none()))
    membership = st.builds(In, paths, st.lists(literals, min_size=1, max_size=3).map(tuple), st.booleans())
    matching = st.one_of(
        st.builds(Glob, paths, st.sampled_from(["*", "a*", "?", "*b*", "[x]", "a?b", ""])),
        st.builds(Prefix, paths, st.sampled_from(["", "a", "b*", "["])),
    )
    return st.one_of(ordering, equality, membership, matching, st.builds(Exists, paths))


expressions = st.recursive(
    _comparisons(),
    lambda children: st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda items: And(tuple(items))),
        st.lists(children, min_size=2, max_size=3).map(lambda items: Or(tuple(items))),
        children.map(Not),
    ),
    max_leaves=5,
)


def _key_text(key: str) -> str:
    return key if key.isascii() and key.isidentifier() else f"`{key}`"


def _literal_text(value) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    return json.dumps(value, ensure_ascii=False)


def to_text(node) -> str:
    """The expression written in the language, fully parenthesised."""
    if isinstance(node, And):
        return "(" + " and ".join(to_text(item) for item in node.operands) + ")"
    if isinstance(node, Or):
        return "(" + " or ".join(to_text(item) for item in node.operands) + ")"
    if isinstance(node, Not):
        return f"not {to_text(node.operand)}"
    path = ".".join(_key_text(key) for key in node.target.keys)
    if isinstance(node, Exists):
        return f"exists({path})"
    if isinstance(node, Compare):
        return f"{path} {node.operator} {_literal_text(node.value)}"
    if isinstance(node, In):
        listed = ", ".join(_literal_text(value) for value in node.values)
        return f"{path} {'not in' if node.negated else 'in'} ({listed})"
    if isinstance(node, Glob):
        return f"{path} glob {_literal_text(node.pattern)}"
    return f"{path} startswith {_literal_text(node.prefix)}"


def _clear() -> None:
    with get_engine().begin() as connection:
        connection.execute(sa.delete(ModelRunRow.__table__))


@settings(max_examples=40)
@given(
    st.lists(infos, min_size=1, max_size=8, unique_by=lambda info: json.dumps(info, sort_keys=True)),
    expressions,
    st.lists(st.tuples(paths, st.booleans()), min_size=1, max_size=2),
)
def test_sql_matches_python(db, run_infos, expression, order):
    _clear()
    created = [registry().create_run(model_run_info=info)[0] for info in run_infos]
    text = to_text(expression)
    parsed = parse_where(text)
    assert parsed == expression  # the written form round-trips through the parser

    expected = [run.id for run in created if matches(parsed, run.model_run_info)]
    found = [run.id for run in registry().search_runs(where=text).items]
    assert found == expected, text

    order_text = ", ".join(("-" if descending else "") + ".".join(_key_text(k) for k in path.keys) for path, descending in order)
    keys = parse_order_by(order_text)
    assert keys == tuple(OrderKey(path, descending) for path, descending in order)
    fields = {"created_at": dt.datetime.now(dt.timezone.utc)}
    expected_order = [run.id for run in sorted(created, key=lambda run: sort_key(keys, run.model_run_info, fields, run.id))]
    assert [run.id for run in registry().search_runs(order_by=order_text).items] == expected_order, order_text
