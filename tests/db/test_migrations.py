"""The schema comes from Alembic, on first use, and upgrades an existing database without loss."""

import math
import multiprocessing

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from gemini.registry import registry
from gemini.db import engine as db_engine
from gemini.db import migrations
from gemini.db.tables import Base


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def fresh_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.db'}"
    return request.getfixturevalue("new_postgres_database")()


def test_first_use_creates_the_schema_at_the_newest_revision(fresh_url):
    engine = db_engine.get_engine(fresh_url)
    with engine.connect() as connection:
        assert migrations.current_revision(connection) == migrations.head_revision()


# Alembic cannot compare the PostgreSQL GIN expression index and says so; the rest is compared.
@pytest.mark.filterwarnings("ignore:autogenerate skipping:UserWarning", "ignore:Expression #1:UserWarning")
def test_migrated_schema_matches_the_tables_the_code_uses(fresh_url):
    engine = db_engine.get_engine(fresh_url)

    def made_on_this_database(item, _name, _type, reflected, _compare_to) -> bool:
        # What the tables declare for one database only (``ddl_if``), as a ``create_all`` there would make it.
        condition = None if reflected else getattr(item, "_ddl_if", None)
        return condition is None or condition.dialect in (None, engine.dialect.name)

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": made_on_this_database})
        differences = compare_metadata(context, Base.metadata)
    assert differences == []


def test_an_older_database_is_upgraded_on_first_use_without_losing_runs(fresh_url, monkeypatch):
    revisions = list(ScriptDirectory.from_config(migrations.alembic_config()).walk_revisions())
    oldest = revisions[-1].revision
    engine = db_engine.create_database_engine(fresh_url)
    with engine.begin() as connection:
        command.upgrade(migrations.alembic_config(connection), oldest)
        connection.execute(
            sa.text(
                "INSERT INTO model_runs (id, model_id, model_run_info, info_hash, created_at, updated_at) "
                "VALUES (:id, NULL, :info, :hash, :now, :now)"
            ),
            {
                "id": "01a2205fb32f73e791b22a0f927874d8" if engine.dialect.name == "sqlite" else "01a2205f-b32f-73e7-91b2-2a0f927874d8",
                "info": '{"kept": true}',
                "hash": "0" * 64,
                "now": "2026-01-01 00:00:00",
            },
        )
    engine.dispose()

    monkeypatch.setenv("GEMINI_DATABASE_URL", fresh_url)
    runs = registry().search_runs().items
    assert [run.model_run_info for run in runs] == [{"kept": True}]
    with db_engine.get_engine(fresh_url).connect() as connection:
        assert migrations.current_revision(connection) == migrations.head_revision()


def _first_use(url: str) -> str:
    with db_engine.get_engine(url).connect() as connection:
        return migrations.current_revision(connection)


def test_processes_starting_at_once_on_a_fresh_database_migrate_it_once(fresh_url):
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        revisions = pool.map(_first_use, [fresh_url] * 4)
    assert revisions == [migrations.head_revision()] * 4
    with db_engine.get_engine(fresh_url).connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM alembic_version")).scalar_one() == 1


