"""Every operator and precedence rule, with the same expected runs on SQLite and PostgreSQL."""

import pytest

from gemini.registry import registry
from gemini.query import parse_where
from tests.query.evaluate import matches
from tests.query.conftest import labels

CASES = [
    # comparisons: numbers as numbers, strings as strings, mismatched types never match
    ("params.lr = 0.01", ["r1"]),
    ("params.lr = 1", ["r5"]),
    ("params.lr = 1.0", ["r5"]),
    ("params.lr != 0.01", ["r0", "r2", "r5"]),
    ("params.lr < 0.01", ["r0"]),
    ("params.lr <= 0.01", ["r0", "r1"]),
    ("params.lr > 0.01", ["r2", "r5"]),
    ("params.lr >= 0.1", ["r2", "r5"]),
    ("params.lr > -1e300", ["r0", "r1", "r2", "r5"]),
    ('params.lr = "auto"', ["r3"]),
    ('params.lr != "auto"', []),
    ('data.site > "Davis"', ["r1", "r3", "r4"]),
    ('data.site < "Davis"', ["r5"]),
    ('data.site = "Davis"', ["r0", "r2", "r7"]),
    ("data.site = 7", ["r6"]),
    ('data.site != "Davis"', ["r1", "r3", "r4", "r5"]),
    ("params.lr = null", ["r4"]),
    ("params.lr != null", ["r0", "r1", "r2", "r3", "r5"]),
    ("tags.bad = true", ["r2"]),
    ("tags.bad = false", ["r5"]),
    ("tags.bad != true", ["r5"]),
    ("metrics.map50 >= 0.85", ["r0", "r1", "r4"]),
    # in / not in
    ('data.site in ("Davis", "Kearney")', ["r0", "r1", "r2", "r7"]),
    ('data.site in ("Davis", 7)', ["r0", "r2", "r6", "r7"]),
    ('data.site not in ("Davis", "Kearney")', ["r3", "r4", "r5"]),
    ('data.site not in ("Davis", 8)', ["r1", "r3", "r4", "r5", "r6"]),
    ("params.epochs in (5, 10)", ["r0", "r5"]),
    # glob and startswith: case-sensitive, * and ? wildcards, everything else literal
    ('data.site glob "Dav*"', ["r0", "r2", "r4", "r7"]),
    ('data.site glob "?avis"', ["r0", "r2", "r3", "r7"]),
    ('data.site glob "Davis*[x]"', ["r4"]),
    ('data.site glob "*[x]"', ["r4"]),
    ('data.site glob "D%"', []),
    ('data.site startswith "Davis*"', ["r4"]),
    ('data.site startswith "Da"', ["r0", "r2", "r4", "r7"]),
    ('data.site startswith "_"', []),
    # exists
    ("exists(tags.bad)", ["r2", "r5"]),
    ("exists(params.lr)", ["r0", "r1", "r2", "r3", "r4", "r5"]),
    ("exists(params.lr.x)", []),
    ("not exists(metrics)", ["r5", "r7"]),
    # quoted keys, and fields versus info keys of the same name
    ("`a b`.`c.d` = 1", ["r7"]),
    ('`created_at` = "x"', ["r7"]),
    ("note = \"it's\"", ["r7"]),
    ('model.name = "detr"', ["r3", "r4"]),
    ('model.name != "detr"', ["r0", "r1", "r2", "r7"]),
    ('model.name in ("detr", "nope")', ["r3", "r4"]),
    ('model.name glob "y*"', ["r0", "r1", "r2", "r7"]),
    ("exists(model.name)", ["r0", "r1", "r2", "r3", "r4", "r7"]),
    ('created_at > "2000-01-01T00:00:00Z"', ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"]),
    ('updated_at < "2000-01-01"', []),
    # not, and, or, parentheses and precedence (not > and > or)
    ("not params.lr < 0.01", ["r1", "r2", "r3", "r4", "r5", "r6", "r7"]),
    ("not not params.lr < 0.01", ["r0"]),
    ('params.lr < 0.05 or data.site = "Ames" and params.epochs = 5', ["r0", "r1", "r5"]),
    ('params.lr < 0.05 or data.site = "Ames" and params.epochs = 20', ["r0", "r1"]),
    ('(params.lr < 0.05 or data.site = "Ames") and params.epochs = 20', ["r1"]),
    ("not params.epochs = 20 and exists(params.epochs)", ["r0", "r5"]),
    ("not (params.epochs = 20 and exists(params.epochs))", ["r0", "r3", "r4", "r5", "r6", "r7"]),
    ('NOT data.site = "Davis" OR data.site = "Davis" AND model.name = "yolo"',
     ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"]),
    ("params.lr < 0.01 and metrics.map50 >= 0.8 and data.site in (\"Davis\", \"Kearney\") and not exists(tags.bad)",
     ["r0"]),
]


@pytest.mark.parametrize(("where", "expected"), CASES, ids=[case[0] for case in CASES])
def test_where_finds_the_expected_runs(sample_runs, where, expected):
    found = labels(registry().search_runs(where=where).items)
    assert found == expected
    assert registry().count_runs(where=where) == len(expected)


@pytest.mark.parametrize(("where", "expected"), CASES, ids=[case[0] for case in CASES])
def test_the_python_evaluator_agrees_with_the_table(where, expected):
    from tests.query.conftest import RUNS

    expression = parse_where(where)
    models = {label: model for label, model, _ in RUNS}
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    found = [
        label
        for label, model, info in RUNS
        if matches(expression, {"label": label, **info}, {"model.name": models[label], "created_at": now, "updated_at": now})
    ]
    assert found == expected


def test_where_combines_with_containment_and_model(sample_runs):
    page = registry().search_runs(model_run_info={"data": {"site": "Davis"}}, model_name="yolo", where="params.lr < 0.05")
    assert labels(page.items) == ["r0"]
    assert registry().count_runs(model_run_info={"data": {"site": "Davis"}}, where="params.lr < 0.05") == 1
