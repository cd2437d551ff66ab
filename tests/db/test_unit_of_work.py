"""The unit of work's variants: a single read on PostgreSQL runs without BEGIN and COMMIT."""

import pytest

from gemini.registry import registry
from gemini.db.engine import unit_of_work
from gemini.domain.errors import DatabaseError


@pytest.fixture
def postgresql_only(dialect):
    if dialect != "postgresql":
        pytest.skip("the autocommit engine is PostgreSQL's (SQLite's in-process BEGIN costs nothing comparable)")


def test_single_read_runs_outside_a_transaction(db, postgresql_only):
    run, _ = registry().create_run(model_run_info={"read": "once"})
    with unit_of_work(single_read=True) as connection:
        assert connection.connection.dbapi_connection.autocommit is True  # the statement is its own transaction
    with unit_of_work() as connection:  # other units of work stay transactional
        assert connection.connection.dbapi_connection.autocommit is False
    assert registry().get_run(run_id=run.id).model_run_info == {"read": "once"}


def test_single_read_is_not_used_for_writes_or_snapshots(db, postgresql_only):
    for options in ({"write": True}, {"snapshot": True}):
        with unit_of_work(single_read=True, **options) as connection:
            assert connection.connection.dbapi_connection.autocommit is False


def test_an_error_of_a_call_on_the_driver_itself_leaves_as_the_domain_s(db):
    from gemini.db.errors import driver_calls

    with pytest.raises(DatabaseError, match="no_such_table"):
        with unit_of_work() as connection, driver_calls(connection):
            cursor = connection.connection.driver_connection.cursor()
            cursor.execute("SELECT * FROM no_such_table")