def test_revision_0005_brings_rows_written_by_the_old_update_trigger_to_the_one_rule(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = db_engine.create_database_engine(url)
    info = '{"big": 9007199254740993, "real": 2.0, "a]b": "x", "plain": "kept"}'
    with engine.begin() as connection:
        command.upgrade(migrations.alembic_config(connection), "0004")
        connection.execute(
            sa.text(
                "INSERT INTO model_runs (id, model_id, model_run_info, info_hash, created_at, updated_at) "
                "VALUES ('01a2205fb32f73e791b22a0f927874d8', NULL, '{}', :hash, :now, :now)"
            ),
            {"hash": "0" * 64, "now": "2026-01-01 00:00:00"},
        )
        connection.execute(sa.text("UPDATE model_runs SET model_run_info = :info"), {"info": info})  # the trigger's rule
        command.upgrade(migrations.alembic_config(connection), "0005")
        rows = connection.execute(sa.text("SELECT path, value, typeof(value) FROM model_run_info_values ORDER BY path")).all()
        triggers = connection.execute(sa.text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).all()
    engine.dispose()
    assert [tuple(row) for row in rows] == [("$.plain", "kept", "text"), ("$.real", 2, "integer")]
    assert triggers == []


def test_downgrading_to_the_first_revision_drops_declared_hot_keys(fresh_url, monkeypatch):
    from gemini.core import info_indexes

    monkeypatch.setenv("GEMINI_DATABASE_URL", fresh_url)
    registry().create_run(model_run_info={"params": {"lr": 0.1}})
    info_indexes.add_hot_key(path="params.lr")
    db_engine.dispose_engines()
    engine = db_engine.create_database_engine(fresh_url)
    with engine.begin() as connection:
        command.downgrade(migrations.alembic_config(connection), "0001")
        indexes = sa.inspect(connection).get_indexes("model_runs")
        columns = [column["name"] for column in sa.inspect(connection).get_columns("model_runs")]
    engine.dispose()
    assert not any(index["name"].startswith("ix_model_runs_hot_") for index in indexes)
    assert not any(name.startswith("hot_") for name in columns)


WITHOUT_ROWID = "SELECT wr FROM pragma_table_list WHERE name = 'run_metrics'"


def insert_tracked_run(connection: sa.Connection, run: str) -> sa.TextClause:
    """A running run as an older schema holds it; the statement that inserts its points (r, k, s, v, t)."""
    connection.execute(
        sa.text(
            "INSERT INTO model_runs (id, model_id, model_run_info, info_hash, created_at, updated_at, status) "
            "VALUES (:run, NULL, '{}', :hash, :now, :now, 'running')"
        ),
        {"run": run, "hash": "0" * 64, "now": "2026-01-01 00:00:00"},
    )
    return sa.text("INSERT INTO run_metrics (run_id, key, step, value, timestamp) VALUES (:r, :k, :s, :v, :t)")


def test_revision_0006_keeps_every_metric_point_in_a_table_without_rowid(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = db_engine.create_database_engine(url)
    run = "01a2205fb32f73e791b22a0f927874d8"
    points = [(run, key, step, None if step == 2 else step / 10, f"2026-01-01 00:00:0{step}.000000") for key in ("loss", "map50") for step in range(4)]
    with engine.begin() as connection:
        command.upgrade(migrations.alembic_config(connection), "0005")
        insert = insert_tracked_run(connection, run)
        connection.execute(insert, [dict(zip("rksvt", point)) for point in points])
        command.upgrade(migrations.alembic_config(connection), "0006")
        after = connection.execute(sa.text("SELECT run_id, key, step, value, timestamp FROM run_metrics ORDER BY key, step")).all()
        without_rowid = connection.execute(sa.text(WITHOUT_ROWID)).scalar()
        command.downgrade(migrations.alembic_config(connection), "0005")
        downgraded = connection.execute(sa.text("SELECT run_id, key, step, value, timestamp FROM run_metrics ORDER BY key, step")).all()
        without_rowid_after_downgrade = connection.execute(sa.text(WITHOUT_ROWID)).scalar()
    engine.dispose()
    assert [tuple(row) for row in after] == points == [tuple(row) for row in downgraded]
    assert (without_rowid, without_rowid_after_downgrade) == (1, 0)


def test_revision_0009_builds_the_blocks_of_the_points_already_stored(fresh_url, monkeypatch):
    engine = db_engine.create_database_engine(fresh_url)
    postgresql = engine.dialect.name == "postgresql"
    run = "01a2205f-b32f-73e7-91b2-2a0f927874d8" if postgresql else "01a2205fb32f73e791b22a0f927874d8"
    steps = list(range(0, 70_000, 7)) + [1_000_000]
    points = [
        {"r": run, "k": key, "s": step, "v": None if step == 14 else step / 10, "t": "2026-01-01 00:00:00.250000"}
        for key in ("loss", "map50")
        for step in steps
    ]
    with engine.begin() as connection:
        command.upgrade(migrations.alembic_config(connection), "0008")
        insert = insert_tracked_run(connection, run)
        connection.execute(insert, points)
        connection.execute(  # as the batches that wrote the points left them
            sa.text(
                "INSERT INTO run_metric_summaries (run_id, key, last_value, last_step, min_value, max_value, "
                "value_count, updated_at) VALUES (:r, :k, 100000.0, 1000000, 0.0, 100000.0, :n, '2026-01-01 00:00:00')"
            ),
            [{"r": run, "k": key, "n": len(steps)} for key in ("loss", "map50")],
        )
    engine.dispose()
    monkeypatch.setenv("GEMINI_DATABASE_URL", fresh_url)
    histories = registry().metric_histories(run_ids=[run], key="map50")  # first use upgrades to the head
    [series] = histories.values()
    assert series.steps == steps
    assert math.isnan(series.values[2]) and series.values[3] == 2.1
    assert set(series.timestamps) == {1767225600.25}
    [reduced] = registry().metric_histories(run_ids=[run], key="loss", max_points=100).values()
    assert reduced.reduced and len(reduced.steps) <= 100 and max(reduced.values) == 100_000.0
    with engine.begin() as connection:
        assert "run_metrics" not in sa.inspect(connection).get_table_names()  # the chunks hold the points now
        command.downgrade(migrations.alembic_config(connection), "0008")
        assert "run_metric_blocks" not in sa.inspect(connection).get_table_names()
        back = connection.execute(sa.text("SELECT key, step, value, timestamp FROM run_metrics ORDER BY key, step")).all()
    engine.dispose()
    assert [(key, step, value) for key, step, value, _ in back] == [(p["k"], p["s"], p["v"]) for p in points]
    assert {str(stamp).replace("+00:00", "") for *_, stamp in back} == {"2026-01-01 00:00:00.250000"}


def test_revision_0010_adds_run_names_keeping_every_run_and_a_downgrade_drops_them(fresh_url, monkeypatch):
    engine = db_engine.create_database_engine(fresh_url)
    run = "01a2205f-b32f-73e7-91b2-2a0f927874d8" if engine.dialect.name == "postgresql" else "01a2205fb32f73e791b22a0f927874d8"
    with engine.begin() as connection:
        command.upgrade(migrations.alembic_config(connection), "0009")
        insert_tracked_run(connection, run)
    engine.dispose()
    monkeypatch.setenv("GEMINI_DATABASE_URL", fresh_url)
    [before] = registry().search_runs().items  # first use upgrades to the head
    assert (str(before.id), before.status, before.run_name) == ("01a2205f-b32f-73e7-91b2-2a0f927874d8", "running", None)
    registry().rename_run(run_id=run, run_name="train2")
    assert [found.id for found in registry().search_runs(where='name = "train2"').items] == [before.id]
    db_engine.dispose_engines()
    with engine.begin() as connection:
        command.downgrade(migrations.alembic_config(connection), "0009")
        columns = [column["name"] for column in sa.inspect(connection).get_columns("model_runs")]
        indexes = [index["name"] for index in sa.inspect(connection).get_indexes("model_runs")]
        kept = connection.execute(sa.text("SELECT status FROM model_runs")).scalars().all()
        command.upgrade(migrations.alembic_config(connection), "0010")
        again = connection.execute(sa.text("SELECT run_name FROM model_runs")).scalars().all()
    engine.dispose()
    assert "run_name" not in columns and "ix_model_runs_run_name" not in indexes
    assert kept == ["running"] and again == [None]


def test_a_schema_a_newer_gemini_upgraded_is_refused_with_one_clear_error(fresh_url, monkeypatch, caplog):
    from gemini.api.model_run import ModelRun
    from gemini.domain.errors import DatabaseError

    engine = db_engine.get_engine(fresh_url)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = '9999_from_the_future'"))
    db_engine.dispose_engines()
    with pytest.raises(DatabaseError, match=r"revision 9999_from_the_future, newer than this gemini .* upgrade gemini"):
        db_engine.get_engine(fresh_url)
    untouched = db_engine.create_database_engine(fresh_url)
    with untouched.connect() as connection:
        assert migrations.current_revision(connection) == "9999_from_the_future"  # left as it was
    untouched.dispose()
    monkeypatch.setenv("GEMINI_DATABASE_URL", fresh_url)
    db_engine.dispose_engines()
    with caplog.at_level("WARNING", logger="gemini.api"):
        assert ModelRun.get_by_id("00000000-0000-0000-0000-000000000001") is None
    assert "newer than this gemini" in caplog.text  # the facade's one line says why
