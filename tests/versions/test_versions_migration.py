"""Revision 0007 on a database of revision 0006 with models and runs: nothing lost, every model starts at
version 0, and versions number from 1."""

import pytest
import sqlalchemy as sa
from alembic import command

from gemini.db import engine as db_engine
from gemini.db import migrations
from gemini.registry import registry


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)])
def old_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'old.db'}"
    return request.getfixturevalue("new_postgres_database")()


def test_an_0006_database_upgrades_without_loss_and_numbers_versions_from_1(old_url, monkeypatch, tmp_path):
    engine = db_engine.create_database_engine(old_url)
    with engine.begin() as connection:
        command.upgrade(migrations.alembic_config(connection), "0006")
    engine.dispose()
    monkeypatch.setenv("GEMINI_DATABASE_URL", old_url)
    monkeypatch.setenv("GEMINI_ARTIFACT_ROOT", str(tmp_path / "store"))
    # Written by the code of revision 0006: the columns it knew.
    engine = db_engine.create_database_engine(old_url)
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO models (id, model_name, model_info, created_at, updated_at) "
                "VALUES (:id, 'kept', '{}', :now, :now)"
            ),
            {
                "id": "01a2205fb32f73e791b22a0f927874d8" if engine.dialect.name == "sqlite" else "01a2205f-b32f-73e7-91b2-2a0f927874d8",
                "now": "2026-01-01 00:00:00",
            },
        )
    engine.dispose()

    (model,) = registry().search_models().items  # first use: upgraded to the head
    assert model.model_name == "kept"
    with db_engine.get_engine(old_url).connect() as connection:
        assert migrations.current_revision(connection) == migrations.head_revision()
        assert connection.execute(sa.text("SELECT last_version FROM models")).scalar_one() == 0
    run, _ = registry().create_run(model_run_info={"n": 1}, model_name="kept")
    weights = tmp_path / "best.pt"
    weights.write_bytes(b"weights")
    registry().log_artifact_file(run_id=run.id, path=weights)
    assert registry().register_model_version(run_id=run.id, artifact_name="best.pt").version == 1


def test_0007_downgrades_to_0006(old_url):
    engine = db_engine.create_database_engine(old_url)
    with engine.begin() as connection:
        command.upgrade(migrations.alembic_config(connection), "0007")
        command.downgrade(migrations.alembic_config(connection), "0006")
        tables = sa.inspect(connection).get_table_names()
        columns = [column["name"] for column in sa.inspect(connection).get_columns("models")]
    engine.dispose()
    assert "model_versions" not in tables and "model_version_aliases" not in tables
    assert "last_version" not in columns
