"""The unit of work's variants: a single read on PostgreSQL runs without BEGIN and COMMIT."""

import fcntl
import os
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from gemini.registry import registry
from gemini.db.engine import _writers_in_turn, unit_of_work
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


@pytest.fixture
def sqlite_file(db, dialect):
    if dialect != "sqlite":
        pytest.skip("SQLite's writers take turns on a file; PostgreSQL's wait on its own locks")
    return Path(sa.engine.make_url(db).database)


def _turn_is_free(queue) -> bool:
    descriptor = os.open(queue, os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)


def test_sqlite_writers_hold_their_turn_from_before_begin_to_after_commit(sqlite_file):
    queue = sqlite_file.with_name(sqlite_file.name + "-writers.lock")
    with unit_of_work(write=True):
        assert not _turn_is_free(queue)
    assert _turn_is_free(queue)
    with unit_of_work():  # a read takes no turn
        assert _turn_is_free(queue)
    with pytest.raises(RuntimeError):
        with unit_of_work(write=True):
            raise RuntimeError("rolled back")
    assert _turn_is_free(queue)  # a rolled-back writer ends its turn too


def test_a_thread_holding_its_turn_does_not_queue_behind_itself(tmp_path):
    queue = tmp_path / "db.sqlite-writers.lock"
    finished = threading.Event()

    def nested() -> None:
        with _writers_in_turn(queue), _writers_in_turn(queue):
            finished.set()

    thread = threading.Thread(target=nested, daemon=True)
    thread.start()
    thread.join(10)
    assert finished.is_set()
    assert _turn_is_free(queue)
