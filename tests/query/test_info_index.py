"""SQLite's (path, value) table and declared hot keys: same answers, and the index is what serves them."""

import enum
import io
import json
import sqlite3

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gemini.registry import registry
from gemini.core import info_indexes
from gemini.db.engine import get_engine
from gemini.db.repositories import ModelRunRepository
from gemini.db.search import path_values
from gemini.db.tables import ModelRunRow
from tests.query.conftest import labels

KEYS = ["a", "Z9", "y_1", "9a", "", "é", "a b", "a.b", "x-y", "in", "$", "'"]


@pytest.mark.parametrize("key", KEYS)
def test_tree_path_spells_paths_as_sqlite_json_tree_does(key):
    connection = sqlite3.connect(":memory:")
    rows = connection.execute(
        "SELECT fullkey FROM json_tree(json_object('outer', json_object(?, 1))) WHERE type = 'integer'", (key,)
    ).fetchall()
    assert rows == [(path_values.tree_path(("outer", key)),)]


def test_sqlite_equality_is_answered_from_the_value_table(sample_runs, dialect):
    if dialect != "sqlite":
        pytest.skip("the (path, value) table is SQLite's")
    with get_engine().connect() as connection:
        rows = connection.execute(
            sa.select(path_values.info_values.c.path, path_values.info_values.c.value).where(
                path_values.info_values.c.path.like("$.data.%")
            )
        ).all()
    assert ("$.data.site", "Kearney") in rows and ("$.data.year", 2024) in rows
    assert all(path != "$.params.lr" or value == 1 for path, value in rows)  # reals only when integral


def test_value_table_follows_updates_and_deletes(db, dialect):
    run, _ = registry().create_run(model_run_info={"k": {"v": "old"}})
    assert labels_or_ids(registry().search_runs(where='k.v = "old"').items) == [run.id]
    registry().replace_run_info(run_id=run.id, model_run_info={"k": {"v": "new"}})
    assert registry().search_runs(where='k.v = "old"').items == []
    assert labels_or_ids(registry().search_runs(where='k.v = "new"').items) == [run.id]
    registry().delete_run(run_id=run.id)
    assert registry().search_runs(where='k.v = "new"').items == []
    if dialect == "sqlite":
        with get_engine().connect() as connection:
            assert connection.execute(sa.select(sa.func.count()).select_from(path_values.info_values)).scalar() == 0


def labels_or_ids(runs):
    return [run.id for run in runs]


def test_integral_real_is_found_by_an_integer_and_containment(db):
    run, _ = registry().create_run(model_run_info={"p": {"n": 3.0}, "q": 2})
    assert [r.id for r in registry().search_runs(where="p.n = 3").items] == [run.id]
    assert [r.id for r in registry().search_runs(model_run_info={"p": {"n": 3}}).items] == [run.id]
    assert [r.id for r in registry().search_runs(model_run_info={"q": 2.0}).items] == [run.id]


def test_hot_keys_are_added_listed_and_dropped(sample_runs):
    assert info_indexes.add_hot_key(path="params.lr") is True
    assert info_indexes.add_hot_key(path="params.lr") is False
    assert info_indexes.add_hot_key(path="metrics.`map50`") is True
    try:
        assert [key.path for key in info_indexes.list_hot_keys()] == ["params.lr", "metrics.map50"]
        # Same answers through the index as without it.
        assert labels(registry().search_runs(where="params.lr < 0.01").items) == ["r0"]
        assert labels(registry().search_runs(where="params.lr > 0.01").items) == ["r2", "r5"]
        assert labels(registry().search_runs(where="params.lr != 1").items) == ["r0", "r1", "r2"]
        assert labels(registry().search_runs(where='params.lr >= "a"').items) == ["r3"]
        assert labels(registry().search_runs(where='params.lr < "b"').items) == ["r3"]
        assert labels(registry().search_runs(where="params.lr = null").items) == ["r4"]
        order = labels(registry().search_runs(where="exists(metrics)", order_by="-metrics.map50").items)
        assert order == ["r4", "r0", "r1", "r3", "r2", "r6"]
    finally:
        assert info_indexes.drop_hot_key(path="params.lr") is True
        assert info_indexes.drop_hot_key(path="metrics.map50") is True
    assert info_indexes.drop_hot_key(path="params.lr") is False
    assert info_indexes.list_hot_keys() == []
    assert labels(registry().search_runs(where="params.lr < 0.01").items) == ["r0"]


