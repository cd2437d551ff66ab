"""``gemini db info`` and ``gemini db upgrade``, on fresh databases of both kinds."""

import pytest
import sqlalchemy as sa

from gemini.db import migrations


@pytest.fixture
def fresh_database(dialect, tmp_path, request, monkeypatch) -> str:
    """An empty database of the current kind, gemini's schema not yet created, with a password in its URL."""
    if dialect == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        url = request.getfixturevalue("new_postgres_database")()
        url = sa.engine.make_url(url).set(password="hunter2").render_as_string(hide_password=False)
    monkeypatch.setenv("GEMINI_DATABASE_URL", url)
    return url


def test_info_on_a_fresh_database_then_upgrade(gemini, fresh_database, dialect):
    before = gemini.json("db", "info")
    assert before["schema_revision"] is None and before["model_count"] is None
    assert before["dialect"] == dialect
    assert "hunter2" not in gemini.ok("db", "info").stdout

    upgraded = gemini.ok("db", "upgrade")
    assert f"schema revision {migrations.head_revision()}" in upgraded.stderr
    after = gemini.json("db", "info")
    assert after["schema_revision"] == migrations.head_revision()
    assert after["up_to_date"] is True
    assert (after["model_count"], after["model_run_count"], after["experiment_count"]) == (0, 0, 0)
    assert "already at schema revision" in gemini.ok("db", "upgrade").stderr


def test_info_counts_and_hides_the_password(gemini, db):
    gemini.ok("models", "create", "m")
    gemini.ok("runs", "create", '{"a": 1}', "--model", "m")
    gemini.ok("runs", "create", '{"a": 2}')
    info = gemini.json("db", "info")
    assert (info["model_count"], info["model_run_count"], info["experiment_count"]) == (1, 2, 0)
    shown = gemini.ok("db", "info").stdout
    assert "up to date" in shown
    password = sa.engine.make_url(db).password
    if password:
        assert password not in shown


def test_unreachable_database_is_one_line(gemini, monkeypatch):
    monkeypatch.setenv("GEMINI_DATABASE_URL", "postgresql+psycopg://postgres:pw@127.0.0.1:9/gemini")
    assert "database unavailable" in gemini.fails("db", "info")
    assert "database unavailable" in gemini.fails("models", "list")
