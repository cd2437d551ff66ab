"""Hostile keys and values reach the database as parameters: they match literally and run nothing."""

import pytest
import sqlalchemy as sa

from gemini.registry import registry
from gemini.db.engine import get_engine

HOSTILE = [
    "'; DROP TABLE model_runs; --",
    "a') OR 1=1 --",
    "$.a",
    "a[0]",
    "x' || (SELECT 1) || '",
    "%",
    "_",
    "*",
    "?)",
    "Robert'); DELETE FROM models;--",
    "::jsonb",
    "}{",
]


def _table_count() -> int:
    with get_engine().connect() as connection:
        return connection.execute(sa.text("SELECT count(*) FROM model_runs")).scalar_one()


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_keys_and_values_match_literally(db, hostile):
    target, _ = registry().create_run(model_run_info={hostile: {"v": hostile}, "plain": hostile})
    registry().create_run(model_run_info={"plain": "other"})
    quoted_key = "`" + hostile.replace("`", "``") + "`"
    quoted_value = '"' + hostile.replace("\\", "\\\\").replace('"', '\\"') + '"'
    for where in (
        f"{quoted_key}.v = {quoted_value}",
        f"plain = {quoted_value}",
        f"plain in ({quoted_value}, \"zzz\")",
        f"plain glob {quoted_value.replace('*', '?')}" if hostile != "*" else 'plain glob "?"',
        f"plain startswith {quoted_value}",
        f"exists({quoted_key})",
    ):
        assert [run.id for run in registry().search_runs(where=where).items] == [target.id], where
    assert [run.id for run in registry().search_runs(order_by=f"-{quoted_key}.v", limit=1).items] == [target.id]
    assert _table_count() == 2


def test_a_value_that_looks_like_a_wildcard_matches_only_itself(db):
    registry().create_run(model_run_info={"s": "abc"})
    registry().create_run(model_run_info={"s": "a%c"})
    registry().create_run(model_run_info={"s": "a_c"})
    assert [run.model_run_info["s"] for run in registry().search_runs(where='s startswith "a%"').items] == ["a%c"]
    assert [run.model_run_info["s"] for run in registry().search_runs(where='s glob "a_c"').items] == ["a_c"]
    assert [run.model_run_info["s"] for run in registry().search_runs(where='s glob "a?c"').items] == ["abc", "a%c", "a_c"]