def _plan(where: str, dialect: str) -> str:
    """The database's plan for the run ids matching ``where``, parameters bound as a search binds them."""
    from gemini.query import parse_where
    from gemini.db.search.run_search import RunSearchRepository

    with get_engine().connect() as connection:
        condition = RunSearchRepository(connection).compiler.condition(parse_where(where))
        compiled = sa.select(ModelRunRow.__table__.c.id).where(condition).compile(
            connection, compile_kwargs={"render_postcompile": True}
        )
        processors = compiled._bind_processors
        params = {name: processors[name](value) if name in processors else value for name, value in compiled.params.items()}
        if compiled.positional:
            params = tuple(params[name] for name in compiled.positiontup)
        if dialect == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")  # a tiny table: make the choice visible
        prefix = "EXPLAIN QUERY PLAN " if dialect == "sqlite" else "EXPLAIN "
        return "\n".join(str(row[-1]) for row in connection.exec_driver_sql(prefix + str(compiled), params))


def test_a_hot_key_range_uses_its_index(sample_runs, dialect):
    info_indexes.add_hot_key(path="params.lr")
    try:
        assert "ix_model_runs_hot_" in _plan("params.lr < 0.01", dialect)
    finally:
        info_indexes.drop_hot_key(path="params.lr")


def test_nested_equality_uses_an_index_without_declaration(sample_runs, dialect):
    plan = _plan('data.site = "Kearney"', dialect)
    assert ("model_run_info_values" if dialect == "sqlite" else "ix_model_runs_info_gin") in plan


def test_unknown_or_malformed_hot_key_paths_are_refused(db):
    from gemini.domain.errors import InvalidInputError

    with pytest.raises(InvalidInputError, match="column"):
        info_indexes.add_hot_key(path="params.")
    with pytest.raises(InvalidInputError, match="run field"):
        info_indexes.add_hot_key(path="created_at")


ORDERED = [
    ("params.lr", ["r0", "r1", "r2", "r5", "r3", "r4", "r6", "r7"]),
    ("-params.lr", ["r5", "r2", "r1", "r0", "r3", "r4", "r6", "r7"]),
    ("-metrics.map50", ["r4", "r0", "r1", "r3", "r2", "r6", "r5", "r7"]),
]


@pytest.mark.parametrize(("order_by", "expected"), ORDERED, ids=[order for order, _ in ORDERED])
def test_first_pages_ordered_by_a_hot_key_keep_the_order(sample_runs, order_by, expected):
    info_indexes.add_hot_key(path="params.lr")
    info_indexes.add_hot_key(path="metrics.map50")
    try:
        for limit in (1, 3, 4, 5, 8, 20):
            assert labels(registry().search_runs(order_by=order_by, limit=limit).items) == expected[:limit]
        seen, cursor = [], None
        while True:
            page = registry().search_runs(order_by=order_by, limit=3, cursor=cursor)
            seen += labels(page.items)
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        assert seen == expected
        filtered = labels(registry().search_runs(where='model.name = "yolo"', order_by=order_by, limit=2).items)
        assert filtered == [label for label in expected if label in ("r0", "r1", "r2", "r7")][:2]
    finally:
        info_indexes.drop_hot_key(path="params.lr")
        info_indexes.drop_hot_key(path="metrics.map50")


# -- the rows written with new runs ------------------------------------------------------------------

LEAF_KEYS = ["a", "b2", "x y", "é", "a.b", 'q"', "[i]", "b\\s", "t\tab", ""]
leaf_scalars = st.one_of(
    st.sampled_from(["", "s", "é", "x" * 128, "y" * 129, "1"]),
    st.sampled_from([0, 1, -7, 2.0, -3.0, 0.5, 1e300, 2**53 - 1, 2**53, -(2**53) + 1, 2**63, 10**30]),
    st.booleans(),
    st.none(),
)
leaf_values = st.recursive(
    leaf_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=2), st.dictionaries(st.sampled_from(LEAF_KEYS), children, max_size=3)
    ),
    max_leaves=8,
)
leaf_infos = st.dictionaries(st.sampled_from(LEAF_KEYS), leaf_values, max_size=4)


def _table_rows(connection) -> set:
    rows = connection.exec_driver_sql(f"SELECT path, value, run_id FROM {path_values.VALUES_TABLE}").all()
    return {(path, value, run_id) for path, value, run_id in rows}


def _json_tree_rows(connection) -> set:
    """What SQLite's own ``json_tree`` finds, limited to what a lookup can ask for: leaves reached through
    object keys without '"', '[', ']', '\\' or control characters; strings up to the indexed length;
    integers (and integral reals) below 2**53 in magnitude."""
    kept = set()
    for (run_id,) in connection.exec_driver_sql("SELECT id FROM model_runs").all():
        nodes = connection.exec_driver_sql(
            "SELECT tree.id, tree.parent, tree.key, tree.fullkey, tree.atom, tree.type "
            "FROM model_runs, json_tree(model_runs.model_run_info) AS tree WHERE model_runs.id = ?",
            (run_id,),
        ).all()
        parents = {node_id: (parent, key) for node_id, parent, key, *_ in nodes}
        for node_id, _parent, _key, fullkey, atom, kind in nodes:
            keys, current = [], node_id
            while parents[current][0] is not None:
                current, key = parents[current]
                keys.append(key)
            if not all(isinstance(key, str) and not any(c in '"[]\\' or ord(c) < 0x20 for c in key) for key in keys):
                continue
            if kind == "text" and len(atom) <= path_values.MAX_INDEXED_TEXT:
                kept.add((fullkey, atom, run_id))
            elif kind in ("integer", "real") and atom == int(atom) and -(2**53) < atom < 2**53:
                kept.add((fullkey, int(atom), run_id))
    return kept


def _delete_every_run(connection) -> None:
    ModelRunRepository(connection).delete_where(sa.true())


@pytest.mark.parametrize("how", ["create_run", "create_runs", "import_registry", "replace_run_info"])
@settings(max_examples=25, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(leaf_infos, min_size=1, max_size=5, unique_by=lambda info: json.dumps(info, sort_keys=True)))
def test_rows_written_with_new_runs_are_the_rows_json_tree_gives(db, dialect, how, run_infos):
    if dialect != "sqlite":
        pytest.skip("the (path, value) table is SQLite's")
    with get_engine().begin() as connection:
        _delete_every_run(connection)
    if how == "create_run":
        for info in run_infos:
            registry().create_run(model_run_info=info)
    elif how == "create_runs":
        registry().create_runs(model_run_infos=run_infos)
    elif how == "import_registry":
        source = io.StringIO()
        registry().create_runs(model_run_infos=run_infos)
        registry().export_registry(stream=source)
        with get_engine().begin() as connection:
            _delete_every_run(connection)
            assert _table_rows(connection) == set()  # deleting the runs took every row away
        registry().import_registry(stream=io.StringIO(source.getvalue()))
    elif how == "replace_run_info":
        first = [{"before": index, "a": {"b2": 2**53 + index, "x y": 1.0}, "é": "old"} for index in range(len(run_infos))]
        for (run, _), info in zip(registry().create_runs(model_run_infos=first), run_infos):
            registry().replace_run_info(run_id=run.id, model_run_info=info)
    with get_engine().connect() as connection:
        written = _table_rows(connection)
        expected = _json_tree_rows(connection)
    assert written == expected


def test_deleting_a_model_takes_its_runs_rows_away(db, dialect):
    if dialect != "sqlite":
        pytest.skip("the (path, value) table is SQLite's")
    model, _ = registry().create_model(model_name="gone")
    registry().create_runs(model_run_infos=[{"p": {"lr": index}, "site": "Davis"} for index in range(3)], model_name="gone")
    kept, _ = registry().create_run(model_run_info={"site": "Davis"})
    registry().delete_model(model_id=model.id)
    with get_engine().connect() as connection:
        assert {run_id for _, _, run_id in _table_rows(connection)} == {kept.id.hex}


def test_postgres_searches_run_without_jit(db, dialect):
    """The planner cannot estimate JSON path tests, so plans look costly; JIT then compiled (0.3-0.5 s at a
    million runs) queries that run in milliseconds. Search transactions turn it off, for themselves only."""
    if dialect != "postgresql":
        pytest.skip("JIT is PostgreSQL's")
    from gemini.db.engine import unit_of_work
    from gemini.db.search.run_search import RunSearchRepository

    with unit_of_work() as connection:
        server_setting = connection.exec_driver_sql("SHOW jit").scalar()
    with unit_of_work() as connection:
        RunSearchRepository(connection)
        assert connection.exec_driver_sql("SHOW jit").scalar() == "off"
    with unit_of_work() as connection:  # other transactions keep the server's setting
        assert connection.exec_driver_sql("SHOW jit").scalar() == server_setting


def test_enum_values_are_found_by_their_plain_values(db):
    """Validation accepts subclasses of JSON types (an int or str enum); the index keeps their plain
    values, so searches by the plain values find the run."""

    class Level(enum.IntEnum):
        HIGH = 3

    class Site(str, enum.Enum):
        DAVIS = "Davis"

    run, _ = registry().create_run(model_run_info={"p": {"level": Level.HIGH, "site": Site.DAVIS}})
    assert [r.id for r in registry().search_runs(where="p.level = 3").items] == [run.id]
    assert [r.id for r in registry().search_runs(where='p.site = "Davis"').items] == [run.id]
    assert [r.id for r in registry().search_runs(model_run_info={"p": {"level": 3, "site": "Davis"}}).items] == [run.id]
